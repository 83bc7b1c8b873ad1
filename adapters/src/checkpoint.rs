//! SQLite's WAL checkpoints, off the commit path.
//!
//! The writer's connection never checkpoints by itself
//! (`wal_autocheckpoint = 0`): an automatic checkpoint runs inside the
//! COMMIT that crosses its threshold, and that batch, with every request
//! queued behind it, then waits while the WAL is copied into the database
//! and both files are synced.
//! Instead, every [`PERIOD`] in which something was committed, the
//! checkpointer's thread runs a PASSIVE checkpoint on a connection of its
//! own: it copies what was committed without holding anyone up.
//! A WAL starts over from its beginning only when a write begins after a
//! checkpoint copied all of it and no reader still reads it; under a steady
//! stream of writes that moment never comes, and the WAL keeps growing.
//! So once it passes [`RESTART_FRAMES`], the checkpointer copies it again
//! (leaving only what was committed meanwhile) and asks the writer to
//! [`restart`] it between two batches: the writer copies that small rest and
//! waits (at most [`RESTART_WAIT`]) for the readers of the old WAL, and its
//! next write starts the WAL over. Writes pause for that moment only,
//! without sleeping in SQLite's busy handler.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};

use crate::connection::{DbConnection, Manager};
use crate::error::SetupError;

/// How often the checkpointer looks for committed work to copy.
const PERIOD: Duration = Duration::from_millis(200);

/// WAL frames (pages) beyond which the WAL is restarted: 64 MiB of 4 KiB
/// pages.
const RESTART_FRAMES: i64 = 16_384;

/// Longest a restart waits for the readers of the old WAL; it is asked for
/// again a period later when they still hold on.
const RESTART_WAIT: Duration = Duration::from_millis(20);

/// What the writer and the checkpointer tell each other.
#[derive(Debug, Default)]
pub(crate) struct Wal {
    /// Commits so far.
    commits: AtomicU64,
    /// Whether the writer should restart the WAL before its next batch.
    restart: AtomicBool,
}

impl Wal {
    /// The writer committed a batch.
    pub(crate) fn committed(&self) {
        self.commits.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether a restart is due; clears the request.
    pub(crate) fn take_restart(&self) -> bool {
        self.restart.swap(false, Ordering::Relaxed)
    }
}

/// What `PRAGMA wal_checkpoint` reports.
#[derive(Debug, QueryableByName)]
struct Checkpointed {
    /// 1 when the checkpoint could not finish (readers held on).
    #[diesel(sql_type = BigInt)]
    busy: i64,
    /// Frames in the WAL.
    #[diesel(sql_type = BigInt)]
    log: i64,
    /// Frames of it copied into the database.
    #[diesel(sql_type = BigInt)]
    checkpointed: i64,
}

/// The checkpointer thread. Dropping it stops the thread and waits for it.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens the checkpointer's connection and starts its thread, which
    /// checkpoints when the writer committed since it last looked.
    ///
    /// # Errors
    /// [`SetupError::Connect`] when the connection or the thread cannot be made.
    pub(crate) fn start(manager: &Manager, wal: Arc<Wal>) -> Result<Self, SetupError> {
        let failed = |e: &dyn std::fmt::Display| SetupError::Connect(e.to_string());
        let mut conn = manager.open().map_err(|e| failed(&e))?;
        conn.batch_execute("PRAGMA wal_autocheckpoint = 0;")
            .map_err(|e| failed(&e))?;
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || run(&mut conn, &stopped, &wal))
            .map_err(|e| failed(&e))?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread: a PASSIVE checkpoint each period with commits; when the WAL
/// passed its size, one more to leave the writer little to copy, and a
/// request to restart it. Until stopped.
fn run(conn: &mut DbConnection, stopped: &mpsc::Receiver<()>, wal: &Wal) {
    let mut seen = wal.commits.load(Ordering::Relaxed);
    loop {
        match stopped.recv_timeout(PERIOD) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = wal.commits.load(Ordering::Relaxed);
        if now == seen {
            continue;
        }
        seen = now;
        if checkpoint(conn, "PASSIVE").is_some_and(|done| done.log > RESTART_FRAMES)
            && checkpoint(conn, "PASSIVE").is_some()
        {
            wal.restart.store(true, Ordering::Relaxed);
        }
    }
}

/// Restarts the WAL from the writer's connection, between two batches (see
/// the module's documentation); `busy_timeout` is the connection's usual
/// busy timeout, put back afterwards.
pub(crate) fn restart(conn: &mut DbConnection, busy_timeout: Duration) {
    let waited = conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {};",
        RESTART_WAIT.as_millis()
    ));
    if waited.is_ok() {
        checkpoint(conn, "RESTART");
    }
    if let Err(err) = conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {};",
        busy_timeout.as_millis()
    )) {
        tracing::warn!(error = %err, "cannot restore the writer's busy timeout");
    }
}

/// Runs one checkpoint of `mode`; logs and returns what it did.
fn checkpoint(conn: &mut DbConnection, mode: &str) -> Option<Checkpointed> {
    let started = Instant::now();
    match diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})"))
        .get_result::<Checkpointed>(conn)
    {
        Ok(done) => {
            tracing::debug!(
                mode,
                frames = done.log,
                copied = done.checkpointed,
                busy = done.busy,
                micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "WAL checkpoint"
            );
            Some(done)
        }
        Err(err) => {
            tracing::warn!(mode, error = %err, "WAL checkpoint failed");
            None
        }
    }
}
