//! SQLite's writer: one thread owns the connection that writes, and commits
//! the work of many requests at once (group commit).
//!
//! Requests queue on a channel. The writer takes the write lock (`BEGIN
//! IMMEDIATE`), runs the queued requests' work one after the other, each in
//! a savepoint of its own, until the queue is empty or the batch holds
//! [`MAX_BATCH`] requests or has run for [`MAX_BATCH_TIME`], then commits.
//! A request whose work fails is rolled back to its savepoint; every request
//! is answered only after the batch's commit (a failed one its own error,
//! which then reads consistently with the others' committed work), and the
//! successful ones all get an error if that commit fails.
//! Callers await their answer: no runtime thread blocks.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::{
    AnsiTransactionManager, SimpleConnection, TransactionManager, TransactionManagerStatus,
};
use strato_domain::StoreError;
use tokio::sync::{mpsc, oneshot};

use crate::checkpoint::{self, Checkpointer, Wal};
use crate::connection::{DbConnection, Manager};
use crate::error::SetupError;

/// Most requests one transaction holds.
const MAX_BATCH: usize = 64;

/// How long a batch takes more requests before it commits: the first
/// request's answer waits for the whole batch.
const MAX_BATCH_TIME: Duration = Duration::from_millis(2);

/// Most requests waiting for the writer; callers wait for room beyond it.
const QUEUE: usize = 1024;

/// The writer connection's settings: it never checkpoints by itself (see
/// `checkpoint`), and a WAL that grew past 256 MiB (readers held up its
/// restarts) is cut back to that size when it starts over. The limit stays
/// above the size restarts keep the WAL under: cutting the file back makes
/// the commit that starts the WAL over wait for the file system.
const WRITER_PRAGMAS: &str = "PRAGMA wal_autocheckpoint = 0; \
                              PRAGMA journal_size_limit = 268435456;";

type Manage = <DbConnection as Connection>::TransactionManager;

/// Why a write was not done.
#[derive(Debug, thiserror::Error)]
enum WriteLost {
    /// The writer is gone (the store is shutting down).
    #[error("the SQLite writer has stopped")]
    Stopped,
    /// The work panicked, or the writer stopped before answering.
    #[error("the write did not complete (its work panicked)")]
    Dropped,
    /// The batch that held the work could not be committed.
    #[error("the transaction holding the write failed: {0}")]
    Batch(String),
    /// The writer's connection could not be opened again.
    #[error("the SQLite writer cannot reopen its connection: {0}")]
    Reopen(String),
}

/// Answers a request whose work succeeded, once its batch's fate is known:
/// its value when the batch committed, the error when it did not.
type Answer = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// How a request's work ended.
enum Outcome {
    /// It succeeded; the answer waits for the commit.
    Done(Answer),
    /// It failed; the answer (its error) goes out once its savepoint is
    /// rolled back and the batch is settled.
    Failed(Box<dyn FnOnce() + Send>),
}

/// Runs a request's work on the connection, or, given the reason it cannot
/// run, answers that error.
type Work = Box<dyn FnOnce(Result<&mut DbConnection, StoreError>) -> Outcome + Send>;

/// One request: its work, and the span it runs in.
struct Request {
    work: Work,
    span: tracing::Span,
}

/// The writer thread, its queue, and the checkpointer beside it. Dropping
/// it closes the queue, lets the thread finish what was queued, and waits
/// for both threads to end.
pub(crate) struct Writer {
    queue: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
    checkpointer: Option<Checkpointer>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// Opens the writer's connection and starts its thread and the
    /// checkpointer's.
    ///
    /// # Errors
    /// [`SetupError::Connect`] when a connection or a thread cannot be made.
    pub(crate) fn start(manager: Manager) -> Result<Self, SetupError> {
        let conn = open(&manager).map_err(SetupError::Connect)?;
        let wal = Arc::new(Wal::default());
        let checkpointer = Checkpointer::start(&manager, wal.clone())?;
        let (queue, requests) = mpsc::channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || serve(&manager, conn, requests, &wal))
            .map_err(|e| SetupError::Connect(e.to_string()))?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
            checkpointer: Some(checkpointer),
        })
    }

    /// Runs `work` in the next batch, inside the caller's tracing span, and
    /// answers once the batch is committed (or `work`'s own error at once).
    pub(crate) async fn write<T, E>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let lost = |why| E::from(StoreError::unavailable(why));
        let (answer, reply) = oneshot::channel::<Result<T, E>>();
        let work: Work = Box::new(move |conn| match conn.map_err(E::from).and_then(work) {
            Ok(value) => Outcome::Done(Box::new(move |committed: Result<(), StoreError>| {
                let _ = answer.send(committed.map(|()| value).map_err(E::from));
            })),
            Err(err) => Outcome::Failed(Box::new(move || {
                let _ = answer.send(Err(err));
            })),
        });
        let request = Request {
            work,
            span: tracing::Span::current(),
        };
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| lost(WriteLost::Stopped))?;
        queue
            .send(request)
            .await
            .map_err(|_| lost(WriteLost::Stopped))?;
        reply
            .await
            .unwrap_or_else(|_| Err(lost(WriteLost::Dropped)))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            // The last store may be dropped by a request's own work; the
            // thread then ends by itself once this returns.
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
        drop(self.checkpointer.take());
    }
}

