//! The RADL document model (spec §6.1–6.2).
//!
//! Features are kept normalised, as IM keeps them: one entry per feature name
//! in order of first appearance; a numeric feature is an interval whose bounds
//! keep their written operator and unit; `contains` groups of one name share
//! an entry and merge by their `name` sub-feature; `soft` blocks sit together
//! at the place of the first one. Adding a feature that contradicts the entry
//! already there is an error ([`Reason::Conflict`], [`Reason::DisjointIntervals`]).

use std::fmt;

use super::error::{PyList, RadlError, Reason};
use super::units::{format_number, to_base};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `=`
    Eq,
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `<`
    Lt,
}

impl Op {
    /// The operator as written.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ge => ">=",
            Self::Gt => ">",
            Self::Le => "<=",
            Self::Lt => "<",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A feature or option value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    Text(String),
    /// A number with the unit it was written with (`512m` keeps `m`).
    Number {
        /// The number as written.
        value: f64,
        /// The written unit, if any.
        unit: Option<String>,
    },
    /// A list of strings (`['a', 'b']`).
    List(Vec<String>),
}

impl Value {
    /// A string value.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// A number in base units (no unit).
    #[must_use]
    pub fn number(value: f64) -> Self {
        Self::Number { value, unit: None }
    }

    /// The number in base units (bytes for byte units), if a number.
    #[must_use]
    pub fn base(&self) -> Option<f64> {
        match self {
            Self::Number { value, unit } => Some(to_base(*value, unit.as_deref())),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => f.write_str(&quote(text)),
            Self::Number { value, unit } => {
                write!(
                    f,
                    "{}{}",
                    format_number(*value),
                    unit.as_deref().unwrap_or("")
                )
            }
            Self::List(items) => {
                let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
                write!(f, "[{}]", quoted.join(", "))
            }
        }
    }
}

/// A string as RADL text writes it: single-quoted, `\` and `'` escaped.
#[must_use]
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// One bound of a numeric interval, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// `=` for both bounds of an exact value, else the written comparison.
    pub op: Op,
    /// The number as written.
    pub value: f64,
    /// The written unit, if any.
    pub unit: Option<String>,
    /// The line it was written on.
    pub line: Option<u32>,
}

impl Bound {
    /// The bound in base units.
    #[must_use]
    pub fn base(&self) -> f64 {
        to_base(self.value, self.unit.as_deref())
    }

    /// The bound's number as a [`Value`].
    #[must_use]
    pub fn number(&self) -> Value {
        Value::Number {
            value: self.value,
            unit: self.unit.clone(),
        }
    }

    fn written(&self, name: &str) -> String {
        format!("{name} {} {}", self.op, self.number())
    }
}

/// One normalised feature.
#[derive(Debug, Clone, PartialEq)]
pub enum Feature {
    /// `name op value` with a string or list value (numbers are [`Feature::Range`]).
    Value {
        /// The feature name.
        name: String,
        /// The written operator (`=` except for names containing `version`).
        op: Op,
        /// The value.
        value: Value,
        /// The line it was written on.
        line: Option<u32>,
    },
    /// A numeric feature: `=` sets both bounds, `>=`/`>` the lower, `<=`/`<` the upper.
    Range {
        /// The feature name.
        name: String,
        /// The lower bound.
        min: Option<Bound>,
        /// The upper bound.
        max: Option<Bound>,
    },
    /// `name contains ( … )` groups, keyed by their `name` sub-feature.
    Contains {
        /// The feature name.
        name: String,
        /// The groups, each with distinct `name` sub-features.
        groups: Vec<Features>,
        /// The line of the first group.
        line: Option<u32>,
    },
    /// `soft W ( … )`: preferences of weight W.
    Soft {
        /// The weight.
        weight: f64,
        /// The preferred features.
        features: Features,
        /// The line it was written on.
        line: Option<u32>,
    },
}

