//! How infrastructures read their RADL: stored documents, contextualisation
//! and the VM RADL clients see.

use crate::cloud::CloudError;
use crate::error::StoreError;
use crate::radl::{Radl, parse_text};

/// A stored RADL document (canonical text).
///
/// # Errors
/// [`CloudError::Store`] with [`StoreError::Corrupt`] when it cannot be read.
pub(crate) fn stored(text: &str) -> Result<Radl, CloudError> {
    parse_text(text).map_err(|e| CloudError::Store(StoreError::Corrupt(e.to_string())))
}

/// Whether the document asks for contextualisation of `system`: an empty
/// `contextualize ()` turns it off for every system, and `configure
/// <system> ()` for that system.
pub(crate) fn contextualisation(radl: &Radl, system: Option<&str>) -> bool {
    if disabled_for_all(radl) {
        return false;
    }
    match system.and_then(|s| radl.configure(s)) {
        Some(configure) => configure.recipes.is_some() || configure.reference,
        None => true,
    }
}

/// Whether an empty `contextualize ()` turns contextualisation off for the
/// whole infrastructure.
pub(crate) fn disabled_for_all(radl: &Radl) -> bool {
    radl.contextualize
        .as_ref()
        .is_some_and(|c| c.items.is_empty() && c.options.is_empty())
}
