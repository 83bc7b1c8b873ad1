use std::fmt;

use super::value::AttributeValue;
use crate::error::Rejection;

/// An attribute key or subkey: 1 to 255 characters, no control characters.
/// Keys starting with `_` are internal and never shown.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributeKey(String);

/// Why a string is not an attribute key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid attribute key {0:?}")]
pub struct InvalidKey(pub String);

impl AttributeKey {
    /// Checks and wraps a key.
    ///
    /// # Errors
    /// [`InvalidKey`] when empty, longer than 255 characters or holding
    /// control characters.
    pub fn parse(key: &str) -> Result<Self, InvalidKey> {
        if key.is_empty() || key.chars().count() > 255 || key.chars().any(char::is_control) {
            return Err(InvalidKey(key.to_owned()));
        }
        Ok(Self(key.to_owned()))
    }

    /// A key from a literal of this crate, known to be valid.
    pub(crate) fn known(key: &'static str) -> Self {
        debug_assert!(Self::parse(key).is_ok(), "invalid literal key {key:?}");
        Self(key.to_owned())
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the key is internal (starts with `_`).
    pub fn is_internal(&self) -> bool {
        self.0.starts_with('_')
    }
}

impl fmt::Display for AttributeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Key.
    pub key: AttributeKey,
    /// Optional subkey.
    pub subkey: Option<AttributeKey>,
    /// Optional number, to hold several values under one key.
    pub number: Option<i64>,
    /// Typed value.
    pub value: AttributeValue,
}

/// How a new attribute's number is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberSpec {
    /// No number.
    None,
    /// This number.
    Exact(i64),
    /// One more than the highest number under the same key on the entity,
    /// counting the batch's earlier attributes (0 if none).
    Next,
    /// The number the batch's previous attribute got (none when it has none):
    /// for records that belong together, such as an allocation's value and
    /// its manager.
    WithPrevious,
}

/// An attribute to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAttribute {
    /// Key.
    pub key: AttributeKey,
    /// Optional subkey.
    pub subkey: Option<AttributeKey>,
    /// Number choice.
    pub number: NumberSpec,
    /// Typed value.
    pub value: AttributeValue,
}

/// Selects attributes of one entity; `None` fields match anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeFilter {
    /// Key to match.
    pub key: Option<AttributeKey>,
    /// Subkey to match.
    pub subkey: Option<AttributeKey>,
    /// Number to match.
    pub number: Option<i64>,
}

impl AttributeFilter {
    /// Whether an attribute passes the filter.
    pub fn matches(&self, attr: &Attribute) -> bool {
        self.key.as_ref().is_none_or(|k| *k == attr.key)
            && self
                .subkey
                .as_ref()
                .is_none_or(|s| attr.subkey.as_ref() == Some(s))
            && self.number.is_none_or(|n| attr.number == Some(n))
    }
}

/// One exact attribute slot: key, subkey and number, where `None` means "absent".
/// Setting an attribute replaces whatever holds its slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactSlot {
    /// Key.
    pub key: AttributeKey,
    /// Subkey, or no subkey.
    pub subkey: Option<AttributeKey>,
    /// Number, or no number.
    pub number: Option<i64>,
}

/// A condition on an entity's attributes, checked by storage inside the
/// transaction that writes the changes, with the entity locked. It returns
/// the rule's rejection when the changes must not be written.
#[derive(Clone, Copy)]
pub struct Guard(pub fn(&[Attribute]) -> Result<(), Rejection>);

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Guard")
    }
}

/// Changes to one entity's attributes, written in one transaction: the
/// guard is checked, then the matches of `remove` go, then each `set` slot
/// is replaced, then `add` is added.
#[derive(Debug, Clone, Default)]
pub struct AttributeChanges {
    /// Checked first; when it fails nothing is written.
    pub guard: Option<Guard>,
    /// Attributes to delete.
    pub remove: Vec<AttributeFilter>,
    /// Slots to put a value in, replacing what held them.
    pub set: Vec<(ExactSlot, AttributeValue)>,
    /// Attributes to add.
    pub add: Vec<NewAttribute>,
}

/// Finds entities by attribute (`/by-attr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeQuery {
    /// Key to match.
    pub key: AttributeKey,
    /// Subkey to match, if given.
    pub subkey: Option<AttributeKey>,
    /// Stored text of the value to match, if given.
    pub value: Option<String>,
}
