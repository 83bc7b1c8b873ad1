//! JSON RADL (spec §6.4): a JSON array of objects with a `"class"`.
//!
//! Numbers are written in base units (an integer when whole); `<name>_min`
//! and `<name>_max` are the bounds of an interval; a list is a plain value
//! under `disk.<k>.image.url` and `net_interface.<k>.additional_dns_names`
//! (and wherever all its elements are strings), else a list of `contains`
//! groups. Names and ids must be valid RADL names, so that every document
//! read here can be written as RADL text.

use serde_json::{Map, Value as Json};

use super::error::{RadlError, Reason};
use super::model::{
    Aspect, Configure, ContextItem, ContextOption, Contextualize, Deploy, Feature, Features, Op,
    Radl, Value,
};
use super::text::is_name;
use super::units::json_number;

/// Parses JSON RADL.
///
/// # Errors
/// Invalid JSON, a value of the wrong shape, a missing required key (the
/// reason is the key in quotes, e.g. `'recipes'`, as IM answers), duplicate
/// ids and conflicting features.
pub fn parse_json(text: &str) -> Result<Radl, RadlError> {
    let document: Json = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let Json::Array(objects) = document else {
        return Err(invalid("a JSON RADL document is an array of objects"));
    };
    let mut radl = Radl::default();
    for object in &objects {
        let Json::Object(object) = object else {
            return Err(invalid("a JSON RADL document is an array of objects"));
        };
        match required_str(object, "class")? {
            "network" => radl.add_network(aspect(object)?)?,
            "system" => radl.add_system(aspect(object)?)?,
            "ansible" => {
                let mut host = aspect(object)?;
                host.reference = false;
                radl.add_ansible(host)?;
            }
            "description" => radl.description = Some(aspect(object)?),
            "configure" => radl.add_configure(configure(object)?)?,
            "deploy" => radl.deploys.push(deploy(object)?),
            "contextualize" => radl.add_contextualize(contextualize(object)?),
            other => return Err(invalid(format!("unknown class '{other}'"))),
        }
    }
    Ok(radl)
}

fn invalid(reason: impl Into<String>) -> RadlError {
    RadlError::bare(Reason::Json(reason.into()))
}

fn required<'m>(object: &'m Map<String, Json>, key: &str) -> Result<&'m Json, RadlError> {
    object
        .get(key)
        .ok_or_else(|| RadlError::bare(Reason::MissingKey(key.to_owned())))
}

fn required_str<'m>(object: &'m Map<String, Json>, key: &str) -> Result<&'m str, RadlError> {
    required(object, key)?
        .as_str()
        .ok_or_else(|| invalid(format!("'{key}' must be a string")))
}

/// A string that must be a RADL name (ids, cloud ids, tools).
fn required_name<'m>(object: &'m Map<String, Json>, key: &str) -> Result<&'m str, RadlError> {
    checked_name(required_str(object, key)?)
}

fn checked_name(name: &str) -> Result<&str, RadlError> {
    if is_name(name) {
        Ok(name)
    } else {
        Err(invalid(format!("invalid name '{name}'")))
    }
}

/// An optional key: absent and `null` are `None`.
fn optional<'m>(object: &'m Map<String, Json>, key: &str) -> Option<&'m Json> {
    object.get(key).filter(|v| !v.is_null())
}

fn optional_name<'m>(
    object: &'m Map<String, Json>,
    key: &str,
) -> Result<Option<&'m str>, RadlError> {
    optional(object, key)
        .map(|v| {
            v.as_str()
                .ok_or_else(|| invalid(format!("'{key}' must be a string")))
                .and_then(checked_name)
        })
        .transpose()
}

fn optional_integer<T: TryFrom<u64>>(
    object: &Map<String, Json>,
    key: &str,
) -> Result<Option<T>, RadlError> {
    optional(object, key).map(|v| integer(v, key)).transpose()
}

fn integer<T: TryFrom<u64>>(value: &Json, key: &str) -> Result<T, RadlError> {
    value
        .as_u64()
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| invalid(format!("'{key}' must be a non-negative integer")))
}

fn number(value: &serde_json::Number, key: &str) -> Result<f64, RadlError> {
    value
        .as_f64()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| invalid(format!("'{key}' must be a non-negative number")))
}

