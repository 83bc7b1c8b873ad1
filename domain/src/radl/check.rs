//! Validation of a parsed document (spec §6.3, the checks that run when a
//! route uses the document): feature types, operators, enumerations and
//! units, interface and disk indices, network connections, `deploy` and
//! `contextualize` references, recipes and `outports`.

use super::error::{Expected, PyList, RadlError, Reason};
use super::model::{Bound, Feature, Features, Op, Radl, Value};
use super::outports;
use super::units::{BYTE_UNITS, PERFORMANCE_UNITS, byte_factor, is_whole};

impl Radl {
    /// Validates the document on its own.
    ///
    /// # Errors
    /// The first rule broken, with its line when the document was RADL text.
    pub fn check(&self) -> Result<(), RadlError> {
        Scope {
            radl: self,
            known: None,
        }
        .check()
    }

    /// Validates the document as an addition to (or reconfiguration of) the
    /// stored document `known`: systems, networks and configures it names
    /// may be defined there.
    ///
    /// # Errors
    /// As [`Radl::check`].
    pub fn check_with(&self, known: &Radl) -> Result<(), RadlError> {
        Scope {
            radl: self,
            known: Some(known),
        }
        .check()
    }
}

/// What a checked feature must be.
#[derive(Debug, Clone, Copy)]
struct Rule {
    kind: Kind,
    values: Values,
    units: Units,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Float,
    Int,
    Str,
    StrOrList,
}

#[derive(Debug, Clone, Copy)]
enum Values {
    Any,
    OneOf(&'static [&'static str]),
    Network,
    Outports,
}

#[derive(Debug, Clone, Copy)]
enum Units {
    None,
    Bytes,
    Performance,
}

const YES_NO: &[&str] = &["YES", "NO"];
const ARCHES: &[&str] = &["I386", "X86_64"];
const OSES: &[&str] = &["LINUX", "WINDOWS", "MAC OS X"];

const fn rule(kind: Kind) -> Rule {
    Rule {
        kind,
        values: Values::Any,
        units: Units::None,
    }
}

const fn one_of(values: &'static [&'static str]) -> Rule {
    Rule {
        kind: Kind::Str,
        values: Values::OneOf(values),
        units: Units::None,
    }
}

const fn sized(kind: Kind, units: Units) -> Rule {
    Rule {
        kind,
        values: Values::Any,
        units,
    }
}

/// Rules of a system's features that carry no index.
fn system_rule(name: &str) -> Option<Rule> {
    Some(match name {
        "spot" => one_of(YES_NO),
        "cpu.arch" => one_of(ARCHES),
        "cpu.count" | "price" => rule(Kind::Float),
        "cpu.performance" => sized(Kind::Float, Units::Performance),
        "memory.size" => sized(Kind::Int, Units::Bytes),
        _ => return None,
    })
}

/// Rules of `net_interface.<k>.<suffix>` features.
fn interface_rule(suffix: &str) -> Option<Rule> {
    Some(match suffix {
        "connection" => Rule {
            kind: Kind::Str,
            values: Values::Network,
            units: Units::None,
        },
        "ip" | "dns_name" => rule(Kind::Str),
        _ => return None,
    })
}

/// Rules of `disk.<k>.<suffix>` features.
fn disk_rule(suffix: &str) -> Option<Rule> {
    Some(match suffix {
        "image.url" => rule(Kind::StrOrList),
        "size" | "free_size" => sized(Kind::Float, Units::Bytes),
        "os.name" => one_of(OSES),
        "image.name"
        | "type"
        | "device"
        | "mount_path"
        | "fstype"
        | "os.flavour"
        | "os.version"
        | "os.credentials.username"
        | "os.credentials.password"
        | "os.credentials.private_key"
        | "os.credentials.public_key" => rule(Kind::Str),
        _ => return None,
    })
}

/// Rules of a network's features.
fn network_rule(name: &str) -> Option<Rule> {
    Some(match name {
        "outbound" => one_of(YES_NO),
        "outports" => Rule {
            kind: Kind::Str,
            values: Values::Outports,
            units: Units::None,
        },
        "provider_id" => rule(Kind::Str),
        _ => return None,
    })
}

/// An indexed feature name split as `<prefix>.<index>.<suffix>`.
struct Indexed<'n> {
    prefix: &'static str,
    index: u32,
    suffix: Option<&'n str>,
}

