//! Readiness of what the service depends on.

use async_trait::async_trait;

use crate::error::StoreError;

/// Something that can tell whether it answers (the database, a cloud…).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// Succeeds when the dependency answers now.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when it does not.
    async fn check(&self) -> Result<(), StoreError>;
}
