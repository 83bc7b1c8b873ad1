//! Pools: entities that hold other entities.

mod ports;
mod rules;

#[cfg(any(test, feature = "mocks"))]
pub use ports::MockPoolRepository;
pub use ports::PoolRepository;
pub use rules::check_insert;
