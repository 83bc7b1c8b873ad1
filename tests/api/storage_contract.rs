//! The storage ports' contract, checked on the adapter directly, on SQLite
//! and on PostgreSQL: what each method promises in `domain`'s `# Errors`
//! sections, atomicity first.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use strato_adapters::Store;
use strato_domain::StoreError;
use strato_domain::attribute::{
    AttributeChanges, AttributeFilter, AttributeKey, AttributeQuery, AttributeRepository,
    AttributeValue, ExactSlot, Guard, NewAttribute, NumberSpec,
};
use strato_domain::clock::{Clock, SystemClock};
use strato_domain::cloud::{CloudName, NewNode, NodeId};
use strato_domain::driver::Driver;
use strato_domain::entity::{Entity, EntityId, EntityName, EntityRepository, NewEntity};
use strato_domain::error::Rejection;
use strato_domain::job::{JobId, JobQueue, JobState, Lease, NewJob, Task, WorkerId};
use strato_domain::page::PageRequest;
use strato_domain::pool::{MembershipRule, PoolRepository};
use strato_domain::resource_manager::{
    AllocationError, AllocationTarget, Policy, ResourceRepository, properties_for,
};
use strato_tests::TestDatabase;

use crate::helpers::{Db, on_both_databases};

on_both_databases!(
    entities_are_created_whole_or_not_at_all,
    deleting_an_entity_takes_its_rows_along,
    attribute_changes_apply_together,
    numbers_follow_the_batch,
    attribute_queries_page_their_entities,
    pool_changes_are_all_or_nothing,
    allocations_are_unique_and_released_with_their_records,
    store_errors_say_what_went_wrong,
    large_values_are_stored_and_found,
    a_job_id_is_enqueued_once,
    claims_take_due_jobs_oldest_first,
    concurrent_claimants_never_share_a_job,
    expired_leases_are_claimed_again,
    only_the_lease_owner_settles_a_job,
    failed_attempts_are_retried_or_given_up,
    jobs_claimed_at_enqueue_are_running,
    job_payloads_read_back,
);

/// The store as each port, as the composition root hands it out.
#[derive(Clone)]
struct Ports {
    entities: Arc<dyn EntityRepository>,
    attributes: Arc<dyn AttributeRepository>,
    pools: Arc<dyn PoolRepository>,
    resources: Arc<dyn ResourceRepository>,
    jobs: Arc<dyn JobQueue>,
}

struct Fixture {
    ports: Ports,
    _database: Arc<TestDatabase>,
}

async fn store(db: Db) -> Fixture {
    let database = Arc::new(TestDatabase::create(db));
    let settings = database.settings();
    let store = tokio::task::spawn_blocking(move || Store::open(&settings))
        .await
        .unwrap()
        .unwrap();
    let store = Arc::new(store);
    Fixture {
        ports: Ports {
            entities: store.clone(),
            attributes: store.clone(),
            pools: store.clone(),
            resources: store.clone(),
            jobs: store,
        },
        _database: database,
    }
}

fn name(n: &str) -> EntityName {
    EntityName::parse(n).unwrap()
}

fn key(k: &str) -> AttributeKey {
    AttributeKey::parse(k).unwrap()
}

fn text_attr(k: &str, value: &str) -> NewAttribute {
    NewAttribute {
        key: key(k),
        subkey: None,
        number: NumberSpec::None,
        value: AttributeValue::String(value.into()),
    }
}

async fn server(ports: &Ports, n: &str) -> Entity {
    ports
        .entities
        .create(&[NewEntity::new(name(n), Driver::BasicServer)])
        .await
        .unwrap()
        .pop()
        .unwrap()
}

async fn entities_are_created_whole_or_not_at_all(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let first = server(&ports, "a").await;
    let batch = [
        NewEntity {
            name: name("b"),
            driver: Driver::Pool,
            attributes: vec![text_attr("k", "v")],
        },
        NewEntity::new(name("a"), Driver::Pool),
    ];
    assert!(matches!(
        ports.entities.create(&batch).await,
        Err(StoreError::NameTaken(taken)) if taken == name("a")
    ));
    assert_eq!(
        ports.entities.find(&name("b")).await.unwrap(),
        None,
        "a failed batch writes nothing"
    );
    assert_eq!(
        ports.entities.find(&name("a")).await.unwrap(),
        Some(first.clone())
    );

    let found = ports
        .entities
        .find_many(&[name("a"), name("zz")])
        .await
        .unwrap();
    assert_eq!(found, [first]);
    let page = ports
        .entities
        .list(
            &[Driver::BasicServer],
            Some(PageRequest::new(1, 1).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.pages), (1, Some(1)));
    let all = ports.entities.list(&[], None).await.unwrap();
    assert_eq!(
        all.items
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        ["clustometa", "a"]
    );
}