impl Feature {
    /// The feature name (`None` for a soft block).
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Value { name, .. } | Self::Range { name, .. } | Self::Contains { name, .. } => {
                Some(name)
            }
            Self::Soft { .. } => None,
        }
    }

    /// The line of the feature (its first bound for an interval).
    #[must_use]
    pub fn line(&self) -> Option<u32> {
        match self {
            Self::Value { line, .. } | Self::Contains { line, .. } | Self::Soft { line, .. } => {
                *line
            }
            Self::Range { min, max, .. } => min
                .as_ref()
                .and_then(|b| b.line)
                .or(max.as_ref().and_then(|b| b.line)),
        }
    }

    /// The feature as the sentences RADL text writes for it: an interval
    /// gives one per bound (one for an exact value), `contains` one per group.
    #[must_use]
    pub fn written(&self) -> Vec<String> {
        match self {
            Self::Value {
                name, op, value, ..
            } => vec![format!("{name} {op} {value}")],
            Self::Range { name, min, max } => match (min, max) {
                (Some(lo), Some(hi))
                    if lo.op == Op::Eq && hi.op == Op::Eq && lo.base() == hi.base() =>
                {
                    vec![lo.written(name)]
                }
                _ => min.iter().chain(max).map(|b| b.written(name)).collect(),
            },
            Self::Contains { name, groups, .. } => groups
                .iter()
                .map(|g| format!("{name} contains ({g})"))
                .collect(),
            Self::Soft {
                weight, features, ..
            } => vec![format!("soft {} ({features})", format_number(*weight))],
        }
    }

    fn clear_lines(&mut self) {
        match self {
            Self::Value { line, .. } => *line = None,
            Self::Range { min, max, .. } => {
                for bound in min.iter_mut().chain(max.iter_mut()) {
                    bound.line = None;
                }
            }
            Self::Contains { groups, line, .. } => {
                *line = None;
                for group in groups {
                    group.clear_lines();
                }
            }
            Self::Soft { features, line, .. } => {
                *line = None;
                features.clear_lines();
            }
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written().join(" and "))
    }
}

/// The features of an aspect, a `contains` group or a `soft` block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Features {
    items: Vec<Feature>,
}

