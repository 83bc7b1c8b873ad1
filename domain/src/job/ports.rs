use async_trait::async_trait;
use chrono::NaiveDateTime;

use super::model::{Job, JobId, JobStats, Lease, NewJob, WorkerId};
use crate::error::StoreError;

/// Storage of jobs. Ports whose writes need a job take it as a [`NewJob`]
/// and store it in the same transaction as their change.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Stores a job (queued, or running under its `claimed` lease). Returns
    /// false, writing nothing, when a job with this id exists.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn enqueue(&self, job: &NewJob) -> Result<bool, StoreError>;

    /// Claims the job that has waited longest among the queued jobs due at
    /// `now` and the running jobs whose lease expired before `now`: it
    /// becomes running under `lease` and counts one more attempt. Two
    /// claimants, in this process or another, never get the same job.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when a stored job cannot be read,
    /// [`StoreError::Unavailable`] when storage fails.
    async fn claim(&self, lease: &Lease, now: NaiveDateTime) -> Result<Option<Job>, StoreError>;

    /// Extends the lease of a running job its owner holds. Returns false
    /// when the owner no longer holds it.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn heartbeat(&self, id: JobId, lease: &Lease) -> Result<bool, StoreError>;

    /// Marks a running job its owner holds succeeded. Returns false when the
    /// owner no longer holds it.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn finish(
        &self,
        id: JobId,
        owner: &WorkerId,
        now: NaiveDateTime,
    ) -> Result<bool, StoreError>;

    /// Records a failed attempt of a running job its owner holds: queued
    /// again, due at `retry_at`, or failed for good when there is none.
    /// Returns false when the owner no longer holds it.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn fail(
        &self,
        id: JobId,
        owner: &WorkerId,
        now: NaiveDateTime,
        error: &str,
        retry_at: Option<NaiveDateTime>,
    ) -> Result<bool, StoreError>;

    /// How many jobs there are of each kind in each state, and when the
    /// oldest queued one was stored.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    async fn stats(&self) -> Result<JobStats, StoreError>;

    /// A job by id.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when it cannot be read,
    /// [`StoreError::Unavailable`] when storage fails.
    async fn get(&self, id: JobId) -> Result<Option<Job>, StoreError>;
}
