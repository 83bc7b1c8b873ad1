//! A task's JSON payload. The domain's types carry no serde: these shapes are
//! storage's own, one per job kind, and converted explicitly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use strato_domain::StoreError;
use strato_domain::cloud::{CloudName, NewNode, NodeId};
use strato_domain::infrastructure::{InfId, VmId, VmOperation};
use strato_domain::job::{JobKind, Task};

/// `{"cloud", "node": {…}}` of a `start_node` job.
#[derive(Debug, Serialize, Deserialize)]
struct StartNode {
    cloud: String,
    node: Node,
}

/// The node a `start_node` job creates.
#[derive(Debug, Serialize, Deserialize)]
struct Node {
    name: String,
    size: String,
    image: String,
    location: Option<String>,
    key_name: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, serde_json::Value>,
}

/// `{"cloud", "node"}` of a `stop_node` job.
#[derive(Debug, Serialize, Deserialize)]
struct StopNode {
    cloud: String,
    node: String,
}

/// `{"cloud"}` of a `reconcile` job.
#[derive(Debug, Serialize, Deserialize)]
struct Reconcile {
    cloud: String,
}

/// `{"inf", "vm"}` of a `launch_vm` job.
#[derive(Debug, Serialize, Deserialize)]
struct LaunchVm {
    inf: String,
    vm: u32,
}

/// `{"inf", "vm", "operation": {"name", …}}` of an `operate_vm` job.
#[derive(Debug, Serialize, Deserialize)]
struct OperateVm {
    inf: String,
    vm: u32,
    operation: Operation,
}

/// What an `operate_vm` job does: `{"name": "start"}`, `{"name": "alter",
/// "radl"}`, `{"name": "snapshot", "disk", "image_name", "auto_delete"}`…
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
enum Operation {
    Destroy,
    Start,
    Stop,
    Reboot,
    Alter {
        radl: String,
    },
    Snapshot {
        disk: u32,
        image_name: String,
        #[serde(default)]
        auto_delete: bool,
    },
}

impl From<&VmOperation> for Operation {
    fn from(operation: &VmOperation) -> Self {
        match operation {
            VmOperation::Destroy => Self::Destroy,
            VmOperation::Start => Self::Start,
            VmOperation::Stop => Self::Stop,
            VmOperation::Reboot => Self::Reboot,
            VmOperation::Alter { radl } => Self::Alter { radl: radl.clone() },
            VmOperation::Snapshot {
                disk,
                image_name,
                auto_delete,
            } => Self::Snapshot {
                disk: *disk,
                image_name: image_name.clone(),
                auto_delete: *auto_delete,
            },
        }
    }
}

impl From<Operation> for VmOperation {
    fn from(operation: Operation) -> Self {
        match operation {
            Operation::Destroy => Self::Destroy,
            Operation::Start => Self::Start,
            Operation::Stop => Self::Stop,
            Operation::Reboot => Self::Reboot,
            Operation::Alter { radl } => Self::Alter { radl },
            Operation::Snapshot {
                disk,
                image_name,
                auto_delete,
            } => Self::Snapshot {
                disk,
                image_name,
                auto_delete,
            },
        }
    }
}

/// `{"inf", "force"}` of a `destroy_infrastructure` job.
#[derive(Debug, Serialize, Deserialize)]
struct DestroyInfrastructure {
    inf: String,
    force: bool,
}

/// `{}` of a `refresh_vms` job.
#[derive(Debug, Serialize, Deserialize)]
struct RefreshVms {}

/// The task's payload, as stored.
///
/// # Errors
/// [`StoreError::Corrupt`] when it cannot be written as JSON.
pub(super) fn encode(task: &Task) -> Result<String, StoreError> {
    let json = match task {
        Task::StartNode { cloud, node } => serde_json::to_string(&StartNode {
            cloud: cloud.as_str().to_owned(),
            node: Node {
                name: node.name.clone(),
                size: node.size.clone(),
                image: node.image.clone(),
                location: node.location.clone(),
                key_name: node.key_name.clone(),
                metadata: node.metadata.clone(),
            },
        }),
        Task::StopNode { cloud, node } => serde_json::to_string(&StopNode {
            cloud: cloud.as_str().to_owned(),
            node: node.as_str().to_owned(),
        }),
        Task::Reconcile { cloud } => serde_json::to_string(&Reconcile {
            cloud: cloud.as_str().to_owned(),
        }),
        Task::LaunchVm { inf, vm } => serde_json::to_string(&LaunchVm {
            inf: inf.to_string(),
            vm: vm.0,
        }),
        Task::OperateVm { inf, vm, operation } => serde_json::to_string(&OperateVm {
            inf: inf.to_string(),
            vm: vm.0,
            operation: operation.into(),
        }),
        Task::DestroyInfrastructure { inf, force } => {
            serde_json::to_string(&DestroyInfrastructure {
                inf: inf.to_string(),
                force: *force,
            })
        }
        Task::RefreshVms => serde_json::to_string(&RefreshVms {}),
    };
    json.map_err(|e| StoreError::Corrupt(format!("cannot write a job's payload: {e}")))
}