/// Splits `net_interface.<k>…` and `disk.<k>…` names; `Err` when `<k>` is
/// not an integer.
fn indexed(name: &str) -> Option<Result<Indexed<'_>, ()>> {
    let (prefix, tail) = ["net_interface", "disk"].into_iter().find_map(|prefix| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('.'))
            .map(|tail| (prefix, tail))
    })?;
    let (number, suffix) = match tail.split_once('.') {
        Some((number, suffix)) => (number, Some(suffix)),
        None => (tail, None),
    };
    let index = number
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| number.parse::<u32>().ok())
        .flatten();
    Some(index.map_or(Err(()), |index| {
        Ok(Indexed {
            prefix,
            index,
            suffix,
        })
    }))
}

fn indexed_rule(name: &str) -> Option<Rule> {
    match indexed(name)? {
        Ok(Indexed {
            prefix,
            suffix: Some(suffix),
            ..
        }) => match prefix {
            "net_interface" => interface_rule(suffix),
            _ => disk_rule(suffix),
        },
        _ => None,
    }
}

struct Scope<'r> {
    radl: &'r Radl,
    known: Option<&'r Radl>,
}

impl Scope<'_> {
    fn has_network(&self, id: &str) -> bool {
        self.radl.network(id).is_some() || self.known.is_some_and(|k| k.network(id).is_some())
    }

    fn has_system(&self, id: &str) -> bool {
        self.radl.system(id).is_some() || self.known.is_some_and(|k| k.system(id).is_some())
    }

    fn has_configure(&self, id: &str) -> bool {
        self.radl.configure(id).is_some() || self.known.is_some_and(|k| k.configure(id).is_some())
    }

    fn check(&self) -> Result<(), RadlError> {
        for network in self.radl.networks.iter().filter(|n| !n.reference) {
            for feature in &network.features {
                let rule = feature.name().and_then(network_rule);
                self.feature(feature, rule)?;
            }
        }
        for system in self.radl.systems.iter().filter(|s| !s.reference) {
            self.system(&system.features)?;
        }
        for deploy in &self.radl.deploys {
            if !self.has_system(&deploy.system) {
                return Err(RadlError::new(deploy.line, Reason::DeploySystem));
            }
        }
        for configure in &self.radl.configures {
            if let Some(recipes) = &configure.recipes {
                yaml(recipes).map_err(|e| RadlError::new(configure.line, Reason::Yaml(e)))?;
            }
        }
        if let Some(contextualize) = &self.radl.contextualize {
            for item in &contextualize.items {
                if !self.has_system(&item.system) {
                    let reason = Reason::ItemSystem(item.system.clone());
                    return Err(RadlError::new(item.line, reason));
                }
                if !self.has_configure(&item.configure) {
                    let reason = Reason::ItemConfigure(item.configure.clone());
                    return Err(RadlError::new(item.line, reason));
                }
            }
        }
        Ok(())
    }

    fn system(&self, features: &Features) -> Result<(), RadlError> {
        // Features without an index first, then the indexed ones, as IM does.
        for feature in features {
            match feature {
                Feature::Soft { features, .. } => {
                    for inner in features {
                        let rule = inner
                            .name()
                            .and_then(|n| system_rule(n).or_else(|| indexed_rule(n)));
                        self.feature(inner, rule.map(without_references))?;
                    }
                }
                _ => {
                    let name = feature.name().unwrap_or_default();
                    if indexed(name).is_none() {
                        self.feature(feature, system_rule(name))?;
                    }
                }
            }
        }
        let mut indices: Vec<(&'static str, Vec<u32>)> = Vec::new();
        let mut connected: Vec<u32> = Vec::new();
        for feature in features {
            let Some(name) = feature.name() else {
                continue;
            };
            let Some(split) = indexed(name) else {
                continue;
            };
            let Ok(split) = split else {
                return Err(RadlError::new(feature.line(), Reason::Index));
            };
            let Some(suffix) = split.suffix else {
                continue;
            };
            self.feature(feature, indexed_rule(name))?;
            match indices.iter_mut().find(|(p, _)| *p == split.prefix) {
                Some((_, list)) => list.push(split.index),
                None => indices.push((split.prefix, vec![split.index])),
            }
            if split.prefix == "net_interface" && suffix == "connection" {
                connected.push(split.index);
            }
        }
        for (prefix, list) in &mut indices {
            list.sort_unstable();
            list.dedup();
            let contiguous = list
                .iter()
                .enumerate()
                .all(|(i, k)| u32::try_from(i) == Ok(*k));
            if !contiguous {
                return Err(RadlError::bare(Reason::Indices((*prefix).to_owned())));
            }
        }
        let interfaces = indices
            .iter()
            .find(|(p, _)| *p == "net_interface")
            .map_or(0, |(_, list)| list.len());
        connected.sort_unstable();
        connected.dedup();
        if connected.len() != interfaces {
            return Err(RadlError::bare(Reason::MissingConnection));
        }
        Ok(())
    }

    /// Checks one feature: type, operator, value, unit, in IM's order.
    fn feature(&self, feature: &Feature, rule: Option<Rule>) -> Result<(), RadlError> {
        match feature {
            Feature::Value {
                name,
                op,
                value,
                line,
            } => {
                let fail = |reason| Err(RadlError::new(*line, reason));
                match value {
                    Value::Text(text) => {
                        if let Some(Rule {
                            kind: kind @ (Kind::Float | Kind::Int),
                            ..
                        }) = rule
                        {
                            return fail(Reason::Type(expected(kind)));
                        }
                        if *op != Op::Eq && !name.contains("version") {
                            return fail(Reason::Operator);
                        }
                        if let Some(rule) = rule {
                            self.value(name, text, rule, *line)?;
                        }
                        Ok(())
                    }
                    Value::List(_) => match rule.map(|r| r.kind) {
                        Some(Kind::StrOrList) | None => Ok(()),
                        Some(kind) => fail(Reason::Type(expected(kind))),
                    },
                    Value::Number { value, unit } => {
                        let bound = Bound {
                            op: *op,
                            value: *value,
                            unit: unit.clone(),
                            line: *line,
                        };
                        rule.map_or(Ok(()), |rule| bound_check(&bound, rule))
                    }
                }
            }
            Feature::Range { min, max, .. } => {
                let Some(rule) = rule else {
                    return Ok(());
                };
                for bound in min.iter().chain(max) {
                    bound_check(bound, rule)?;
                }
                Ok(())
            }
            Feature::Contains { line, .. } => match rule {
                Some(rule) => Err(RadlError::new(*line, Reason::Type(expected(rule.kind)))),
                None => Ok(()),
            },
            Feature::Soft { .. } => Ok(()),
        }
    }

    fn value(
        &self,
        name: &str,
        text: &str,
        rule: Rule,
        line: Option<u32>,
    ) -> Result<(), RadlError> {
        let reason = match rule.values {
            Values::OneOf(values) if !values.contains(&text.to_uppercase().as_str()) => {
                Reason::NotInEnum(PyList::of(values))
            }
            Values::Network if !self.has_network(text) => Reason::Connection(name.to_owned()),
            Values::Outports if !outports::is_valid(text) => Reason::Outports,
            _ => return Ok(()),
        };
        Err(RadlError::new(line, reason))
    }
}

