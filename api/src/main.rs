//! The `strato` binary and composition root: the only place that names the
//! adapters (and, later, the providers) behind the domain's ports.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::collections::BTreeMap;

use strato_adapters::{DatabaseSettings, Store};
use strato_api::{Application, Services, Settings, telemetry};
use strato_domain::Inventory;
use strato_domain::cloud::{CloudName, CloudProvider, Clouds, SystemClock};

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
    let providers = clouds(settings)?;
    let store = Store::open(&database(settings)).context("cannot open the database")?;
    let ports = store.clone().ports();
    let services = Services {
        inventory: Inventory::new(ports.clone()),
        clouds: Clouds::new(providers, &ports, Arc::new(SystemClock)),
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

/// The providers of the `[clouds.<name>]` sections.
fn clouds(settings: &Settings) -> anyhow::Result<BTreeMap<CloudName, Arc<dyn CloudProvider>>> {
    let mut providers = BTreeMap::new();
    for (name, cloud) in &settings.clouds {
        let cloud_name = CloudName::parse(name).with_context(|| {
            format!(
                "bad setting clouds.{name}: a cloud name uses letters, digits, '_', '-' and '.'"
            )
        })?;
        let options = serde_json::to_value(&cloud.options)?;
        let provider = strato_providers::build(&cloud.kind, options)
            .with_context(|| format!("bad setting clouds.{name}"))?;
        providers.insert(cloud_name, provider);
    }
    Ok(providers)
}
