//! The job queue.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use strato_domain::StoreError;
use strato_domain::job::{Job, JobId, JobQueue, JobStats, Lease, NewJob, WorkerId};

use crate::store::Store;
use crate::tables::jobs;

#[async_trait]
impl JobQueue for Store {
    async fn enqueue(&self, job: &NewJob) -> Result<bool, StoreError> {
        let job = job.clone();
        self.write(move |conn| jobs::insert(conn, &job)).await
    }

    async fn claim(&self, lease: &Lease, now: NaiveDateTime) -> Result<Option<Job>, StoreError> {
        // Idle workers look with a read first, so that finding nothing never
        // takes the write lock.
        if !self.run(move |conn| jobs::any_due(conn, now)).await? {
            return Ok(None);
        }
        let lease = lease.clone();
        self.write(move |conn| jobs::claim(conn, &lease, now)).await
    }

    async fn heartbeat(&self, id: JobId, lease: &Lease) -> Result<bool, StoreError> {
        let lease = lease.clone();
        self.write(move |conn| jobs::heartbeat(conn, id, &lease))
            .await
    }

    async fn finish(
        &self,
        id: JobId,
        owner: &WorkerId,
        now: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        let owner = owner.clone();
        self.write(move |conn| jobs::finish(conn, id, &owner, now))
            .await
    }

    async fn fail(
        &self,
        id: JobId,
        owner: &WorkerId,
        now: NaiveDateTime,
        error: &str,
        retry_at: Option<NaiveDateTime>,
    ) -> Result<bool, StoreError> {
        let (owner, error) = (owner.clone(), error.to_owned());
        self.write(move |conn| jobs::fail(conn, id, &owner, now, &error, retry_at))
            .await
    }

    async fn stats(&self) -> Result<JobStats, StoreError> {
        self.run(jobs::stats).await
    }

    async fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        self.run(move |conn| jobs::get(conn, id)).await
    }
}