/// A rule with the network reference check dropped (soft blocks are not
/// resolved against the document's networks).
fn without_references(rule: Rule) -> Rule {
    match rule.values {
        Values::Network => Rule {
            values: Values::Any,
            ..rule
        },
        _ => rule,
    }
}

fn expected(kind: Kind) -> Expected {
    match kind {
        Kind::Float => Expected::Float,
        Kind::Int => Expected::Int,
        Kind::Str | Kind::StrOrList => Expected::Str,
    }
}

fn bound_check(bound: &Bound, rule: Rule) -> Result<(), RadlError> {
    let fail = |reason| Err(RadlError::new(bound.line, reason));
    match rule.kind {
        Kind::Str | Kind::StrOrList => return fail(Reason::Type(Expected::Str)),
        Kind::Int if !is_whole(bound.value) => return fail(Reason::Type(Expected::Int)),
        Kind::Int | Kind::Float => {}
    }
    let Some(unit) = &bound.unit else {
        return Ok(());
    };
    match rule.units {
        Units::None => fail(Reason::UnitNotExpected),
        Units::Bytes if byte_factor(unit).is_none() => fail(Reason::Unit(PyList::of(BYTE_UNITS))),
        Units::Performance if !PERFORMANCE_UNITS.contains(&unit.to_uppercase().as_str()) => {
            fail(Reason::Unit(PyList::of(PERFORMANCE_UNITS)))
        }
        Units::Bytes | Units::Performance => Ok(()),
    }
}