async fn deleting_an_entity_takes_its_rows_along(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let pool = ports
        .entities
        .create(&[NewEntity::new(name("p"), Driver::Pool)])
        .await
        .unwrap()
        .remove(0);
    let member = server(&ports, "m").await;
    ports
        .pools
        .insert(&pool, std::slice::from_ref(&member))
        .await
        .unwrap();
    let link = AttributeChanges {
        add: vec![NewAttribute {
            key: key("peer"),
            subkey: None,
            number: NumberSpec::None,
            value: AttributeValue::Relation(member.clone()),
        }],
        ..AttributeChanges::default()
    };
    ports.attributes.apply(pool.id, &link).await.unwrap();
    assert!(ports.entities.delete(member.id).await.unwrap());
    assert!(!ports.entities.delete(member.id).await.unwrap());
    let details = ports
        .entities
        .details(std::slice::from_ref(&pool))
        .await
        .unwrap();
    assert!(details[0].contents.is_empty());
    assert!(
        details[0].attributes.is_empty(),
        "relations to a deleted entity go with it"
    );
}

async fn attribute_changes_apply_together(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let host = server(&ports, "h").await;
    let setup = AttributeChanges {
        add: vec![
            text_attr("group", "web"),
            text_attr("ip", "x"),
            text_attr("colour", "red"),
        ],
        ..AttributeChanges::default()
    };
    ports.attributes.apply(host.id, &setup).await.unwrap();
    let changes = AttributeChanges {
        guard: None,
        remove: vec![AttributeFilter {
            key: Some(key("ip")),
            ..AttributeFilter::default()
        }],
        set: vec![(
            ExactSlot {
                key: key("group"),
                subkey: None,
                number: None,
            },
            AttributeValue::String("db".into()),
        )],
        add: vec![text_attr("owner", "ann")],
    };
    ports.attributes.apply(host.id, &changes).await.unwrap();
    let attrs = ports.attributes.list(host.id).await.unwrap();
    let seen: Vec<_> = attrs
        .iter()
        .map(|a| (a.key.as_str(), a.value.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("colour", AttributeValue::String("red".into())),
            ("group", AttributeValue::String("db".into())),
            ("owner", AttributeValue::String("ann".into())),
        ]
    );

    // A failing guard writes nothing and gives its reason.
    let refused = AttributeChanges {
        guard: Some(Guard(|attrs| {
            if attrs.iter().any(|a| a.key.as_str() == "owner") {
                Err(Rejection::AssignedTo("ann".into()))
            } else {
                Ok(())
            }
        })),
        add: vec![text_attr("owner", "bob")],
        ..AttributeChanges::default()
    };
    assert!(matches!(
        ports.attributes.apply(host.id, &refused).await,
        Err(StoreError::Refused(Rejection::AssignedTo(user))) if user == "ann"
    ));
    assert_eq!(ports.attributes.list(host.id).await.unwrap().len(), 3);

    let gone = EntityId(i64::MAX);
    assert!(matches!(
        ports.attributes.apply(gone, &setup).await,
        Err(StoreError::EntityGone)
    ));
}

async fn numbers_follow_the_batch(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let host = server(&ports, "h").await;
    let numbered = |k: &str, v: &str, number| NewAttribute {
        number,
        ..text_attr(k, v)
    };
    let batch = AttributeChanges {
        add: vec![
            numbered("disk", "sda", NumberSpec::Next),
            numbered("disk", "sda-label", NumberSpec::WithPrevious),
            numbered("disk", "sdb", NumberSpec::Next),
        ],
        ..AttributeChanges::default()
    };
    ports.attributes.apply(host.id, &batch).await.unwrap();
    let later = AttributeChanges {
        add: vec![numbered("disk", "sdc", NumberSpec::Next)],
        ..AttributeChanges::default()
    };
    ports.attributes.apply(host.id, &later).await.unwrap();
    let numbers: Vec<_> = ports
        .attributes
        .list(host.id)
        .await
        .unwrap()
        .iter()
        .map(|a| a.number)
        .collect();
    assert_eq!(numbers, [Some(0), Some(0), Some(1), Some(2)]);
}

