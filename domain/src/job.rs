//! Durable jobs: work that outlives a request (provider calls,
//! reconciliation), kept in storage, claimed with a lease by any replica,
//! retried with backoff when it failed for a reason that may pass, and
//! claimed again when the process that held it died.

mod model;
mod policy;
mod ports;
mod service;

pub use model::{Job, JobId, JobKind, JobState, JobStats, Lease, NewJob, Task, WorkerId};
pub use policy::{RetryPolicy, Settlement};
pub use ports::JobQueue;
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockJobQueue;
pub use service::{Attempt, Jobs, Reconciled};
