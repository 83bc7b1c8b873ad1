use std::fmt;

use chrono::{NaiveDate, NaiveDateTime, Timelike};

use crate::entity::{Entity, EntityId, EntityName};

/// The type of an attribute's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Datatype {
    String,
    Int,
    Bool,
    Datetime,
    Relation,
    Json,
}

impl Datatype {
    const ALL: [Datatype; 6] = [
        Self::String,
        Self::Int,
        Self::Bool,
        Self::Datetime,
        Self::Relation,
        Self::Json,
    ];

    /// The datatype's name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Int => "int",
            Self::Bool => "bool",
            Self::Datetime => "datetime",
            Self::Relation => "relation",
            Self::Json => "json",
        }
    }

    /// Parses a datatype name.
    ///
    /// # Errors
    /// [`InvalidValue::UnknownDatatype`] for any other name.
    pub fn parse(name: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == name)
            .ok_or_else(|| InvalidValue::UnknownDatatype(name.to_owned()))
    }
}

impl fmt::Display for Datatype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    String(String),
    Int(i64),
    Bool(bool),
    Datetime(NaiveDateTime),
    /// A link to another entity.
    Relation(Entity),
    Json(serde_json::Value),
}

/// A value as a client sent it, before it is typed.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    /// A form or query parameter.
    Text(String),
    /// A member of a JSON body.
    Json(serde_json::Value),
}

/// A value as storage keeps it: datatype, canonical text, and the related
/// entity for relations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredValue {
    /// Datatype.
    pub datatype: Datatype,
    /// Canonical text (for relations, the target's `/driver/name`).
    pub text: String,
    /// Target of a relation.
    pub relation: Option<EntityId>,
}

/// Why a value cannot be typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidValue {
    /// The datatype name is not known.
    #[error("Unknown datatype \"{0}\"")]
    UnknownDatatype(String),
    /// Not an integer.
    #[error("invalid literal for int() with base 10: '{0}'")]
    Int(String),
    /// Not a boolean.
    #[error("invalid literal for bool: '{0}'")]
    Bool(String),
    /// Does not match the datetime mask.
    #[error("time data '{value}' does not match format '{mask}'")]
    Datetime { value: String, mask: String },
    /// Not JSON text.
    #[error("invalid JSON value: {0}")]
    Json(String),
    /// Not an entity name or `/driver/name` path.
    #[error("invalid relation target '{0}'")]
    Relation(String),
    /// A JSON `null` where a value is required.
    #[error("a value is required")]
    Missing,
    /// Text holding the NUL character, which no database column keeps.
    #[error("a value cannot contain the NUL character")]
    Nul,
    /// Storage holds a value its datatype cannot read.
    #[error("stored {datatype} value {text:?} is corrupt")]
    Corrupt { datatype: Datatype, text: String },
}

/// A value typed from client input; relations still need their target looked up.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    /// Fully typed.
    Ready(AttributeValue),
    /// A relation to the named entity.
    Relation(EntityName),
}

/// The default datetime mask, as the reference API documents it.
pub const DEFAULT_MASK: &str = "%Y-%m-%dT%H:%M:%S.%f";

impl AttributeValue {
    /// The value's datatype.
    pub fn datatype(&self) -> Datatype {
        match self {
            Self::String(_) => Datatype::String,
            Self::Int(_) => Datatype::Int,
            Self::Bool(_) => Datatype::Bool,
            Self::Datetime(_) => Datatype::Datetime,
            Self::Relation(_) => Datatype::Relation,
            Self::Json(_) => Datatype::Json,
        }
    }

    /// The storage form of the value.
    pub fn to_stored(&self) -> StoredValue {
        let (text, relation) = match self {
            Self::String(s) => (s.clone(), None),
            Self::Int(i) => (i.to_string(), None),
            Self::Bool(b) => (b.to_string(), None),
            Self::Datetime(dt) => (format_datetime(dt), None),
            Self::Relation(e) => (e.path(), Some(e.id)),
            Self::Json(v) => (v.to_string(), None),
        };
        StoredValue {
            datatype: self.datatype(),
            text,
            relation,
        }
    }