fn is_true(object: &Map<String, Json>, key: &str) -> bool {
    object.get(key).and_then(Json::as_bool) == Some(true)
}

fn aspect(object: &Map<String, Json>) -> Result<Aspect, RadlError> {
    let id = required_name(object, "id")?;
    if is_true(object, "reference") {
        return Ok(Aspect::reference(id));
    }
    Ok(Aspect {
        id: id.to_owned(),
        reference: false,
        features: features(object, &["class", "id", "reference"])?,
        line: None,
    })
}

/// Whether a list under `name` is a plain value rather than `contains` groups.
fn is_list_key(name: &str) -> bool {
    let indexed = |prefix: &str, suffix: &str| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
    };
    indexed("disk.", ".image.url") || indexed("net_interface.", ".additional_dns_names")
}

fn features(object: &Map<String, Json>, skip: &[&str]) -> Result<Features, RadlError> {
    let mut out = Features::new();
    for (key, value) in object {
        if skip.contains(&key.as_str()) {
            continue;
        }
        if key == "softs" {
            let Json::Array(blocks) = value else {
                return Err(invalid("'softs' must be an array"));
            };
            for block in blocks {
                let Json::Object(block) = block else {
                    return Err(invalid("a soft block is an object"));
                };
                let weight = match optional(block, "weight") {
                    None => 0.0,
                    Some(Json::Number(w)) => number(w, "weight")?,
                    Some(_) => return Err(invalid("'weight' must be a number")),
                };
                let items = match optional(block, "items") {
                    None => Features::new(),
                    Some(Json::Object(items)) => features(items, &[])?,
                    Some(_) => return Err(invalid("'items' must be an object")),
                };
                out.add_soft(weight, items, None);
            }
            continue;
        }
        match value {
            Json::Number(n) => {
                let (name, op) = if let Some(name) = key.strip_suffix("_min") {
                    (name, Op::Ge)
                } else if let Some(name) = key.strip_suffix("_max") {
                    (name, Op::Le)
                } else {
                    (key.as_str(), Op::Eq)
                };
                out.add(
                    checked_name(name)?,
                    op,
                    Value::number(number(n, key)?),
                    None,
                )?;
            }
            Json::String(s) => {
                out.add(checked_name(key)?, Op::Eq, Value::Text(s.clone()), None)?;
            }
            Json::Array(items) => {
                let name = checked_name(key)?;
                let strings: Option<Vec<String>> = items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect();
                match strings {
                    Some(list) => out.add(name, Op::Eq, Value::List(list), None)?,
                    None if is_list_key(name) => {
                        return Err(invalid(format!("'{key}' must be a list of strings")));
                    }
                    None => {
                        for item in items {
                            let Json::Object(group) = item else {
                                return Err(invalid(format!("'{key}' must be a list of objects")));
                            };
                            out.add_contains(name, features(group, &[])?, None)?;
                        }
                    }
                }
            }
            _ => return Err(invalid(format!("invalid value for '{key}'"))),
        }
    }
    Ok(out)
}

fn configure(object: &Map<String, Json>) -> Result<Configure, RadlError> {
    let id = required_name(object, "id")?.to_owned();
    if is_true(object, "reference") {
        return Ok(Configure {
            id,
            reference: true,
            ..Configure::default()
        });
    }
    let recipes = match required(object, "recipes")? {
        Json::Null => None,
        Json::String(recipes) if recipes.contains("@end") => {
            return Err(invalid("recipes must not contain '@end'"));
        }
        Json::String(recipes) => Some(recipes.clone()),
        _ => return Err(invalid("'recipes' must be a string or null")),
    };
    Ok(Configure {
        id,
        recipes,
        reference: false,
        line: None,
    })
}

fn deploy(object: &Map<String, Json>) -> Result<Deploy, RadlError> {
    Ok(Deploy {
        system: required_name(object, "system")?.to_owned(),
        count: integer(required(object, "vm_number")?, "vm_number")?,
        cloud: optional_name(object, "cloud")?.map(str::to_owned),
        line: None,
    })
}

