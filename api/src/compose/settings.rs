//! Settings: built-in defaults, then a TOML file, then `STRATO_<SECTION>__<KEY>`
//! environment variables.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strato_adapters::DatabaseSettings;

/// Everything strato reads at start-up.
#[derive(Debug, Clone, Deserialize, Serialize)]
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
    /// The IM infrastructures family.
    pub infrastructures: InfrastructureSettings,
    /// Clouds by name (`[clouds.<name>]`); `default` answers when a request
    /// names none. Without a `[clouds]` table there is one dummy cloud,
    /// `default`; with one, exactly the clouds it lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clouds: Option<BTreeMap<String, CloudSettings>>,
    /// The file the settings were read from, if any.
    #[serde(skip)]
    source: Option<PathBuf>,
}

/// `[jobs]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
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

/// `[infrastructures]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InfrastructureSettings {
    /// Seconds between two reads of a VM's status at its provider.
    pub refresh_seconds: u64,
    /// The key (64 hex digits) that encrypts the cloud credentials requests
    /// describe; replicas share one. Secret: prefer `key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// A file holding that key. Without `key` or `key_file`, on SQLite,
    /// strato creates `<database>.key` beside the database file on first
    /// start (mode 0600); on PostgreSQL one of them is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// Only these users may log in (`[[infrastructures.allowed_users]]`
    /// with `username` and `password`); without any, any credentials name
    /// an owner.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_users: Vec<AllowedUser>,
}

/// `[[infrastructures.allowed_users]]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AllowedUser {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

/// `[clouds.<name>]`: the provider type and its own settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CloudSettings {
    /// Provider type (`dummy`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The provider's settings, which it checks itself.
    #[serde(flatten)]
    pub options: BTreeMap<String, serde_json::Value>,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Static headers added to every response (e.g. CORS). In the
    /// environment, `STRATO_SERVER__RESPONSE_HEADERS__<NAME>` with `_` for
    /// `-` in the name.
    #[serde(default)]
    pub response_headers: BTreeMap<String, String>,
    /// Worker threads (default: one per core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
    /// Seconds a client may take to send a request body; slower ones get 408.
    pub body_timeout_seconds: u64,
    /// Seconds that SIGTERM or SIGINT leaves in-flight requests and running
    /// jobs to finish before the process exits.
    pub shutdown_grace_seconds: u64,
    /// Seconds between the stop signal and closing the listener, during
    /// which `/readyz` answers 503 so that load balancers stop sending.
    pub drain_delay_seconds: u64,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
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
drain_delay_seconds = 0

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

[infrastructures]
refresh_seconds = 10
"#;

/// Variables strato reads that are not settings (`--config`'s).
const OTHER_VARIABLES: [&str; 1] = ["STRATO_CONFIG"];

impl Settings {
    /// Reads the defaults, then `file` (or `strato.toml` when present), then
    /// the process's environment.
    ///
    /// # Errors
    /// [`SettingsError`] naming the setting (or environment variable) that
    /// is missing, unknown or malformed.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        Self::load_from(file, std::env::vars())
    }

    /// The built-in defaults alone.
    ///
    /// # Errors
    /// Never in practice: the defaults are valid.
    pub fn defaults() -> Result<Self, SettingsError> {
        Self::load_from(None, std::iter::empty())
    }

    /// Reads the defaults, then `file` (or `strato.toml` when present), then
    /// the variables given.
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn load_from(
        file: Option<&Path>,
        vars: impl Iterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let variables = setting_variables(vars)?;
        let file_source = match file {
            Some(path) => config::File::from(path).required(true),
            None => config::File::with_name("strato.toml").required(false),
        };
        let source = match file {
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from("strato.toml")).filter(|p| p.exists()),
        };
        config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(file_source.format(config::FileFormat::Toml))
            .add_source(
                config::Environment::with_prefix("STRATO")
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true)
                    .source(Some(variables)),
            )
            .build()
            .and_then(config::Config::try_deserialize::<Self>)
            .map_err(|e| SettingsError(e.to_string()))?
            .checked()
            .map(|settings| Self { source, ..settings })
    }

    /// The file the settings were read from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
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