/// The task a stored kind and payload describe.
///
/// # Errors
/// [`StoreError::Corrupt`] when the kind is unknown or the payload does not
/// fit it.
pub(super) fn decode(kind: &str, payload: &str) -> Result<Task, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| {
        StoreError::Corrupt(format!("job payload of kind {kind:?}: {e}"))
    };
    let cloud = |name: &str| CloudName::parse(name).map_err(|e| corrupt(&e));
    let inf = |id: &str| InfId::parse(id).ok_or_else(|| corrupt(&"invalid infrastructure id"));
    let kind_of = JobKind::parse(kind).ok_or_else(|| corrupt(&"unknown kind"))?;
    match kind_of {
        JobKind::StartNode => {
            let StartNode { cloud: name, node } =
                serde_json::from_str(payload).map_err(|e| corrupt(&e))?;
            Ok(Task::StartNode {
                cloud: cloud(&name)?,
                node: NewNode {
                    name: node.name,
                    size: node.size,
                    image: node.image,
                    location: node.location,
                    key_name: node.key_name,
                    metadata: node.metadata,
                },
            })
        }
        JobKind::StopNode => {
            let StopNode { cloud: name, node } =
                serde_json::from_str(payload).map_err(|e| corrupt(&e))?;
            Ok(Task::StopNode {
                cloud: cloud(&name)?,
                node: NodeId::new(node),
            })
        }
        JobKind::Reconcile => {
            let Reconcile { cloud: name } =
                serde_json::from_str(payload).map_err(|e| corrupt(&e))?;
            Ok(Task::Reconcile {
                cloud: cloud(&name)?,
            })
        }
        JobKind::LaunchVm => {
            let LaunchVm { inf: id, vm } =
                serde_json::from_str(payload).map_err(|e| corrupt(&e))?;
            Ok(Task::LaunchVm {
                inf: inf(&id)?,
                vm: VmId(vm),
            })
        }
        JobKind::OperateVm => {
            let OperateVm {
                inf: id,
                vm,
                operation,
            } = serde_json::from_str(payload).map_err(|e| corrupt(&e))?;
            Ok(Task::OperateVm {
                inf: inf(&id)?,
                vm: VmId(vm),
                operation: operation.into(),
            })
        }
        JobKind::DestroyInfrastructure => {
            let DestroyInfrastructure { inf: id, force } =
                serde_json::from_str(payload).map_err(|e| corrupt(&e))?;
            Ok(Task::DestroyInfrastructure {
                inf: inf(&id)?,
                force,
            })
        }
        JobKind::RefreshVms => {
            let RefreshVms {} = serde_json::from_str(payload).map_err(|e| corrupt(&e))?;
            Ok(Task::RefreshVms)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back() {
        let cloud = CloudName::parse("lab").unwrap();
        let node = NewNode {
            name: "web1".into(),
            size: "small".into(),
            image: "debian".into(),
            location: Some("eu".into()),
            key_name: None,
            metadata: [("tags".to_owned(), serde_json::json!(["a", 1]))].into(),
        };
        for task in [
            Task::StartNode {
                cloud: cloud.clone(),
                node,
            },
            Task::StopNode {
                cloud: cloud.clone(),
                node: NodeId::new("n-1"),
            },
            Task::Reconcile { cloud },
            Task::LaunchVm {
                inf: InfId::random(),
                vm: VmId(3),
            },
            Task::DestroyInfrastructure {
                inf: InfId::random(),
                force: true,
            },
            Task::RefreshVms,
        ]
        .into_iter()
        .chain(
            [
                VmOperation::Destroy,
                VmOperation::Start,
                VmOperation::Stop,
                VmOperation::Reboot,
                VmOperation::Alter {
                    radl: "system front ( cpu.count >= 2 )".into(),
                },
                VmOperation::Snapshot {
                    disk: 1,
                    image_name: "backup".into(),
                    auto_delete: true,
                },
            ]
            .into_iter()
            .map(|operation| Task::OperateVm {
                inf: InfId::random(),
                vm: VmId(u32::MAX),
                operation,
            }),
        ) {
            let text = encode(&task).unwrap();
            assert_eq!(decode(task.kind().as_str(), &text).unwrap(), task);
        }
    }

    #[test]
    fn payloads_keep_their_documented_shape() {
        let task = Task::StopNode {
            cloud: CloudName::parse("lab").unwrap(),
            node: NodeId::new("n-1"),
        };
        assert_eq!(encode(&task).unwrap(), r#"{"cloud":"lab","node":"n-1"}"#);
        let inf = InfId::parse("0b5f7b9e-8d1c-4c39-9a51-3e2c2f0f6a10").unwrap();
        let task = Task::OperateVm {
            inf,
            vm: VmId(2),
            operation: VmOperation::Snapshot {
                disk: 0,
                image_name: "img".into(),
                auto_delete: false,
            },
        };
        assert_eq!(
            encode(&task).unwrap(),
            r#"{"inf":"0b5f7b9e-8d1c-4c39-9a51-3e2c2f0f6a10","vm":2,"operation":{"name":"snapshot","disk":0,"image_name":"img","auto_delete":false}}"#
        );
        assert_eq!(encode(&Task::RefreshVms).unwrap(), "{}");
    }

    #[test]
    fn what_does_not_fit_is_corrupt() {
        for (kind, payload) in [
            ("reconcile", "{}"),
            ("reconcile", r#"{"cloud":"bad name"}"#),
            ("stop_node", "not json"),
            ("explode", r#"{"cloud":"lab"}"#),
            ("launch_vm", r#"{"inf":"not-an-id","vm":0}"#),
            (
                "launch_vm",
                r#"{"inf":"0B5F7B9E-8D1C-4C39-9A51-3E2C2F0F6A10","vm":0}"#,
            ),
            (
                "operate_vm",
                r#"{"inf":"0b5f7b9e-8d1c-4c39-9a51-3e2c2f0f6a10","vm":0,"operation":{"name":"explode"}}"#,
            ),
            (
                "destroy_infrastructure",
                r#"{"inf":"0b5f7b9e-8d1c-4c39-9a51-3e2c2f0f6a10"}"#,
            ),
            ("refresh_vms", "null"),
        ] {
            assert!(
                matches!(decode(kind, payload), Err(StoreError::Corrupt(_))),
                "{kind} {payload}"
            );
        }
    }
}