fn contextualize(object: &Map<String, Json>) -> Result<Contextualize, RadlError> {
    let mut options = Vec::new();
    match optional(object, "options") {
        None => {}
        Some(Json::Object(map)) => {
            for (name, value) in map {
                let value = match value {
                    Json::String(s) => Value::Text(s.clone()),
                    Json::Number(n) => Value::number(number(n, name)?),
                    _ => return Err(invalid(format!("invalid value for option '{name}'"))),
                };
                options.push(ContextOption {
                    name: checked_name(name)?.to_owned(),
                    op: Op::Eq,
                    value,
                });
            }
        }
        Some(_) => return Err(invalid("'options' must be an object")),
    }
    let mut items = Vec::new();
    match optional(object, "items") {
        None => {}
        Some(Json::Array(list)) => {
            for item in list {
                let Json::Object(item) = item else {
                    return Err(invalid("a contextualize item is an object"));
                };
                items.push(ContextItem {
                    system: required_name(item, "system")?.to_owned(),
                    configure: required_name(item, "configure")?.to_owned(),
                    step: optional_integer(item, "step")?,
                    ctxt_tool: optional_name(item, "ctxt_tool")?.map(str::to_owned),
                    line: None,
                });
            }
        }
        Some(_) => return Err(invalid("'items' must be an array")),
    }
    let mut contextualize = Contextualize::default();
    contextualize.update(Contextualize {
        max_time: optional_integer(object, "max_time")?,
        options,
        items,
        line: None,
    });
    Ok(contextualize)
}

impl Radl {
    /// The document as JSON RADL, classes in the order `ansible`, `network`,
    /// `system`, `configure`, `deploy`, `contextualize` (when present),
    /// `description`; [`parse_json`] reads it back to an equal document when
    /// its numbers carry no units, its bounds are `=`, `>=` or `<=` and its
    /// strings use `=`.
    #[must_use]
    pub fn to_json(&self) -> Json {
        let mut out: Vec<Json> = Vec::new();
        out.extend(self.ansible.iter().map(|a| aspect_json("ansible", a)));
        out.extend(self.networks.iter().map(|a| aspect_json("network", a)));
        out.extend(self.systems.iter().map(|a| aspect_json("system", a)));
        out.extend(self.configures.iter().map(configure_json));
        out.extend(self.deploys.iter().map(deploy_json));
        out.extend(self.contextualize.iter().map(contextualize_json));
        out.extend(
            self.description
                .iter()
                .map(|a| aspect_json("description", a)),
        );
        Json::Array(out)
    }
}

impl Aspect {
    /// The value of a feature, as VM feature reads give it (spec §3.3):
    /// strings as strings, numbers in base units (an integer when whole), an
    /// interval its lower bound else its upper one, a list a JSON array, and
    /// a `contains` feature an object mapping each group's `name` (`""` when
    /// it has none) to the group's features.
    #[must_use]
    pub fn feature(&self, name: &str) -> Option<Json> {
        Some(match self.features.get(name)? {
            Feature::Value { value, .. } => value_json(value),
            Feature::Range { min, max, .. } => json_number(min.as_ref().or(max.as_ref())?.base()),
            Feature::Contains { groups, .. } => Json::Object(
                groups
                    .iter()
                    .map(|g| {
                        let key = g.group_key().unwrap_or_default().to_owned();
                        (key, Json::Object(features_json(g)))
                    })
                    .collect(),
            ),
            Feature::Soft { .. } => return None,
        })
    }
}

fn value_json(value: &Value) -> Json {
    match value {
        Value::Text(text) => Json::String(text.clone()),
        Value::Number { .. } => json_number(value.base().unwrap_or_default()),
        Value::List(items) => Json::Array(items.iter().cloned().map(Json::String).collect()),
    }
}

fn object(class: &str) -> Map<String, Json> {
    let mut map = Map::new();
    map.insert("class".into(), Json::String(class.into()));
    map
}

fn aspect_json(class: &str, aspect: &Aspect) -> Json {
    let mut map = object(class);
    map.insert("id".into(), Json::String(aspect.id.clone()));
    if aspect.reference {
        map.insert("reference".into(), Json::Bool(true));
    } else {
        map.extend(features_json(&aspect.features));
    }
    Json::Object(map)
}

