//! How a node is recorded in the inventory: a `basicvirtualserver` entity
//! with `cloud/*` attributes, its IPv4 addresses as `ip` attributes, and
//! `assignment/*` attributes for who uses it.

use std::net::Ipv4Addr;

use chrono::NaiveDateTime;

use super::model::{CloudName, Node, ProviderInfo};
use crate::attribute::{
    Attribute, AttributeChanges, AttributeFilter, AttributeKey, AttributeValue, ExactSlot,
    NewAttribute, NumberSpec,
};
use crate::entity::EntityName;
use crate::resource_manager::ip_to_stored;

/// Key of the attributes that tie an entity to its cloud node.
pub(crate) const CLOUD: &str = "cloud";
/// Key of the attributes that record an assignment.
pub(crate) const ASSIGNMENT: &str = "assignment";

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
        .filter_map(|ip| ip.parse::<Ipv4Addr>().ok())
        .enumerate()
        .map(|(n, ip)| NewAttribute {
            key: AttributeKey::known("ip"),
            subkey: None,
            number: NumberSpec::Exact(i64::try_from(n).unwrap_or(i64::MAX)),
            value: AttributeValue::Int(ip_to_stored(ip)),
        })
        .collect()
}

/// The attributes a newly registered node starts with.
pub(crate) fn attributes(cloud: &CloudName, info: ProviderInfo, node: &Node) -> Vec<NewAttribute> {
    let mut attributes: Vec<NewAttribute> = [
        ("name", cloud.as_str()),
        ("provider", info.kind),
        ("node_id", node.id.as_str()),
        ("uuid", node.uuid.as_str()),
        ("state", node.state.as_str()),
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
        remove: vec![AttributeFilter {
            key: Some(AttributeKey::known("ip")),
            ..AttributeFilter::default()
        }],
        set: vec![
            (slot(CLOUD, "node_id"), text(&node.id)),
            (slot(CLOUD, "state"), text(node.state.as_str())),
        ],
        add: addresses(node),
    }
}

/// Marks a destroyed node: terminated, its addresses gone.
pub(crate) fn destroyed() -> AttributeChanges {
    AttributeChanges {
        remove: vec![AttributeFilter {
            key: Some(AttributeKey::known("ip")),
            ..AttributeFilter::default()
        }],
        set: vec![(
            slot(CLOUD, "state"),
            text(super::NodeState::Terminated.as_str()),
        )],
        add: Vec::new(),
    }
}

/// Records an assignment.
pub(crate) fn assigned(user: &str, vm_type: &str, at: NaiveDateTime) -> AttributeChanges {
    AttributeChanges {
        remove: vec![AttributeFilter {
            key: Some(AttributeKey::known(ASSIGNMENT)),
            subkey: Some(AttributeKey::known("released_at")),
            number: None,
        }],
        set: vec![
            (slot(ASSIGNMENT, "user"), text(user)),
            (slot(ASSIGNMENT, "vm_type"), text(vm_type)),
            (
                slot(ASSIGNMENT, "assigned_at"),
                AttributeValue::Datetime(at),
            ),
        ],
        add: Vec::new(),
    }
}

/// Records a release.
pub(crate) fn released(at: NaiveDateTime) -> AttributeChanges {
    AttributeChanges {
        remove: Vec::new(),
        set: vec![(
            slot(ASSIGNMENT, "released_at"),
            AttributeValue::Datetime(at),
        )],
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
        a.key.as_str() == ASSIGNMENT
            && a.subkey
                .as_ref()
                .is_some_and(|s| s.as_str() == "released_at")
    });
    if released {
        None
    } else {
        value_of(attrs, ASSIGNMENT, "user")
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
            id: "3".into(),
            name: "dummy-3".into(),
            state: NodeState::Running,
            public_ips: vec!["127.0.0.3".into(), "::1".into()],
            private_ips: vec!["10.0.0.3".into()],
            uuid: "aef321".into(),
            extra: Default::default(),
        }
    }

    #[test]
    fn nodes_are_recorded_with_cloud_attributes_and_ipv4_addresses() {
        let cloud = CloudName::parse("fake_driver").unwrap();
        let info = ProviderInfo {
            kind: "dummy",
            display_name: "Dummy Node Provider",
        };
        let attrs = attributes(&cloud, info, &node());
        let cloud_attrs: Vec<_> = attrs
            .iter()
            .filter(|a| a.key.as_str() == CLOUD)
            .map(|a| (a.subkey.as_ref().unwrap().as_str(), a.value.clone()))
            .collect();
        assert_eq!(cloud_attrs[0], ("name", text("fake_driver")));
        assert_eq!(cloud_attrs[4], ("state", text("running")));
        let ips: Vec<_> = attrs.iter().filter(|a| a.key.as_str() == "ip").collect();
        assert_eq!(
            ips.len(),
            2,
            "IPv6 addresses are not stored as ip attributes"
        );
        assert_eq!(ips[1].number, NumberSpec::Exact(1));
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