/// Opens a connection with the writer's settings.
fn open(manager: &Manager) -> Result<DbConnection, String> {
    let mut conn = manager.open().map_err(|e| e.to_string())?;
    conn.batch_execute(WRITER_PRAGMAS)
        .map_err(|e| e.to_string())?;
    Ok(conn)
}

/// The writer thread: one batch per turn until the queue closes.
fn serve(manager: &Manager, conn: DbConnection, mut requests: mpsc::Receiver<Request>, wal: &Wal) {
    let mut conn = Some(conn);
    while let Some(first) = requests.blocking_recv() {
        let mut db = match conn.take() {
            Some(db) => db,
            None => match open(manager) {
                Ok(db) => db,
                Err(cause) => {
                    tracing::error!(%cause, "the SQLite writer cannot reopen its connection");
                    refuse(first, StoreError::unavailable(WriteLost::Reopen(cause)));
                    continue;
                }
            },
        };
        if wal.take_restart() {
            checkpoint::restart(&mut db, manager.busy_timeout);
        }
        conn = batch(db, first, &mut requests, wal);
    }
}

/// Answers a request that cannot run with `err`.
fn refuse(request: Request, err: StoreError) {
    let Request { work, span } = request;
    let _entered = span.enter();
    if let Outcome::Failed(answer) = work(Err(err)) {
        answer();
    }
}

/// Runs one batch: `first` and what is queued behind it, up to the limits,
/// in one transaction. Returns the connection if it is fit for the next
/// batch.
fn batch(
    mut conn: DbConnection,
    first: Request,
    requests: &mut mpsc::Receiver<Request>,
    wal: &Wal,
) -> Option<DbConnection> {
    if let Err(err) = begin_immediate(&mut conn) {
        tracing::error!(error = %err, "the SQLite writer cannot begin a transaction");
        refuse(
            first,
            StoreError::unavailable(WriteLost::Batch(err.to_string())),
        );
        return fit(conn);
    }
    let started = Instant::now();
    let mut answers: Vec<Answer> = Vec::new();
    let mut broken = None;
    let mut taken = 0;
    let mut next = Some(first);
    while let Some(request) = next.take() {
        taken += 1;
        match step(&mut conn, request) {
            Ok(Some(answer)) => answers.push(answer),
            Ok(None) => {}
            Err(cause) => {
                broken = Some(cause);
                break;
            }
        }
        if taken < MAX_BATCH && started.elapsed() < MAX_BATCH_TIME {
            next = requests.try_recv().ok();
        }
    }
    let committed = match broken {
        Some(cause) => Err(cause),
        None => Manage::commit_transaction(&mut conn).map_err(|e| e.to_string()),
    };
    match committed {
        Ok(()) => {
            wal.committed();
            for answer in answers {
                answer(Ok(()));
            }
            Some(conn)
        }
        Err(cause) => {
            tracing::error!(%cause, requests = answers.len(), "a write batch was rolled back");
            let conn = fit(conn);
            for answer in answers {
                answer(Err(StoreError::unavailable(WriteLost::Batch(
                    cause.clone(),
                ))));
            }
            conn
        }
    }
}

/// Opens the batch's transaction, holding the write lock from the start.
fn begin_immediate(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(lite) => {
            AnsiTransactionManager::begin_transaction_sql(lite, "BEGIN IMMEDIATE")
        }
        DbConnection::Pg(pg) => AnsiTransactionManager::begin_transaction(pg),
    }
}

