use std::fmt;

use crate::attribute::{Attribute, AttributeValue, NewAttribute};
use crate::driver::Driver;

/// Storage identity of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityId(pub i64);

/// A valid entity name: 1 to 255 characters, no `/`, no control characters,
/// no surrounding white space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityName(String);

/// Why a string is not an entity name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid name {name:?}: {reason}")]
pub struct InvalidName {
    /// The rejected input.
    pub name: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl EntityName {
    /// Longest accepted name, in characters.
    pub const MAX_LEN: usize = 255;

    /// Checks and wraps a name.
    ///
    /// # Errors
    /// [`InvalidName`] when the name is empty, too long, or holds `/`,
    /// control characters or surrounding white space.
    pub fn parse(name: &str) -> Result<Self, InvalidName> {
        let reason = if name.is_empty() {
            Some("it is empty")
        } else if name.chars().count() > Self::MAX_LEN {
            Some("it is longer than 255 characters")
        } else if name.contains('/') {
            Some("it contains '/'")
        } else if name.chars().any(char::is_control) {
            Some("it contains control characters")
        } else if name.trim() != name {
            Some("it starts or ends with white space")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(InvalidName {
                name: name.to_owned(),
                reason,
            }),
            None => Ok(Self(name.to_owned())),
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntityName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// Storage identity.
    pub id: EntityId,
    /// Unique name.
    pub name: EntityName,
    /// Driver (kind).
    pub driver: Driver,
}

impl Entity {
    /// The compact form `/driver/name` the inventory API uses.
    pub fn path(&self) -> String {
        format!("/{}/{}", self.driver, self.name)
    }
}

/// An entity to create, with the attributes it starts with.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntity {
    /// Name to create.
    pub name: EntityName,
    /// Its driver.
    pub driver: Driver,
    /// Attributes written in the same transaction.
    pub attributes: Vec<NewAttribute>,
}

impl NewEntity {
    /// An entity with no attributes.
    pub fn new(name: EntityName, driver: Driver) -> Self {
        Self {
            name,
            driver,
            attributes: Vec::new(),
        }
    }
}

/// An entity with everything its expanded view shows.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityDetails {
    /// The entity itself.
    pub entity: Entity,
    /// Its visible attributes (internal `_` keys left out), by key then age.
    pub attributes: Vec<Attribute>,
    /// Entities it holds, oldest membership first.
    pub contents: Vec<Entity>,
    /// Entities that hold it, oldest membership first.
    pub parents: Vec<Entity>,
    /// For resource managers: how many resources are allocated.
    pub allocations: Option<u64>,
}

impl EntityDetails {
    /// Addresses recorded on the entity, for drivers that show them (`None`
    /// for the others): IPv4 `ip` attributes without subkey (the inventory's
    /// own, as IP managers write them), then a cloud node's `cloud/ip`.
    pub fn ips(&self) -> Option<Vec<String>> {
        if !self.entity.driver.has_ips() {
            return None;
        }
        let stored = self
            .attributes
            .iter()
            .filter_map(|a| match (&a.value, &a.subkey) {
                (AttributeValue::Int(stored), None)
                    if a.key.as_str() == crate::resource_manager::IP_KEY =>
                {
                    crate::resource_manager::ip_from_stored(*stored).map(|ip| ip.to_string())
                }
                _ => None,
            });
        let cloud = self
            .attributes
            .iter()
            .filter_map(|a| match (&a.value, &a.subkey) {
                (AttributeValue::String(ip), Some(subkey))
                    if a.key.as_str() == crate::node_record::CLOUD
                        && subkey.as_str() == crate::node_record::ADDRESS =>
                {
                    Some(ip.clone())
                }
                _ => None,
            });
        Some(stored.chain(cloud).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_reject_what_would_break_paths() {
        assert!(EntityName::parse("testserver1").is_ok());
        for bad in ["", "a/b", " lead", "trail ", "tab\tname"] {
            assert!(EntityName::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(EntityName::parse(&"x".repeat(256)).is_err());
        assert!(EntityName::parse(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn path_is_driver_then_name() {
        let e = Entity {
            id: EntityId(1),
            name: EntityName::parse("s1").unwrap(),
            driver: Driver::BasicServer,
        };
        assert_eq!(e.path(), "/basicserver/s1");
    }
}