async fn attribute_queries_page_their_entities(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    for n in ["s1", "s2", "s3"] {
        let host = server(&ports, n).await;
        let rack = AttributeChanges {
            add: vec![text_attr("rack", "r1"), text_attr("rack", "r1")],
            ..AttributeChanges::default()
        };
        ports.attributes.apply(host.id, &rack).await.unwrap();
    }
    let query = AttributeQuery {
        key: key("rack"),
        subkey: None,
        value: Some("r1".into()),
    };
    let page = ports
        .attributes
        .find_entities(&query, Some(PageRequest::new(2, 2).unwrap()))
        .await
        .unwrap();
    assert_eq!(page.pages, Some(2), "each entity counts once");
    assert_eq!(
        page.items
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        ["s3"]
    );
}

async fn pool_changes_are_all_or_nothing(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let pool = ports
        .entities
        .create(&[NewEntity::new(name("p"), Driver::Pool)])
        .await
        .unwrap()
        .remove(0);
    let (a, b) = (server(&ports, "a").await, server(&ports, "b").await);
    ports
        .pools
        .insert(&pool, std::slice::from_ref(&b))
        .await
        .unwrap();
    let refused = ports.pools.insert(&pool, &[a.clone(), b.clone()]).await;
    assert!(matches!(
        refused,
        Err(StoreError::Refused(Rejection::Membership(rule @ MembershipRule::AlreadyIn { .. })))
            if rule.to_string() == "\"b\" is already in \"p\""
    ));
    let contents = ports.pools.contents(&[pool.id]).await.unwrap();
    let held: Vec<_> = contents
        .iter()
        .map(|m| (m.entity.name.as_str(), m.holds_others))
        .collect();
    assert_eq!(held, [("b", false)]);
    // A pool in a pool says it holds others.
    let outer = ports
        .entities
        .create(&[NewEntity::new(name("outer"), Driver::Pool)])
        .await
        .unwrap()
        .remove(0);
    ports
        .pools
        .insert(&outer, std::slice::from_ref(&pool))
        .await
        .unwrap();
    let contents = ports.pools.contents(&[outer.id]).await.unwrap();
    assert!(contents[0].holds_others);
    assert!(matches!(
        ports.pools.remove(pool.id, &[b.id, a.id]).await,
        Err(StoreError::NotAMember)
    ));
    assert_eq!(ports.pools.parents(&[b.id]).await.unwrap(), [(b.id, pool)]);

    // Membership rules hold inside storage: one unique pool per entity.
    let unique = |n: &str| NewEntity::new(name(n), Driver::UniquePool);
    let pools = ports
        .entities
        .create(&[unique("u1"), unique("u2")])
        .await
        .unwrap();
    ports
        .pools
        .insert(&pools[0], std::slice::from_ref(&a))
        .await
        .unwrap();
    assert!(matches!(
        ports
            .pools
            .insert(&pools[1], std::slice::from_ref(&a))
            .await,
        Err(StoreError::Refused(Rejection::Membership(
            MembershipRule::InUniquePool { .. }
        )))
    ));
}

async fn allocations_are_unique_and_released_with_their_records(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let props = [
        ("baseip".to_owned(), "10.0.0.0".to_owned()),
        ("netmask".to_owned(), "255.255.255.252".to_owned()),
    ];
    let manager = NewEntity {
        name: name("ips"),
        driver: Driver::IpManager,
        attributes: properties_for(Driver::IpManager, &props).unwrap(),
    };
    let manager = ports.entities.create(&[manager]).await.unwrap().remove(0);
    let host = server(&ports, "h").await;
    let allocate = |requested: Option<&str>| {
        let (ports, manager, host) = (ports.clone(), manager.clone(), host.clone());
        let policy = Policy::new(manager.clone(), requested.map(str::to_owned));
        async move {
            ports
                .resources
                .allocate(manager.id, AllocationTarget::Existing(host), policy)
                .await
        }
    };
    assert_eq!(allocate(None).await.unwrap().resource, "10.0.0.1");
    assert!(matches!(
        allocate(Some("10.0.0.1")).await,
        Err(AllocationError::Taken(_))
    ));
    assert_eq!(allocate(None).await.unwrap().resource, "10.0.0.2");
    assert!(matches!(
        allocate(None).await,
        Err(AllocationError::Exhausted)
    ));
    assert_eq!(ports.attributes.list(host.id).await.unwrap().len(), 4);

    assert_eq!(
        ports
            .resources
            .deallocate(manager.id, host.id, Some("10.0.0.1".into()))
            .await
            .unwrap(),
        1
    );
    let left: Vec<_> = ports
        .attributes
        .list(host.id)
        .await
        .unwrap()
        .iter()
        .map(|a| a.number)
        .collect();
    assert_eq!(
        left,
        [Some(1), Some(1)],
        "only the released address's records go"
    );
    let details = ports
        .entities
        .details(std::slice::from_ref(&manager))
        .await
        .unwrap();
    assert_eq!(details[0].allocations, Some(1));
    assert_eq!(
        ports
            .resources
            .deallocate(manager.id, host.id, None)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        ports
            .resources
            .deallocate(manager.id, host.id, None)
            .await
            .unwrap(),
        0
    );
}

