use async_trait::async_trait;

use super::model::{Entity, EntityDetails, EntityId, EntityName, NewEntity};
use crate::driver::Driver;
use crate::error::StoreError;
use crate::page::{PageRequest, Paged};

/// Storage of entities.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EntityRepository: Send + Sync {
    /// Finds an entity by name.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn find(&self, name: &EntityName) -> Result<Option<Entity>, StoreError>;

    /// Finds an entity by name with its expanded view, in one call.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when a stored value cannot be read,
    /// [`StoreError::Unavailable`] when storage fails.
    async fn find_details(&self, name: &EntityName) -> Result<Option<EntityDetails>, StoreError>;

    /// Finds the entities that exist among `names`, in no particular order.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn find_many(&self, names: &[EntityName]) -> Result<Vec<Entity>, StoreError>;

    /// Lists entities of the given drivers (every driver when empty), oldest
    /// first, one page of them when asked.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn list(
        &self,
        drivers: &[Driver],
        page: Option<PageRequest>,
    ) -> Result<Paged<Entity>, StoreError>;

    /// Creates all the entities with their attributes in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NameTaken`] when a name is taken (nothing is written),
    /// [`StoreError::Unavailable`] when storage fails.
    async fn create(&self, entities: &[NewEntity]) -> Result<Vec<Entity>, StoreError>;

    /// Deletes an entity with its attributes, memberships and allocations.
    /// Returns whether it existed.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn delete(&self, id: EntityId) -> Result<bool, StoreError>;

    /// Loads the expanded view of each entity, in the order given.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when a stored value cannot be read,
    /// [`StoreError::Unavailable`] when storage fails.
    async fn details(&self, entities: &[Entity]) -> Result<Vec<EntityDetails>, StoreError>;
}
