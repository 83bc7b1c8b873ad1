//! A task's JSON payload. The domain's types carry no serde: these shapes are
//! storage's own, one per job kind, and converted explicitly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use strato_domain::StoreError;
use strato_domain::cloud::{CloudName, NewNode, NodeId};
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
        ] {
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
    }

    #[test]
    fn what_does_not_fit_is_corrupt() {
        for (kind, payload) in [
            ("reconcile", "{}"),
            ("reconcile", r#"{"cloud":"bad name"}"#),
            ("stop_node", "not json"),
            ("explode", r#"{"cloud":"lab"}"#),
        ] {
            assert!(
                matches!(decode(kind, payload), Err(StoreError::Corrupt(_))),
                "{kind} {payload}"
            );
        }
    }
}