impl Features {
    /// No features.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The features in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Feature> {
        self.items.iter()
    }

    /// How many entries (names and soft blocks).
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The entry of a feature name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Feature> {
        self.items.iter().find(|f| f.name() == Some(name))
    }

    /// The string value of a feature, if it is a string.
    #[must_use]
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Feature::Value {
                value: Value::Text(text),
                ..
            }) => Some(text),
            _ => None,
        }
    }

    /// The key a `contains` group merges by: its `name` sub-feature.
    #[must_use]
    pub fn group_key(&self) -> Option<&str> {
        self.text("name")
    }

    /// Names of the simple (string, list and numeric) features, in order.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        self.items
            .iter()
            .filter(|f| matches!(f, Feature::Value { .. } | Feature::Range { .. }))
            .filter_map(|f| f.name().map(str::to_owned))
            .collect()
    }

    /// Adds `name op value` as written on `line`: a number joins the name's
    /// interval, a string or list must agree with the one already set.
    ///
    /// # Errors
    /// [`Reason::Conflict`] for a different string or a different kind of
    /// feature under the name; [`Reason::DisjointIntervals`] for bounds that
    /// exclude each other.
    pub fn add(
        &mut self,
        name: &str,
        op: Op,
        value: Value,
        line: Option<u32>,
    ) -> Result<(), RadlError> {
        match value {
            Value::Number { value, unit } => {
                let bound = Bound {
                    op,
                    value,
                    unit,
                    line,
                };
                self.add_bound(name, bound)
            }
            value => match self.position(name) {
                Some(i) => match &self.items[i] {
                    Feature::Value { value: old, .. } if *old == value => Ok(()),
                    old => {
                        let new = Feature::Value {
                            name: name.to_owned(),
                            op,
                            value,
                            line,
                        };
                        Err(conflict(&new, old, line))
                    }
                },
                None => {
                    self.items.push(Feature::Value {
                        name: name.to_owned(),
                        op,
                        value,
                        line,
                    });
                    Ok(())
                }
            },
        }
    }

    fn add_bound(&mut self, name: &str, bound: Bound) -> Result<(), RadlError> {
        let line = bound.line;
        let (new_min, new_max) = match bound.op {
            Op::Eq => (Some(bound.clone()), Some(bound.clone())),
            Op::Ge | Op::Gt => (Some(bound.clone()), None),
            Op::Le | Op::Lt => (None, Some(bound.clone())),
        };
        let Some(i) = self.position(name) else {
            self.items.push(Feature::Range {
                name: name.to_owned(),
                min: new_min,
                max: new_max,
            });
            return Ok(());
        };
        let Feature::Range { min, max, .. } = &self.items[i] else {
            let new = Feature::Range {
                name: name.to_owned(),
                min: new_min,
                max: new_max,
            };
            return Err(conflict(&new, &self.items[i], line));
        };
        let lo = tighter(min.clone(), new_min, |new, old| new > old);
        let hi = tighter(max.clone(), new_max, |new, old| new < old);
        if let (Some(l), Some(h)) = (&lo, &hi)
            && l.base() > h.base()
        {
            let mut involved: Vec<String> =
                min.iter().chain(max).map(|b| b.written(name)).collect();
            involved.push(bound.written(name));
            return Err(RadlError::new(
                line,
                Reason::DisjointIntervals(PyList(involved)),
            ));
        }
        if let Feature::Range { min, max, .. } = &mut self.items[i] {
            *min = lo;
            *max = hi;
        }
        Ok(())
    }

    /// Adds a `name contains ( … )` group: a group whose `name` sub-feature
    /// matches one already there merges into it.
    ///
    /// # Errors
    /// [`Reason::Conflict`] when the name holds a simple feature or the merged
    /// group's features conflict.
    pub fn add_contains(
        &mut self,
        name: &str,
        group: Features,
        line: Option<u32>,
    ) -> Result<(), RadlError> {
        let Some(i) = self.position(name) else {
            self.items.push(Feature::Contains {
                name: name.to_owned(),
                groups: vec![group],
                line,
            });
            return Ok(());
        };
        if let Feature::Contains { groups, .. } = &mut self.items[i] {
            let key = group.group_key().map(str::to_owned);
            if let Some(existing) = groups.iter_mut().find(|g| g.group_key() == key.as_deref()) {
                let mut merged = existing.clone();
                for feature in group.items {
                    merged.add_feature(feature)?;
                }
                *existing = merged;
            } else {
                groups.push(group);
            }
            Ok(())
        } else {
            let new = Feature::Contains {
                name: name.to_owned(),
                groups: vec![group],
                line,
            };
            Err(conflict(&new, &self.items[i], line))
        }
    }

    /// Adds a `soft W ( … )` block after the soft blocks already there.
    pub fn add_soft(&mut self, weight: f64, features: Features, line: Option<u32>) {
        let soft = Feature::Soft {
            weight,
            features,
            line,
        };
        match self
            .items
            .iter()
            .rposition(|f| matches!(f, Feature::Soft { .. }))
        {
            Some(last) => self.items.insert(last + 1, soft),
            None => self.items.push(soft),
        }
    }

    /// Adds a normalised feature, as [`Features::add`], [`Features::add_contains`]
    /// and [`Features::add_soft`] do.
    ///
    /// # Errors
    /// As [`Features::add`] and [`Features::add_contains`].
    pub fn add_feature(&mut self, feature: Feature) -> Result<(), RadlError> {
        match feature {
            Feature::Value {
                name,
                op,
                value,
                line,
            } => self.add(&name, op, value, line),
            Feature::Range { name, min, max } => {
                match (min, max) {
                    (Some(lo), Some(hi)) if lo == hi => self.add_bound(&name, lo)?,
                    (lo, hi) => {
                        for bound in lo.into_iter().chain(hi) {
                            self.add_bound(&name, bound)?;
                        }
                    }
                }
                Ok(())
            }
            Feature::Contains {
                name, groups, line, ..
            } => {
                for group in groups {
                    self.add_contains(&name, group, line)?;
                }
                Ok(())
            }
            Feature::Soft {
                weight,
                features,
                line,
            } => {
                self.add_soft(weight, features, line);
                Ok(())
            }
        }
    }

    /// Sets `name = value`, replacing any feature of that name in place
    /// (appending when there was none).
    pub fn set(&mut self, name: &str, value: Value) {
        let feature = match value {
            Value::Number { value, unit } => {
                let bound = Bound {
                    op: Op::Eq,
                    value,
                    unit,
                    line: None,
                };
                Feature::Range {
                    name: name.to_owned(),
                    min: Some(bound.clone()),
                    max: Some(bound),
                }
            }
            value => Feature::Value {
                name: name.to_owned(),
                op: Op::Eq,
                value,
                line: None,
            },
        };
        self.replace(feature);
    }

    /// Puts `feature` in place of the entry of its name (appending when there
    /// was none); a soft block is added after the others.
    pub fn replace(&mut self, feature: Feature) {
        let Some(name) = feature.name().map(str::to_owned) else {
            if let Feature::Soft {
                weight,
                features,
                line,
            } = feature
            {
                self.add_soft(weight, features, line);
            }
            return;
        };
        match self.position(&name) {
            Some(i) => self.items[i] = feature,
            None => self.items.push(feature),
        }
    }

    /// Copies every feature of `other` in, each replacing the entry of its
    /// name (soft blocks are added).
    pub fn extend_from(&mut self, other: &Features) {
        for feature in &other.items {
            self.replace(feature.clone());
        }
    }

    /// Removes the feature called `name`, if any.
    pub fn remove(&mut self, name: &str) {
        self.items.retain(|f| f.name() != Some(name));
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.items.iter().position(|f| f.name() == Some(name))
    }

    pub(super) fn clear_lines(&mut self) {
        for feature in &mut self.items {
            feature.clear_lines();
        }
    }
}

