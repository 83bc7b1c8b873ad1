//! How a node is recorded in the inventory: a `basicvirtualserver` entity
//! with `cloud/*` attributes (its addresses as numbered `cloud/ip`), and
//! `assignment/*` attributes for who uses it.

use chrono::NaiveDateTime;

use super::model::{CloudName, Node, NodeState, ProviderInfo};
use crate::attribute::{
    Attribute, AttributeChanges, AttributeFilter, AttributeKey, AttributeValue, ExactSlot, Guard,
    NewAttribute, NumberSpec,
};
use crate::entity::EntityName;
use crate::error::Rejection;
use crate::node_record::{
    ADDRESS, ASSIGNED_AT, ASSIGNMENT, CLOUD, NAME, NODE_ID, PROVIDER, RELEASED_AT, STATE, USER,
    UUID, VM_TYPE,
};

fn slot(key: &'static str, subkey: &'static str) -> ExactSlot {
    ExactSlot {
        key: AttributeKey::known(key),
        subkey: Some(AttributeKey::known(subkey)),
        number: None,
    }
}

fn text(value: &str) -> AttributeValue {
    AttributeValue::String(value.to_owned())
}

fn addresses(node: &Node) -> Vec<NewAttribute> {
    node.public_ips
        .iter()
        .chain(&node.private_ips)
        .map(|ip| NewAttribute {
            key: AttributeKey::known(CLOUD),
            subkey: Some(AttributeKey::known(ADDRESS)),
            number: NumberSpec::Next,
            value: text(ip),
        })
        .collect()
}

fn all_addresses() -> AttributeFilter {
    AttributeFilter {
        key: Some(AttributeKey::known(CLOUD)),
        subkey: Some(AttributeKey::known(ADDRESS)),
        number: None,
    }
}

/// The attributes a newly registered node starts with.
pub(crate) fn attributes(cloud: &CloudName, info: ProviderInfo, node: &Node) -> Vec<NewAttribute> {
    let mut attributes: Vec<NewAttribute> = [
        (NAME, cloud.as_str()),
        (PROVIDER, info.kind),
        (NODE_ID, node.id.as_str()),
        (UUID, node.uuid.as_str()),
        (STATE, node.state.as_str()),
    ]
    .into_iter()
    .map(|(subkey, value)| {
        let ExactSlot { key, subkey, .. } = slot(CLOUD, subkey);
        NewAttribute {
            key,
            subkey,
            number: NumberSpec::None,
            value: text(value),
        }
    })
    .collect();
    attributes.extend(addresses(node));
    attributes
}

/// Brings a registered node's id, state and addresses up to date.
pub(crate) fn refresh(node: &Node) -> AttributeChanges {
    AttributeChanges {
        guard: None,
        remove: vec![all_addresses()],
        set: vec![
            (slot(CLOUD, NODE_ID), text(node.id.as_str())),
            (slot(CLOUD, STATE), text(node.state.as_str())),
        ],
        add: addresses(node),
    }
}

/// Marks a destroyed node: terminated, its addresses gone, and released at
/// `released` when it was assigned.
pub(crate) fn destroyed(released: Option<NaiveDateTime>) -> AttributeChanges {
    let mut set = vec![(slot(CLOUD, STATE), text(NodeState::Terminated.as_str()))];
    set.extend(released.map(|at| (slot(ASSIGNMENT, RELEASED_AT), AttributeValue::Datetime(at))));
    AttributeChanges {
        guard: None,
        remove: vec![all_addresses()],
        set,
        add: Vec::new(),
    }
}

/// Records an assignment, unless someone holds the node (the guard then
/// names the holder).
pub(crate) fn assigned(user: &str, vm_type: &str, at: NaiveDateTime) -> AttributeChanges {
    AttributeChanges {
        guard: Some(Guard(|attrs| {
            current_user(attrs).map_or(Ok(()), |holder| {
                Err(Rejection::AssignedTo(holder.to_owned()))
            })
        })),
        remove: vec![AttributeFilter {
            key: Some(AttributeKey::known(ASSIGNMENT)),
            subkey: Some(AttributeKey::known(RELEASED_AT)),
            number: None,
        }],
        set: vec![
            (slot(ASSIGNMENT, USER), text(user)),
            (slot(ASSIGNMENT, VM_TYPE), text(vm_type)),
            (slot(ASSIGNMENT, ASSIGNED_AT), AttributeValue::Datetime(at)),
        ],
        add: Vec::new(),
    }
}

