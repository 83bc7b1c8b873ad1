use std::fmt;

use chrono::NaiveDateTime;

use crate::cloud::{CloudName, IdempotencyKey, NewNode, NodeId};
use crate::infrastructure::{InfId, VmId, VmOperation};

/// A job's id: a UUID chosen by strato before the job is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(uuid::Uuid);

/// Namespace of the ids derived from names ([`JobId::derived`]).
const DERIVED: uuid::Uuid = uuid::Uuid::from_u128(0x7374_7261_746f_4a6f_6273_0000_0000_0001);

impl JobId {
    /// A new random id.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    /// The same id for the same name, on every replica: jobs that must run
    /// once per period use it so that only the first replica's enqueue counts.
    pub fn derived(name: &str) -> Self {
        Self(uuid::Uuid::new_v5(&DERIVED, name.as_bytes()))
    }

    /// Reads an id written by [`JobId`]'s `Display`.
    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::parse_str(text).ok().map(Self)
    }

    /// The id as 16 bytes.
    pub fn as_u128(self) -> u128 {
        self.0.as_u128()
    }

    /// The idempotency key of the node this job creates.
    pub fn idempotency_key(self) -> IdempotencyKey {
        IdempotencyKey::new(self.to_string())
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// The closed set of job kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// Create a node and record it.
    StartNode,
    /// Destroy a node and mark its record.
    StopNode,
    /// Bring a cloud's inventory records in step with its nodes.
    Reconcile,
    /// Launch an infrastructure's VM.
    LaunchVm,
    /// Act on an infrastructure's VM (destroy, start, stop, reboot, alter,
    /// snapshot).
    OperateVm,
    /// Destroy an infrastructure's VMs, then forget it.
    DestroyInfrastructure,
    /// Read the status of the infrastructures' VMs.
    RefreshVms,
}

impl JobKind {
    /// Every kind.
    pub const ALL: [Self; 7] = [
        Self::StartNode,
        Self::StopNode,
        Self::Reconcile,
        Self::LaunchVm,
        Self::OperateVm,
        Self::DestroyInfrastructure,
        Self::RefreshVms,
    ];

    /// The kind's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StartNode => "start_node",
            Self::StopNode => "stop_node",
            Self::Reconcile => "reconcile",
            Self::LaunchVm => "launch_vm",
            Self::OperateVm => "operate_vm",
            Self::DestroyInfrastructure => "destroy_infrastructure",
            Self::RefreshVms => "refresh_vms",
        }
    }

    /// The kind of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a job does, with what it needs: names and ids, never secrets.
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    /// Create a node (the job's id is its idempotency key) and record it.
    StartNode {
        /// The cloud.
        cloud: CloudName,
        /// What to create.
        node: NewNode,
    },
    /// Destroy a node and mark its record terminated.
    StopNode {
        /// The cloud.
        cloud: CloudName,
        /// The node.
        node: NodeId,
    },
    /// Reconcile a cloud's records with its nodes.
    Reconcile {
        /// The cloud.
        cloud: CloudName,
    },
    /// Launch a VM (with its stored idempotency key) and record it.
    LaunchVm {
        /// The infrastructure.
        inf: InfId,
        /// The VM.
        vm: VmId,
    },
    /// Act on a launched VM.
    OperateVm {
        /// The infrastructure.
        inf: InfId,
        /// The VM.
        vm: VmId,
        /// What to do.
        operation: VmOperation,
    },
    /// Destroy every VM of an infrastructure being destroyed, then forget it.
    DestroyInfrastructure {
        /// The infrastructure.
        inf: InfId,
        /// Forget it even when a VM cannot be destroyed.
        force: bool,
    },
    /// Read the provider status of the infrastructures' VMs and store the
    /// states that changed.
    RefreshVms,
}

impl Task {
    /// The task's kind.
    pub fn kind(&self) -> JobKind {
        match self {
            Self::StartNode { .. } => JobKind::StartNode,
            Self::StopNode { .. } => JobKind::StopNode,
            Self::Reconcile { .. } => JobKind::Reconcile,
            Self::LaunchVm { .. } => JobKind::LaunchVm,
            Self::OperateVm { .. } => JobKind::OperateVm,
            Self::DestroyInfrastructure { .. } => JobKind::DestroyInfrastructure,
            Self::RefreshVms => JobKind::RefreshVms,
        }
    }

    /// The configured cloud it works on, when it names one.
    pub fn cloud(&self) -> Option<&CloudName> {
        match self {
            Self::StartNode { cloud, .. }
            | Self::StopNode { cloud, .. }
            | Self::Reconcile { cloud } => Some(cloud),
            Self::LaunchVm { .. }
            | Self::OperateVm { .. }
            | Self::DestroyInfrastructure { .. }
            | Self::RefreshVms => None,
        }
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting to be claimed once its run-after time has come.
    Queued,
    /// Claimed by a worker, whose lease says until when.
    Running,
    /// Done.
    Succeeded,
    /// Given up.
    Failed,
    /// Called off before it ran.
    Cancelled,
}

impl JobState {
    /// The state's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The state of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Running,
            Self::Succeeded,
            Self::Failed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// Whether the job is over.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// Who runs jobs: one id per process, chosen at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkerId(String);

impl WorkerId {
    /// Wraps a worker's name.
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A worker's hold on a running job, until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Who holds the job.
    pub owner: WorkerId,
    /// When the hold ends unless renewed.
    pub expires: NaiveDateTime,
}

/// A job to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// Its id, chosen before it is stored.
    pub id: JobId,
    /// What it does.
    pub task: Task,
    /// How many times it may run before it is given up.
    pub max_attempts: u32,
    /// Not claimed before this time.
    pub run_after: NaiveDateTime,
    /// Stored already claimed (running, first attempt) by this lease: the
    /// request that enqueues it runs it at once.
    pub claimed: Option<Lease>,
}

/// The queue at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobStats {
    /// How many jobs of each kind are in each state.
    pub counts: Vec<(JobKind, JobState, u64)>,
    /// When the oldest queued job was stored.
    pub oldest_queued: Option<NaiveDateTime>,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// What it does.
    pub task: Task,
    /// Where it is.
    pub state: JobState,
    /// How many times it was claimed.
    pub attempts: u32,
    /// How many times it may be claimed.
    pub max_attempts: u32,
    /// Not claimed before this time.
    pub run_after: NaiveDateTime,
    /// Who holds it while it runs.
    pub lease: Option<Lease>,
    /// Why its last attempt failed.
    pub last_error: Option<String>,
    /// When it was stored.
    pub created: NaiveDateTime,
    /// When it last changed.
    pub updated: NaiveDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_uuids_and_read_back() {
        let id = JobId::random();
        let text = id.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(JobId::parse(&text), Some(id));
        assert_eq!(JobId::derived("a"), JobId::derived("a"));
        assert_ne!(JobId::derived("a"), JobId::derived("b"));
        assert_eq!(id.idempotency_key().as_str(), text);
    }

    #[test]
    fn names_read_back() {
        for kind in [JobKind::StartNode, JobKind::StopNode, JobKind::Reconcile] {
            assert_eq!(JobKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(JobState::parse("running"), Some(JobState::Running));
        assert!(JobState::Failed.is_final() && !JobState::Queued.is_final());
    }
}
