use std::collections::BTreeMap;
use std::fmt;

/// The name of a configured cloud: 1 to 64 letters, digits, `_`, `-` or `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloudName(String);

impl CloudName {
    /// The cloud that answers when a request names none.
    pub const DEFAULT: &'static str = "default";

    /// Checks and wraps a cloud name; `None` when it is not one.
    pub fn parse(name: &str) -> Option<Self> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        valid.then(|| Self(name.to_owned()))
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
    pub id: String,
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
    Id(String),
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
            Self::Id(id) | Self::Hostname(id) => f.write_str(id),
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
        assert!(CloudName::parse("fake_driver").is_some());
        assert!(CloudName::parse("eu-west.1").is_some());
        assert!(CloudName::parse("a/b").is_none());
        assert!(CloudName::parse("").is_none());
    }
}
