use async_trait::async_trait;

use super::Member;
use crate::entity::{Entity, EntityId};
use crate::error::StoreError;

/// Storage of pool memberships.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PoolRepository: Send + Sync {
    /// Puts the members into the pool, in one transaction that holds the
    /// members locked and checks the membership rules
    /// ([`check_insert`](super::check_insert)) against their current pools.
    ///
    /// # Errors
    /// [`StoreError::Refused`] with the broken [`MembershipRule`](super::MembershipRule) (nothing is written),
    /// [`StoreError::Unavailable`] when storage fails.
    async fn insert(&self, pool: &Entity, members: &[Entity]) -> Result<(), StoreError>;

    /// Takes the members out of the pool, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotAMember`] when one is not in the pool (nothing is
    /// written), [`StoreError::Unavailable`] when storage fails.
    async fn remove(&self, pool: EntityId, members: &[EntityId]) -> Result<(), StoreError>;

    /// The pools holding any of `members`, as `(member, pool)` pairs, oldest
    /// membership first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn parents(&self, members: &[EntityId]) -> Result<Vec<(EntityId, Entity)>, StoreError>;

    /// The direct members of any of `pools`, oldest membership first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn contents(&self, pools: &[EntityId]) -> Result<Vec<Member>, StoreError>;
}
