use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use crate::attribute::{Attribute, AttributeKey, AttributeValue, NewAttribute, NumberSpec};
use crate::driver::Driver;
use crate::entity::{Entity, EntityName};
use crate::error::StoreError;

use super::ip::{Network, ip_to_stored};

/// What a manager looks like inside the allocation's transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManagerState {
    /// Property name to stored text.
    pub properties: BTreeMap<String, String>,
    /// Resources allocated now.
    pub taken: BTreeSet<String>,
}

/// Who receives the resource.
#[derive(Debug, Clone, PartialEq)]
pub enum AllocationTarget {
    /// An existing entity.
    Existing(Entity),
    /// A new entity of this driver, named after the resource.
    Create(Driver),
}

/// The resource a manager hands out, and what to write for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The resource, as stored in the allocation.
    pub resource: String,
    /// Attributes recording the allocation on the receiving entity; their
    /// numbers are resolved together, so they share one.
    pub record: Vec<NewAttribute>,
    /// Manager properties to update, by name.
    pub updates: Vec<(AttributeKey, AttributeValue)>,
}

/// The outcome of an allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocated {
    /// The entity that holds the resource.
    pub thing: Entity,
    /// The resource.
    pub resource: String,
    /// The first recording attribute, as stored.
    pub recorded: Option<Attribute>,
}

/// Why an allocation failed.
#[derive(Debug, thiserror::Error)]
pub enum AllocationError {
    /// Nothing left to hand out.
    #[error("no free resource left")]
    Exhausted,
    /// The requested resource is allocated already.
    #[error("resource {0} is already allocated")]
    Taken(String),
    /// The requested resource is not one this manager hands out.
    #[error("{0}")]
    InvalidResource(String),
    /// A stored property cannot be used.
    #[error("{0}")]
    InvalidProperty(String),
    /// The entity to create exists already.
    #[error("entity {name} already exists")]
    NameTaken { driver: Driver, name: EntityName },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The allocation rules of the manager drivers: chooses a manager's next
/// resource from its state. Storage calls it inside the transaction that
/// holds the manager locked.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    manager: Entity,
    requested: Option<String>,
}

impl Policy {
    /// The policy of `manager`, handing out `requested` when given.
    pub fn new(manager: Entity, requested: Option<String>) -> Self {
        Self { manager, requested }
    }

    /// Whether the resource was asked for rather than chosen.
    pub fn is_explicit(&self) -> bool {
        self.requested.is_some()
    }