/// The depth of the open transaction (1: the batch, 2: a request's
/// savepoint), or `None` when the transaction manager is broken.
fn depth(conn: &mut DbConnection) -> Option<u32> {
    match Manage::transaction_manager_status_mut(conn) {
        TransactionManagerStatus::Valid(status) => {
            Some(status.transaction_depth().map_or(0, |d| d.get()))
        }
        TransactionManagerStatus::InError => None,
    }
}

/// Runs one request in a savepoint of its own. Returns its answer if it
/// waits for the commit, or why the batch cannot go on.
fn step(conn: &mut DbConnection, request: Request) -> Result<Option<Answer>, String> {
    let Request { work, span } = request;
    let _entered = span.enter();
    Manage::begin_transaction(conn).map_err(|e| format!("cannot open a savepoint: {e}"))?;
    let outcome = catch_unwind(AssertUnwindSafe(|| work(Ok(&mut *conn))));
    match outcome {
        Ok(Outcome::Done(answer)) => {
            if depth(conn) != Some(2) {
                answer(Err(StoreError::unavailable(WriteLost::Batch(
                    "a write left its savepoint".to_owned(),
                ))));
                return Err("a write left its savepoint".to_owned());
            }
            match Manage::commit_transaction(conn) {
                Ok(()) => Ok(Some(answer)),
                Err(e) => {
                    let cause = format!("cannot release a savepoint: {e}");
                    answer(Err(StoreError::unavailable(WriteLost::Batch(
                        cause.clone(),
                    ))));
                    Err(cause)
                }
            }
        }
        Ok(Outcome::Failed(answer)) => {
            // Its error goes out after the batch's commit too, so that what
            // its caller reads next already shows the work of the requests
            // before it (a name taken by one of them, say).
            back_to(conn, 1)?;
            Ok(Some(Box::new(move |_: Result<(), StoreError>| answer())))
        }
        Err(_) => {
            // Unwinding dropped the request's answer: its caller gets
            // `Dropped`.
            tracing::error!("a write panicked; its work is rolled back and its request fails");
            back_to(conn, 1)
        }
    }
}

/// Rolls back savepoints until the transaction's depth is `target`; a work
/// that panicked may have left savepoints of its own open.
fn back_to(conn: &mut DbConnection, target: u32) -> Result<Option<Answer>, String> {
    loop {
        match depth(conn) {
            Some(d) if d == target => return Ok(None),
            Some(d) if d > target => Manage::rollback_transaction(conn)
                .map_err(|e| format!("cannot roll back a savepoint: {e}"))?,
            _ => return Err("the batch's transaction ended early".to_owned()),
        }
    }
}

