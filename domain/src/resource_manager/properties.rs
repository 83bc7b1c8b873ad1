use std::net::Ipv4Addr;

use crate::attribute::{AttributeKey, AttributeValue, NewAttribute, NumberSpec};
use crate::driver::Driver;
use crate::inventory::InventoryError;

use super::ip::Network;

/// Subkey under which a manager's properties are stored as attributes.
pub const PROPERTY_SUBKEY: &str = "property";

/// One property a manager driver accepts: name and default.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PropertySpec {
    pub(crate) name: &'static str,
    pub(crate) default: PropertyDefault,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum PropertyDefault {
    None,
    Text(&'static str),
    Int(i64),
}

const NAME_PROPERTIES: &[PropertySpec] = &[
    PropertySpec {
        name: "basename",
        default: PropertyDefault::Text(""),
    },
    PropertySpec {
        name: "digits",
        default: PropertyDefault::Int(2),
    },
    PropertySpec {
        name: "leadingZeros",
        default: PropertyDefault::Int(1),
    },
    PropertySpec {
        name: "next",
        default: PropertyDefault::Int(1),
    },
];

const IP_PROPERTIES: &[PropertySpec] = &[
    PropertySpec {
        name: "baseip",
        default: PropertyDefault::None,
    },
    PropertySpec {
        name: "gateway",
        default: PropertyDefault::None,
    },
    PropertySpec {
        name: "netmask",
        default: PropertyDefault::Text("255.255.255.255"),
    },
];

pub(crate) fn specs(driver: Driver) -> &'static [PropertySpec] {
    match driver {
        Driver::SimpleNameManager | Driver::SimpleEntityNameManager => NAME_PROPERTIES,
        Driver::IpManager => IP_PROPERTIES,
        _ => &[],
    }
}

/// Checks the properties given for a new resource manager and returns the
/// attributes to store: the given values, and the defaults of the others.
///
/// # Errors
/// [`InventoryError::InvalidProperty`] for an unknown property, a number that
/// is not one, an IP manager without `baseip`, or a malformed address.
pub fn properties_for(
    driver: Driver,
    given: &[(String, String)],
) -> Result<Vec<NewAttribute>, InventoryError> {
    let invalid = |msg: String| InventoryError::InvalidProperty(msg);
    if let Some((name, _)) = given
        .iter()
        .find(|(n, _)| !specs(driver).iter().any(|s| s.name == n))
    {
        return Err(invalid(format!(
            "Unknown property \"{name}\" for driver \"{driver}\""
        )));
    }
    let mut attributes = Vec::new();
    for spec in specs(driver) {
        let value = match (
            given.iter().rev().find(|(n, _)| n == spec.name),
            spec.default,
        ) {
            (Some((_, text)), PropertyDefault::Int(_)) => {
                AttributeValue::Int(text.trim().parse().map_err(|_| {
                    invalid(format!(
                        "Property \"{}\" must be an integer, not \"{text}\"",
                        spec.name
                    ))
                })?)
            }
            (Some((_, text)), _) => AttributeValue::String(text.clone()),
            (None, PropertyDefault::Int(i)) => AttributeValue::Int(i),
            (None, PropertyDefault::Text(t)) => AttributeValue::String(t.to_owned()),
            (None, PropertyDefault::None) => continue,
        };
        attributes.push(NewAttribute {
            key: AttributeKey::known(spec.name),
            subkey: Some(AttributeKey::known(PROPERTY_SUBKEY)),
            number: NumberSpec::None,
            value,
        });
    }
    if driver == Driver::IpManager {
        ip_network(&attributes).map_err(invalid)?;
    }
    for attr in &attributes {
        if let AttributeValue::Int(value) = attr.value {
            super::allocator::check_counter(attr.key.as_str(), value).map_err(invalid)?;
        }
    }
    Ok(attributes)
}

fn ip_network(attributes: &[NewAttribute]) -> Result<(Network, Option<Ipv4Addr>), String> {
    let text = |name: &str| {
        attributes
            .iter()
            .find(|a| a.key.as_str() == name)
            .and_then(|a| match &a.value {
                AttributeValue::String(s) => Some(s.clone()),
                _ => None,
            })
    };
    super::allocator::network_from(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn ip_managers_store_what_was_given() {
        let attrs = properties_for(
            Driver::IpManager,
            &given(&[
                ("baseip", "192.168.1.10"),
                ("gateway", "192.168.1.1"),
                ("netmask", "255.255.255.0"),
            ]),
        )
        .unwrap();
        let keys: Vec<_> = attrs.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["baseip", "gateway", "netmask"]);
    }

    #[test]
    fn bad_properties_are_refused() {
        assert!(properties_for(Driver::IpManager, &given(&[])).is_err());
        assert!(properties_for(Driver::IpManager, &given(&[("baseip", "300.1.1.1")])).is_err());
        assert!(properties_for(Driver::SimpleNameManager, &given(&[("digits", "two")])).is_err());
        assert!(properties_for(Driver::SimpleNameManager, &given(&[("colour", "red")])).is_err());
        assert!(
            properties_for(
                Driver::SimpleNameManager,
                &given(&[("digits", "1000000000000")])
            )
            .is_err()
        );
        assert!(properties_for(Driver::SimpleNameManager, &given(&[("digits", "0")])).is_err());
        assert!(properties_for(Driver::SimpleNameManager, &given(&[("next", "-1")])).is_err());
    }

    #[test]
    fn name_managers_get_defaults() {
        let attrs = properties_for(
            Driver::SimpleEntityNameManager,
            &given(&[("basename", "s")]),
        )
        .unwrap();
        assert_eq!(attrs.len(), 4);
        assert_eq!(attrs[0].value, AttributeValue::String("s".into()));
        assert_eq!(attrs[3].value, AttributeValue::Int(1));
    }
}