impl<'a> IntoIterator for &'a Features {
    type Item = &'a Feature;
    type IntoIter = std::slice::Iter<'a, Feature>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl fmt::Display for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.items.iter().flat_map(Feature::written).collect();
        f.write_str(&parts.join(" and "))
    }
}

/// The tighter of two optional bounds (`better(new, old)` on base values);
/// on a tie an exact (`=`) bound wins, else the old one stays.
fn tighter(
    old: Option<Bound>,
    new: Option<Bound>,
    better: impl Fn(f64, f64) -> bool,
) -> Option<Bound> {
    match (old, new) {
        (None, new) => new,
        (old, None) => old,
        (Some(old), Some(new)) => {
            let (n, o) = (new.base(), old.base());
            if better(n, o) || (n == o && new.op == Op::Eq && old.op != Op::Eq) {
                Some(new)
            } else {
                Some(old)
            }
        }
    }
}

fn conflict(new: &Feature, old: &Feature, line: Option<u32>) -> RadlError {
    RadlError::new(
        line,
        Reason::Conflict {
            new: new.to_string(),
            old: old.to_string(),
        },
    )
}

/// A `network`, `system`, `description` or `ansible` sentence.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Aspect {
    /// The aspect id.
    pub id: String,
    /// A sentence without parentheses, referring to an aspect defined elsewhere.
    pub reference: bool,
    /// The features.
    pub features: Features,
    /// The line of the sentence.
    pub line: Option<u32>,
}

impl Aspect {
    /// A definition without features.
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }

    /// A reference (`system node`).
    #[must_use]
    pub fn reference(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            reference: true,
            ..Self::default()
        }
    }

    /// Sets a simple `name = value` feature, replacing any feature of that
    /// name; an aspect with features is a definition, no longer a reference.
    pub fn set(&mut self, name: &str, value: Value) {
        self.reference = false;
        self.features.set(name, value);
    }

    /// Removes the feature called `name`.
    pub fn remove(&mut self, name: &str) {
        self.features.remove(name);
    }

    /// Names of the simple (string, list and numeric) features, in order.
    #[must_use]
    pub fn feature_names(&self) -> Vec<String> {
        self.features.names()
    }
}

/// A `configure` sentence.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Configure {
    /// The configure id.
    pub id: String,
    /// The recipes verbatim; `None` for `configure x ()` or a reference.
    pub recipes: Option<String>,
    /// A sentence without parentheses.
    pub reference: bool,
    /// The line of the sentence.
    pub line: Option<u32>,
}

