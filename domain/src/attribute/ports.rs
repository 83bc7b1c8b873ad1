use async_trait::async_trait;

use super::model::{Attribute, AttributeFilter, AttributeQuery, ExactSlot, NewAttribute};
use super::value::AttributeValue;
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

    /// Adds attributes in one transaction. [`NumberSpec::Next`](super::NumberSpec::Next)
    /// is resolved once per key for the whole batch.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the entity is gone,
    /// [`StoreError::Unavailable`] when storage fails.
    async fn add(&self, entity: EntityId, attributes: &[NewAttribute]) -> Result<(), StoreError>;

    /// Replaces whatever holds the slot with one attribute, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the entity is gone,
    /// [`StoreError::Unavailable`] when storage fails.
    async fn set(
        &self,
        entity: EntityId,
        slot: &ExactSlot,
        value: &AttributeValue,
    ) -> Result<(), StoreError>;

    /// Deletes the matching attributes; returns how many went.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn delete(&self, entity: EntityId, filter: &AttributeFilter) -> Result<u64, StoreError>;

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
