//! The storage adapter's composite reads, on SQLite and on PostgreSQL (where
//! each is one statement): an entity's expanded view and a pool's contents
//! hold every part, in the order the ports promise.

use std::sync::Arc;

use strato_adapters::Store;
use strato_domain::attribute::{AttributeKey, AttributeValue, NewAttribute, NumberSpec};
use strato_domain::driver::Driver;
use strato_domain::entity::{Entity, EntityName, EntityRepository, NewEntity};
use strato_domain::pool::PoolRepository;
use strato_domain::resource_manager::{
    AllocationTarget, Policy, ResourceRepository, properties_for,
};
use strato_tests::TestDatabase;

use crate::helpers::{Db, on_both_databases};

on_both_databases!(
    expanded_views_hold_every_part_in_order,
    pool_contents_say_which_members_hold_others,
);

struct Fixture {
    store: Arc<Store>,
    _database: Arc<TestDatabase>,
}

async fn store(db: Db) -> Fixture {
    let database = Arc::new(TestDatabase::create(db));
    let settings = database.settings();
    let store = tokio::task::spawn_blocking(move || Store::open(&settings))
        .await
        .unwrap()
        .unwrap();
    Fixture {
        store: Arc::new(store),
        _database: database,
    }
}

fn name(n: &str) -> EntityName {
    EntityName::parse(n).unwrap()
}

fn attr(key: &str, number: Option<i64>, value: AttributeValue) -> NewAttribute {
    NewAttribute {
        key: AttributeKey::parse(key).unwrap(),
        subkey: None,
        number: number.map_or(NumberSpec::None, NumberSpec::Exact),
        value,
    }
}

async fn create(store: &Store, n: &str, driver: Driver, attributes: Vec<NewAttribute>) -> Entity {
    let new = NewEntity {
        name: name(n),
        driver,
        attributes,
    };
    EntityRepository::create(store, &[new])
        .await
        .unwrap()
        .remove(0)
}

fn paths(list: &[Entity]) -> Vec<String> {
    list.iter().map(Entity::path).collect()
}