/// A `deploy` sentence.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Deploy {
    /// The system to launch.
    pub system: String,
    /// How many VMs.
    pub count: u32,
    /// The cloud id, if given.
    pub cloud: Option<String>,
    /// The line of the sentence.
    pub line: Option<u32>,
}

/// An `option NAME OP value` of a `contextualize` sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextOption {
    /// The option name.
    pub name: String,
    /// The written operator.
    pub op: Op,
    /// A string or a number.
    pub value: Value,
}

/// A `system X configure Y [step N] [with T]` item.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContextItem {
    /// The system id.
    pub system: String,
    /// The configure id.
    pub configure: String,
    /// The step, if given.
    pub step: Option<u32>,
    /// The contextualisation tool, if given.
    pub ctxt_tool: Option<String>,
    /// The line of the item.
    pub line: Option<u32>,
}

/// The `contextualize` sentence (several merge into one).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contextualize {
    /// The time limit in seconds, if given.
    pub max_time: Option<u64>,
    /// The options, one per name.
    pub options: Vec<ContextOption>,
    /// The items, one per (system, configure) pair.
    pub items: Vec<ContextItem>,
    /// The line of the (first) sentence.
    pub line: Option<u32>,
}

impl Contextualize {
    /// Whether this is `contextualize ()`, which disables contextualisation.
    #[must_use]
    pub fn disables(&self) -> bool {
        self.items.is_empty() && self.options.is_empty()
    }

    /// Merges `other` in as IM does: the larger time limit, options and items
    /// replacing those of the same name or pair.
    pub fn update(&mut self, other: Contextualize) {
        self.max_time = match (self.max_time, other.max_time) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for option in other.options {
            match self.options.iter_mut().find(|o| o.name == option.name) {
                Some(old) => *old = option,
                None => self.options.push(option),
            }
        }
        for item in other.items {
            match self
                .items
                .iter_mut()
                .find(|i| i.system == item.system && i.configure == item.configure)
            {
                Some(old) => *old = item,
                None => self.items.push(item),
            }
        }
        self.line = self.line.or(other.line);
    }
}

/// A RADL document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Radl {
    /// The `description` sentence, if any.
    pub description: Option<Aspect>,
    /// `ansible` sentences.
    pub ansible: Vec<Aspect>,
    /// `network` sentences.
    pub networks: Vec<Aspect>,
    /// `system` sentences.
    pub systems: Vec<Aspect>,
    /// `configure` sentences.
    pub configures: Vec<Configure>,
    /// The `contextualize` sentence, if any.
    pub contextualize: Option<Contextualize>,
    /// `deploy` sentences, in order.
    pub deploys: Vec<Deploy>,
}

impl Radl {
    /// The system called `id` (a definition or a reference).
    #[must_use]
    pub fn system(&self, id: &str) -> Option<&Aspect> {
        self.systems.iter().find(|a| a.id == id)
    }

    /// The network called `id` (a definition or a reference).
    #[must_use]
    pub fn network(&self, id: &str) -> Option<&Aspect> {
        self.networks.iter().find(|a| a.id == id)
    }

    /// The configure called `id` (a definition or a reference).
    #[must_use]
    pub fn configure(&self, id: &str) -> Option<&Configure> {
        self.configures.iter().find(|c| c.id == id)
    }

    /// The ansible host called `id`.
    #[must_use]
    pub fn ansible_host(&self, id: &str) -> Option<&Aspect> {
        self.ansible.iter().find(|a| a.id == id)
    }

    /// Adds a `network` sentence.
    ///
    /// # Errors
    /// [`Reason::DuplicateId`] when a network has that id.
    pub fn add_network(&mut self, network: Aspect) -> Result<(), RadlError> {
        push_unique(&mut self.networks, network, |a| &a.id)
    }

    /// Adds a `system` sentence.
    ///
    /// # Errors
    /// [`Reason::DuplicateId`] when a system has that id.
    pub fn add_system(&mut self, system: Aspect) -> Result<(), RadlError> {
        push_unique(&mut self.systems, system, |a| &a.id)
    }

    /// Adds an `ansible` sentence.
    ///
    /// # Errors
    /// [`Reason::DuplicateId`] when an ansible host has that id.
    pub fn add_ansible(&mut self, host: Aspect) -> Result<(), RadlError> {
        push_unique(&mut self.ansible, host, |a| &a.id)
    }

