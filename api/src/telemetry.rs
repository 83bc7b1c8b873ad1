//! Logs: `tracing` with human or JSON output.

use tracing_subscriber::EnvFilter;

use crate::compose::settings::{LogFormat, LogSettings};

/// Installs the global subscriber; later calls do nothing. The level was
/// checked when the settings were loaded.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
