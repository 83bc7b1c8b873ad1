//! Settings: built-in defaults, then a TOML file, then `STRATO_<SECTION>__<KEY>`
//! environment variables.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;
use strato_adapters::DatabaseSettings;

/// Everything strato reads at start-up.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// Storage (the adapter's own settings).
    pub database: DatabaseSettings,
    /// Logs.
    #[serde(default)]
    pub log: LogSettings,
    /// Durable jobs and their workers.
    pub jobs: JobSettings,
    /// Clouds by name (`[clouds.<name>]`); `default` answers when a request
    /// names none. Without a `[clouds]` table there is one dummy cloud,
    /// `default`; with one, exactly the clouds it lists.
    #[serde(default)]
    clouds: Option<BTreeMap<String, CloudSettings>>,
}

/// `[jobs]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    /// Workers that run queued jobs in this process.
    pub workers: usize,
    /// Seconds a claim holds a job without a heartbeat; a job whose process
    /// died is claimed again after this.
    pub lease_seconds: u64,
    /// Most attempts of a job before it is given up.
    pub max_attempts: u32,
    /// Milliseconds before the second attempt; doubled for each further one.
    pub backoff_ms: u64,
    /// Longest wait between attempts, in seconds.
    pub max_backoff_seconds: u64,
    /// Seconds between reconciliations of each cloud (also run at start-up).
    pub reconcile_seconds: u64,
    /// Milliseconds an idle worker waits before it looks for jobs again.
    pub poll_ms: u64,
}

/// `[clouds.<name>]`: the provider type and its own settings.
#[derive(Debug, Clone, Deserialize)]
pub struct CloudSettings {
    /// Provider type (`dummy`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The provider's settings, which it checks itself.
    #[serde(flatten)]
    pub options: BTreeMap<String, serde_json::Value>,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Static headers added to every response (e.g. CORS).
    #[serde(default)]
    pub response_headers: BTreeMap<String, String>,
    /// Worker threads (default: one per core).
    #[serde(default)]
    pub workers: Option<usize>,
    /// Seconds a client may take to send a request body; slower ones get 408.
    pub body_timeout_seconds: u64,
    /// Seconds that SIGTERM or SIGINT leaves in-flight requests and running
    /// jobs to finish before the process exits.
    pub shutdown_grace_seconds: u64,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `human` or `json`.
    #[serde(default = "LogSettings::default_format")]
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `strato_api=debug`.
    #[serde(default = "LogSettings::default_level")]
    pub level: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

impl LogSettings {
    fn default_format() -> LogFormat {
        LogFormat::Human
    }
    fn default_level() -> String {
        "info".into()
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: Self::default_format(),
            level: Self::default_level(),
        }
    }
}

/// Why the settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("bad setting: {0}")]
pub struct SettingsError(String);

const DEFAULTS: &str = r#"
[server]
listen = "127.0.0.1:8080"
max_body_bytes = 1048576
body_timeout_seconds = 30
shutdown_grace_seconds = 30

[database]
url = "sqlite://strato.db"
max_connections = 8
timeout_seconds = 5

[log]
format = "human"
level = "info"

[jobs]
workers = 4
lease_seconds = 30
max_attempts = 5
backoff_ms = 500
max_backoff_seconds = 300
reconcile_seconds = 60
poll_ms = 500
"#;