    /// Adds a `configure` sentence.
    ///
    /// # Errors
    /// [`Reason::DuplicateId`] when a configure has that id.
    pub fn add_configure(&mut self, configure: Configure) -> Result<(), RadlError> {
        push_unique(&mut self.configures, configure, |c| &c.id)
    }

    /// Adds a `contextualize` sentence, merging with one already there.
    pub fn add_contextualize(&mut self, contextualize: Contextualize) {
        match &mut self.contextualize {
            Some(existing) => existing.update(contextualize),
            None => self.contextualize = Some(contextualize),
        }
    }

    /// Merges an "add" body into this stored document (spec §3.3).
    ///
    /// New network, ansible, system and configure definitions join the
    /// document, a definition replacing a stored one of the same id in place;
    /// references (`system node`) are not repeated. A `contextualize`
    /// sentence merges into the stored one ([`Contextualize::update`]), a
    /// `description` replaces it, and `deploy` sentences are appended, so the
    /// stored document lists every deploy ever requested.
    pub fn merge(&mut self, addition: Radl) {
        fn join(stored: &mut Vec<Aspect>, added: Vec<Aspect>) {
            for aspect in added.into_iter().filter(|a| !a.reference) {
                match stored.iter_mut().find(|a| a.id == aspect.id) {
                    Some(old) => *old = aspect,
                    None => stored.push(aspect),
                }
            }
        }
        if addition.description.is_some() {
            self.description = addition.description;
        }
        join(&mut self.ansible, addition.ansible);
        join(&mut self.networks, addition.networks);
        join(&mut self.systems, addition.systems);
        self.put_configures(addition.configures);
        if let Some(contextualize) = addition.contextualize {
            self.add_contextualize(contextualize);
        }
        self.deploys.extend(addition.deploys);
    }

    /// Applies a "reconfigure" body to this stored document (spec §3.3).
    ///
    /// Its `configure` definitions replace the stored ones of the same id (or
    /// join); its `contextualize`, when present, replaces the stored one;
    /// for each of its systems that names a stored system, the
    /// `disk.0.os.credentials.new.*` features are set on the stored system
    /// and its `disk.0.applications` groups added (a group of the same
    /// application name replacing the stored one). Everything else in the body
    /// is ignored.
    pub fn replace_configuration(&mut self, body: Radl) {
        const NEW_CREDENTIALS: &str = "disk.0.os.credentials.new.";
        const APPLICATIONS: &str = "disk.0.applications";
        self.put_configures(body.configures);
        if body.contextualize.is_some() {
            self.contextualize = body.contextualize;
        }
        for system in body.systems {
            let Some(stored) = self.systems.iter_mut().find(|s| s.id == system.id) else {
                continue;
            };
            for feature in system.features.iter() {
                match feature {
                    Feature::Value { name, .. } | Feature::Range { name, .. }
                        if name.starts_with(NEW_CREDENTIALS) =>
                    {
                        stored.features.replace(feature.clone());
                    }
                    Feature::Contains { name, groups, .. } if name == APPLICATIONS => {
                        add_groups(&mut stored.features, name, groups);
                    }
                    _ => {}
                }
            }
        }
    }

    fn put_configures(&mut self, configures: Vec<Configure>) {
        for configure in configures.into_iter().filter(|c| !c.reference) {
            match self.configures.iter_mut().find(|c| c.id == configure.id) {
                Some(old) => *old = configure,
                None => self.configures.push(configure),
            }
        }
    }

    /// A copy without line numbers (to compare documents of different origin).
    #[must_use]
    pub fn without_lines(&self) -> Radl {
        let mut copy = self.clone();
        let aspects = copy
            .description
            .iter_mut()
            .chain(&mut copy.ansible)
            .chain(&mut copy.networks)
            .chain(&mut copy.systems);
        for aspect in aspects {
            aspect.line = None;
            aspect.features.clear_lines();
        }
        for configure in &mut copy.configures {
            configure.line = None;
        }
        for deploy in &mut copy.deploys {
            deploy.line = None;
        }
        if let Some(contextualize) = &mut copy.contextualize {
            contextualize.line = None;
            for item in &mut contextualize.items {
                item.line = None;
            }
        }
        copy
    }
}

