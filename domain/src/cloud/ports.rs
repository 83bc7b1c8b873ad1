use async_trait::async_trait;

use std::sync::Arc;

use super::error::{FactoryError, ProviderError};
use super::model::{
    IdempotencyKey, KeyPair, NewNode, Node, NodeId, NodeImage, NodeLocation, NodeSize, ProviderInfo,
};

/// One cloud account of a provider, shaped like libcloud's NodeDriver.
/// Adding a cloud means implementing this trait.
///
/// Every method may fail with [`ProviderError::Unavailable`],
/// [`ProviderError::Failed`], [`ProviderError::Throttled`] or
/// [`ProviderError::Timeout`]; those that name a node, image, size or
/// location return [`ProviderError::NotFound`] when it does not exist, and
/// an operation the provider lacks returns [`ProviderError::Unsupported`].
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CloudProvider: Send + Sync {
    /// What the provider is.
    fn info(&self) -> ProviderInfo;

    /// The account's nodes.
    ///
    /// # Errors
    /// See the trait.
    async fn list_nodes(&self) -> Result<Vec<Node>, ProviderError>;

    /// The sizes nodes can have.
    ///
    /// # Errors
    /// See the trait.
    async fn list_sizes(&self) -> Result<Vec<NodeSize>, ProviderError>;

    /// The images nodes can start from.
    ///
    /// # Errors
    /// See the trait.
    async fn list_images(&self) -> Result<Vec<NodeImage>, ProviderError>;

    /// Where nodes can run.
    ///
    /// # Errors
    /// See the trait.
    async fn list_locations(&self) -> Result<Vec<NodeLocation>, ProviderError>;

    /// Creates a node. A second call with the same `key` returns the node
    /// the first one made (whatever its state now) and creates nothing.
    ///
    /// # Errors
    /// See the trait.
    async fn create_node(
        &self,
        node: &NewNode,
        key: &IdempotencyKey,
    ) -> Result<Node, ProviderError>;

    /// Destroys a node.
    ///
    /// # Errors
    /// See the trait.
    async fn destroy_node(&self, id: &NodeId) -> Result<(), ProviderError>;

    /// Starts a stopped node.
    ///
    /// # Errors
    /// See the trait.
    async fn start_node(&self, id: &NodeId) -> Result<Node, ProviderError>;

    /// Stops a running node.
    ///
    /// # Errors
    /// See the trait.
    async fn stop_node(&self, id: &NodeId) -> Result<Node, ProviderError>;

    /// Reboots a node.
    ///
    /// # Errors
    /// See the trait.
    async fn reboot_node(&self, id: &NodeId) -> Result<Node, ProviderError>;

    /// Gives a node another size (its CPUs and memory).
    ///
    /// # Errors
    /// See the trait.
    async fn resize_node(&self, id: &NodeId, size: &str) -> Result<Node, ProviderError>;

    /// Deletes an image.
    ///
    /// # Errors
    /// See the trait.
    async fn delete_image(&self, id: &str) -> Result<(), ProviderError>;

    /// Makes an image of a node.
    ///
    /// # Errors
    /// See the trait.
    async fn create_image(&self, node_id: &NodeId, name: &str) -> Result<NodeImage, ProviderError>;

    /// Imports a public key as a key pair.
    ///
    /// # Errors
    /// See the trait.
    async fn import_key_pair(&self, name: &str, public_key: &str)
    -> Result<KeyPair, ProviderError>;
}

/// A cloud to build: its provider type and that provider's own settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudSpec {
    /// Provider type (`dummy`).
    pub kind: String,
    /// The provider's settings, which it checks itself.
    pub settings: serde_json::Map<String, serde_json::Value>,
}

/// Builds providers from specs: configured clouds at start-up, and clouds a
/// request describes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait ProviderFactory: Send + Sync {
    /// A provider for the spec.
    ///
    /// # Errors
    /// [`FactoryError::UnknownType`] for a type no provider has,
    /// [`FactoryError::BadSetting`] naming a setting that is wrong.
    fn build(&self, spec: &CloudSpec) -> Result<Arc<dyn CloudProvider>, FactoryError>;
}
