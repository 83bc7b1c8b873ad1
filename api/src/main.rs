//! The `strato` binary and composition root: the only place that names the
//! adapters (and, later, the providers) behind the domain's ports.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use strato_adapters::{DatabaseSettings, Store};
use strato_api::{Application, Services, Settings, telemetry};
use strato_domain::Inventory;

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
    /// Migrate the database, then serve the HTTP API.
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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config } => serve(&Settings::load(config.as_deref())?),
        Command::Migrate { config } => {
            let settings = Settings::load(config.as_deref())?;
            telemetry::init(&settings.log);
            Store::open(&database(&settings)).context("migration failed")?;
            tracing::info!("database is up to date");
            Ok(())
        }
    }
}

#[actix_web::main]
async fn serve(settings: &Settings) -> anyhow::Result<()> {
    telemetry::init(&settings.log);
    let store = Store::open(&database(settings)).context("cannot open the database")?;
    let services = Services {
        inventory: Inventory::new(store.clone().ports()),
        health: vec![Arc::new(store)],
    };
    let app = Application::build(&settings.server, services)
        .with_context(|| format!("cannot serve on {}", settings.server.listen))?;
    tracing::info!(listen = %settings.server.listen, port = app.port(), "strato is serving");
    app.run_until_stopped().await?;
    Ok(())
}

/// The storage adapter's settings, from the `[database]` section.
fn database(settings: &Settings) -> DatabaseSettings {
    DatabaseSettings {
        url: settings.database.url.clone(),
        max_connections: settings.database.max_connections,
        timeout_seconds: settings.database.timeout_seconds,
    }
}
