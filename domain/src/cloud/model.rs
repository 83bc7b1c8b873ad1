use std::collections::BTreeMap;
use std::fmt;

/// The name of a configured cloud: 1 to 64 letters, digits, `_`, `-` or `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloudName(String);

/// A text that is not a cloud name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a cloud name: use 1 to 64 letters, digits, '_', '-' or '.'")]
pub struct InvalidCloudName(pub String);

impl CloudName {
    /// The name of the cloud that answers when a request names none.
    pub const DEFAULT: &'static str = "default";

    /// Checks and wraps a cloud name.
    ///
    /// # Errors
    /// [`InvalidCloudName`] when it is empty, too long, or holds other characters.
    pub fn parse(name: &str) -> Result<Self, InvalidCloudName> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidCloudName(name.to_owned()))
        }
    }

    /// The cloud that answers when a request names none (`default`).
    pub fn default_cloud() -> Self {
        Self(Self::DEFAULT.to_owned())
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CloudName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A provider's id of a node.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(String);

impl NodeId {
    /// Wraps a provider's node id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The key strato chooses for a node it creates, stored before the provider
/// is called: creating again with the same key returns the node the first
/// call made instead of a second one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Wraps a key (providers read them back from their own records).
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A node's state, numbered as libcloud numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeState {
    Running,
    Rebooting,
    Terminated,
    Pending,
    Unknown,
    Stopped,
    Suspended,
    Error,
    Paused,
}

impl NodeState {
    /// libcloud's number for the state (RUNNING 0 … PAUSED 8).
    pub fn code(self) -> u8 {
        match self {
            Self::Running => 0,
            Self::Rebooting => 1,
            Self::Terminated => 2,
            Self::Pending => 3,
            Self::Unknown => 4,
            Self::Stopped => 5,
            Self::Suspended => 6,
            Self::Error => 7,
            Self::Paused => 8,
        }
    }

    /// The state of a lowercase name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Running,
            Self::Rebooting,
            Self::Terminated,
            Self::Pending,
            Self::Unknown,
            Self::Stopped,
            Self::Suspended,
            Self::Error,
            Self::Paused,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// The state's name, lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Rebooting => "rebooting",
            Self::Terminated => "terminated",
            Self::Pending => "pending",
            Self::Unknown => "unknown",
            Self::Stopped => "stopped",
            Self::Suspended => "suspended",
            Self::Error => "error",
            Self::Paused => "paused",
        }
    }
}

/// What a provider is, as the cloud API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderInfo {
    /// Short type name (`dummy`).
    pub kind: &'static str,
    /// Display name (`Dummy Node Provider`).
    pub display_name: &'static str,
}

/// A node (virtual machine) of a cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Provider's id.
    pub id: NodeId,
    /// Provider's name for it.
    pub name: String,
    /// Current state.
    pub state: NodeState,
    /// Public addresses.
    pub public_ips: Vec<String>,
    /// Private addresses.
    pub private_ips: Vec<String>,
    /// Stable identity across the provider (hex).
    pub uuid: String,
    /// Provider-specific details.
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// The key it was created with, when strato created it and the provider
    /// reports it.
    pub idempotency_key: Option<IdempotencyKey>,
}

/// A node size (flavor).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSize {
    /// Provider's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Memory, MiB.
    pub ram: u64,
    /// Disk, GB.
    pub disk: u64,
    /// Virtual CPUs (0 when the provider does not say).
    pub cpu: u32,
    /// Bandwidth, when known.
    pub bandwidth: Option<u64>,
    /// Hourly price, when known.
    pub price: Option<f64>,
}

/// An image nodes are created from.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeImage {
    /// Provider's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Provider-specific details.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Where nodes can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeLocation {
    /// Provider's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// ISO country code.
    pub country: String,
}

/// An SSH key pair known to a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPair {
    /// Name.
    pub name: String,
    /// Fingerprint of the public key.
    pub fingerprint: String,
    /// The public key.
    pub public_key: String,
}

/// A node to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNode {
    /// Requested name (providers may choose their own).
    pub name: String,
    /// Size id.
    pub size: String,
    /// Image id.
    pub image: String,
    /// Location id.
    pub location: Option<String>,
    /// SSH key pair name.
    pub key_name: Option<String>,
    /// Other data for the provider.
    pub metadata: BTreeMap<String, serde_json::Value>,
}

/// How a request names a node: by provider id or by name (hostname).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeRef {
    /// The provider's id.
    Id(NodeId),
    /// The node's name.
    Hostname(String),
}

impl NodeRef {
    /// Whether `node` is the one named.
    pub fn matches(&self, node: &Node) -> bool {
        match self {
            Self::Id(id) => node.id == *id,
            Self::Hostname(name) => node.name == *name,
        }
    }
}

impl fmt::Display for NodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => f.write_str(id.as_str()),
            Self::Hostname(name) => f.write_str(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_use_libcloud_numbers() {
        assert_eq!(NodeState::Running.code(), 0);
        assert_eq!(NodeState::Stopped.code(), 5);
        assert_eq!(NodeState::Paused.code(), 8);
        assert_eq!(NodeState::Terminated.as_str(), "terminated");
    }

    #[test]
    fn cloud_names_are_path_safe() {
        assert!(CloudName::parse("fake_driver").is_ok());
        assert!(CloudName::parse("eu-west.1").is_ok());
        assert_eq!(
            CloudName::parse("a/b"),
            Err(InvalidCloudName("a/b".to_owned()))
        );
        assert!(CloudName::parse("").is_err());
        assert_eq!(CloudName::default_cloud().as_str(), "default");
        assert_eq!(NodeState::parse("stopped"), Some(NodeState::Stopped));
    }
}
