use async_trait::async_trait;
use chrono::NaiveDateTime;

use super::error::ProviderError;
use super::model::{KeyPair, NewNode, Node, NodeImage, NodeLocation, NodeSize, ProviderInfo};

/// One cloud account of a provider, shaped like libcloud's NodeDriver.
/// Adding a cloud means implementing this trait.
///
/// Every method may fail with [`ProviderError::Failure`] or
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

    /// Creates a node.
    ///
    /// # Errors
    /// See the trait.
    async fn create_node(&self, node: &NewNode) -> Result<Node, ProviderError>;

    /// Destroys a node.
    ///
    /// # Errors
    /// See the trait.
    async fn destroy_node(&self, id: &str) -> Result<(), ProviderError>;

    /// Starts a stopped node.
    ///
    /// # Errors
    /// See the trait.
    async fn start_node(&self, id: &str) -> Result<Node, ProviderError>;

    /// Stops a running node.
    ///
    /// # Errors
    /// See the trait.
    async fn stop_node(&self, id: &str) -> Result<Node, ProviderError>;

    /// Reboots a node.
    ///
    /// # Errors
    /// See the trait.
    async fn reboot_node(&self, id: &str) -> Result<Node, ProviderError>;

    /// Makes an image of a node.
    ///
    /// # Errors
    /// See the trait.
    async fn create_image(&self, node_id: &str, name: &str) -> Result<NodeImage, ProviderError>;

    /// Imports a public key as a key pair.
    ///
    /// # Errors
    /// See the trait.
    async fn import_key_pair(&self, name: &str, public_key: &str)
    -> Result<KeyPair, ProviderError>;
}

/// The current time (UTC), so that use cases stay testable.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> NaiveDateTime;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        chrono::Utc::now().naive_utc()
    }
}
