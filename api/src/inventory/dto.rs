//! The inventory API's answers: serde types whose fields are declared in the
//! order of the reference's sorted keys (Python's `json.dumps` with
//! `sort_keys=True`), built from domain models by explicit conversions.

use std::collections::BTreeMap;

use serde::Serialize;
use strato_domain::attribute::{Attribute, AttributeValue};
use strato_domain::driver::Driver;
use strato_domain::entity::{Entity, EntityDetails};
use utoipa::ToSchema;

/// An attribute: `{datatype, key, number, subkey, value}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AttributeBody {
    /// The value's type: `string`, `int`, `bool`, `datetime`, `relation` or
    /// `json`.
    datatype: &'static str,
    /// The key.
    key: String,
    /// The number, `null` when the attribute has none.
    number: Option<i64>,
    /// The subkey, `null` when the attribute has none.
    subkey: Option<String>,
    /// The value, as its datatype shows it.
    value: ValueBody,
}

impl From<&Attribute> for AttributeBody {
    fn from(attr: &Attribute) -> Self {
        Self {
            datatype: attr.value.datatype().as_str(),
            key: attr.key.as_str().to_owned(),
            number: attr.number,
            subkey: attr.subkey.as_ref().map(|s| s.as_str().to_owned()),
            value: ValueBody::from(&attr.value),
        }
    }
}

/// An attribute's value: a JSON string, number, boolean or any JSON value.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum ValueBody {
    /// A string, a datetime (`YYYY-MM-DDTHH:MM:SS[.ffffff]`) or a relation
    /// (the related entity's `/driver/name`).
    Text(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A JSON value, as stored.
    #[schema(value_type = Object)]
    Json(serde_json::Value),
}

impl From<&AttributeValue> for ValueBody {
    fn from(value: &AttributeValue) -> Self {
        match value {
            AttributeValue::String(s) => Self::Text(s.clone()),
            AttributeValue::Int(i) => Self::Int(*i),
            AttributeValue::Bool(b) => Self::Bool(*b),
            AttributeValue::Json(v) => Self::Json(v.clone()),
            AttributeValue::Datetime(_) | AttributeValue::Relation(_) => {
                Self::Text(value.to_stored().text)
            }
        }
    }
}

/// An entity's expanded view.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EntityBody {
    /// Its visible attributes.
    attrs: Vec<AttributeBody>,
    /// The entities it holds, as `/driver/name`.
    contents: Vec<String>,
    /// For resource managers only: how many resources are allocated.
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    /// Its driver.
    driver: &'static str,
    /// For drivers that show addresses only: its IP addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    ips: Option<Vec<String>>,
    /// Its name.
    name: String,
    /// The entities that hold it, as `/driver/name`.
    parents: Vec<String>,
    /// Its driver's type.
    #[serde(rename = "type")]
    kind: &'static str,
}

impl From<&EntityDetails> for EntityBody {
    fn from(details: &EntityDetails) -> Self {
        let paths = |list: &[Entity]| list.iter().map(Entity::path).collect();
        let entity = &details.entity;
        Self {
            attrs: details.attributes.iter().map(AttributeBody::from).collect(),
            contents: paths(&details.contents),
            count: details.allocations,
            driver: entity.driver.as_str(),
            ips: details.ips(),
            name: entity.name.as_str().to_owned(),
            parents: paths(&details.parents),
            kind: entity.driver.driver_type().as_str(),
        }
    }
}

/// An entity in the mode the request asked for.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum EntityView {
    /// Compact: its path, `/driver/name`.
    Compact(String),
    /// Expanded: the entity with its attributes, contents and parents.
    Expanded(EntityBody),
}

/// What an allocation answers: the attribute that records it on an
/// existing object, or the path of the entity it created.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum AllocationBody {
    /// The attribute recorded on the object.
    Attribute(AttributeBody),
    /// The created entity's path, `/driver/name` (also when nothing was
    /// recorded).
    Thing(String),
}

/// `/__meta__`: the server and its applications.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MetaBody {
    /// The applications by mount point.
    apps: Apps,
    /// The server's name.
    server: &'static str,
    /// The server's version.
    version: &'static str,
}

impl MetaBody {
    /// The answer for this server's version.
    pub(crate) fn new(version: &'static str) -> Self {
        Self {
            apps: Apps {
                attribute: "attribute",
                entity: "entity",
                resource_manager: "resourcemanager",
            },
            server: "strato",
            version,
        }
    }
}

/// The applications `/__meta__` lists, by mount point.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Apps {
    /// `attribute`.
    #[serde(rename = "/attribute")]
    attribute: &'static str,
    /// `entity`.
    #[serde(rename = "/entity")]
    entity: &'static str,
    /// `resourcemanager`.
    #[serde(rename = "/resourcemanager")]
    resource_manager: &'static str,
}