impl Settings {
    /// Reads the defaults, then `file` (or `strato.toml` when present), then
    /// the environment.
    ///
    /// # Errors
    /// [`SettingsError`] naming the setting that is missing or malformed.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let file_source = match file {
            Some(path) => config::File::from(path).required(true),
            None => config::File::with_name("strato.toml").required(false),
        };
        config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(file_source.format(config::FileFormat::Toml))
            .add_source(
                config::Environment::with_prefix("STRATO")
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true)
                    .source(Some(setting_variables(std::env::vars()))),
            )
            .build()
            .and_then(config::Config::try_deserialize::<Self>)
            .map_err(|e| SettingsError(e.to_string()))?
            .checked()
    }

    /// The clouds to build, by name: those of the `[clouds]` table, or one
    /// dummy cloud named `default` when there is none.
    pub fn clouds(&self) -> BTreeMap<String, CloudSettings> {
        self.clouds.clone().unwrap_or_else(|| {
            BTreeMap::from([(
                "default".to_owned(),
                CloudSettings {
                    kind: "dummy".to_owned(),
                    options: BTreeMap::new(),
                },
            )])
        })
    }

    /// Replaces the clouds (as a `[clouds]` table would).
    pub fn set_clouds(&mut self, clouds: BTreeMap<String, CloudSettings>) {
        self.clouds = Some(clouds);
    }

    fn checked(self) -> Result<Self, SettingsError> {
        if self.server.workers == Some(0) {
            return Err(SettingsError("server.workers must be at least 1".into()));
        }
        if self.jobs.lease_seconds == 0 || self.jobs.max_attempts == 0 || self.jobs.poll_ms == 0 {
            return Err(SettingsError(
                "jobs.lease_seconds, jobs.max_attempts and jobs.poll_ms must be at least 1".into(),
            ));
        }
        if self.jobs.reconcile_seconds == 0 {
            return Err(SettingsError(
                "jobs.reconcile_seconds must be at least 1".into(),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(SettingsError(
                "database.max_connections must be at least 1".into(),
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(SettingsError(format!(
                "log.level {:?} is not a filter: {e}",
                self.log.level
            )));
        }
        Ok(self)
    }
}

/// The environment variables that name a setting: `STRATO_<SECTION>__<KEY>`.
/// Others with the prefix (such as those an orchestrator adds for a service
/// named `strato`) are left alone.
fn setting_variables(vars: impl Iterator<Item = (String, String)>) -> config::Map<String, String> {
    vars.filter(|(name, _)| {
        name.strip_prefix("STRATO_")
            .is_some_and(|rest| rest.contains("__"))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_use_sqlite_on_localhost() {
        let settings = Settings::load(None).unwrap();
        assert_eq!(settings.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.database.url, "sqlite://strato.db");
        assert_eq!(settings.clouds()["default"].kind, "dummy");
        assert_eq!(settings.jobs.workers, 4);
    }

    #[test]
    fn clouds_come_from_their_tables() {
        let dir = std::env::temp_dir().join(format!("strato-clouds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("clouds.toml");
        std::fs::write(
            &file,
            "[clouds.fake_driver]\ntype = \"dummy\"\nlatency_ms = 5\n",
        )
        .unwrap();
        let settings = Settings::load(Some(&file)).unwrap();
        // A [clouds] table lists exactly the clouds there are.
        assert_eq!(settings.clouds().len(), 1);
        assert_eq!(
            settings.clouds()["fake_driver"].options["latency_ms"],
            serde_json::json!(5)
        );
    }

    #[test]
    fn only_section_key_variables_are_settings() {
        let vars = [
            ("STRATO_SERVER__LISTEN", "0.0.0.0:1"),
            ("STRATO_SERVICE_HOST", "10.0.0.1"),
            ("STRATO_PORT", "tcp://10.0.0.1:80"),
            ("OTHER__THING", "x"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let kept = setting_variables(vars.into_iter());
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["STRATO_SERVER__LISTEN"]);
    }

    #[test]
    fn a_bad_setting_is_named() {
        let dir = std::env::temp_dir().join(format!("strato-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bad.toml");
        std::fs::write(&file, "[server]\nlisten = \"nowhere\"\n").unwrap();
        let err = Settings::load(Some(&file)).unwrap_err().to_string();
        assert!(err.contains("listen"), "{err}");
        std::fs::write(&file, "[server]\nlisen = \"127.0.0.1:1\"\n").unwrap();
        let err = Settings::load(Some(&file)).unwrap_err().to_string();
        assert!(err.contains("lisen"), "{err}");
        std::fs::write(&file, "[server]\nworkers = 0\n").unwrap();
        let err = Settings::load(Some(&file)).unwrap_err().to_string();
        assert!(err.contains("server.workers"), "{err}");
        std::fs::write(&file, "[log]\nlevel = \"=nonsense=\"\n").unwrap();
        let err = Settings::load(Some(&file)).unwrap_err().to_string();
        assert!(err.contains("log.level"), "{err}");
    }
}
