/// How the storage adapter connects: the `[database]` settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`.
    pub url: String,
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// Seconds to wait for a free connection (and, on SQLite, for a lock).
    pub timeout_seconds: u64,
}