/// Closes whatever transaction is open; returns the connection if it is
/// fit for the next batch (a connection whose transaction state is broken
/// is dropped and the next batch opens another).
fn fit(mut conn: DbConnection) -> Option<DbConnection> {
    loop {
        match depth(&mut conn) {
            Some(0) => return Some(conn),
            Some(d) => {
                if Manage::rollback_transaction(&mut conn).is_err() && depth(&mut conn) == Some(d) {
                    return None;
                }
            }
            None => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU32, Ordering};

    use diesel::connection::SimpleConnection;
    use strato_domain::driver::Driver;
    use strato_domain::entity::EntityName;

    use super::*;
    use crate::settings::DatabaseSettings;
    use crate::store::Store;
    use crate::tables::entities;

    /// A fresh SQLite file, removed (with its WAL) when dropped.
    struct TempDb(PathBuf);

    impl TempDb {
        fn new() -> Self {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let path = std::env::temp_dir().join(format!(
                "strato-writer-{}-{}.db",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let db = Self(path);
            db.remove();
            db
        }

        fn store(&self) -> Store {
            Store::open(&DatabaseSettings {
                url: format!("sqlite://{}", self.0.display()),
                max_connections: 4,
                timeout_seconds: 5,
            })
            .unwrap()
        }

        fn with_suffix(&self, suffix: &str) -> PathBuf {
            PathBuf::from(format!("{}{suffix}", self.0.display()))
        }

        fn remove(&self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(self.with_suffix(suffix));
            }
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            self.remove();
        }
    }

    fn name(text: &str) -> EntityName {
        EntityName::parse(text).unwrap()
    }

    /// Creates an entity, then ends as `how` says.
    fn create_then(conn: &mut DbConnection, entity: &str, how: &str) -> Result<(), StoreError> {
        entities::insert(conn, &name(entity), Driver::BasicServer)?;
        match how {
            "ok" => Ok(()),
            "fail" => Err(StoreError::NotAMember),
            "panic" => panic!("a write's work panicked on purpose"),
            // Ends the batch's transaction behind the writer's back: its
            // savepoint can no longer be released.
            "sabotage" => conn
                .batch_execute("ROLLBACK")
                .map_err(crate::error::from_diesel),
            other => unreachable!("{other}"),
        }
    }

    async fn exists(store: &Store, entity: &str) -> bool {
        let entity = entity.to_owned();
        store
            .run(move |conn| entities::find(conn, &entity))
            .await
            .unwrap()
            .is_some()
    }

    /// Holds the writer for a moment, so that the writes sent meanwhile
    /// queue behind it and share the next batch.
    async fn hold_writer(
        store: &Store,
        entity: &str,
    ) -> tokio::task::JoinHandle<Result<(), StoreError>> {
        let entity = entity.to_owned();
        let (started, running) = oneshot::channel();
        let holder = store.clone();
        let held = tokio::spawn(async move {
            holder
                .write(move |conn| {
                    let _ = started.send(());
                    std::thread::sleep(Duration::from_millis(200));
                    create_then(conn, &entity, "ok")
                })
                .await
        });
        running.await.unwrap();
        held
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_or_panicking_request_rolls_back_only_its_own_work() {
        let db = TempDb::new();
        let store = db.store();
        let held = hold_writer(&store, "holder").await;

        let mut writes = Vec::new();
        for i in 0..30 {
            let how = ["ok", "fail", "panic"][i % 3];
            let entity = format!("{how}{i}");
            let writer = store.clone();
            writes.push((
                how,
                entity.clone(),
                tokio::spawn(async move {
                    writer
                        .write(move |conn| create_then(conn, &entity, how))
                        .await
                }),
            ));
        }

        held.await.unwrap().unwrap();
        for (how, entity, write) in writes {
            let answer = write.await.unwrap();
            match how {
                "ok" => assert!(answer.is_ok(), "{entity}: {answer:?}"),
                "fail" => assert!(matches!(answer, Err(StoreError::NotAMember)), "{answer:?}"),
                _ => assert!(
                    matches!(answer, Err(StoreError::Unavailable(_))),
                    "{answer:?}"
                ),
            }
            assert_eq!(exists(&store, &entity).await, how == "ok", "{entity}");
        }
        store
            .write(|conn| create_then(conn, "after", "ok"))
            .await
            .unwrap();
        assert!(exists(&store, "after").await, "the writer goes on");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_that_cannot_commit_acknowledges_none_of_its_writes() {
        let db = TempDb::new();
        let store = db.store();
        // `before` and `saboteur` share a batch unless the first took longer
        // than a batch may: then it commits alone, which is right too. Try
        // until they shared one.
        let mut shared = false;
        for round in 0..5 {
            let held = hold_writer(&store, &format!("holder{round}")).await;
            let mut writes = Vec::new();
            for how in ["ok", "sabotage", "ok"] {
                let entity = format!("{how}{round}-{}", writes.len());
                let writer = store.clone();
                writes.push((
                    entity.clone(),
                    tokio::spawn(async move {
                        writer
                            .write(move |conn| create_then(conn, &entity, how))
                            .await
                    }),
                ));
                // Queued in this order behind the held writer.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            held.await.unwrap().unwrap();
            let mut answers = Vec::new();
            for (entity, write) in writes {
                let answer = write.await.unwrap();
                assert_eq!(
                    exists(&store, &entity).await,
                    answer.is_ok(),
                    "{entity} answered {answer:?}"
                );
                answers.push(answer);
            }
            assert!(answers[1].is_err(), "the saboteur's batch cannot commit");
            assert!(answers[2].is_ok(), "the next batch commits: {answers:?}");
            if answers[0].is_err() {
                shared = true;
                break;
            }
        }
        assert!(shared, "the first write never shared the saboteur's batch");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checkpoints_run_beside_the_writer_and_the_store_closes_everything_when_dropped() {
        let db = TempDb::new();
        let store = db.store();
        let size = || std::fs::metadata(&db.0).unwrap().len();
        let before = size();
        for i in 0..300 {
            let entity = format!("server{i}");
            store
                .write(move |conn| create_then(conn, &entity, "ok"))
                .await
                .unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while size() == before {
            assert!(Instant::now() < deadline, "no checkpoint copied the WAL");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        drop(store);
        // SQLite removes the WAL when its last connection closes: the pool's,
        // the writer's and the checkpointer's are all gone.
        assert!(
            !db.with_suffix("-wal").exists(),
            "a connection is still open"
        );
    }
}
