//! Entities: named things of a driver, and their expanded view.

mod model;
mod ports;

pub use model::{Entity, EntityDetails, EntityId, EntityName, InvalidName, NewEntity};
pub use ports::EntityRepository;
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockEntityRepository;
