//! Why a RADL document was rejected: the reason texts are the ones IM clients
//! see, so they are reproduced exactly (spec §6.3).

use std::fmt;

/// A rejected RADL document: the reason, and the line it was found on when the
/// document was RADL text. `Display` gives `Line <n>: <reason>` or `<reason>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", LinePrefix(*.line))]
pub struct RadlError {
    /// The 1-based line of the offending sentence or feature, when known.
    pub line: Option<u32>,
    /// What is wrong.
    pub reason: Reason,
}

impl RadlError {
    /// An error with an optional line.
    #[must_use]
    pub fn new(line: Option<u32>, reason: Reason) -> Self {
        Self { line, reason }
    }

    /// An error without a line.
    #[must_use]
    pub fn bare(reason: Reason) -> Self {
        Self { line: None, reason }
    }
}

/// `Line <n>: ` or nothing.
struct LinePrefix(Option<u32>);

impl fmt::Display for LinePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, "Line {n}: "),
            None => Ok(()),
        }
    }
}

/// The type a checked feature must have, printed as IM (Python) prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Any number.
    Float,
    /// A whole number.
    Int,
    /// A string.
    Str,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Float => "<class 'float'>",
            Self::Int => "<class 'int'>",
            Self::Str => "<class 'str'>",
        })
    }
}

/// A list printed as Python prints a list of strings: `['A', 'B']`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyList(pub Vec<String>);

impl PyList {
    /// From static items.
    #[must_use]
    pub fn of(items: &[&str]) -> Self {
        Self(items.iter().map(|s| (*s).to_owned()).collect())
    }
}

impl fmt::Display for PyList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if item.contains('\'') && !item.contains('"') {
                write!(f, "\"{item}\"")?;
            } else {
                write!(f, "'{}'", item.replace('\\', "\\\\").replace('\'', "\\'"))?;
            }
        }
        f.write_str("]")
    }
}

/// Why a document is invalid; `Display` is the exact reason text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    /// A syntax error at a token (`None`: at the end of the input).
    #[error("Parse error in: {}", .0.as_deref().unwrap_or("None"))]
    Syntax(Option<String>),
    /// Two networks, systems, configures or ansible hosts share an id.
    #[error("Aspect with the same id was found.")]
    DuplicateId,
    /// A feature given twice with different values.
    #[error("Conflict adding `{new}` because `{old}` is already set and conflict is error")]
    Conflict {
        /// The feature being added, rendered.
        new: String,
        /// The feature already there, rendered.
        old: String,
    },
    /// Numeric bounds that exclude each other.
    #[error("Disjoint intervals!. Involved features: {0}")]
    DisjointIntervals(PyList),
    /// A value outside an enumeration.
    #[error("Invalid value; expected one of {0}")]
    NotInEnum(PyList),
    /// A value of the wrong type.
    #[error("Invalid type; expected {0}")]
    Type(Expected),
    /// A comparison on a string feature.
    #[error("Invalid operator; expected '='")]
    Operator,
    /// A unit on a unitless feature.
    #[error("Invalid unit; expected none")]
    UnitNotExpected,
    /// An unknown unit.
    #[error("Invalid unit; expected one of {0}")]
    Unit(PyList),
    /// A `net_interface.<k>.connection` naming no network.
    #[error("Invalid value in property '{0}'")]
    Connection(String),
    /// `net_interface.<k>` or `disk.<k>` indices with gaps or not from 0.
    #[error("Invalid indices values in properties '{0}'")]
    Indices(String),
    /// `net_interface.<x>` or `disk.<x>` with a non-integer `<x>`.
    #[error("Invalid property name; expected an index.")]
    Index,
    /// An interface without `connection`.
    #[error("Some net_interface does not have a connection")]
    MissingConnection,
    /// A `deploy` naming no system.
    #[error("Invalid system id in the deploy.")]
    DeploySystem,
    /// A contextualize item naming an unknown system.
    #[error("Invalid system id '{0}'")]
    ItemSystem(String),
    /// A contextualize item naming an unknown configure.
    #[error("Invalid configure id '{0}'")]
    ItemConfigure(String),
    /// Recipes that are not YAML.
    #[error("Invalid YAML code: {0}.")]
    Yaml(String),
    /// A malformed `outports` value.
    #[error("Invalid outports format.")]
    Outports,
    /// A required key missing from a JSON RADL object (Python's `KeyError`).
    #[error("'{0}'")]
    MissingKey(String),
    /// JSON RADL that is not JSON or not shaped as RADL.
    #[error("{0}")]
    Json(String),
}
