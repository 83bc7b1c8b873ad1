//! strato's cloud providers: each module implements the domain's
//! `CloudProvider` port for one kind of cloud, and [`Factory`] implements the
//! domain's `ProviderFactory` port, building the provider a `CloudSpec` names
//! (`[clouds.<name>]` with `type = "<kind>"`, or a cloud a request describes).
//!
//! Providers know the domain's ports and models, never HTTP routes or
//! strato's storage; a provider may keep its own state (the dummy cloud's
//! optional state file).

mod dummy;

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use strato_domain::cloud::{CloudProvider, CloudSpec, FactoryError, ProviderFactory};

pub use dummy::{DummyProvider, DummySettings};

/// Builds the providers strato knows from their specs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Factory;

impl Factory {
    /// The provider types it builds.
    pub const KNOWN: [&'static str; 1] = ["dummy"];
}

impl ProviderFactory for Factory {
    fn build(&self, spec: &CloudSpec) -> Result<Arc<dyn CloudProvider>, FactoryError> {
        match spec.kind.as_str() {
            "dummy" => Ok(Arc::new(DummyProvider::new(settings(&spec.settings)?)?)),
            other => Err(FactoryError::UnknownType {
                kind: other.to_owned(),
                known: Self::KNOWN.to_vec(),
            }),
        }
    }
}

/// Reads a provider's settings, naming the setting that is wrong.
///
/// serde_json reports no path for errors in a value, so the culprit is found
/// by reading each setting alone: every setting of a provider has a default,
/// so a setting read alone fails only when it is itself wrong (unknown, or of
/// the wrong type).
fn settings<T: DeserializeOwned>(settings: &Map<String, Value>) -> Result<T, FactoryError> {
    serde_json::from_value(Value::Object(settings.clone())).map_err(|whole| {
        let culprit = settings.iter().find_map(|(key, value)| {
            let alone = Map::from_iter([(key.clone(), value.clone())]);
            serde_json::from_value::<T>(Value::Object(alone))
                .err()
                .map(|err| (key.clone(), err))
        });
        match culprit {
            Some((setting, err)) => FactoryError::BadSetting {
                setting,
                reason: err.to_string(),
            },
            None => FactoryError::BadSetting {
                setting: String::new(),
                reason: whole.to_string(),
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: &str, settings: Value) -> CloudSpec {
        let Value::Object(settings) = settings else {
            panic!("settings are an object");
        };
        CloudSpec {
            kind: kind.to_owned(),
            settings,
        }
    }

    fn bad_setting(result: Result<Arc<dyn CloudProvider>, FactoryError>) -> (String, String) {
        match result {
            Err(FactoryError::BadSetting { setting, reason }) => (setting, reason),
            Err(other) => panic!("expected a bad setting, got {other}"),
            Ok(_) => panic!("expected a bad setting, got a provider"),
        }
    }

    #[test]
    fn clouds_are_built_by_type() {
        let built = Factory
            .build(&spec("dummy", serde_json::json!({})))
            .unwrap();
        assert_eq!(built.info().kind, "dummy");
        assert!(
            Factory
                .build(&spec(
                    "dummy",
                    serde_json::json!({"failure_rate": 0.5, "latency_ms": 3})
                ))
                .is_ok()
        );
    }

    #[test]
    fn unknown_types_are_refused_with_the_known_ones() {
        match Factory.build(&spec("ec3", serde_json::json!({}))) {
            Err(FactoryError::UnknownType { kind, known }) => {
                assert_eq!(kind, "ec3");
                assert_eq!(known, ["dummy"]);
            }
            Err(other) => panic!("expected an unknown type, got {other}"),
            Ok(_) => panic!("expected an unknown type, got a provider"),
        }
    }

    #[test]
    fn bad_settings_are_named() {
        let (setting, reason) = bad_setting(Factory.build(&spec(
            "dummy",
            serde_json::json!({"latency_ms": 1, "colour": 1}),
        )));
        assert_eq!(setting, "colour");
        assert!(reason.contains("unknown field"), "{reason}");

        let (setting, reason) =
            bad_setting(Factory.build(&spec("dummy", serde_json::json!({"failure_rate": 2.0}))));
        assert_eq!(setting, "failure_rate");
        assert!(reason.contains("between 0 and 1"), "{reason}");

        let (setting, reason) = bad_setting(Factory.build(&spec(
            "dummy",
            serde_json::json!({"failure_rate": 0.1, "latency_ms": "fast"}),
        )));
        assert_eq!(setting, "latency_ms");
        assert!(reason.contains("invalid type"), "{reason}");

        let (setting, _) =
            bad_setting(Factory.build(&spec("dummy", serde_json::json!({"state_file": 7}))));
        assert_eq!(setting, "state_file");
    }
}