async fn expanded_views_hold_every_part_in_order(db: Db) {
    let Fixture { store, _database } = store(db).await;
    let target = create(&store, "target", Driver::BasicServer, vec![]).await;
    let text = |s: &str| AttributeValue::String(s.into());
    // Keys sort bytewise ("B" before "a"), then by age within a key.
    let server = create(
        &store,
        "s1",
        Driver::BasicServer,
        vec![
            attr("a", Some(1), text("second a")),
            attr("b", None, text("b")),
            attr("a", Some(0), text("first a")),
            attr("B", None, AttributeValue::Int(7)),
            attr("link", None, AttributeValue::Relation(target.clone())),
        ],
    )
    .await;
    let (p1, p2) = (
        create(&store, "p1", Driver::Pool, vec![]).await,
        create(&store, "p2", Driver::Pool, vec![]).await,
    );
    PoolRepository::insert(&*store, &p2, std::slice::from_ref(&server))
        .await
        .unwrap();
    PoolRepository::insert(&*store, &p1, &[server.clone(), target.clone()])
        .await
        .unwrap();
    let props = [
        ("baseip".to_owned(), "10.0.0.0".to_owned()),
        ("netmask".to_owned(), "255.255.255.0".to_owned()),
    ];
    let manager = create(
        &store,
        "ips",
        Driver::IpManager,
        properties_for(Driver::IpManager, &props).unwrap(),
    )
    .await;
    let idle = create(
        &store,
        "idle",
        Driver::IpManager,
        properties_for(Driver::IpManager, &props).unwrap(),
    )
    .await;
    for _ in 0..3 {
        let policy = Policy::new(manager.clone(), None);
        store
            .allocate(
                manager.id,
                AllocationTarget::Existing(target.clone()),
                policy,
            )
            .await
            .unwrap();
    }

    let shown = store.find_details(&name("s1")).await.unwrap().unwrap();
    assert_eq!(shown.entity, server);
    let attributes: Vec<(String, Option<i64>)> = shown
        .attributes
        .iter()
        .map(|a| (a.key.as_str().to_owned(), a.number))
        .collect();
    assert_eq!(
        attributes,
        [
            ("B".to_owned(), None),
            ("a".to_owned(), Some(1)),
            ("a".to_owned(), Some(0)),
            ("b".to_owned(), None),
            ("link".to_owned(), None),
        ]
    );
    assert_eq!(
        shown.attributes[4].value,
        AttributeValue::Relation(target.clone())
    );
    assert_eq!(shown.attributes[0].value, AttributeValue::Int(7));
    assert_eq!(paths(&shown.parents), ["/pool/p2", "/pool/p1"]);
    assert!(shown.contents.is_empty());
    assert_eq!(shown.allocations, None);

    let pool = store.find_details(&name("p1")).await.unwrap().unwrap();
    assert_eq!(
        paths(&pool.contents),
        ["/basicserver/s1", "/basicserver/target"]
    );
    assert!(pool.parents.is_empty() && pool.attributes.is_empty());

    let managers = store
        .details(&[idle.clone(), manager.clone()])
        .await
        .unwrap();
    assert_eq!(managers[0].allocations, Some(0));
    assert_eq!(managers[1].allocations, Some(3));

    // In the order given, the same views as one by one.
    let list = store
        .details(&[p1.clone(), server.clone(), target.clone()])
        .await
        .unwrap();
    assert_eq!(list[0], pool);
    assert_eq!(list[1], shown);
    let allocated = store.find_details(&name("target")).await.unwrap().unwrap();
    assert_eq!(list[2], allocated);
    assert_eq!(paths(&allocated.parents), ["/pool/p1"]);
    assert!(!allocated.attributes.is_empty(), "the allocations' records");

    assert_eq!(store.find_details(&name("nobody")).await.unwrap(), None);
    assert!(store.details(&[]).await.unwrap().is_empty());
}

async fn pool_contents_say_which_members_hold_others(db: Db) {
    let Fixture { store, _database } = store(db).await;
    let outer = create(&store, "outer", Driver::Pool, vec![]).await;
    let inner = create(&store, "inner", Driver::Pool, vec![]).await;
    let empty = create(&store, "empty", Driver::Pool, vec![]).await;
    let (s1, s2) = (
        create(&store, "s1", Driver::BasicServer, vec![]).await,
        create(&store, "s2", Driver::BasicServer, vec![]).await,
    );
    PoolRepository::insert(&*store, &inner, std::slice::from_ref(&s2))
        .await
        .unwrap();
    PoolRepository::insert(&*store, &outer, &[s1.clone(), inner.clone(), empty.clone()])
        .await
        .unwrap();

    let members = store.contents(&[outer.id, inner.id]).await.unwrap();
    let found: Vec<(String, String, bool)> = members
        .iter()
        .map(|m| {
            let pool = if m.pool == outer.id { "outer" } else { "inner" };
            (pool.to_owned(), m.entity.path(), m.holds_others)
        })
        .collect();
    // Oldest membership first, across the pools asked for.
    assert_eq!(
        found,
        [
            ("inner".to_owned(), "/basicserver/s2".to_owned(), false),
            ("outer".to_owned(), "/basicserver/s1".to_owned(), false),
            ("outer".to_owned(), "/pool/inner".to_owned(), true),
            ("outer".to_owned(), "/pool/empty".to_owned(), false),
        ]
    );
    assert!(store.contents(&[empty.id]).await.unwrap().is_empty());
    assert!(store.contents(&[]).await.unwrap().is_empty());
    // A pool asked for twice counts once.
    assert_eq!(
        store.contents(&[inner.id, inner.id]).await.unwrap().len(),
        1
    );
}
