//! Why an inventory use case failed.

use crate::attribute::{InvalidKey, InvalidValue};
use crate::driver::Driver;
use crate::entity::{Entity, EntityName, InvalidName};
use crate::error::StoreError;

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
    #[error("entity {name} already exists")]
    AlreadyExists { driver: Driver, name: EntityName },
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
    #[error("resource {resource} of {} is already allocated", manager.name)]
    ResourceTaken { manager: Entity, resource: String },
    /// The manager has nothing left to hand out.
    #[error("{} has no free resource left", .0.name)]
    Exhausted(Entity),
    /// Nothing of the manager is allocated to the entity.
    #[error("{} has nothing allocated to {}", manager.name, thing.name)]
    NotAllocated { manager: Entity, thing: Entity },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
