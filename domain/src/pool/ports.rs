use async_trait::async_trait;

use crate::entity::{Entity, EntityId};
use crate::error::StoreError;

/// Storage of pool memberships.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PoolRepository: Send + Sync {
    /// Puts the members into the pool, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when one is in the pool already (nothing is
    /// written), [`StoreError::Unavailable`] when storage fails.
    async fn insert(&self, pool: EntityId, members: &[EntityId]) -> Result<(), StoreError>;

    /// Takes the members out of the pool, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when one is not in the pool (nothing is
    /// written), [`StoreError::Unavailable`] when storage fails.
    async fn remove(&self, pool: EntityId, members: &[EntityId]) -> Result<(), StoreError>;

    /// The pools holding any of `members`, as `(member, pool)` pairs, oldest
    /// membership first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn parents(&self, members: &[EntityId]) -> Result<Vec<(EntityId, Entity)>, StoreError>;

    /// The direct members of any of `pools`, as `(pool, member)` pairs,
    /// oldest membership first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn contents(&self, pools: &[EntityId]) -> Result<Vec<(EntityId, Entity)>, StoreError>;
}
