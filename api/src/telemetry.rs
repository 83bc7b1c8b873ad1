//! Logs: `tracing` with human lines (coloured only on a terminal) or JSON,
//! one object per line.

use tracing_subscriber::EnvFilter;

use crate::compose::settings::{LogFormat, LogSettings};

/// Installs the global subscriber; later calls do nothing. The level was
/// checked when the settings were loaded.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, never in files or journals.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match settings.format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
