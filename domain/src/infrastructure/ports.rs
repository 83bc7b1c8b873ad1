use async_trait::async_trait;

use super::model::{Change, InfId, Infrastructure, Owner, OwnerId, VmId, VmState};
use crate::error::StoreError;
use crate::job::NewJob;

/// Storage of infrastructures, their VMs, owners and clouds. Every write
/// stores the jobs it is given in the same transaction. Clouds described by
/// requests are stored encrypted and come back decrypted.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait InfrastructureRepository: Send + Sync {
    /// Stores a new infrastructure (with its owners, clouds and VMs).
    ///
    /// # Errors
    /// [`StoreError::Concurrent`] when an infrastructure with its id exists
    /// (the import case), [`StoreError::Unavailable`] when storage fails.
    async fn create(&self, inf: &Infrastructure, jobs: &[NewJob]) -> Result<(), StoreError>;

    /// An infrastructure with its owners, clouds and VMs.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`], [`StoreError::Unavailable`].
    async fn find(&self, id: InfId) -> Result<Option<Infrastructure>, StoreError>;

    /// The ids of the infrastructures an owner owns, newest first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn list(&self, owner: OwnerId) -> Result<Vec<InfId>, StoreError>;

    /// Applies a change. Returns false, writing nothing, when the
    /// infrastructure does not exist.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn apply(&self, id: InfId, change: &Change, jobs: &[NewJob]) -> Result<bool, StoreError>;

    /// Forgets an infrastructure, its VMs, owner links and clouds. Returns
    /// false when it did not exist.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn forget(&self, id: InfId) -> Result<bool, StoreError>;

    /// The stored owners with this lookup key (`user:<name>` or
    /// `token:<digest prefix>`).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn owners(&self, lookup: &str) -> Result<Vec<Owner>, StoreError>;

    /// Stores an owner (credentials seen for the first time).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn add_owner(&self, owner: &Owner) -> Result<(), StoreError>;

    /// Sets a VM's state to `to` if it still is `from` (what a status read
    /// saw), so that a read never overwrites a change made meanwhile.
    /// Returns whether it was set.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn set_vm_state(
        &self,
        id: InfId,
        vm: VmId,
        from: VmState,
        to: VmState,
    ) -> Result<bool, StoreError>;

    /// The infrastructures, not being destroyed, with a launched VM that
    /// is not removed: those whose status the background refresh reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn active(&self) -> Result<Vec<InfId>, StoreError>;
}
