//! Errors of the ports and of the inventory use cases.

use crate::attribute::{InvalidKey, InvalidValue};
use crate::driver::Driver;
use crate::entity::InvalidName;

/// What a storage port reports.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row the operation needs does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A uniqueness rule would be broken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached or failed.
    #[error("storage unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Stored data cannot be read back into the model.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Wraps any error as [`StoreError::Unavailable`].
    pub fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(err))
    }
}

impl From<InvalidValue> for StoreError {
    fn from(err: InvalidValue) -> Self {
        Self::Corrupt(err.to_string())
    }
}

/// Why an inventory use case failed.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// No entity has this name.
    #[error("entity {0:?} not found")]
    EntityNotFound(String),
    /// The entity exists with another driver than the one asked for.
    #[error("entity {name:?} is not a {expected}")]
    DriverMismatch { name: String, expected: Driver },
    /// The entity is not a resource manager.
    #[error("entity {0:?} is not a resource manager")]
    NotAResourceManager(String),
    /// The driver cannot be used for this operation.
    #[error("driver {driver} cannot be used here: {reason}")]
    WrongDriver {
        driver: Driver,
        reason: &'static str,
    },
    /// An entity with this name exists already.
    #[error("entity {0} already exists")]
    AlreadyExists(String),
    /// The name is not acceptable.
    #[error(transparent)]
    InvalidName(#[from] InvalidName),
    /// The key is not acceptable.
    #[error(transparent)]
    InvalidKey(#[from] InvalidKey),
    /// The value does not fit its datatype.
    #[error(transparent)]
    InvalidValue(#[from] InvalidValue),
    /// A pool membership rule forbids the change.
    #[error("{0}")]
    Membership(String),
    /// A resource manager property is missing or malformed.
    #[error("{0}")]
    InvalidProperty(String),
    /// The resource is malformed or outside what the manager hands out.
    #[error("{0}")]
    InvalidResource(String),
    /// The resource is allocated already.
    #[error("resource {resource} of {manager} is already allocated")]
    ResourceTaken { manager: String, resource: String },
    /// The manager has nothing left to hand out.
    #[error("{0} has no free resource left")]
    Exhausted(String),
    /// Nothing of the manager is allocated to the entity.
    #[error("{manager} has nothing allocated to {thing}")]
    NotAllocated { manager: String, thing: String },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