    /// Reads a value back from storage. Relations need their target entity.
    ///
    /// # Errors
    /// [`InvalidValue::Corrupt`] when the text does not fit the datatype.
    pub fn from_stored(
        datatype: Datatype,
        text: String,
        relation: Option<Entity>,
    ) -> Result<Self, InvalidValue> {
        let corrupt = |text: &str| InvalidValue::Corrupt {
            datatype,
            text: text.to_owned(),
        };
        Ok(match datatype {
            Datatype::String => Self::String(text),
            Datatype::Int => Self::Int(text.parse().map_err(|_| corrupt(&text))?),
            Datatype::Bool => Self::Bool(text.parse().map_err(|_| corrupt(&text))?),
            Datatype::Datetime => Self::Datetime(
                NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
                    .map_err(|_| corrupt(&text))?,
            ),
            Datatype::Relation => Self::Relation(relation.ok_or_else(|| corrupt(&text))?),
            Datatype::Json => Self::Json(serde_json::from_str(&text).map_err(|_| corrupt(&text))?),
        })
    }

    /// Types client input. Without a datatype, text is a string and JSON values
    /// keep their own type (integers, booleans, strings; anything else is json).
    ///
    /// # Errors
    /// [`InvalidValue`] when the input does not fit the datatype or mask.
    pub fn typecast(
        raw: &RawValue,
        datatype: Option<Datatype>,
        mask: Option<&str>,
    ) -> Result<Typed, InvalidValue> {
        let datatype = datatype.unwrap_or(match raw {
            RawValue::Text(_) => Datatype::String,
            RawValue::Json(serde_json::Value::String(_)) => Datatype::String,
            RawValue::Json(serde_json::Value::Bool(_)) => Datatype::Bool,
            RawValue::Json(serde_json::Value::Number(n)) if n.is_i64() => Datatype::Int,
            RawValue::Json(serde_json::Value::Null) => return Err(InvalidValue::Missing),
            RawValue::Json(_) => Datatype::Json,
        });
        let text = match raw {
            RawValue::Text(t) => t.clone(),
            RawValue::Json(serde_json::Value::String(s)) => s.clone(),
            RawValue::Json(serde_json::Value::Null) => return Err(InvalidValue::Missing),
            RawValue::Json(other) => other.to_string(),
        };
        if text.contains('\0') {
            return Err(InvalidValue::Nul);
        }
        let value = match datatype {
            Datatype::String => Self::String(text),
            Datatype::Int => Self::Int(text.trim().parse().map_err(|_| InvalidValue::Int(text))?),
            Datatype::Bool => Self::Bool(parse_bool(&text).ok_or(InvalidValue::Bool(text))?),
            Datatype::Datetime => {
                Self::Datetime(parse_datetime(&text, mask.unwrap_or(DEFAULT_MASK))?)
            }
            Datatype::Json => match raw {
                RawValue::Json(v) => Self::Json(v.clone()),
                RawValue::Text(t) => Self::Json(
                    serde_json::from_str(t).map_err(|e| InvalidValue::Json(e.to_string()))?,
                ),
            },
            Datatype::Relation => {
                let name = text.rsplit('/').next().unwrap_or_default();
                return EntityName::parse(name)
                    .map(Typed::Relation)
                    .map_err(|_| InvalidValue::Relation(text.clone()));
            }
        };
        Ok(Typed::Ready(value))
    }
}

#[cfg(test)]
mod nul_tests {
    use super::*;

    #[test]
    fn nul_characters_are_refused_in_every_form() {
        let text = RawValue::Text("a\0b".into());
        let json = RawValue::Json(serde_json::json!("a\u{0}b"));
        assert_eq!(
            AttributeValue::typecast(&text, None, None),
            Err(InvalidValue::Nul)
        );
        assert_eq!(
            AttributeValue::typecast(&json, None, None),
            Err(InvalidValue::Nul)
        );
    }
}