/// Whether `recipes` is one YAML document; the parser's message when not.
fn yaml(recipes: &str) -> Result<(), String> {
    let mut documents = 0;
    for event in saphyr_parser::Parser::new_from_str(recipes) {
        let (event, _) = event.map_err(|e| e.to_string())?;
        if let saphyr_parser::Event::DocumentStart(_) = event {
            documents += 1;
            if documents > 1 {
                return Err("expected a single document in the stream".to_owned());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::json::parse_json;
    use super::super::text::parse_text;

    /// The reason `check` gives for `text`.
    fn reason(text: &str) -> String {
        parse_text(text).unwrap().check().unwrap_err().to_string()
    }

    fn valid(text: &str) {
        let radl = parse_text(text).unwrap();
        if let Err(e) = radl.check() {
            panic!("{text}: {e}");
        }
    }

    #[test]
    fn the_worked_example_of_a_bad_deploy() {
        assert_eq!(
            reason("system a ( )\ndeploy b 1"),
            "Line 2: Invalid system id in the deploy."
        );
        valid("system node ( )\ndeploy node 0");
    }

    #[test]
    fn enumerations() {
        let arch = "Invalid value; expected one of ['I386', 'X86_64']";
        assert_eq!(
            reason("system a ( cpu.arch = 'arm' )"),
            format!("Line 1: {arch}")
        );
        let os = "Invalid value; expected one of ['LINUX', 'WINDOWS', 'MAC OS X']";
        assert_eq!(
            reason("system a (\ndisk.0.image.url = 'x' and\ndisk.0.os.name = 'bsd' )"),
            format!("Line 3: {os}")
        );
        let yes_no = "Invalid value; expected one of ['YES', 'NO']";
        assert_eq!(
            reason("network n ( outbound = 'maybe' )"),
            format!("Line 1: {yes_no}")
        );
        assert_eq!(
            reason("system a ( spot = 'sure' )"),
            format!("Line 1: {yes_no}")
        );
        // Case-insensitive, stored as written.
        valid(
            "network n ( outbound = 'Yes' )\nsystem a ( cpu.arch = 'X86_64' and spot = 'no' and \
             disk.0.os.name = 'Mac OS X' )",
        );
    }

    #[test]
    fn types() {
        let float = "Invalid type; expected <class 'float'>";
        for feature in [
            "cpu.count = '2'",
            "price = 'free'",
            "cpu.performance = 'x'",
            "disk.0.size = 'big'",
            "disk.0.free_size = 'big'",
        ] {
            assert_eq!(
                reason(&format!("system a ( {feature} )")),
                format!("Line 1: {float}")
            );
        }
        let int = "Invalid type; expected <class 'int'>";
        assert_eq!(
            reason("system a ( memory.size = 1.5g )"),
            format!("Line 1: {int}")
        );
        assert_eq!(
            reason("system a ( memory.size = 'x' )"),
            format!("Line 1: {int}")
        );
        let str = "Invalid type; expected <class 'str'>";
        for feature in [
            "cpu.arch = 1",
            "disk.0.os.name = 2",
            "net_interface.0.connection = 3",
            "disk.0.image.url = 4",
            "spot = 1",
        ] {
            assert_eq!(
                reason(&format!("system a ( {feature} )")),
                format!("Line 1: {str}")
            );
        }
        assert_eq!(
            reason("network n ( outports = 22 )"),
            format!("Line 1: {str}")
        );
        assert_eq!(
            reason("system a ( disk.0.os.name contains ( name = 'x' ) )"),
            format!("Line 1: {str}")
        );
        assert_eq!(
            reason("system a ( cpu.arch = ['x'] )"),
            format!("Line 1: {str}")
        );
        valid(
            "system a ( cpu.count = 2.5 and price <= 1 and memory.size = 512 and \
             disk.0.image.url = ['a', 'b'] and disk.0.size >= 1.5G and cpu.performance >= 2 ECU )",
        );
    }

    #[test]
    fn operators_on_strings() {
        assert_eq!(
            reason("system a ( cpu.arch >= 'x86_64' )"),
            "Line 1: Invalid operator; expected '='"
        );
        assert_eq!(
            reason("system a ( instance_type < 'small' )"),
            "Line 1: Invalid operator; expected '='"
        );
        valid("system a ( disk.0.os.version >= '7' and app_version < '2' )");
    }

    #[test]
    fn units() {
        assert_eq!(
            reason("system a ( cpu.count = 2k )"),
            "Line 1: Invalid unit; expected none"
        );
        assert_eq!(
            reason("system a ( price = 1 EUR )"),
            "Line 1: Invalid unit; expected none"
        );
        assert_eq!(
            reason("system a ( memory.size = 2 X )"),
            "Line 1: Invalid unit; expected one of ['B', 'K', 'KB', 'KI', 'KIB', 'M', 'MB', \
             'MI', 'MIB', 'G', 'GB', 'GI', 'GIB', 'T', 'TB', 'TI', 'TIB']"
        );
        assert_eq!(
            reason("system a ( cpu.performance = 2 GHz )"),
            "Line 1: Invalid unit; expected one of ['ECU', 'GCEU', 'HRZ']"
        );
        valid(
            "system a ( memory.size >= 512m and memory.size <= 2 GiB and disk.0.size = 10gb and \
             disk.0.free_size >= 1 Ti and memory.size >= 600000000B )",
        );
    }

    #[test]
    fn connections() {
        assert_eq!(
            reason("network n ()\nsystem a (\nnet_interface.0.connection = 'other' )"),
            "Line 3: Invalid value in property 'net_interface.0.connection'"
        );
        valid("network n\nsystem a ( net_interface.0.connection = 'n' )");
    }

    #[test]
    fn indices() {
        assert_eq!(
            reason(
                "network n ()\nsystem a ( net_interface.0.connection = 'n' and \
                 net_interface.2.connection = 'n' )"
            ),
            "Invalid indices values in properties 'net_interface'"
        );
        assert_eq!(
            reason("system a ( disk.1.size = 1G )"),
            "Invalid indices values in properties 'disk'"
        );
        assert_eq!(
            reason("system a (\n disk.x.size = 1G )"),
            "Line 2: Invalid property name; expected an index."
        );
        assert_eq!(
            reason(
                "network n ()\nsystem a ( net_interface.0.connection = 'n' and net_interface.1.ip = '1.2.3.4' )"
            ),
            "Some net_interface does not have a connection"
        );
        valid(
            "network n ()\nsystem a ( net_interface.1.connection = 'n' and \
             net_interface.0.connection = 'n' and net_interface.0.ip = '1.2.3.4' and \
             disk.0.image.url = 'x' and disk.1.size = 1G and disk.2.mount_path = '/m' )",
        );
    }

    #[test]
    fn contextualize_items() {
        assert_eq!(
            reason("system s ()\nconfigure c ()\ncontextualize (\nsystem x configure c )"),
            "Line 4: Invalid system id 'x'"
        );
        assert_eq!(
            reason("system s ()\nconfigure c ()\ncontextualize ( system s configure y )"),
            "Line 3: Invalid configure id 'y'"
        );
        valid("system s ()\nconfigure c ()\ncontextualize ( system s configure c step 1 )");
    }

    #[test]
    fn recipes_must_be_yaml() {
        let err = reason("configure c (\n@begin\n- a: [\n@end\n)");
        assert!(err.starts_with("Line 1: Invalid YAML code: "), "{err}");
        assert!(err.ends_with('.'), "{err}");
        let err = reason("configure c (\n@begin\na: 1\n---\nb: 2\n@end\n)");
        assert_eq!(
            err,
            "Line 1: Invalid YAML code: expected a single document in the stream."
        );
        valid("configure c (\n@begin\n---\n- tasks:\n  - debug: {msg: hi}\n@end\n)");
        valid("configure c ()\nconfigure d (@begin@end)");
    }

    #[test]
    fn outports() {
        assert_eq!(
            reason("network n ( outports = '22/tcp,eighty' )"),
            "Line 1: Invalid outports format."
        );
        valid("network n ( outbound = 'yes' and outports = '22/tcp,80/tcp,8000:8010/udp' )");
    }

    #[test]
    fn json_documents_are_checked_without_lines() {
        let radl = parse_json(r#"[{"class":"deploy","system":"x","vm_number":1}]"#).unwrap();
        assert_eq!(
            radl.check().unwrap_err().to_string(),
            "Invalid system id in the deploy."
        );
    }

    #[test]
    fn references_resolve_against_the_stored_document() {
        let stored = parse_text(
            "network net ()\nsystem node ( net_interface.0.connection = 'net' )\nconfigure node ()",
        )
        .unwrap();
        let body = parse_text(
            "system front ( net_interface.0.connection = 'net' )\nsystem node\ndeploy node 1\n\
             deploy front 1\ncontextualize ( system node configure node )",
        )
        .unwrap();
        assert!(body.check().is_err());
        body.check_with(&stored).unwrap();
        let bad = parse_text("deploy ghost 1").unwrap();
        assert_eq!(
            bad.check_with(&stored).unwrap_err().to_string(),
            "Line 1: Invalid system id in the deploy."
        );
    }
}