/// Records a release, when someone holds the node.
pub(crate) fn released(at: NaiveDateTime) -> AttributeChanges {
    AttributeChanges {
        guard: Some(Guard(|attrs| {
            current_user(attrs)
                .map(|_| ())
                .ok_or(Rejection::NotAssigned)
        })),
        remove: Vec::new(),
        set: vec![(slot(ASSIGNMENT, RELEASED_AT), AttributeValue::Datetime(at))],
        add: Vec::new(),
    }
}

/// The attribute `key/subkey` among `attrs`, as text.
pub(crate) fn value_of<'a>(attrs: &'a [Attribute], key: &str, subkey: &str) -> Option<&'a str> {
    attrs.iter().find_map(|a| match (&a.value, &a.subkey) {
        (AttributeValue::String(s), Some(sub))
            if a.key.as_str() == key && sub.as_str() == subkey =>
        {
            Some(s.as_str())
        }
        _ => None,
    })
}

/// Who holds the node now, if anyone: assigned and not released since.
pub(crate) fn current_user(attrs: &[Attribute]) -> Option<&str> {
    let released = attrs.iter().any(|a| {
        a.key.as_str() == ASSIGNMENT && a.subkey.as_ref().is_some_and(|s| s.as_str() == RELEASED_AT)
    });
    if released {
        None
    } else {
        value_of(attrs, ASSIGNMENT, USER)
    }
}

/// Entity names for a node, in order of preference: its own name, then its
/// name qualified by the cloud (`dummy-3@eu`), then its uuid.
pub(crate) fn candidate_names(cloud: &CloudName, node: &Node) -> Vec<EntityName> {
    let own = node.name.replace('/', "-");
    [
        own.clone(),
        format!("{own}@{cloud}"),
        format!("node-{}", node.uuid),
    ]
    .iter()
    .filter_map(|n| EntityName::parse(n).ok())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::NodeState;

    fn node() -> Node {
        Node {
            id: crate::cloud::NodeId::new("3"),
            name: "dummy-3".into(),
            state: NodeState::Running,
            public_ips: vec!["127.0.0.3".into(), "::1".into()],
            private_ips: vec!["10.0.0.3".into()],
            uuid: "aef321".into(),
            extra: Default::default(),
            idempotency_key: None,
        }
    }

    #[test]
    fn nodes_are_recorded_with_cloud_attributes_and_addresses() {
        let cloud = CloudName::parse("fake_driver").unwrap();
        let info = ProviderInfo {
            kind: "dummy",
            display_name: "Dummy Node Provider",
        };
        let attrs = attributes(&cloud, info, &node());
        let cloud_attrs: Vec<_> = attrs
            .iter()
            .filter(|a| a.key.as_str() == CLOUD && a.number == NumberSpec::None)
            .map(|a| (a.subkey.as_ref().unwrap().as_str(), a.value.clone()))
            .collect();
        assert_eq!(cloud_attrs[0], ("name", text("fake_driver")));
        assert_eq!(cloud_attrs[4], ("state", text("running")));
        let addresses: Vec<_> = attrs
            .iter()
            .filter(|a| a.subkey.as_ref().is_some_and(|s| s.as_str() == ADDRESS))
            .map(|a| (a.number, a.value.clone()))
            .collect();
        assert_eq!(
            addresses,
            [
                (NumberSpec::Next, text("127.0.0.3")),
                (NumberSpec::Next, text("::1")),
                (NumberSpec::Next, text("10.0.0.3")),
            ]
        );
    }

    #[test]
    fn assignments_are_guarded() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let held = [Attribute {
            key: AttributeKey::known(ASSIGNMENT),
            subkey: Some(AttributeKey::known(USER)),
            number: None,
            value: text("ann"),
        }];
        let assign = assigned("bob", "web", at).guard.unwrap();
        assert_eq!(
            (assign.0)(&held),
            Err(Rejection::AssignedTo("ann".to_owned()))
        );
        assert_eq!((assign.0)(&[]), Ok(()));
        let release = released(at).guard.unwrap();
        assert!((release.0)(&[]).is_err());
        assert!((release.0)(&held).is_ok());
    }

    #[test]
    fn names_fall_back_to_the_cloud_then_the_uuid() {
        let cloud = CloudName::parse("eu").unwrap();
        let names: Vec<_> = candidate_names(&cloud, &node())
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(names, ["dummy-3", "dummy-3@eu", "node-aef321"]);
    }
}