/// Parses the usual spellings of a boolean.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Formats a datetime as Python's `isoformat()` does: microseconds only when set.
fn format_datetime(dt: &NaiveDateTime) -> String {
    if dt.nanosecond() / 1_000 == 0 {
        dt.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        dt.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    }
}

/// Parses a datetime with a `strptime`-style mask (`%f` is microseconds).
fn parse_datetime(text: &str, mask: &str) -> Result<NaiveDateTime, InvalidValue> {
    let format = mask.replace(".%f", "%.f").replace("%f", "%6f");
    NaiveDateTime::parse_from_str(text, &format)
        .or_else(|_| {
            NaiveDate::parse_from_str(text, &format).map(|d| d.and_time(chrono::NaiveTime::MIN))
        })
        .map_err(|_| InvalidValue::Datetime {
            value: text.to_owned(),
            mask: mask.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> RawValue {
        RawValue::Text(s.to_owned())
    }

    #[test]
    fn datetimes_follow_the_mask_and_print_like_isoformat() {
        let Typed::Ready(v) = AttributeValue::typecast(
            &text("1991-07-09T14:46:51.321435"),
            Some(Datatype::Datetime),
            None,
        )
        .unwrap() else {
            panic!("not ready")
        };
        assert_eq!(v.to_stored().text, "1991-07-09T14:46:51.321435");
        let Typed::Ready(v) = AttributeValue::typecast(
            &text("09/07/1991"),
            Some(Datatype::Datetime),
            Some("%d/%m/%Y"),
        )
        .unwrap() else {
            panic!("not ready")
        };
        assert_eq!(v.to_stored().text, "1991-07-09T00:00:00");
        assert_eq!(
            AttributeValue::typecast(&text("yesterday"), Some(Datatype::Datetime), None),
            Err(InvalidValue::Datetime {
                value: "yesterday".into(),
                mask: DEFAULT_MASK.into()
            })
        );
    }

    #[test]
    fn ints_reject_non_numbers_with_the_reference_message() {
        let err = AttributeValue::typecast(&text("six"), Some(Datatype::Int), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid literal for int() with base 10: 'six'"
        );
        assert_eq!(
            AttributeValue::typecast(&text("6"), Some(Datatype::Int), None),
            Ok(Typed::Ready(AttributeValue::Int(6)))
        );
    }

    #[test]
    fn json_input_keeps_its_own_type_without_a_datatype() {
        let cases = [
            (serde_json::json!(5), Datatype::Int),
            (serde_json::json!(true), Datatype::Bool),
            (serde_json::json!("x"), Datatype::String),
            (serde_json::json!({"a": [1]}), Datatype::Json),
        ];
        for (json, want) in cases {
            let Typed::Ready(v) =
                AttributeValue::typecast(&RawValue::Json(json), None, None).unwrap()
            else {
                panic!("not ready")
            };
            assert_eq!(v.datatype(), want);
        }
    }

    #[test]
    fn relations_accept_paths_and_names() {
        let want = Typed::Relation(EntityName::parse("s1").unwrap());
        assert_eq!(
            AttributeValue::typecast(&text("/basicserver/s1"), Some(Datatype::Relation), None),
            Ok(want.clone())
        );
        assert_eq!(
            AttributeValue::typecast(&text("s1"), Some(Datatype::Relation), None),
            Ok(want)
        );
    }

    #[test]
    fn stored_values_read_back() {
        for v in [
            AttributeValue::Int(-3),
            AttributeValue::Bool(true),
            AttributeValue::String("x".into()),
            AttributeValue::Json(serde_json::json!([1, {"b": null}])),
        ] {
            let s = v.to_stored();
            assert_eq!(AttributeValue::from_stored(s.datatype, s.text, None), Ok(v));
        }
    }

    #[test]
    fn unknown_datatypes_are_named() {
        assert_eq!(
            Datatype::parse("float").unwrap_err().to_string(),
            "Unknown datatype \"float\""
        );
    }
}
