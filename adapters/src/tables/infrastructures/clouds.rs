//! How an infrastructure's clouds are stored: a configured cloud by its
//! name, a described one as its spec's JSON (`{"kind", "settings"}`, this
//! module's own shape) sealed for its place: the infrastructure's id (36
//! characters) followed by the cloud's id, so that a sealed spec copied to
//! another infrastructure or cloud does not open.

use serde::{Deserialize, Serialize};
use strato_domain::StoreError;
use strato_domain::cloud::CloudSpec;
use strato_domain::infrastructure::{CloudRef, InfId};

use crate::secrets::{SealError, Sealer};

/// A cloud's spec, as sealed.
#[derive(Serialize, Deserialize)]
struct Spec {
    kind: String,
    settings: serde_json::Map<String, serde_json::Value>,
}

/// A cloud as its row holds it: exactly one of `configured` and `sealed`.
#[derive(Debug, Clone)]
pub(crate) struct StoredCloud {
    /// The id `deploy` sentences and VMs use.
    pub(crate) cloud_id: String,
    /// A configured cloud's name.
    pub(crate) configured: Option<String>,
    /// A described cloud's sealed spec.
    pub(crate) sealed: Option<Vec<u8>>,
}

/// Where a described cloud's spec is sealed for.
fn place(inf: InfId, cloud_id: &str) -> Vec<u8> {
    format!("{inf}{cloud_id}").into_bytes()
}

/// No sealer: described clouds can be neither stored nor read. A setting is
/// missing, which no retry fixes, but storage is what cannot serve.
fn no_key() -> StoreError {
    StoreError::unavailable(SealError::NoKey)
}

/// The clouds of an infrastructure as stored, described ones sealed.
///
/// # Errors
/// [`StoreError::Unavailable`] when a cloud is described and there is no
/// sealer (or sealing fails).
pub(crate) fn seal(
    inf: InfId,
    clouds: &[CloudRef],
    sealer: Option<&Sealer>,
) -> Result<Vec<StoredCloud>, StoreError> {
    clouds
        .iter()
        .map(|cloud| match cloud {
            CloudRef::Configured(name) => Ok(StoredCloud {
                cloud_id: name.clone(),
                configured: Some(name.clone()),
                sealed: None,
            }),
            CloudRef::Described { id, spec } => {
                let sealer = sealer.ok_or_else(no_key)?;
                let json = serde_json::to_vec(&Spec {
                    kind: spec.kind.clone(),
                    settings: spec.settings.clone(),
                })
                .map_err(|e| StoreError::Corrupt(format!("cannot write a cloud's spec: {e}")))?;
                let sealed = sealer
                    .seal(&json, &place(inf, id))
                    .map_err(StoreError::unavailable)?;
                Ok(StoredCloud {
                    cloud_id: id.clone(),
                    configured: None,
                    sealed: Some(sealed),
                })
            }
        })
        .collect()
}

/// The cloud a row holds, a described one opened.
///
/// # Errors
/// [`StoreError::Unavailable`] when it is described and there is no
/// sealer, [`StoreError::Corrupt`] when the row holds no cloud or its spec
/// does not open (another key, or altered) or read.
pub(crate) fn open(
    inf: InfId,
    stored: StoredCloud,
    sealer: Option<&Sealer>,
) -> Result<CloudRef, StoreError> {
    let corrupt = |what: &dyn std::fmt::Display| {
        StoreError::Corrupt(format!(
            "cloud {:?} of infrastructure {inf}: {what}",
            stored.cloud_id
        ))
    };
    match (&stored.configured, &stored.sealed) {
        (Some(name), None) => Ok(CloudRef::Configured(name.clone())),
        (None, Some(sealed)) => {
            let sealer = sealer.ok_or_else(no_key)?;
            let json = sealer
                .open(sealed, &place(inf, &stored.cloud_id))
                .map_err(|e| corrupt(&e))?;
            let Spec { kind, settings } = serde_json::from_slice(&json).map_err(|e| corrupt(&e))?;
            Ok(CloudRef::Described {
                id: stored.cloud_id,
                spec: CloudSpec { kind, settings },
            })
        }
        _ => Err(corrupt(&"neither configured nor sealed")),
    }
}
