use diesel::result::{DatabaseErrorKind, Error as DieselError};
use strato_domain::StoreError;

/// Why storage could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The URL names no supported database.
    #[error("database.url {0:?} must start with sqlite:// or postgres://")]
    UnsupportedUrl(String),
    /// The pool could not open its connections.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// Migrations failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(String),
}

/// Maps a diesel error to the domain's storage error.
pub(crate) fn from_diesel(err: DieselError) -> StoreError {
    match err {
        DieselError::NotFound => StoreError::NotFound("row not found".into()),
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            StoreError::Conflict(info.message().to_owned())
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
            StoreError::NotFound(info.message().to_owned())
        }
        other => StoreError::unavailable(other),
    }
}
