//! strato's cloud providers: each module implements the domain's
//! `CloudProvider` port for one kind of cloud, and [`build`] makes one from a
//! cloud's settings (`[clouds.<name>]` with `type = "<kind>"`).
//!
//! Providers know the domain's port and models, never HTTP routes or storage.

mod dummy;

use std::sync::Arc;

use strato_domain::cloud::CloudProvider;

pub use dummy::{DummyProvider, DummySettings};

/// Why a cloud's settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// No provider has this type.
    #[error("unknown cloud type {0:?} (known: dummy)")]
    UnknownType(String),
    /// The provider's own settings are wrong.
    #[error("{0}")]
    Settings(String),
}

/// Makes the provider of `kind` from its settings (a JSON object holding the
/// cloud's table, less `type`).
///
/// # Errors
/// [`SetupError`] for an unknown type or bad settings.
pub fn build(
    kind: &str,
    settings: serde_json::Value,
) -> Result<Arc<dyn CloudProvider>, SetupError> {
    match kind {
        "dummy" => {
            let settings: DummySettings = serde_json::from_value(settings)
                .map_err(|e| SetupError::Settings(e.to_string()))?;
            Ok(Arc::new(
                DummyProvider::new(settings).map_err(SetupError::Settings)?,
            ))
        }
        other => Err(SetupError::UnknownType(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clouds_are_built_by_type() {
        assert!(build("dummy", serde_json::json!({})).is_ok());
        assert!(
            build(
                "dummy",
                serde_json::json!({"failure_rate": 0.5, "latency_ms": 3})
            )
            .is_ok()
        );
        assert!(matches!(
            build("ec3", serde_json::json!({})),
            Err(SetupError::UnknownType(_))
        ));
        assert!(matches!(
            build("dummy", serde_json::json!({"colour": 1})),
            Err(SetupError::Settings(_))
        ));
        assert!(matches!(
            build("dummy", serde_json::json!({"failure_rate": 2.0})),
            Err(SetupError::Settings(_))
        ));
    }
}