/// Adds `groups` under `name`, each replacing a stored group of its key.
fn add_groups(features: &mut Features, name: &str, groups: &[Features]) {
    let mut merged = match features.get(name) {
        Some(Feature::Contains { groups, .. }) => groups.clone(),
        _ => Vec::new(),
    };
    for group in groups {
        match merged
            .iter_mut()
            .find(|g| g.group_key() == group.group_key())
        {
            Some(old) => *old = group.clone(),
            None => merged.push(group.clone()),
        }
    }
    features.replace(Feature::Contains {
        name: name.to_owned(),
        groups: merged,
        line: None,
    });
}

fn push_unique<T>(list: &mut Vec<T>, item: T, id: impl Fn(&T) -> &String) -> Result<(), RadlError> {
    if list.iter().any(|x| id(x) == id(&item)) {
        return Err(RadlError::bare(Reason::DuplicateId));
    }
    list.push(item);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn num(value: f64, unit: Option<&str>) -> Value {
        Value::Number {
            value,
            unit: unit.map(str::to_owned),
        }
    }

    #[test]
    fn bounds_intersect_keeping_the_tighter_one() {
        let mut f = Features::new();
        f.add("cpu.count", Op::Ge, num(1.0, None), Some(1)).unwrap();
        f.add("cpu.count", Op::Ge, num(2.0, None), Some(2)).unwrap();
        f.add("cpu.count", Op::Le, num(4.0, None), Some(3)).unwrap();
        assert_eq!(f.to_string(), "cpu.count >= 2 and cpu.count <= 4");
    }

    #[test]
    fn an_exact_value_wins_a_tie() {
        let mut f = Features::new();
        f.add("cpu.count", Op::Le, num(5.0, None), None).unwrap();
        f.add("cpu.count", Op::Eq, num(5.0, None), None).unwrap();
        assert_eq!(f.to_string(), "cpu.count = 5");
        f.add("cpu.count", Op::Ge, num(5.0, None), None).unwrap();
        assert_eq!(f.to_string(), "cpu.count = 5");
    }

    #[test]
    fn disjoint_bounds_are_an_error_naming_the_features() {
        let mut f = Features::new();
        f.add("memory.size", Op::Ge, num(2.0, Some("g")), Some(1))
            .unwrap();
        let err = f
            .add("memory.size", Op::Le, num(512.0, Some("m")), Some(2))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Line 2: Disjoint intervals!. Involved features: ['memory.size >= 2g', 'memory.size <= 512m']"
        );
        // The entry is left as it was.
        assert_eq!(f.to_string(), "memory.size >= 2g");
    }

    #[test]
    fn a_different_string_conflicts_and_the_same_one_does_not() {
        let mut f = Features::new();
        f.add("disk.0.os.name", Op::Eq, Value::text("linux"), Some(1))
            .unwrap();
        f.add("disk.0.os.name", Op::Eq, Value::text("linux"), Some(2))
            .unwrap();
        let err = f
            .add("disk.0.os.name", Op::Eq, Value::text("windows"), Some(3))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Line 3: Conflict adding `disk.0.os.name = 'windows'` because \
             `disk.0.os.name = 'linux'` is already set and conflict is error"
        );
    }

    #[test]
    fn contains_groups_merge_by_name() {
        let mut f = Features::new();
        let mut a = Features::new();
        a.add("name", Op::Eq, Value::text("nginx"), None).unwrap();
        let mut b = Features::new();
        b.add("name", Op::Eq, Value::text("nginx"), None).unwrap();
        b.add("version", Op::Eq, Value::text("1.2"), None).unwrap();
        let mut c = Features::new();
        c.add("name", Op::Eq, Value::text("git"), None).unwrap();
        f.add_contains("disk.0.applications", a, None).unwrap();
        f.add("cpu.count", Op::Eq, num(1.0, None), None).unwrap();
        f.add_contains("disk.0.applications", b, None).unwrap();
        f.add_contains("disk.0.applications", c, None).unwrap();
        assert_eq!(
            f.to_string(),
            "disk.0.applications contains (name = 'nginx' and version = '1.2') and \
             disk.0.applications contains (name = 'git') and cpu.count = 1"
        );
    }

    #[test]
    fn soft_blocks_gather_at_the_first_one() {
        let mut f = Features::new();
        f.add_soft(1.0, Features::new(), None);
        f.add("a", Op::Eq, Value::text("x"), None).unwrap();
        f.add_soft(2.0, Features::new(), None);
        assert_eq!(f.to_string(), "soft 1 () and soft 2 () and a = 'x'");
    }

    #[test]
    fn set_replaces_in_place_and_remove_drops() {
        let mut system = Aspect::new("node");
        system
            .features
            .add("cpu.count", Op::Ge, num(1.0, None), None)
            .unwrap();
        system
            .features
            .add("state", Op::Eq, Value::text("x"), None)
            .unwrap();
        system.set("cpu.count", Value::number(4.0));
        system.set("provider.type", Value::text("Dummy"));
        assert_eq!(
            system.features.to_string(),
            "cpu.count = 4 and state = 'x' and provider.type = 'Dummy'"
        );
        assert_eq!(
            system.feature_names(),
            ["cpu.count", "state", "provider.type"]
        );
        system.remove("state");
        assert_eq!(system.feature_names(), ["cpu.count", "provider.type"]);
        let mut reference = Aspect::reference("node");
        reference.set("state", Value::text("running"));
        assert!(!reference.reference);
    }

    #[test]
    fn merge_adds_definitions_and_deploys_but_not_references() {
        let mut stored = Radl::default();
        stored.add_system(Aspect::new("node")).unwrap();
        stored.deploys.push(Deploy {
            system: "node".into(),
            count: 1,
            ..Deploy::default()
        });
        let mut body = Radl::default();
        body.add_system(Aspect::reference("node")).unwrap();
        body.add_system(Aspect::new("front")).unwrap();
        body.add_network(Aspect::reference("net")).unwrap();
        body.deploys.push(Deploy {
            system: "front".into(),
            count: 2,
            ..Deploy::default()
        });
        stored.merge(body);
        let ids: Vec<&str> = stored.systems.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["node", "front"]);
        assert!(!stored.systems[0].reference);
        assert!(stored.networks.is_empty());
        assert_eq!(stored.deploys.len(), 2);
    }

    #[test]
    fn reconfigure_replaces_configuration_and_adds_credentials_and_apps() {
        let mut stored = Radl::default();
        let mut node = Aspect::new("node");
        node.set("cpu.count", Value::number(1.0));
        stored.add_system(node).unwrap();
        stored
            .add_configure(Configure {
                id: "node".into(),
                recipes: Some("old".into()),
                ..Configure::default()
            })
            .unwrap();
        stored.add_contextualize(Contextualize::default());
        let mut body = Radl::default();
        let mut node = Aspect::new("node");
        node.set("cpu.count", Value::number(8.0));
        node.set(
            "disk.0.os.credentials.new.password",
            Value::text("Secret1!"),
        );
        let mut app = Features::new();
        app.add("name", Op::Eq, Value::text("nginx"), None).unwrap();
        node.features
            .add_contains("disk.0.applications", app, None)
            .unwrap();
        body.add_system(node).unwrap();
        body.add_configure(Configure {
            id: "node".into(),
            recipes: Some("new".into()),
            ..Configure::default()
        })
        .unwrap();
        stored.replace_configuration(body);
        assert_eq!(
            stored.configure("node").unwrap().recipes.as_deref(),
            Some("new")
        );
        assert_eq!(stored.contextualize, Some(Contextualize::default()));
        assert_eq!(
            stored.systems[0].features.to_string(),
            "cpu.count = 1 and disk.0.os.credentials.new.password = 'Secret1!' and \
             disk.0.applications contains (name = 'nginx')"
        );
    }

    #[test]
    fn strings_quote_backslashes_and_quotes() {
        assert_eq!(quote("it's"), "'it\\'s'");
        assert_eq!(quote("a\\b"), "'a\\\\b'");
    }
}
