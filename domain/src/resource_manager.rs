//! Resource managers: entities that hand out names and IP addresses.

mod allocator;
mod ip;
mod ports;
mod properties;

/// Key of the attribute an IP manager records an address under.
pub const IP_KEY: &str = "ip";

pub use allocator::{Allocated, AllocationError, AllocationTarget, Choice, ManagerState, Policy};
pub use ip::{ip_from_stored, ip_to_stored};
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockResourceRepository;
pub use ports::ResourceRepository;
pub use properties::{PROPERTY_SUBKEY, properties_for};
