//! Clouds: named accounts of a provider behind one port shaped like
//! libcloud's NodeDriver, and the use cases that keep the inventory in step
//! with them.

mod error;
mod model;
mod ports;
mod registration;
mod service;

pub use error::{CloudError, ProviderError};
pub use model::{
    CloudName, KeyPair, NewNode, Node, NodeImage, NodeLocation, NodeRef, NodeSize, NodeState,
    ProviderInfo,
};
pub use ports::{Clock, CloudProvider, SystemClock};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockClock, MockCloudProvider};
pub use service::{Assignment, Clouds};
