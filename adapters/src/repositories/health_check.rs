//! The health check: whether the database answers, with every migration
//! of this version applied.

use async_trait::async_trait;
use diesel::connection::SimpleConnection;
use strato_domain::StoreError;
use strato_domain::health::HealthCheck;

use crate::connection::migrations_pending;
use crate::error::from_diesel;
use crate::store::Store;

#[async_trait]
impl HealthCheck for Store {
    async fn check(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            conn.batch_execute("SELECT 1").map_err(from_diesel)?;
            if migrations_pending(conn)? {
                return Err(StoreError::Unavailable(
                    "the database has migrations this version has not applied".into(),
                ));
            }
            Ok(())
        })
        .await
    }
}
