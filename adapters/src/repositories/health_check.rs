//! The health check: whether the database answers.

use async_trait::async_trait;
use diesel::connection::SimpleConnection;
use strato_domain::StoreError;
use strato_domain::health::HealthCheck;

use crate::error::from_diesel;
use crate::store::Store;

#[async_trait]
impl HealthCheck for Store {
    async fn check(&self) -> Result<(), StoreError> {
        self.run(|conn| conn.batch_execute("SELECT 1").map_err(from_diesel))
            .await
    }
}
