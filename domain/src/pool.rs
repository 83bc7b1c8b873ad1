//! Pools: entities that hold other entities.

mod ports;
mod rules;

#[cfg(any(test, feature = "mocks"))]
pub use ports::MockPoolRepository;
pub use ports::PoolRepository;
pub use rules::{MembershipRule, check_insert};

use crate::entity::{Entity, EntityId};

/// An entity held by a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The pool that holds it.
    pub pool: EntityId,
    /// The member.
    pub entity: Entity,
    /// Whether the member holds entities itself.
    pub holds_others: bool,
}