    /// The key under which allocations are recorded on the receiving entity.
    fn attribute_key(driver: Driver) -> &'static str {
        match driver {
            Driver::IpManager => super::IP_KEY,
            Driver::SimpleNameManager | Driver::SimpleEntityNameManager => "simplename",
            _ => "resource",
        }
    }

    /// Whether allocations are recorded as attributes of the receiving entity.
    fn records(&self) -> bool {
        self.manager.driver != Driver::SimpleEntityNameManager
    }

    fn key(&self) -> AttributeKey {
        AttributeKey::known(Self::attribute_key(self.manager.driver))
    }

    fn record(&self, value: AttributeValue) -> Vec<NewAttribute> {
        if !self.records() {
            return Vec::new();
        }
        let manager_subkey = Some(AttributeKey::known("manager"));
        vec![
            NewAttribute {
                key: self.key(),
                subkey: None,
                number: NumberSpec::Next,
                value,
            },
            NewAttribute {
                key: self.key(),
                subkey: manager_subkey,
                number: NumberSpec::WithPrevious,
                value: AttributeValue::Relation(self.manager.clone()),
            },
        ]
    }

    fn choose_name(&self, state: &ManagerState) -> Result<Choice, AllocationError> {
        if let Some(name) = &self.requested {
            EntityName::parse(name).map_err(|e| AllocationError::InvalidResource(e.to_string()))?;
            if state.taken.contains(name) {
                return Err(AllocationError::Taken(name.clone()));
            }
            return Ok(Choice {
                resource: name.clone(),
                record: self.record(AttributeValue::String(name.clone())),
                updates: Vec::new(),
            });
        }
        let int = |name: &str, default: i64| -> Result<i64, AllocationError> {
            state.properties.get(name).map_or(Ok(default), |t| {
                t.parse().map_err(|_| {
                    AllocationError::InvalidProperty(format!(
                        "property {name} is not a number: {t}"
                    ))
                })
            })
        };
        let basename = state
            .properties
            .get("basename")
            .cloned()
            .unwrap_or_default();
        let digits = int("digits", 2)?;
        let mut next = int("next", 1)?;
        for (name, value) in [("digits", digits), ("next", next)] {
            check_counter(name, value).map_err(AllocationError::InvalidProperty)?;
        }
        let digits = usize::try_from(digits).unwrap_or(MAX_DIGITS);
        let leading_zeros = int("leadingZeros", 1)? != 0;
        loop {
            let mut number = next.to_string();
            if number.len() > digits {
                return Err(AllocationError::InvalidResource(format!(
                    "Out of digits for the integer. Max of {digits} digits and we're at number {number}."
                )));
            }
            if leading_zeros {
                number = format!("{number:0>digits$}");
            }
            let name = format!("{basename}{number}");
            next = next.checked_add(1).ok_or(AllocationError::Exhausted)?;
            if !state.taken.contains(&name) {
                return Ok(Choice {
                    record: self.record(AttributeValue::String(name.clone())),
                    resource: name,
                    updates: vec![(AttributeKey::known("next"), AttributeValue::Int(next))],
                });
            }
        }
    }

    fn choose_ip(&self, state: &ManagerState) -> Result<Choice, AllocationError> {
        let lookup = |name: &str| state.properties.get(name).cloned();
        let (network, gateway) = network_from(&lookup).map_err(AllocationError::InvalidProperty)?;
        let free = |ip: &Ipv4Addr| Some(*ip) != gateway && !state.taken.contains(&ip.to_string());
        let ip = match &self.requested {
            Some(text) => {
                let ip: Ipv4Addr = text.trim().parse().map_err(|_| {
                    AllocationError::InvalidResource(format!("\"{text}\" is not an IPv4 address"))
                })?;
                if !network.contains_host(ip) || Some(ip) == gateway {
                    return Err(AllocationError::InvalidResource(format!(
                        "{ip} is not an address {} hands out",
                        self.manager.name
                    )));
                }
                if !free(&ip) {
                    return Err(AllocationError::Taken(ip.to_string()));
                }
                ip
            }
            None => network
                .hosts()
                .find(free)
                .ok_or(AllocationError::Exhausted)?,
        };
        Ok(Choice {
            resource: ip.to_string(),
            record: self.record(AttributeValue::Int(ip_to_stored(ip))),
            updates: Vec::new(),
        })
    }

    fn choose_given(&self, state: &ManagerState) -> Result<Choice, AllocationError> {
        let Some(resource) = self.requested.clone() else {
            return Err(AllocationError::InvalidResource(format!(
                "{} hands out only the resources it is given",
                self.manager.name
            )));
        };
        if state.taken.contains(&resource) {
            return Err(AllocationError::Taken(resource));
        }
        Ok(Choice {
            record: self.record(AttributeValue::String(resource.clone())),
            resource,
            updates: Vec::new(),
        })
    }
}

impl Policy {
    /// Picks the resource and what to record for it.
    ///
    /// # Errors
    /// [`AllocationError`] when nothing fits.
    pub fn choose(&self, state: &ManagerState) -> Result<Choice, AllocationError> {
        match self.manager.driver {
            Driver::SimpleNameManager | Driver::SimpleEntityNameManager => self.choose_name(state),
            Driver::IpManager => self.choose_ip(state),
            _ => self.choose_given(state),
        }
    }
}

/// Most digits a name manager counts with: names stay far below the
/// 255-character limit.
const MAX_DIGITS: usize = 64;

/// Checks a name manager's counter properties: `digits` from 1 to 64, `next`
/// not negative.
pub(crate) fn check_counter(name: &str, value: i64) -> Result<(), String> {
    let fits = match name {
        "digits" => usize::try_from(value).is_ok_and(|d| (1..=MAX_DIGITS).contains(&d)),
        "next" => value >= 0,
        _ => true,
    };
    if fits {
        Ok(())
    } else if name == "digits" {
        Err(format!(
            "Property \"digits\" must be from 1 to {MAX_DIGITS}, not {value}"
        ))
    } else {
        Err(format!(
            "Property \"{name}\" must not be negative, not {value}"
        ))
    }
}

