//! Clouds: named accounts of a provider behind one port shaped like
//! libcloud's NodeDriver, and the use cases that keep the inventory in step
//! with them.

mod error;
mod model;
mod ports;
pub mod reconcile;
pub(crate) mod registration;
mod service;

pub use error::{CloudError, FactoryError, ProviderError};
pub use model::{
    CloudName, IdempotencyKey, InvalidCloudName, KeyPair, NewNode, Node, NodeId, NodeImage,
    NodeLocation, NodeRef, NodeSize, NodeState, ProviderInfo,
};
pub use ports::{CloudProvider, CloudSpec, ProviderFactory};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockCloudProvider, MockProviderFactory};
pub use service::{Assignment, Catalogue, Clouds, Listing, Survey};