async fn store_errors_say_what_went_wrong(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let host = server(&ports, "h").await;
    let gone = server(&ports, "gone").await;
    assert!(ports.entities.delete(gone.id).await.unwrap());

    // A relation to an entity deleted meanwhile.
    let link = AttributeChanges {
        add: vec![NewAttribute {
            key: key("peer"),
            subkey: None,
            number: NumberSpec::None,
            value: AttributeValue::Relation(gone.clone()),
        }],
        ..AttributeChanges::default()
    };
    assert!(matches!(
        ports.attributes.apply(host.id, &link).await,
        Err(StoreError::EntityGone)
    ));
    // A member deleted meanwhile.
    let pool = ports
        .entities
        .create(&[NewEntity::new(name("p"), Driver::Pool)])
        .await
        .unwrap()
        .remove(0);
    assert!(matches!(
        ports
            .pools
            .insert(&pool, &[host.clone(), gone.clone()])
            .await,
        Err(StoreError::EntityGone)
    ));
    assert!(ports.pools.contents(&[pool.id]).await.unwrap().is_empty());
    // A manager deleted meanwhile.
    let policy = Policy::new(gone.clone(), Some("x".into()));
    assert!(matches!(
        ports
            .resources
            .allocate(gone.id, AllocationTarget::Existing(host.clone()), policy)
            .await,
        Err(AllocationError::Store(StoreError::EntityGone))
    ));

    // Every number under a key is used.
    let last = AttributeChanges {
        add: vec![NewAttribute {
            number: NumberSpec::Exact(i64::MAX),
            ..text_attr("slot", "last")
        }],
        ..AttributeChanges::default()
    };
    ports.attributes.apply(host.id, &last).await.unwrap();
    let next = AttributeChanges {
        add: vec![
            text_attr("other", "x"),
            NewAttribute {
                number: NumberSpec::Next,
                ..text_attr("slot", "one more")
            },
        ],
        ..AttributeChanges::default()
    };
    assert!(matches!(
        ports.attributes.apply(host.id, &next).await,
        Err(StoreError::NumbersExhausted(k)) if k == key("slot")
    ));
    assert_eq!(
        ports.attributes.list(host.id).await.unwrap().len(),
        1,
        "nothing of the batch is written"
    );

    // A name manager asked for a name that an entity has.
    let names = NewEntity {
        name: name("names"),
        driver: Driver::SimpleEntityNameManager,
        attributes: properties_for(
            Driver::SimpleEntityNameManager,
            &[("basename".to_owned(), "s".to_owned())],
        )
        .unwrap(),
    };
    let names = ports.entities.create(&[names]).await.unwrap().remove(0);
    let create = |requested: Option<&str>| {
        let (ports, names) = (ports.clone(), names.clone());
        let policy = Policy::new(names.clone(), requested.map(str::to_owned));
        async move {
            ports
                .resources
                .allocate(
                    names.id,
                    AllocationTarget::Create(Driver::BasicServer),
                    policy,
                )
                .await
        }
    };
    assert!(matches!(
        create(Some("h")).await,
        Err(AllocationError::NameTaken { driver: Driver::BasicServer, name: taken })
            if taken == name("h")
    ));
    // Unasked, it skips names taken by hand.
    server(&ports, "s01").await;
    assert_eq!(create(None).await.unwrap().thing.name, name("s02"));
    assert!(matches!(
        create(Some("s02")).await,
        Err(AllocationError::Taken(resource)) if resource == "s02"
    ));
}