/// The network and gateway an IP manager's properties describe.
pub(crate) fn network_from(
    property: &dyn Fn(&str) -> Option<String>,
) -> Result<(Network, Option<Ipv4Addr>), String> {
    let address = |name: &str| -> Result<Option<Ipv4Addr>, String> {
        property(name)
            .map(|text| {
                text.trim()
                    .parse::<Ipv4Addr>()
                    .map_err(|_| format!("Property \"{name}\" is not an IPv4 address: \"{text}\""))
            })
            .transpose()
    };
    let base = address("baseip")?.ok_or("Property \"baseip\" is required")?;
    let netmask = address("netmask")?.unwrap_or(Ipv4Addr::BROADCAST);
    let network = Network::new(base, netmask)
        .ok_or_else(|| format!("Property \"netmask\" is not a netmask: \"{netmask}\""))?;
    Ok((network, address("gateway")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::EntityId;

    fn manager(driver: Driver) -> Entity {
        Entity {
            id: EntityId(9),
            name: EntityName::parse("mgr").unwrap(),
            driver,
        }
    }

    fn state(props: &[(&str, &str)], taken: &[&str]) -> ManagerState {
        ManagerState {
            properties: props
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            taken: taken.iter().map(|t| (*t).into()).collect(),
        }
    }

    #[test]
    fn ip_managers_skip_gateway_and_taken_addresses() {
        let props = [
            ("baseip", "192.168.1.10"),
            ("gateway", "192.168.1.1"),
            ("netmask", "255.255.255.0"),
        ];
        let policy = Policy::new(manager(Driver::IpManager), None);
        let first = policy.choose(&state(&props, &[])).unwrap();
        assert_eq!(first.resource, "192.168.1.2");
        assert_eq!(first.record[0].value, AttributeValue::Int(1_084_752_130));
        assert_eq!(first.record[0].key.as_str(), "ip");
        let second = policy.choose(&state(&props, &["192.168.1.2"])).unwrap();
        assert_eq!(second.resource, "192.168.1.3");
    }

    #[test]
    fn ip_managers_refuse_foreign_and_taken_addresses_and_run_out() {
        let props = [("baseip", "10.0.0.0"), ("netmask", "255.255.255.252")];
        let taken = state(&props, &["10.0.0.1", "10.0.0.2"]);
        let auto = Policy::new(manager(Driver::IpManager), None);
        assert!(matches!(
            auto.choose(&taken),
            Err(AllocationError::Exhausted)
        ));
        let foreign = Policy::new(manager(Driver::IpManager), Some("10.0.1.1".into()));
        assert!(matches!(
            foreign.choose(&taken),
            Err(AllocationError::InvalidResource(_))
        ));
        let again = Policy::new(manager(Driver::IpManager), Some("10.0.0.1".into()));
        assert!(matches!(
            again.choose(&taken),
            Err(AllocationError::Taken(_))
        ));
    }

    #[test]
    fn name_managers_count_with_padding_and_advance() {
        let policy = Policy::new(manager(Driver::SimpleEntityNameManager), None);
        let choice = policy
            .choose(&state(
                &[("basename", "s"), ("digits", "2"), ("next", "1")],
                &["s01"],
            ))
            .unwrap();
        assert_eq!(choice.resource, "s02");
        assert!(
            choice.record.is_empty(),
            "entity name managers do not record on the entity"
        );
        assert_eq!(choice.updates[0].1, AttributeValue::Int(3));
        let full = state(&[("digits", "1"), ("next", "10")], &[]);
        assert!(matches!(
            policy.choose(&full),
            Err(AllocationError::InvalidResource(_))
        ));
        let edited = state(&[("digits", "1000000000000")], &[]);
        assert!(matches!(
            policy.choose(&edited),
            Err(AllocationError::InvalidProperty(_))
        ));
    }

    #[test]
    fn requested_names_are_used_as_given() {
        let policy = Policy::new(manager(Driver::SimpleNameManager), Some("99".into()));
        let choice = policy.choose(&state(&[], &[])).unwrap();
        assert_eq!(choice.resource, "99");
        assert_eq!(choice.record.len(), 2);
        assert!(choice.updates.is_empty());
    }
}
