//! The store: the connection pool, and where its blocking work runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use strato_domain::StoreError;

use crate::connection::{Backend, DbConnection, Manager, migrate, write_tx};
use crate::error::SetupError;
use crate::secrets::Sealer;
use crate::settings::DatabaseSettings;
use crate::writer::Writer;

/// The storage adapter: implements every storage port of the domain (the
/// repositories, the job queue, the health check). Callers share it as an
/// `Arc<Store>`, handed out as each `Arc<dyn Port>`; it is cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    /// On SQLite, the one connection that writes: writes queue for it
    /// instead of in SQLite's busy handler (which sleeps), and share its
    /// commits. It stops when the last clone of the store is dropped.
    writer: Option<Arc<Writer>>,
    /// The migrations this store applied when it opened.
    applied: Arc<Vec<String>>,
    /// How many times work waited for a pooled connection.
    waits: Arc<AtomicU64>,
    /// Seals the clouds that requests describe before they are stored; without
    /// it such clouds can be neither stored nor read.
    sealer: Option<Arc<Sealer>>,
}

/// The connection pool at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    /// Connections open.
    pub connections: u32,
    /// Connections in use.
    pub in_use: u32,
    /// How many times work found no idle connection and waited, so far.
    pub waits: u64,
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
        let mut store = Self::connect(settings)?;
        store.applied = Arc::new(store.migrate()?);
        Ok(store)
    }

    /// The migrations this store applied when it opened (none when the
    /// database was up to date).
    pub fn applied_migrations(&self) -> &[String] {
        &self.applied
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
        let writer = match backend {
            Backend::Sqlite => Some(Arc::new(Writer::start(manager.clone())?)),
            Backend::Postgres => None,
        };
        // PostgreSQL connections are dear to open (a backend process, then
        // the prepared statements and their plans again): keep them all.
        // SQLite's are cheap, and the writer holds its own.
        let (min_idle, idle_timeout) = match backend {
            Backend::Postgres => (None, None),
            Backend::Sqlite => (Some(1), Some(Duration::from_secs(600))),
        };
        let pool = r2d2::Pool::builder()
            .max_size(settings.max_connections.max(1))
            .min_idle(min_idle)
            .idle_timeout(idle_timeout)
            .connection_timeout(timeout)
            .test_on_check_out(false)
            .build(manager)
            .map_err(|e| SetupError::Connect(e.to_string()))?;
        Ok(Self {
            pool,
            backend,
            writer,
            applied: Arc::new(Vec::new()),
            waits: Arc::new(AtomicU64::new(0)),
            sealer: None,
        })
    }

    /// The store, sealing the clouds that requests describe with this sealer
    /// (see [`Sealer`]); without one, storing or reading such a cloud fails
    /// as unavailable.
    #[must_use]
    pub fn with_sealer(self, sealer: Sealer) -> Self {
        Self {
            sealer: Some(Arc::new(sealer)),
            ..self
        }
    }

    /// The sealer of described clouds, if any.
    pub(crate) fn sealer(&self) -> Option<Arc<Sealer>> {
        self.sealer.clone()
    }

    /// Runs the migrations that have not run yet.
    ///
    /// # Errors
    /// [`SetupError::Migrate`] when one fails.
    pub fn migrate(&self) -> Result<Vec<String>, SetupError> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| SetupError::Connect(e.to_string()))?;
        migrate(&mut conn.db)
    }

    /// Runs blocking work atomically, and answers once it is committed (or
    /// with its error, having changed nothing). On SQLite the writer runs it
    /// in a savepoint of a transaction it shares with other requests; on
    /// PostgreSQL it is a transaction of its own on the blocking pool (see
    /// [`write_tx`]).
    pub(crate) async fn write<T, E>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write(work).await,
            None => self.run(move |conn| write_tx(conn, work)).await,
        }
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
        if pool.state().idle_connections == 0 {
            self.waits.fetch_add(1, Ordering::Relaxed);
        }
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

impl Store {
    /// The connection pool now.
    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            connections: state.connections,
            in_use: state.connections.saturating_sub(state.idle_connections),
            waits: self.waits.load(Ordering::Relaxed),
        }
    }
}