async fn large_values_are_stored_and_found(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let big = "x".repeat(100 * 1024);
    let huge = "é".repeat(512 * 1024); // 1 MiB of UTF-8
    // Shares the indexed prefix with `big`, and differs after it.
    let lookalike = format!("{}y", "x".repeat(100 * 1024 - 1));
    for (host, value) in [("big", &big), ("huge", &huge), ("lookalike", &lookalike)] {
        let host = server(&ports, host).await;
        let changes = AttributeChanges {
            add: vec![
                text_attr("blob", value),
                NewAttribute {
                    subkey: Some(key("part")),
                    ..text_attr("blob", value)
                },
            ],
            ..AttributeChanges::default()
        };
        ports.attributes.apply(host.id, &changes).await.unwrap();
        let stored = ports.attributes.list(host.id).await.unwrap();
        assert_eq!(stored[0].value, AttributeValue::String(value.clone()));
    }
    for (value, holder) in [(&big, "big"), (&huge, "huge"), (&lookalike, "lookalike")] {
        for subkey in [None, Some(key("part"))] {
            let query = AttributeQuery {
                key: key("blob"),
                subkey,
                value: Some(value.clone()),
            };
            let found = ports.attributes.find_entities(&query, None).await.unwrap();
            assert_eq!(
                found
                    .items
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>(),
                [holder]
            );
        }
    }
}

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

fn worker(name: &str) -> WorkerId {
    WorkerId::new(name)
}

fn reconcile(cloud: &str) -> Task {
    Task::Reconcile {
        cloud: CloudName::parse(cloud).unwrap(),
    }
}

/// A queued job due at midnight today (whole seconds, which both databases
/// read back exactly); tests place other times relative to its `run_after`.
fn queued(task: Task) -> NewJob {
    NewJob {
        id: JobId::random(),
        task,
        max_attempts: 3,
        run_after: SystemClock.now().date().and_hms_opt(0, 0, 0).unwrap(),
        claimed: None,
    }
}

async fn a_job_id_is_enqueued_once(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let first = queued(reconcile("a"));
    assert!(ports.jobs.enqueue(&first).await.unwrap());
    let again = NewJob {
        task: reconcile("b"),
        ..first.clone()
    };
    assert!(!ports.jobs.enqueue(&again).await.unwrap());
    let job = ports.jobs.get(first.id).await.unwrap().unwrap();
    assert_eq!(job.task, first.task, "the first one stays");
    assert_eq!(
        (job.state, job.attempts, job.max_attempts),
        (JobState::Queued, 0, 3)
    );
    assert_eq!(
        (job.run_after, job.lease, job.last_error),
        (first.run_after, None, None)
    );
    assert!(job.created <= job.updated);
    assert_eq!(ports.jobs.get(JobId::random()).await.unwrap(), None);
}

async fn claims_take_due_jobs_oldest_first(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let b = queued(reconcile("b"));
    let t0 = b.run_after;
    let a = NewJob {
        run_after: t0 + secs(10),
        ..queued(reconcile("a"))
    };
    let c = NewJob {
        run_after: t0 + secs(5),
        ..queued(reconcile("c"))
    };
    // Due together: the older one first.
    let d = NewJob {
        run_after: t0 + secs(5),
        ..queued(reconcile("d"))
    };
    for job in [&a, &b, &c, &d] {
        assert!(ports.jobs.enqueue(job).await.unwrap());
    }
    let lease = Lease {
        owner: worker("w1"),
        expires: t0 + secs(100),
    };
    let mut claimed = Vec::new();
    while let Some(job) = ports.jobs.claim(&lease, t0 + secs(7)).await.unwrap() {
        assert_eq!(job.state, JobState::Running);
        assert_eq!(job.attempts, 1);
        assert_eq!(job.lease.as_ref(), Some(&lease));
        assert_eq!(job.updated, t0 + secs(7));
        claimed.push(job.id);
    }
    assert_eq!(claimed, [b.id, c.id, d.id], "a is not due yet");
    let last = ports.jobs.claim(&lease, t0 + secs(10)).await.unwrap();
    assert_eq!(last.map(|j| j.id), Some(a.id));
}

