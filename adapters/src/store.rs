//! The store: the connection pool, and where its blocking work runs.

use std::sync::Arc;
use std::time::Duration;

use strato_domain::StoreError;

use crate::connection::{Backend, DbConnection, Manager, migrate, write_tx};
use crate::error::SetupError;
use crate::settings::DatabaseSettings;

/// The storage adapter: implements every storage port of the domain (the
/// repositories, the job queue, the health check). Callers share it as an
/// `Arc<Store>`, handed out as each `Arc<dyn Port>`; it is cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    /// On SQLite, writers queue here instead of in SQLite's busy handler,
    /// which sleeps and makes the slowest writes very slow.
    write_gate: Option<Arc<tokio::sync::Mutex<()>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the pool the settings describe and brings the schema up to date.
    ///
    /// # Errors
    /// [`SetupError`] when the URL is unsupported, the database cannot be
    /// reached, or a migration fails.
    pub fn open(settings: &DatabaseSettings) -> Result<Self, SetupError> {
        let store = Self::connect(settings)?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens the pool without migrating.
    ///
    /// # Errors
    /// [`SetupError`] when the URL is unsupported or the database cannot be reached.
    pub fn connect(settings: &DatabaseSettings) -> Result<Self, SetupError> {
        let backend = Backend::of_url(&settings.url)?;
        let timeout = Duration::from_secs(settings.timeout_seconds.max(1));
        let manager = Manager {
            url: settings.url.clone(),
            backend,
            busy_timeout: timeout,
        };
        let pool = r2d2::Pool::builder()
            .max_size(settings.max_connections.max(1))
            .min_idle(Some(1))
            .connection_timeout(timeout)
            .test_on_check_out(false)
            .build(manager)
            .map_err(|e| SetupError::Connect(e.to_string()))?;
        let write_gate =
            (backend == Backend::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(())));
        Ok(Self {
            pool,
            backend,
            write_gate,
        })
    }

    /// Runs the migrations that have not run yet.
    ///
    /// # Errors
    /// [`SetupError::Migrate`] when one fails.
    pub fn migrate(&self) -> Result<(), SetupError> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| SetupError::Connect(e.to_string()))?;
        migrate(&mut conn.db)
    }

    /// Runs blocking work in one write transaction (see [`write_tx`]), after
    /// the writers queued before it on SQLite.
    pub(crate) async fn write<T, E>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let _turn = match &self.write_gate {
            Some(gate) => Some(gate.lock().await),
            None => None,
        };
        self.run(move |conn| write_tx(conn, work)).await
    }

    /// Runs blocking database work on the blocking pool, inside the caller's
    /// tracing span.
    pub(crate) async fn run<T, E>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                let mut conn = pool
                    .get()
                    .map_err(|e| E::from(StoreError::unavailable(e)))?;
                conn.run(work)
            })
        })
        .await
        .map_err(|e| E::from(StoreError::unavailable(e)))?
    }
}
