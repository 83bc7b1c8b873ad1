//! The `strato` command line: `serve`, `migrate` and `config`, built on the
//! composition root. The binary's `main` is [`main`].

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::compose::{self, Signals};
use crate::{Settings, telemetry};

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

/// Where the settings come from.
#[derive(Debug, Args)]
struct ConfigFile {
    /// Configuration file [default: ./strato.toml when present]; settings
    /// are the built-in defaults, then this file, then STRATO_<SECTION>__<KEY>
    /// environment variables.
    #[arg(long, value_name = "FILE", env = "STRATO_CONFIG")]
    config: Option<PathBuf>,
}

impl ConfigFile {
    fn load(&self) -> anyhow::Result<Settings> {
        Ok(Settings::load(self.config.as_deref())?)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate the database, then serve the HTTP API and run the job workers.
    Serve {
        #[command(flatten)]
        file: ConfigFile,
        /// Address and port to listen on (overrides server.listen)
        /// [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR", env = "STRATO_SERVER__LISTEN")]
        listen: Option<SocketAddr>,
    },
    /// Run the database migrations, then exit.
    Migrate {
        #[command(flatten)]
        file: ConfigFile,
    },
    /// Check or show the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Validate the settings (and every cloud's); exit 0 when they are
    /// usable, 1 with the reason when not.
    Check {
        #[command(flatten)]
        file: ConfigFile,
    },
    /// Print the effective settings as TOML, secrets redacted.
    Show {
        #[command(flatten)]
        file: ConfigFile,
    },
}

/// Parses the command line and runs the command.
///
/// # Errors
/// When the settings are wrong, or the command fails.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { file, listen } => {
            let mut settings = file.load()?;
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            serve(&settings)
        }
        Command::Migrate { file } => {
            let settings = file.load()?;
            telemetry::init(&settings.log);
            compose::migrate(&settings)?;
            tracing::info!("database is up to date");
            Ok(())
        }
        Command::Config { action } => match action {
            ConfigAction::Check { file } => {
                compose::check(&file.load()?)?;
                eprintln!("the configuration is valid");
                Ok(())
            }
            ConfigAction::Show { file } => {
                use std::io::Write;
                let shown = file.load()?.redacted_toml()?;
                std::io::stdout().write_all(shown.as_bytes())?;
                Ok(())
            }
        },
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