async fn concurrent_claimants_never_share_a_job(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let mut ids = HashSet::new();
    let mut t0 = None;
    for n in 0..5 {
        let job = queued(reconcile(&format!("c{n}")));
        t0.get_or_insert(job.run_after);
        ids.insert(job.id);
        assert!(ports.jobs.enqueue(&job).await.unwrap());
    }
    let t0 = t0.unwrap();
    let claims: Vec<_> = (0..8)
        .map(|n| {
            let jobs = ports.jobs.clone();
            let lease = Lease {
                owner: worker(&format!("w{n}")),
                expires: t0 + secs(60),
            };
            tokio::spawn(async move { (lease.clone(), jobs.claim(&lease, t0).await) })
        })
        .collect();
    let mut claimed = Vec::new();
    for claim in claims {
        let (lease, job) = claim.await.unwrap();
        if let Some(job) = job.unwrap() {
            assert_eq!(job.lease, Some(lease));
            claimed.push(job.id);
        }
    }
    assert_eq!(claimed.len(), 5, "each job once: {claimed:?}");
    assert_eq!(claimed.into_iter().collect::<HashSet<_>>(), ids);
    for id in ids {
        assert_eq!(ports.jobs.get(id).await.unwrap().unwrap().attempts, 1);
    }
}

async fn expired_leases_are_claimed_again(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let job = queued(reconcile("a"));
    let t0 = job.run_after;
    ports.jobs.enqueue(&job).await.unwrap();
    let first = Lease {
        owner: worker("w1"),
        expires: t0 + secs(60),
    };
    let second = Lease {
        owner: worker("w2"),
        expires: t0 + secs(120),
    };
    let claimed = ports.jobs.claim(&first, t0).await.unwrap().unwrap();
    assert_eq!(claimed.attempts, 1);
    for now in [t0 + secs(30), t0 + secs(60)] {
        assert_eq!(
            ports.jobs.claim(&second, now).await.unwrap(),
            None,
            "the lease holds until it expires"
        );
    }
    let again = ports
        .jobs
        .claim(&second, t0 + secs(61))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, job.id);
    assert_eq!(again.attempts, 2);
    assert_eq!(again.lease, Some(second.clone()));
    // The first worker lost it.
    assert!(!ports.jobs.heartbeat(job.id, &first).await.unwrap());
    assert!(
        !ports
            .jobs
            .finish(job.id, &first.owner, t0 + secs(62))
            .await
            .unwrap()
    );
    assert_eq!(ports.jobs.get(job.id).await.unwrap().unwrap(), again);
}

async fn only_the_lease_owner_settles_a_job(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let job = queued(reconcile("a"));
    let t0 = job.run_after;
    ports.jobs.enqueue(&job).await.unwrap();
    let owner = Lease {
        owner: worker("w1"),
        expires: t0 + secs(60),
    };
    let other = Lease {
        owner: worker("w2"),
        expires: t0 + secs(600),
    };
    assert!(
        !ports.jobs.heartbeat(job.id, &owner).await.unwrap(),
        "a queued job has no lease to extend"
    );
    let claimed = ports.jobs.claim(&owner, t0).await.unwrap().unwrap();
    let later = t0 + secs(1);
    assert!(!ports.jobs.heartbeat(job.id, &other).await.unwrap());
    assert!(
        !ports
            .jobs
            .finish(job.id, &other.owner, later)
            .await
            .unwrap()
    );
    assert!(
        !ports
            .jobs
            .fail(job.id, &other.owner, later, "no", None)
            .await
            .unwrap()
    );
    assert!(
        !ports
            .jobs
            .finish(JobId::random(), &owner.owner, later)
            .await
            .unwrap()
    );
    assert_eq!(
        ports.jobs.get(job.id).await.unwrap().unwrap(),
        claimed,
        "nothing changed"
    );

    let extended = Lease {
        expires: t0 + secs(120),
        ..owner.clone()
    };
    assert!(ports.jobs.heartbeat(job.id, &extended).await.unwrap());
    let job_now = ports.jobs.get(job.id).await.unwrap().unwrap();
    assert_eq!(job_now.lease, Some(extended.clone()));
    assert!(
        ports
            .jobs
            .finish(job.id, &owner.owner, later)
            .await
            .unwrap()
    );
    let done = ports.jobs.get(job.id).await.unwrap().unwrap();
    assert_eq!(
        (done.state, done.lease, done.updated),
        (JobState::Succeeded, None, later)
    );
    assert!(
        !ports
            .jobs
            .finish(job.id, &owner.owner, later)
            .await
            .unwrap()
    );
    assert!(!ports.jobs.heartbeat(job.id, &extended).await.unwrap());
    assert_eq!(
        ports.jobs.claim(&other, t0 + secs(1000)).await.unwrap(),
        None
    );
}

