use async_trait::async_trait;

use super::allocator::{Allocated, AllocationError, AllocationTarget, Policy};
use crate::entity::EntityId;
use crate::error::StoreError;

/// Storage of allocations.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ResourceRepository: Send + Sync {
    /// Allocates one resource in one transaction that holds the manager
    /// locked: reads its state, asks `policy` for the resource, creates the
    /// receiving entity if asked, records the allocation and its attributes,
    /// and updates the manager's properties. Concurrent calls, from this
    /// process or another sharing the database, never hand out one resource twice.
    ///
    /// # Errors
    /// What `policy` returns; [`AllocationError::NameTaken`] when the entity
    /// to create exists; [`AllocationError::Store`] when storage fails.
    async fn allocate(
        &self,
        manager: EntityId,
        target: AllocationTarget,
        policy: Policy,
    ) -> Result<Allocated, AllocationError>;

    /// Releases what `manager` allocated to `thing` (only `resource` when
    /// given) with the attributes that recorded it; returns how many went.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn deallocate(
        &self,
        manager: EntityId,
        thing: EntityId,
        resource: Option<String>,
    ) -> Result<u64, StoreError>;
}