/// The settings variables among `vars`: `STRATO_<SECTION>__<KEY>` (and
/// `…__<NAME>__<KEY>` for tables). Any other `STRATO_` variable is a mistake
/// that stops start-up, except `STRATO_CONFIG` and the service links
/// Kubernetes adds for a service named `strato` (`STRATO_SERVICE_HOST`,
/// `STRATO_SERVICE_PORT…`, `STRATO_PORT…`).
fn setting_variables(
    vars: impl Iterator<Item = (String, String)>,
) -> Result<config::Map<String, String>, SettingsError> {
    let known = known_keys();
    let mut settings = config::Map::new();
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("STRATO_") else {
            continue;
        };
        if OTHER_VARIABLES.contains(&name.as_str()) || is_service_link(rest) {
            continue;
        }
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        let names_a_setting = match path.as_slice() {
            [section, key] => known.contains(&format!("{section}.{key}")),
            [section, table, key] => match (section.as_str(), table.as_str()) {
                ("server", "response_headers") => !key.is_empty(),
                ("clouds", cloud) => !cloud.is_empty() && !key.is_empty(),
                _ => false,
            },
            _ => false,
        };
        if !names_a_setting {
            return Err(SettingsError(format!(
                "environment variable {name} names no setting (settings are \
                 STRATO_<SECTION>__<KEY>, such as STRATO_SERVER__LISTEN; see deploy/strato.toml)"
            )));
        }
        settings.insert(name, value);
    }
    Ok(settings)
}

/// Kubernetes' service links for a service named `strato`.
fn is_service_link(rest: &str) -> bool {
    rest == "SERVICE_HOST" || rest.starts_with("SERVICE_PORT") || rest.starts_with("PORT")
}

/// Every `section.key` setting there is (tables aside): those the defaults
/// give, and the optional ones.
fn known_keys() -> Vec<String> {
    let mut keys = vec![
        "server.workers".to_owned(),
        "server.response_headers".to_owned(),
        "infrastructures.key".to_owned(),
        "infrastructures.key_file".to_owned(),
        "infrastructures.allowed_users".to_owned(),
    ];
    if let Ok(defaults) = DEFAULTS.parse::<toml::Table>() {
        for (section, table) in defaults {
            if let toml::Value::Table(table) = table {
                keys.extend(table.keys().map(|key| format!("{section}.{key}")));
            }
        }
    }
    keys
}

/// The file of a SQLite database URL (none for PostgreSQL or memory).
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix("sqlite://")?;
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

/// A database URL with its password replaced by `***`.
pub fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// Whether a cloud setting holds a secret (`password`, `secret`, `token`,
/// `…_key`), which `config show` and the logs never print.
fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token"]
        .iter()
        .any(|word| key.contains(word))
        || key.ends_with("_key")
        || key == "key"
}

