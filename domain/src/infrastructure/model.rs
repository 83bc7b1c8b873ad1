//! Infrastructures, their VMs and owners, as stored.

use std::fmt;

use chrono::NaiveDateTime;

use crate::cloud::{CloudSpec, IdempotencyKey, NodeId};

/// An infrastructure's id: a UUID, written as 36 lowercase characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfId(uuid::Uuid);

impl InfId {
    /// A new random id.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    /// Reads an id as strato writes it (36 lowercase characters); anything
    /// else is no id.
    pub fn parse(text: &str) -> Option<Self> {
        let canonical = text.len() == 36 && !text.bytes().any(|b| b.is_ascii_uppercase());
        canonical
            .then(|| uuid::Uuid::parse_str(text).ok())
            .flatten()
            .map(Self)
    }
}

impl fmt::Display for InfId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// A VM's id: an integer local to its infrastructure, allocated in launch
/// order from 0 and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VmId(pub u32);

impl fmt::Display for VmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A VM's state (spec §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VmState {
    /// Launch requested, not yet reported up.
    Pending,
    /// Up at the provider; contextualisation not finished.
    Running,
    /// Up and contextualised, or contextualisation disabled.
    Configured,
    /// Up, but contextualisation failed.
    Unconfigured,
    /// Stopped on request.
    Stopped,
    /// Powered off or gone at the provider.
    Off,
    /// The launch failed or the provider reports a failure.
    Failed,
    /// Status unreadable for too long.
    Unknown,
    /// Being destroyed.
    Deleting,
}

impl VmState {
    /// Every state.
    pub const ALL: [Self; 9] = [
        Self::Pending,
        Self::Running,
        Self::Configured,
        Self::Unconfigured,
        Self::Stopped,
        Self::Off,
        Self::Failed,
        Self::Unknown,
        Self::Deleting,
    ];

    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Configured => "configured",
            Self::Unconfigured => "unconfigured",
            Self::Stopped => "stopped",
            Self::Off => "off",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
            Self::Deleting => "deleting",
        }
    }

    /// The state of a name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for VmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a job does to a launched VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmOperation {
    /// Destroy its node (the VM was removed).
    Destroy,
    /// Start it.
    Start,
    /// Stop it.
    Stop,
    /// Reboot it.
    Reboot,
    /// Apply wanted features: a RADL `system` sentence (canonical text).
    Alter {
        /// The wanted features.
        radl: String,
    },
    /// Make an image of one of its disks.
    Snapshot {
        /// The disk.
        disk: u32,
        /// The image's name.
        image_name: String,
        /// Delete the image when the infrastructure is destroyed.
        auto_delete: bool,
    },
}

impl VmOperation {
    /// The operation's name in messages (`start`, `stop`…).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Destroy => "destroy",
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Reboot => "reboot",
            Self::Alter { .. } => "alter",
            Self::Snapshot { .. } => "snapshot",
        }
    }
}

/// An owner's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OwnerId(uuid::Uuid);

impl OwnerId {
    /// A new random id.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    /// Reads an id written by `Display`.
    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::parse_str(text).ok().map(Self)
    }
}

impl fmt::Display for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// One set of IM credentials, as stored: the username (none for a token)
/// and a salted hash of the secret (password or token).
#[derive(Clone, PartialEq, Eq)]
pub struct Owner {
    /// Its id.
    pub id: OwnerId,
    /// The username; `None` for a token.
    pub username: Option<String>,
    /// What owners are looked up by: `user:<name>`, or `token:<digest prefix>`.
    pub lookup: String,
    /// A salted hash of the password or token (PHC string).
    pub secret_hash: String,
}

impl fmt::Debug for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Owner")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A cloud an infrastructure's VMs may run on.
#[derive(Clone, PartialEq)]
pub enum CloudRef {
    /// A cloud of strato's configuration, by name.
    Configured(String),
    /// A cloud the request's `Authorization` header described: its id and
    /// how to build it (settings may hold secrets: stored encrypted).
    Described {
        /// The id `deploy` sentences use.
        id: String,
        /// Provider type and settings.
        spec: CloudSpec,
    },
}