fn features_json(features: &Features) -> Map<String, Json> {
    let mut map = Map::new();
    let mut softs: Vec<Json> = Vec::new();
    for feature in features {
        match feature {
            Feature::Value { name, value, .. } => {
                map.insert(name.clone(), value_json(value));
            }
            Feature::Range { name, min, max } => match (min, max) {
                (Some(lo), Some(hi))
                    if lo.op == Op::Eq && hi.op == Op::Eq && lo.base() == hi.base() =>
                {
                    map.insert(name.clone(), json_number(lo.base()));
                }
                _ => {
                    if let Some(lo) = min {
                        map.insert(format!("{name}_min"), json_number(lo.base()));
                    }
                    if let Some(hi) = max {
                        map.insert(format!("{name}_max"), json_number(hi.base()));
                    }
                }
            },
            Feature::Contains { name, groups, .. } => {
                let groups = groups.iter().map(|g| Json::Object(features_json(g)));
                map.insert(name.clone(), Json::Array(groups.collect()));
            }
            Feature::Soft {
                weight, features, ..
            } => {
                if softs.is_empty() {
                    // Holds the place of the first soft block.
                    map.insert("softs".into(), Json::Null);
                }
                let mut block = Map::new();
                block.insert("weight".into(), json_number(*weight));
                block.insert("items".into(), Json::Object(features_json(features)));
                softs.push(Json::Object(block));
            }
        }
    }
    if !softs.is_empty() {
        map.insert("softs".into(), Json::Array(softs));
    }
    map
}

fn configure_json(configure: &Configure) -> Json {
    let mut map = object("configure");
    map.insert("id".into(), Json::String(configure.id.clone()));
    if configure.reference {
        map.insert("reference".into(), Json::Bool(true));
    } else {
        let recipes = configure.recipes.clone().map_or(Json::Null, Json::String);
        map.insert("recipes".into(), recipes);
    }
    Json::Object(map)
}

fn deploy_json(deploy: &Deploy) -> Json {
    let mut map = object("deploy");
    map.insert("system".into(), Json::String(deploy.system.clone()));
    map.insert("vm_number".into(), Json::from(deploy.count));
    if let Some(cloud) = &deploy.cloud {
        map.insert("cloud".into(), Json::String(cloud.clone()));
    }
    Json::Object(map)
}