impl Settings {
    /// The effective settings as TOML, secrets redacted (`strato config show`).
    ///
    /// # Errors
    /// When they cannot be written as TOML.
    pub fn redacted_toml(&self) -> Result<String, SettingsError> {
        let mut shown = self.clone();
        shown.database.url = redacted_url(&shown.database.url);
        let mut clouds = self.clouds();
        for cloud in clouds.values_mut() {
            for (key, value) in &mut cloud.options {
                if is_secret(key) {
                    *value = serde_json::Value::String("***".to_owned());
                }
            }
        }
        shown.clouds = Some(clouds);
        if shown.infrastructures.key.is_some() {
            shown.infrastructures.key = Some("***".to_owned());
        }
        for user in &mut shown.infrastructures.allowed_users {
            user.password = "***".to_owned();
        }
        toml::to_string(&shown).map_err(|e| SettingsError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_use_sqlite_on_localhost() {
        let settings = Settings::defaults().unwrap();
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
        let settings = Settings::load_from(Some(&file), std::iter::empty()).unwrap();
        // A [clouds] table lists exactly the clouds there are.
        assert_eq!(settings.clouds().len(), 1);
        assert_eq!(
            settings.clouds()["fake_driver"].options["latency_ms"],
            serde_json::json!(5)
        );
    }

    fn vars(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn settings_variables_are_read_and_service_links_left_alone() {
        let settings = Settings::load_from(
            None,
            vars(&[
                ("STRATO_SERVER__LISTEN", "0.0.0.0:1"),
                ("STRATO_SERVER__RESPONSE_HEADERS__X_TEAM", "ops"),
                ("STRATO_CLOUDS__LAB__TYPE", "dummy"),
                ("STRATO_SERVICE_HOST", "10.0.0.1"),
                ("STRATO_PORT", "tcp://10.0.0.1:80"),
                ("STRATO_PORT_80_TCP_ADDR", "10.0.0.1"),
                ("STRATO_CONFIG", "strato.toml"),
                ("OTHER__THING", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.server.listen.to_string(), "0.0.0.0:1");
        assert_eq!(settings.server.response_headers["x_team"], "ops");
        assert_eq!(settings.clouds()["lab"].kind, "dummy");
    }

    #[test]
    fn a_variable_that_names_no_setting_is_refused_by_name() {
        for name in [
            "STRATO_SERVER_LISTEN",
            "STRATO_SERVER__LISEN",
            "STRATO_SERVR__LISTEN",
            "STRATO_LOG__LEVEL__X",
        ] {
            let err = Settings::load_from(None, vars(&[(name, "1")]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn shown_settings_hide_secrets() {
        assert_eq!(
            redacted_url("postgres://strato:hunter2@db:5432/strato"),
            "postgres://strato:***@db:5432/strato"
        );
        assert_eq!(redacted_url("sqlite://strato.db"), "sqlite://strato.db");
        let mut settings = Settings::defaults().unwrap();
        settings.database.url = "postgres://strato:hunter2@db/strato".into();
        let mut lab = CloudSettings {
            kind: "ec2".into(),
            options: BTreeMap::new(),
        };
        lab.options
            .insert("secret_access_key".into(), serde_json::json!("abc"));
        lab.options.insert("region".into(), serde_json::json!("eu"));
        settings.set_clouds(BTreeMap::from([("lab".to_owned(), lab)]));
        let shown = settings.redacted_toml().unwrap();
        assert!(
            !shown.contains("hunter2") && !shown.contains("abc"),
            "{shown}"
        );
        assert!(shown.contains("region = \"eu\""), "{shown}");
        assert!(shown.contains("listen = \"127.0.0.1:8080\""), "{shown}");
    }

    #[test]
    fn a_bad_setting_is_named() {
        let dir = std::env::temp_dir().join(format!("strato-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bad.toml");
        std::fs::write(&file, "[server]\nlisten = \"nowhere\"\n").unwrap();
        let err = Settings::load_from(Some(&file), std::iter::empty())
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
        std::fs::write(&file, "[server]\nlisen = \"127.0.0.1:1\"\n").unwrap();
        let err = Settings::load_from(Some(&file), std::iter::empty())
            .unwrap_err()
            .to_string();
        assert!(err.contains("lisen"), "{err}");
        std::fs::write(&file, "[server]\nworkers = 0\n").unwrap();
        let err = Settings::load_from(Some(&file), std::iter::empty())
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.workers"), "{err}");
        std::fs::write(&file, "[log]\nlevel = \"=nonsense=\"\n").unwrap();
        let err = Settings::load_from(Some(&file), std::iter::empty())
            .unwrap_err()
            .to_string();
        assert!(err.contains("log.level"), "{err}");
    }
}
