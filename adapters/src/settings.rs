use serde::Deserialize;

/// Database settings (`[database]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`.
    pub url: String,
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// Seconds to wait for a free connection (and, on SQLite, for a lock).
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_timeout() -> u64 {
    5
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://strato.db".into(),
            max_connections: 8,
            timeout_seconds: default_timeout(),
        }
    }
}