fn contextualize_json(contextualize: &Contextualize) -> Json {
    let mut map = object("contextualize");
    if let Some(max_time) = contextualize.max_time {
        map.insert("max_time".into(), Json::from(max_time));
    }
    if !contextualize.items.is_empty() {
        let items = contextualize.items.iter().map(|item| {
            let mut map = Map::new();
            map.insert("system".into(), Json::String(item.system.clone()));
            map.insert("configure".into(), Json::String(item.configure.clone()));
            if let Some(step) = item.step {
                map.insert("step".into(), Json::from(step));
            }
            if let Some(tool) = &item.ctxt_tool {
                map.insert("ctxt_tool".into(), Json::String(tool.clone()));
            }
            Json::Object(map)
        });
        map.insert("items".into(), Json::Array(items.collect()));
    }
    if !contextualize.options.is_empty() {
        let options = contextualize
            .options
            .iter()
            .map(|o| (o.name.clone(), value_json(&o.value)));
        map.insert("options".into(), Json::Object(options.collect()));
    }
    Json::Object(map)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error(text: &str) -> String {
        parse_json(text).unwrap_err().to_string()
    }

    #[test]
    fn a_configure_needs_recipes() {
        assert_eq!(error(r#"[{"class":"configure","id":"c"}]"#), "'recipes'");
        let radl = parse_json(
            r#"[{"class":"configure","id":"a","recipes":null},
                {"class":"configure","id":"b","recipes":"- x"},
                {"class":"configure","id":"c","reference":true}]"#,
        )
        .unwrap();
        assert_eq!(radl.configures[0].recipes, None);
        assert!(!radl.configures[0].reference);
        assert_eq!(radl.configures[1].recipes.as_deref(), Some("- x"));
        assert!(radl.configures[2].reference);
    }

    #[test]
    fn missing_keys_are_named_in_quotes() {
        assert_eq!(error(r#"[{"id":"a"}]"#), "'class'");
        assert_eq!(error(r#"[{"class":"system"}]"#), "'id'");
        assert_eq!(error(r#"[{"class":"deploy","system":"a"}]"#), "'vm_number'");
        assert_eq!(
            error(r#"[{"class":"contextualize","items":[{"system":"a"}]}]"#),
            "'configure'"
        );
    }

    #[test]
    fn malformed_documents_are_rejected() {
        assert!(parse_json("{").is_err());
        assert!(parse_json(r#"{"class":"system"}"#).is_err());
        assert!(parse_json(r#"[{"class":"volume","id":"a"}]"#).is_err());
        assert!(parse_json(r#"[{"class":"system","id":"a b"}]"#).is_err());
        assert!(parse_json(r#"[{"class":"system","id":"a","x":true}]"#).is_err());
        assert!(parse_json(r#"[{"class":"system","id":"a","price":-1}]"#).is_err());
        assert!(parse_json(r#"[{"class":"deploy","system":"a","vm_number":-1}]"#).is_err());
        assert!(parse_json(r#"[{"class":"system","id":"a","disk.0.image.url":[{}]}]"#).is_err());
        assert_eq!(
            error(r#"[{"class":"system","id":"a"},{"class":"system","id":"a"}]"#),
            "Aspect with the same id was found."
        );
    }

    #[test]
    fn min_and_max_keys_are_bounds() {
        let radl = parse_json(
            r#"[{"class":"system","id":"a","cpu.count_min":2,"cpu.count_max":4,"memory.size":1024}]"#,
        )
        .unwrap();
        assert_eq!(
            radl.system("a").unwrap().features.to_string(),
            "cpu.count >= 2 and cpu.count <= 4 and memory.size = 1024"
        );
    }

    #[test]
    fn lists_are_plain_values_or_contains_groups() {
        let radl = parse_json(
            r#"[{"class":"system","id":"a","disk.0.image.url":["x","y"],
                 "disk.0.applications":[{"name":"nginx"},{"name":"git","version":"2"}]}]"#,
        )
        .unwrap();
        assert_eq!(
            radl.system("a").unwrap().features.to_string(),
            "disk.0.image.url = ['x', 'y'] and disk.0.applications contains (name = 'nginx') and \
             disk.0.applications contains (name = 'git' and version = '2')"
        );
    }

    #[test]
    fn feature_reads_give_base_units_bounds_lists_and_objects() {
        let radl = super::super::text::parse_text(
            "system a ( cpu.count >= 1 and memory.size >= 512m and price <= 2.5 and \
             state = 'configured' and disk.0.image.url = ['u'] and \
             disk.0.applications contains ( name = 'nginx' and version = '1' ) )",
        )
        .unwrap();
        let a = radl.system("a").unwrap();
        assert_eq!(a.feature("cpu.count"), Some(json!(1)));
        assert_eq!(a.feature("memory.size"), Some(json!(512_000_000)));
        assert_eq!(a.feature("price"), Some(json!(2.5)));
        assert_eq!(a.feature("state"), Some(json!("configured")));
        assert_eq!(a.feature("disk.0.image.url"), Some(json!(["u"])));
        assert_eq!(
            a.feature("disk.0.applications"),
            Some(json!({"nginx": {"name": "nginx", "version": "1"}}))
        );
        assert_eq!(a.feature("gpu.count"), None);
    }

    #[test]
    fn json_keeps_key_order() {
        let radl = parse_json(r#"[{"class":"system","id":"a","z":"1","a":"2","m":"3"}]"#).unwrap();
        assert_eq!(radl.system("a").unwrap().feature_names(), ["z", "a", "m"]);
        let text = serde_json::to_string(&radl.to_json()).unwrap();
        assert_eq!(
            text,
            r#"[{"class":"system","id":"a","z":"1","a":"2","m":"3"}]"#
        );
    }

    #[test]
    fn contextualize_without_content_is_bare() {
        let radl = parse_json(r#"[{"class":"contextualize"}]"#).unwrap();
        assert!(radl.contextualize.as_ref().unwrap().disables());
        assert_eq!(radl.to_json(), json!([{"class":"contextualize"}]));
        assert_eq!(Radl::default().to_json(), json!([]));
    }
}
