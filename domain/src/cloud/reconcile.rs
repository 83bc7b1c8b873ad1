//! Reconciliation decisions: what to fix so that a cloud's inventory
//! records agree with the nodes its provider reports.

use super::model::{IdempotencyKey, Node, NodeState};
use crate::entity::Entity;

/// A node's inventory record, as reconciliation reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The node's entity.
    pub entity: Entity,
    /// `cloud/uuid`.
    pub uuid: Option<String>,
    /// `cloud/node_id`.
    pub node_id: Option<String>,
    /// `cloud/state`.
    pub state: Option<String>,
    /// `cloud/ip`, in order.
    pub addresses: Vec<String>,
}

impl Record {
    fn is_terminated(&self) -> bool {
        self.state.as_deref() == Some(NodeState::Terminated.as_str())
    }

    /// Whether the record says what `node` says.
    pub(crate) fn agrees_with(&self, node: &Node) -> bool {
        let addresses: Vec<&String> = node.public_ips.iter().chain(&node.private_ips).collect();
        self.node_id.as_deref() == Some(node.id.as_str())
            && self.state.as_deref() == Some(node.state.as_str())
            && self.addresses.iter().collect::<Vec<_>>() == addresses
    }
}

/// One change that brings the inventory in step with the cloud.
#[derive(Debug, Clone, PartialEq)]
pub enum Fix {
    /// The provider no longer has the recorded node: mark it terminated
    /// (releasing its assignment, keeping its history).
    Terminate(Entity),
    /// strato created the node but never recorded it: record it.
    Record(Node),
    /// The record's id, state or addresses are stale: refresh them.
    Refresh(Entity, Node),
}

/// What to fix, given the cloud's records, its nodes, and which
/// idempotency keys are strato's own.
pub fn plan(
    records: &[Record],
    nodes: &[Node],
    ours: &dyn Fn(&IdempotencyKey) -> bool,
) -> Vec<Fix> {
    let mut fixes = Vec::new();
    for record in records {
        let node = nodes
            .iter()
            .find(|n| record.uuid.as_deref() == Some(n.uuid.as_str()));
        match node {
            None if !record.is_terminated() => fixes.push(Fix::Terminate(record.entity.clone())),
            Some(node) if !record.agrees_with(node) => {
                fixes.push(Fix::Refresh(record.entity.clone(), node.clone()));
            }
            _ => {}
        }
    }
    for node in nodes {
        let recorded = records
            .iter()
            .any(|r| r.uuid.as_deref() == Some(node.uuid.as_str()));
        if !recorded && node.idempotency_key.as_ref().is_some_and(ours) {
            fixes.push(Fix::Record(node.clone()));
        }
    }
    fixes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::NodeId;
    use crate::driver::Driver;
    use crate::entity::{EntityId, EntityName};

    fn node(n: u32, key: Option<&str>) -> Node {
        Node {
            id: NodeId::new(n.to_string()),
            name: format!("dummy-{n}"),
            state: NodeState::Running,
            public_ips: vec![format!("127.0.0.{n}")],
            private_ips: vec![],
            uuid: format!("uuid-{n}"),
            extra: Default::default(),
            idempotency_key: key.map(IdempotencyKey::new),
        }
    }

    fn record(n: u32, state: &str) -> Record {
        Record {
            entity: Entity {
                id: EntityId(i64::from(n)),
                name: EntityName::parse(&format!("dummy-{n}")).unwrap(),
                driver: Driver::BasicVirtualServer,
            },
            uuid: Some(format!("uuid-{n}")),
            node_id: Some(n.to_string()),
            state: Some(state.to_owned()),
            addresses: vec![format!("127.0.0.{n}")],
        }
    }

    fn ours(key: &IdempotencyKey) -> bool {
        key.as_str().starts_with("ours")
    }

    #[test]
    fn records_of_vanished_nodes_are_terminated_once() {
        let fixes = plan(&[record(3, "running"), record(4, "terminated")], &[], &ours);
        assert_eq!(fixes, [Fix::Terminate(record(3, "running").entity)]);
    }

    #[test]
    fn only_strato_s_own_unrecorded_nodes_are_recorded() {
        let nodes = [
            node(1, None),
            node(5, Some("ours-1")),
            node(6, Some("theirs")),
        ];
        assert_eq!(
            plan(&[], &nodes, &ours),
            [Fix::Record(node(5, Some("ours-1")))]
        );
    }

    #[test]
    fn stale_records_are_refreshed_and_agreeing_ones_left_alone() {
        let mut stopped = node(3, None);
        stopped.state = NodeState::Stopped;
        let fixes = plan(
            &[record(3, "running"), record(4, "running")],
            &[stopped.clone(), node(4, None)],
            &ours,
        );
        assert_eq!(fixes, [Fix::Refresh(record(3, "running").entity, stopped)]);
    }
}
