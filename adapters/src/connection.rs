//! Connections: the two backends behind one diesel connection type, the pool
//! that opens them, migrations, and PostgreSQL's write transactions.

use std::time::Duration;

use diesel::connection::{
    AnsiTransactionManager, SimpleConnection, TransactionManager, TransactionManagerStatus,
};
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use strato_domain::StoreError;

use crate::error::{SetupError, from_diesel};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// One database connection, of either backend.
#[derive(diesel::MultiConnection)]
pub(crate) enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// The database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend of a `sqlite://` or `postgres://` (or `postgresql://`) URL.
    ///
    /// # Errors
    /// [`SetupError::UnsupportedUrl`] for any other scheme.
    pub fn of_url(url: &str) -> Result<Self, SetupError> {
        if url.starts_with("sqlite://") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(SetupError::UnsupportedUrl(url.to_owned()))
        }
    }
}

/// Opens connections: the r2d2 pool's, and on SQLite the writer's and the
/// checkpointer's.
#[derive(Debug, Clone)]
pub(crate) struct Manager {
    pub(crate) url: String,
    pub(crate) backend: Backend,
    pub(crate) busy_timeout: Duration,
}

impl Manager {
    /// Opens a connection with the per-connection settings.
    pub(crate) fn open(&self) -> Result<DbConnection, ConnectionError> {
        match self.backend {
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url)?;
                // The inventory's working set lives in memory or on SSD, where an
                // index probe costs about a sequential read: with the default
                // cost the planner prefers hash joins that scan whole tables.
                conn.batch_execute("SET random_page_cost = 1.1")
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Pg(conn))
            }
            Backend::Sqlite => {
                let path = self.url.trim_start_matches("sqlite://");
                let mut conn = SqliteConnection::establish(path)?;
                // WAL lets readers run beside the writer; NORMAL sync in WAL mode
                // keeps every commit through a process crash.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                    self.busy_timeout.as_millis()
                ))
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// A pooled connection, and whether it still reaches its database.
pub(crate) struct Pooled {
    /// The connection.
    pub(crate) db: DbConnection,
    /// False once a failed query was followed by a failed probe: the pool
    /// then drops the connection instead of handing it out again.
    pub(crate) reachable: bool,
}

impl Pooled {
    /// Runs `work`; when it fails, probes the connection so that one the
    /// database closed (a restart, a terminated backend) is not reused.
    pub(crate) fn run<T, E>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let result = work(&mut self.db);
        if result.is_err() && self.db.batch_execute("SELECT 1").is_err() {
            self.reachable = false;
        }
        result
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = ConnectionError;

    fn connect(&self) -> Result<Pooled, ConnectionError> {
        Ok(Pooled {
            db: self.open()?,
            reachable: true,
        })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), ConnectionError> {
        conn.db
            .batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    /// A connection the database closed, one still inside a transaction, or
    /// one whose transaction state is broken, must not be handed out again.
    fn has_broken(&self, conn: &mut Pooled) -> bool {
        if !conn.reachable {
            return true;
        }
        match <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(
            &mut conn.db,
        ) {
            TransactionManagerStatus::Valid(status) => status.transaction_depth().is_some(),
            TransactionManagerStatus::InError => true,
        }
    }
}

/// Key of the PostgreSQL advisory lock that serialises migrations, so that
/// replicas starting together on an empty database migrate it once.
const MIGRATION_LOCK: i64 = 0x7374_7261_746f;

/// Runs the embedded migrations that have not run yet.
pub(crate) fn migrate(conn: &mut DbConnection) -> Result<Vec<String>, SetupError> {
    let failed = |e: &dyn std::fmt::Display| SetupError::Migrate(e.to_string());
    let names = |done: Vec<diesel::migration::MigrationVersion<'_>>| {
        done.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    match conn {
        DbConnection::Pg(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .map_err(|e| failed(&e))?;
            let done = pg.run_pending_migrations(POSTGRES_MIGRATIONS).map(names);
            let unlocked =
                pg.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
            let done = done.map_err(|e| failed(&e))?;
            unlocked.map_err(|e| failed(&e))?;
            Ok(done)
        }
        DbConnection::Sqlite(lite) => lite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(names)
            .map_err(|e| failed(&e)),
    }
}

/// Whether some embedded migration has not run on this database.
pub(crate) fn migrations_pending(conn: &mut DbConnection) -> Result<bool, StoreError> {
    let pending = match conn {
        DbConnection::Pg(pg) => pg.has_pending_migration(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(lite) => lite.has_pending_migration(SQLITE_MIGRATIONS),
    };
    pending.map_err(StoreError::Unavailable)
}

/// Runs `work` in a transaction that writes: one per request on PostgreSQL.
/// (SQLite's writes go through the writer, which commits many requests'
/// work at once; see `writer`.) On SQLite the transaction takes the write
/// lock at once (`BEGIN IMMEDIATE`), so a transaction that reads before it
/// writes never fails on a lock upgrade.
pub(crate) fn write_tx<T, E>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    let failed = |err| E::from(from_diesel(err));
    match conn {
        DbConnection::Sqlite(lite) => {
            AnsiTransactionManager::begin_transaction_sql(lite, "BEGIN IMMEDIATE")
                .map_err(failed)?;
        }
        DbConnection::Pg(pg) => AnsiTransactionManager::begin_transaction(pg).map_err(failed)?,
    }
    type Manager = <DbConnection as Connection>::TransactionManager;
    match work(conn) {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(err) => {
                // A failed COMMIT may leave the transaction open: close it, and
                // report the commit's failure.
                let _ = Manager::rollback_transaction(conn);
                Err(failed(err))
            }
        },
        Err(err) => {
            Manager::rollback_transaction(conn).map_err(failed)?;
            Err(err)
        }
    }
}
