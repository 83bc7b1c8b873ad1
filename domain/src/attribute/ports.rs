use async_trait::async_trait;

use super::model::{Attribute, AttributeChanges, AttributeQuery};
use crate::entity::{Entity, EntityId};
use crate::error::StoreError;
use crate::page::{PageRequest, Paged};

/// Storage of attributes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AttributeRepository: Send + Sync {
    /// All attributes of an entity, by key, then oldest first.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when a stored value cannot be read,
    /// [`StoreError::Unavailable`] when storage fails.
    async fn list(&self, entity: EntityId) -> Result<Vec<Attribute>, StoreError>;

    /// Applies the changes in one transaction that holds the entity locked,
    /// numbering added attributes as [`NumberSpec`](super::NumberSpec) says.
    ///
    /// # Errors
    /// [`StoreError::Refused`] with the guard's rejection when it fails,
    /// [`StoreError::NumbersExhausted`] when no number is left under a key,
    /// [`StoreError::EntityGone`] when the entity is gone (nothing is written
    /// in either case), [`StoreError::Unavailable`] when storage fails.
    async fn apply(&self, entity: EntityId, changes: &AttributeChanges) -> Result<(), StoreError>;

    /// Entities holding a matching attribute, each once, oldest first, one
    /// page of them when asked.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn find_entities(
        &self,
        query: &AttributeQuery,
        page: Option<PageRequest>,
    ) -> Result<Paged<Entity>, StoreError>;
}
