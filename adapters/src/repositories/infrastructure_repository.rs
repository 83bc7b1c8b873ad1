//! The infrastructure repository: infrastructures with their owners, clouds
//! and VMs, and the IM owners. Writes store the jobs they are given in their
//! transaction; described clouds are sealed before the write and opened
//! when read, with the store's sealer.

use async_trait::async_trait;
use strato_domain::StoreError;
use strato_domain::infrastructure::{
    Change, InfId, Infrastructure, InfrastructureRepository, Owner, OwnerId, VmId, VmState,
};
use strato_domain::job::NewJob;

use crate::connection::DbConnection;
use crate::store::Store;
use crate::tables::{infrastructures, jobs};

/// Stores the jobs in the caller's transaction; one whose id is stored
/// already is kept as it is (ids derived from names are enqueued once).
fn enqueue(conn: &mut DbConnection, list: &[NewJob]) -> Result<(), StoreError> {
    for job in list {
        jobs::insert(conn, job)?;
    }
    Ok(())
}

#[async_trait]
impl InfrastructureRepository for Store {
    async fn create(&self, inf: &Infrastructure, jobs: &[NewJob]) -> Result<(), StoreError> {
        let clouds = infrastructures::seal(inf.id, &inf.clouds, self.sealer().as_deref())?;
        let (inf, jobs) = (inf.clone(), jobs.to_vec());
        self.write(move |conn| {
            infrastructures::insert(conn, &inf, &clouds)?;
            enqueue(conn, &jobs)
        })
        .await
    }

    async fn find(&self, id: InfId) -> Result<Option<Infrastructure>, StoreError> {
        let sealer = self.sealer();
        self.run(move |conn| infrastructures::find(conn, id, sealer.as_deref()))
            .await
    }

    async fn list(&self, owner: OwnerId) -> Result<Vec<InfId>, StoreError> {
        self.run(move |conn| infrastructures::owned_by(conn, owner))
            .await
    }

    async fn apply(&self, id: InfId, change: &Change, jobs: &[NewJob]) -> Result<bool, StoreError> {
        let clouds = change
            .clouds
            .as_deref()
            .map(|clouds| infrastructures::seal(id, clouds, self.sealer().as_deref()))
            .transpose()?;
        let (change, jobs) = (change.clone(), jobs.to_vec());
        self.write(move |conn| {
            if !infrastructures::apply(conn, id, &change, clouds.as_deref())? {
                return Ok(false);
            }
            enqueue(conn, &jobs)?;
            Ok(true)
        })
        .await
    }

    async fn forget(&self, id: InfId) -> Result<bool, StoreError> {
        self.write(move |conn| infrastructures::delete(conn, id))
            .await
    }

    async fn owners(&self, lookup: &str) -> Result<Vec<Owner>, StoreError> {
        let lookup = lookup.to_owned();
        self.run(move |conn| infrastructures::owners(conn, &lookup))
            .await
    }

    async fn add_owner(&self, owner: &Owner) -> Result<(), StoreError> {
        let owner = owner.clone();
        self.write(move |conn| infrastructures::insert_owner(conn, &owner))
            .await
    }

    async fn set_vm_state(
        &self,
        id: InfId,
        vm: VmId,
        from: VmState,
        to: VmState,
    ) -> Result<bool, StoreError> {
        self.write(move |conn| infrastructures::set_vm_state(conn, id, vm, from, to))
            .await
    }

    async fn active(&self) -> Result<Vec<InfId>, StoreError> {
        self.run(infrastructures::active).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::atomic::{AtomicU32, Ordering};

    use chrono::{NaiveDateTime, TimeDelta};
    use diesel::{Connection, RunQueryDsl};
    use strato_domain::cloud::{CloudSpec, IdempotencyKey, NodeId};
    use strato_domain::infrastructure::{CloudRef, Vm, VmId, VmState};
    use strato_domain::job::{JobId, JobQueue, Task};

    use super::*;
    use crate::secrets::Sealer;
    use crate::settings::DatabaseSettings;

    /// A fresh database of either kind, removed when dropped.
    struct TempDb {
        url: String,
        /// PostgreSQL's administrative URL and the database's name.
        pg: Option<(String, String)>,
    }

    fn unique(prefix: &str) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        format!(
            "{prefix}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        )
    }

    impl TempDb {
        fn sqlite() -> Self {
            let path = std::env::temp_dir().join(format!("{}.db", unique("strato-inf")));
            Self {
                url: format!("sqlite://{}", path.display()),
                pg: None,
            }
        }

        /// A database on the local PostgreSQL server (as the end-to-end
        /// suite's: `STRATO_TEST_POSTGRES_URL` overrides).
        fn postgres() -> Self {
            let admin = std::env::var("STRATO_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_owned());
            let name = unique("strato_adapters_inf");
            let mut conn = diesel::PgConnection::establish(&admin).unwrap_or_else(|e| {
                panic!("PostgreSQL is required and is not reachable at {admin}: {e}")
            });
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .unwrap();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            Self {
                url: format!("{base}/{name}"),
                pg: Some((admin.clone(), name)),
            }
        }

        fn store(&self) -> Store {
            Store::open(&DatabaseSettings {
                url: self.url.clone(),
                max_connections: 4,
                timeout_seconds: 5,
            })
            .unwrap()
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            match &self.pg {
                Some((admin, name)) => {
                    if let Ok(mut conn) = diesel::PgConnection::establish(admin) {
                        let _ = diesel::sql_query(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        ))
                        .execute(&mut conn);
                    }
                }
                None => {
                    let path = self.url.trim_start_matches("sqlite://");
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{path}{suffix}"));
                    }
                }
            }
        }
    }