/// `/driverlist` and `/typelist`: the reference's Python class path of each
/// driver or type, by name (sorted).
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
pub(crate) struct ClassList(BTreeMap<&'static str, &'static str>);

impl ClassList {
    /// Every driver's class.
    pub(crate) fn drivers() -> Self {
        Self(
            Driver::ALL
                .iter()
                .map(|d| (d.as_str(), d.class_path()))
                .collect(),
        )
    }

    /// Each type's class (its last registered driver's).
    pub(crate) fn types() -> Self {
        Self(
            Driver::type_list()
                .into_iter()
                .map(|(t, class)| (t.as_str(), class))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use strato_domain::attribute::AttributeKey;
    use strato_domain::entity::{EntityId, EntityName};

    use super::*;

    /// The body's text beside the text of `expected`, whose keys serde_json
    /// sorts: equal only when the fields are declared in sorted order.
    fn same_text(body: &impl Serialize, expected: &Value) {
        assert_eq!(
            serde_json::to_string(body).unwrap(),
            serde_json::to_string(expected).unwrap()
        );
    }

    fn entity(name: &str, driver: Driver) -> Entity {
        Entity {
            id: EntityId(1),
            name: EntityName::parse(name).unwrap(),
            driver,
        }
    }

    #[test]
    fn an_expanded_server_shows_its_addresses_in_key_order() {
        let details = EntityDetails {
            entity: entity("web1", Driver::BasicServer),
            // 10.0.0.1 as an IP manager stores it (less 2^31).
            attributes: vec![Attribute {
                key: AttributeKey::parse("ip").unwrap(),
                subkey: None,
                number: Some(0),
                value: AttributeValue::Int(-1_979_711_487),
            }],
            contents: vec![],
            parents: vec![entity("web", Driver::Pool)],
            allocations: None,
        };
        same_text(
            &EntityBody::from(&details),
            &json!({
                "attrs": [{
                    "datatype": "int",
                    "key": "ip",
                    "number": 0,
                    "subkey": null,
                    "value": -1_979_711_487,
                }],
                "contents": [],
                "driver": "basicserver",
                "ips": ["10.0.0.1"],
                "name": "web1",
                "parents": ["/pool/web"],
                "type": "server",
            }),
        );
    }

    #[test]
    fn a_manager_shows_its_count_and_no_addresses() {
        let details = EntityDetails {
            entity: entity("names", Driver::SimpleEntityNameManager),
            attributes: vec![],
            contents: vec![],
            parents: vec![],
            allocations: Some(2),
        };
        same_text(
            &EntityBody::from(&details),
            &json!({
                "attrs": [],
                "contents": [],
                "count": 2,
                "driver": details.entity.driver.as_str(),
                "name": "names",
                "parents": [],
                "type": details.entity.driver.driver_type().as_str(),
            }),
        );
    }

    #[test]
    fn views_and_allocations_are_their_bare_content() {
        let attr = Attribute {
            key: AttributeKey::parse("ip").unwrap(),
            subkey: Some(AttributeKey::parse("nic").unwrap()),
            number: None,
            value: AttributeValue::String("eth0".into()),
        };
        let expected = json!({
            "datatype": "string",
            "key": "ip",
            "number": null,
            "subkey": "nic",
            "value": "eth0",
        });
        same_text(&AttributeBody::from(&attr), &expected);
        same_text(
            &AllocationBody::Attribute(AttributeBody::from(&attr)),
            &expected,
        );
        same_text(
            &AllocationBody::Thing("/pool/web".into()),
            &json!("/pool/web"),
        );
        same_text(
            &EntityView::Compact("/pool/web".into()),
            &json!("/pool/web"),
        );
        same_text(&Some(EntityView::Compact("/a/b".into())), &json!("/a/b"));
        same_text(&None::<EntityView>, &json!(null));
    }

    #[test]
    fn meta_lists_the_applications() {
        same_text(
            &MetaBody::new("1.2.3"),
            &json!({
                "apps": {
                    "/attribute": "attribute",
                    "/entity": "entity",
                    "/resourcemanager": "resourcemanager",
                },
                "server": "strato",
                "version": "1.2.3",
            }),
        );
    }

    #[test]
    fn class_lists_are_sorted_by_name() {
        // Sorted by name, as the answer is.
        let drivers: std::collections::BTreeMap<String, Value> = Driver::ALL
            .iter()
            .map(|d| (d.as_str().to_owned(), d.class_path().into()))
            .collect();
        let drivers: serde_json::Map<String, Value> = drivers.into_iter().collect();
        same_text(&ClassList::drivers(), &Value::Object(drivers));
        let types: std::collections::BTreeMap<String, Value> = Driver::type_list()
            .into_iter()
            .map(|(t, class)| (t.as_str().to_owned(), class.into()))
            .collect();
        let types: serde_json::Map<String, Value> = types.into_iter().collect();
        same_text(&ClassList::types(), &Value::Object(types));
    }
}
