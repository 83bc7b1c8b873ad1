//! The `strato` command line: `serve` and `migrate`, built by the
//! composition root. The binary's `main` is [`main`].

use std::path::PathBuf;

use crate::compose::{self, Signals};
use crate::{Settings, telemetry};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "strato",
    version,
    about = "Inventory and cloud orchestration service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate the database, then serve the HTTP API and run the job workers.
    Serve {
        /// Configuration file (default: strato.toml when present).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run the database migrations, then exit.
    Migrate {
        /// Configuration file (default: strato.toml when present).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// Parses the command line and runs the command.
///
/// # Errors
/// When the settings are wrong, or the command fails.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config } => serve(&Settings::load(config.as_deref())?),
        Command::Migrate { config } => {
            let settings = Settings::load(config.as_deref())?;
            telemetry::init(&settings.log);
            compose::migrate(&settings)?;
            tracing::info!("database is up to date");
            Ok(())
        }
    }
}

#[actix_web::main]
async fn serve(settings: &Settings) -> anyhow::Result<()> {
    telemetry::init(&settings.log);
    let app = compose::build(settings, Signals::Handle).await?;
    tracing::info!(listen = %settings.server.listen, port = app.port(), "strato is serving");
    app.run_until_stopped().await?;
    tracing::info!("strato stopped");
    Ok(())
}