    /// Runs a test on a fresh SQLite database and a fresh PostgreSQL one.
    async fn on_both<F, Fut>(test: F)
    where
        F: Fn(Store) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        for db in [TempDb::sqlite(), TempDb::postgres()] {
            let store = db.store().with_sealer(Sealer::from_key_bytes(&[42; 32]));
            test(store).await;
        }
    }

    fn owner(name: &str) -> Owner {
        Owner {
            id: OwnerId::random(),
            username: Some(name.to_owned()),
            lookup: format!("user:{name}"),
            secret_hash: format!("$argon2id$hash-of-{name}"),
        }
    }

    fn time(seconds: i64) -> NaiveDateTime {
        NaiveDateTime::default()
            + TimeDelta::seconds(1_800_000_000 + seconds)
            + TimeDelta::microseconds(123_456)
    }

    fn vm(id: u32, node: Option<&str>) -> Vm {
        Vm {
            id: VmId(id),
            cloud: "lab".to_owned(),
            node: node.map(NodeId::new),
            radl: format!("system vm{id} ( memory.size >= 512m and disk.0.image.url = 'x\\'y' )"),
            state: VmState::Pending,
            log: "queued\n“quoted” ünïcode".to_owned(),
            removed: false,
            key: IdempotencyKey::new(format!("key-{id}")),
            snapshots: vec![format!("image-{id}")],
        }
    }

    fn described() -> CloudRef {
        let settings = serde_json::json!({"password": "s3cret", "port": 5000});
        CloudRef::Described {
            id: "mine".to_owned(),
            spec: CloudSpec {
                kind: "dummy".to_owned(),
                settings: settings.as_object().unwrap().clone(),
            },
        }
    }

    fn infrastructure(owners: &[&Owner], created: i64) -> Infrastructure {
        Infrastructure {
            id: InfId::random(),
            owners: owners.iter().map(|o| (*o).clone()).collect(),
            radl: "network public ( outbound = 'yes' )".to_owned(),
            vms: vec![vm(0, Some("node-0")), vm(1, None)],
            next_vm: 2,
            contmsg: String::new(),
            contextualized: None,
            deleting: false,
            clouds: vec![CloudRef::Configured("lab".to_owned()), described()],
            created: time(created),
        }
    }

    fn launch(inf: InfId, vm: u32) -> NewJob {
        NewJob {
            id: JobId::random(),
            task: Task::LaunchVm { inf, vm: VmId(vm) },
            max_attempts: 3,
            run_after: time(0),
            claimed: None,
        }
    }

    async fn stored_owners(store: &Store, owners: &[&Owner]) {
        for owner in owners {
            store.add_owner(owner).await.unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_infrastructure_reads_back_whole_with_its_jobs() {
        on_both(|store| async move {
            let (alice, bob) = (owner("alice"), owner("bob"));
            stored_owners(&store, &[&alice, &bob]).await;
            let inf = infrastructure(&[&bob, &alice], 0);
            let job = launch(inf.id, 0);
            store
                .create(&inf, std::slice::from_ref(&job))
                .await
                .unwrap();

            assert_eq!(store.find(inf.id).await.unwrap(), Some(inf.clone()));
            assert!(
                store.get(job.id).await.unwrap().is_some(),
                "the job is stored"
            );
            assert_eq!(store.find(InfId::random()).await.unwrap(), None);

            // Creating it again changes nothing, its jobs included.
            let again = launch(inf.id, 1);
            let mut copy = inf.clone();
            copy.radl = "other".to_owned();
            let err = store.create(&copy, std::slice::from_ref(&again)).await;
            assert!(matches!(err, Err(StoreError::Concurrent)), "{err:?}");
            assert_eq!(store.find(inf.id).await.unwrap(), Some(inf));
            assert!(store.get(again.id).await.unwrap().is_none());

            // Owners are stored first (add_owner).
            let stranger = infrastructure(&[&owner("carol")], 0);
            let err = store.create(&stranger, &[]).await;
            assert!(matches!(err, Err(StoreError::EntityGone)), "{err:?}");
            assert_eq!(store.find(stranger.id).await.unwrap(), None);
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_change_writes_what_it_sets_and_its_jobs() {
        on_both(|store| async move {
            let (alice, bob) = (owner("alice"), owner("bob"));
            stored_owners(&store, &[&alice, &bob]).await;
            let mut inf = infrastructure(&[&alice], 0);
            store.create(&inf, &[]).await.unwrap();

            // Only VMs: the rest stays; a VM is replaced, another added.
            let mut running = vm(1, Some("node-1"));
            running.state = VmState::Running;
            let job = launch(inf.id, 2);
            let change = Change {
                vms: vec![running.clone(), vm(2, None)],
                ..Change::default()
            };
            assert!(
                store
                    .apply(inf.id, &change, std::slice::from_ref(&job))
                    .await
                    .unwrap()
            );
            inf.vms = vec![vm(0, Some("node-0")), running, vm(2, None)];
            assert_eq!(store.find(inf.id).await.unwrap(), Some(inf.clone()));
            assert!(store.get(job.id).await.unwrap().is_some());

            // Every field.
            let change = Change {
                radl: Some("new radl".to_owned()),
                contmsg: Some("contextualised".to_owned()),
                contextualized: Some(Some(true)),
                deleting: Some(true),
                owners: Some(vec![bob.clone(), alice.clone(), bob.clone()]),
                next_vm: Some(7),
                clouds: Some(vec![described()]),
                vms: Vec::new(),
            };
            assert!(store.apply(inf.id, &change, &[]).await.unwrap());
            inf.radl = "new radl".to_owned();
            inf.contmsg = "contextualised".to_owned();
            inf.contextualized = Some(true);
            inf.deleting = true;
            inf.owners = vec![bob.clone(), alice.clone()];
            inf.next_vm = 7;
            inf.clouds = vec![described()];
            assert_eq!(store.find(inf.id).await.unwrap(), Some(inf.clone()));

            // Back to unset.
            let change = Change {
                contextualized: Some(None),
                ..Change::default()
            };
            assert!(store.apply(inf.id, &change, &[]).await.unwrap());
            inf.contextualized = None;
            assert_eq!(store.find(inf.id).await.unwrap(), Some(inf));

            // No such infrastructure: nothing is written, jobs included.
            let job = launch(InfId::random(), 0);
            let change = Change {
                radl: Some("x".to_owned()),
                ..Change::default()
            };
            for change in [change, Change::default()] {
                let gone = InfId::random();
                let written = store.apply(gone, &change, std::slice::from_ref(&job));
                assert!(!written.await.unwrap());
                assert!(store.get(job.id).await.unwrap().is_none());
            }
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lists_owners_and_active_infrastructures() {
        on_both(|store| async move {
            let (alice, bob) = (owner("alice"), owner("bob"));
            let token = Owner {
                username: None,
                lookup: "token:abc".to_owned(),
                ..owner("t")
            };
            stored_owners(&store, &[&alice, &bob, &token, &alice]).await;
            let same_name = owner("alice");
            store.add_owner(&same_name).await.unwrap();
            let mut found = store.owners("user:alice").await.unwrap();
            found.sort_by_key(|o| o.id);
            let mut expected = vec![alice.clone(), same_name];
            expected.sort_by_key(|o| o.id);
            assert_eq!(found, expected);
            assert_eq!(
                store.owners("token:abc").await.unwrap(),
                std::slice::from_ref(&token)
            );
            assert_eq!(store.owners("user:nobody").await.unwrap(), []);

            let old = infrastructure(&[&alice], 0);
            let shared = infrastructure(&[&bob, &alice], 10);
            let mut idle = infrastructure(&[&alice], 20);
            idle.vms = vec![vm(0, None)];
            let mut removed = infrastructure(&[&bob], 30);
            removed.vms[0].removed = true;
            removed.vms.truncate(1);
            for inf in [&old, &shared, &idle, &removed] {
                store.create(inf, &[]).await.unwrap();
            }
            assert_eq!(
                store.list(alice.id).await.unwrap(),
                [idle.id, shared.id, old.id]
            );
            assert_eq!(store.list(bob.id).await.unwrap(), [removed.id, shared.id]);
            assert_eq!(store.list(token.id).await.unwrap(), []);
            assert_eq!(store.active().await.unwrap(), [old.id, shared.id]);

            let deleting = Change {
                deleting: Some(true),
                ..Change::default()
            };
            assert!(store.apply(old.id, &deleting, &[]).await.unwrap());
            assert_eq!(store.active().await.unwrap(), [shared.id]);

            // Forgetting takes the links, clouds and VMs along, not the owners.
            assert!(store.forget(shared.id).await.unwrap());
            assert!(!store.forget(shared.id).await.unwrap());
            assert_eq!(store.find(shared.id).await.unwrap(), None);
            assert_eq!(store.list(bob.id).await.unwrap(), [removed.id]);
            assert_eq!(store.active().await.unwrap(), []);
            assert_eq!(store.owners("user:bob").await.unwrap(), [bob]);
            // The id is free again.
            store.create(&shared, &[]).await.unwrap();
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn described_clouds_need_the_key_they_were_sealed_with() {
        for db in [TempDb::sqlite(), TempDb::postgres()] {
            let alice = owner("alice");
            let plain = db.store();
            plain.add_owner(&alice).await.unwrap();
            let mut configured = infrastructure(&[&alice], 0);
            configured.clouds.truncate(1);
            plain.create(&configured, &[]).await.unwrap();
            assert_eq!(plain.find(configured.id).await.unwrap(), Some(configured));

            let inf = infrastructure(&[&alice], 0);
            let err = plain.create(&inf, &[]).await;
            assert!(matches!(err, Err(StoreError::Unavailable(_))), "{err:?}");
            let sealed = db.store().with_sealer(Sealer::from_key_bytes(&[1; 32]));
            sealed.create(&inf, &[]).await.unwrap();

            let err = plain.find(inf.id).await;
            assert!(matches!(err, Err(StoreError::Unavailable(_))), "{err:?}");
            let other = db.store().with_sealer(Sealer::from_key_bytes(&[2; 32]));
            let err = other.find(inf.id).await;
            assert!(matches!(err, Err(StoreError::Corrupt(_))), "{err:?}");
            assert_eq!(sealed.find(inf.id).await.unwrap(), Some(inf));
        }
    }

    /// Reading an infrastructure is one statement on PostgreSQL, kept
    /// prepared by its connection; a few on SQLite, in one read transaction.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_is_one_prepared_statement_on_postgresql() {
        use std::sync::{Arc, Mutex};

        use diesel::connection::InstrumentationEvent;

        use crate::connection::{Backend, Manager};

        for (db, backend, statements) in [
            (TempDb::postgres(), Backend::Postgres, 1),
            (TempDb::sqlite(), Backend::Sqlite, 6),
        ] {
            let store = db.store().with_sealer(Sealer::from_key_bytes(&[3; 32]));
            let alice = owner("alice");
            store.add_owner(&alice).await.unwrap();
            let inf = infrastructure(&[&alice], 0);
            store.create(&inf, &[]).await.unwrap();

            let manager = Manager {
                url: db.url.clone(),
                backend,
                busy_timeout: std::time::Duration::from_secs(5),
            };
            let sealer = Sealer::from_key_bytes(&[3; 32]);
            let id = inf.id;
            tokio::task::spawn_blocking(move || {
                let mut conn = manager.open().unwrap();
                let log: Arc<Mutex<(Vec<String>, usize)>> = Arc::default();
                let sink = log.clone();
                conn.set_instrumentation(move |event: InstrumentationEvent<'_>| match event {
                    InstrumentationEvent::StartQuery { query, .. } => {
                        sink.lock().unwrap().0.push(query.to_string());
                    }
                    InstrumentationEvent::CacheQuery { .. } => sink.lock().unwrap().1 += 1,
                    _ => {}
                });
                for round in 0..2 {
                    *log.lock().unwrap() = Default::default();
                    let found = infrastructures::find(&mut conn, id, Some(&sealer)).unwrap();
                    assert_eq!(found.as_ref(), Some(&inf));
                    let (ran, cached) = &*log.lock().unwrap();
                    assert_eq!(ran.len(), statements, "{backend:?}: {ran:#?}");
                    if round == 1 {
                        assert_eq!(*cached, 0, "{backend:?} prepared again");
                    }
                }
            })
            .await
            .unwrap();
        }
    }
}
