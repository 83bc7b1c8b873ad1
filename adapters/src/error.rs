use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};
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

/// Maps a diesel error that has no meaning particular to the statement that
/// failed. Statements whose failures mean something (a taken name, a taken
/// resource, a missing row) map them where they run.
///
/// Every foreign key points at an entity, so a violation means one is gone.
/// A unique violation here was not expected by its statement: a concurrent
/// writer got there first, as with serialization failures and deadlocks.
pub(crate) fn from_diesel(err: DieselError) -> StoreError {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            StoreError::EntityGone
        }
        DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::SerializationFailure,
            _,
        ) => StoreError::Concurrent,
        DieselError::DatabaseError(_, info) if is_deadlock(info.as_ref()) => StoreError::Concurrent,
        other => StoreError::unavailable(other),
    }
}

/// Whether the error is a unique violation, which the statements that
/// insert into a unique index map to their own meaning.
pub(crate) fn is_unique_violation(err: &DieselError) -> bool {
    matches!(
        err,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// PostgreSQL's deadlock (SQLSTATE 40P01), which diesel does not classify:
/// recognised by its message, which PostgreSQL writes in English unless
/// `lc_messages` says otherwise.
fn is_deadlock(info: &(dyn DatabaseErrorInformation + Send + Sync)) -> bool {
    info.message().starts_with("deadlock detected")
}