async fn failed_attempts_are_retried_or_given_up(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let job = queued(reconcile("a"));
    let t0 = job.run_after;
    ports.jobs.enqueue(&job).await.unwrap();
    let lease = Lease {
        owner: worker("w1"),
        expires: t0 + secs(1000),
    };
    ports.jobs.claim(&lease, t0).await.unwrap().unwrap();
    let retry_at = t0 + secs(60);
    assert!(
        ports
            .jobs
            .fail(job.id, &lease.owner, t0 + secs(1), "boom", Some(retry_at))
            .await
            .unwrap()
    );
    let requeued = ports.jobs.get(job.id).await.unwrap().unwrap();
    assert_eq!(
        (
            requeued.state,
            requeued.run_after,
            requeued.lease,
            requeued.last_error.as_deref(),
            requeued.attempts
        ),
        (JobState::Queued, retry_at, None, Some("boom"), 1)
    );
    assert_eq!(
        ports.jobs.claim(&lease, t0 + secs(59)).await.unwrap(),
        None,
        "not before retry_at"
    );
    let retried = ports.jobs.claim(&lease, retry_at).await.unwrap().unwrap();
    assert_eq!((retried.id, retried.attempts), (job.id, 2));

    assert!(
        ports
            .jobs
            .fail(job.id, &lease.owner, t0 + secs(70), "bust", None)
            .await
            .unwrap()
    );
    let failed = ports.jobs.get(job.id).await.unwrap().unwrap();
    assert_eq!(
        (failed.state, failed.lease, failed.last_error.as_deref()),
        (JobState::Failed, None, Some("bust"))
    );
    assert_eq!(
        ports.jobs.claim(&lease, t0 + secs(10_000)).await.unwrap(),
        None
    );
    assert!(
        !ports
            .jobs
            .fail(job.id, &lease.owner, t0 + secs(71), "again", None)
            .await
            .unwrap()
    );
}

async fn jobs_claimed_at_enqueue_are_running(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let template = queued(reconcile("a"));
    let t0 = template.run_after;
    let lease = Lease {
        owner: worker("request"),
        expires: t0 + secs(60),
    };
    let job = NewJob {
        claimed: Some(lease.clone()),
        ..template
    };
    assert!(ports.jobs.enqueue(&job).await.unwrap());
    let stored = ports.jobs.get(job.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.attempts, stored.lease),
        (JobState::Running, 1, Some(lease.clone()))
    );
    let other = Lease {
        owner: worker("w2"),
        expires: t0 + secs(600),
    };
    assert_eq!(ports.jobs.claim(&other, t0 + secs(30)).await.unwrap(), None);
    assert!(ports.jobs.heartbeat(job.id, &lease).await.unwrap());
    let reclaimed = ports
        .jobs
        .claim(&other, t0 + secs(61))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((reclaimed.id, reclaimed.attempts), (job.id, 2));
}

async fn job_payloads_read_back(db: Db) {
    let Fixture { ports, _database } = store(db).await;
    let cloud = CloudName::parse("lab").unwrap();
    let node = NewNode {
        name: "web1".into(),
        size: "small".into(),
        image: "debian-12".into(),
        location: Some("eu-1".into()),
        key_name: None,
        metadata: [
            ("tags".to_owned(), serde_json::json!(["a", 1, true])),
            (
                "owner".to_owned(),
                serde_json::json!({"name": "ann", "id": null}),
            ),
        ]
        .into(),
    };
    for task in [
        Task::StartNode {
            cloud: cloud.clone(),
            node,
        },
        Task::StopNode {
            cloud: cloud.clone(),
            node: NodeId::new("node-7"),
        },
        Task::Reconcile { cloud },
    ] {
        let job = queued(task);
        assert!(ports.jobs.enqueue(&job).await.unwrap());
        let stored = ports.jobs.get(job.id).await.unwrap().unwrap();
        assert_eq!((stored.id, stored.task), (job.id, job.task));
    }
}