impl CloudRef {
    /// The id `deploy` sentences and VMs use.
    pub fn id(&self) -> &str {
        match self {
            Self::Configured(name) => name,
            Self::Described { id, .. } => id,
        }
    }
}

impl fmt::Debug for CloudRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Configured(name) => f.debug_tuple("Configured").field(name).finish(),
            Self::Described { id, spec } => f
                .debug_struct("Described")
                .field("id", id)
                .field("kind", &spec.kind)
                .finish_non_exhaustive(),
        }
    }
}

/// A VM of an infrastructure.
#[derive(Debug, Clone, PartialEq)]
pub struct Vm {
    /// Its id.
    pub id: VmId,
    /// The id of its cloud (among the infrastructure's clouds).
    pub cloud: String,
    /// The provider's id of its node, once launched.
    pub node: Option<NodeId>,
    /// Its RADL: the networks it is attached to and its `system`, with the
    /// features the provider reported (canonical RADL text).
    pub radl: String,
    /// Its state.
    pub state: VmState,
    /// Its log.
    pub log: String,
    /// Removed from the infrastructure (its id stays allocated).
    pub removed: bool,
    /// The key its node is created with.
    pub key: IdempotencyKey,
    /// Images made of it with `auto_delete`: deleted when the
    /// infrastructure is destroyed.
    pub snapshots: Vec<String>,
}

/// An infrastructure, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Infrastructure {
    /// Its id.
    pub id: InfId,
    /// Its owners, in the order they were added.
    pub owners: Vec<Owner>,
    /// Its RADL: the creation document with later additions and
    /// reconfigure replacements (canonical RADL text).
    pub radl: String,
    /// Its VMs by ascending id, removed ones included.
    pub vms: Vec<Vm>,
    /// The id the next VM gets.
    pub next_vm: u32,
    /// The contextualisation log.
    pub contmsg: String,
    /// The contextualisation outcome: unset until it finishes.
    pub contextualized: Option<bool>,
    /// Being destroyed.
    pub deleting: bool,
    /// The clouds its VMs run on.
    pub clouds: Vec<CloudRef>,
    /// When it was created.
    pub created: NaiveDateTime,
}

impl Infrastructure {
    /// A VM by id, removed ones included.
    pub fn vm(&self, id: VmId) -> Option<&Vm> {
        self.vms.iter().find(|vm| vm.id == id)
    }

    /// The VMs not removed, by ascending id.
    pub fn live_vms(&self) -> impl Iterator<Item = &Vm> {
        self.vms.iter().filter(|vm| !vm.removed)
    }

    /// Whether the owner is one of its owners.
    pub fn owned_by(&self, owner: OwnerId) -> bool {
        self.owners.iter().any(|o| o.id == owner)
    }

    /// A cloud by id.
    pub fn cloud(&self, id: &str) -> Option<&CloudRef> {
        self.clouds.iter().find(|c| c.id() == id)
    }
}

/// A change to a stored infrastructure, written atomically with the jobs
/// it needs: fields left `None` stay as they are; `vms` are written whole
/// (inserted or replaced by id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    /// New RADL.
    pub radl: Option<String>,
    /// New contextualisation log.
    pub contmsg: Option<String>,
    /// New contextualisation outcome.
    pub contextualized: Option<Option<bool>>,
    /// New destroying flag.
    pub deleting: Option<bool>,
    /// New owners, in order (replacing the list).
    pub owners: Option<Vec<Owner>>,
    /// New next VM id.
    pub next_vm: Option<u32>,
    /// New clouds (replacing the list).
    pub clouds: Option<Vec<CloudRef>>,
    /// VMs to insert or replace.
    pub vms: Vec<Vm>,
}
