//! The storage ports' contract, checked on the adapter directly, on SQLite
//! and on PostgreSQL: what each method promises in `domain`'s `# Errors`
//! sections, atomicity first.

use std::sync::Arc;

use strato_adapters::Store;
use strato_domain::StoreError;
use strato_domain::attribute::{
    AttributeChanges, AttributeFilter, AttributeKey, AttributeQuery, AttributeValue, ExactSlot,
    Guard, NewAttribute, NumberSpec,
};
use strato_domain::driver::Driver;
use strato_domain::entity::{Entity, EntityId, EntityName, NewEntity};
use strato_domain::page::PageRequest;
use strato_domain::resource_manager::{AllocationError, AllocationTarget, Policy, properties_for};
use strato_domain::service::Ports;
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
);

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
    Fixture {
        ports: store.ports(),
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
        Err(StoreError::Conflict(_))
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
                Err("owned".into())
            } else {
                Ok(())
            }
        })),
        add: vec![text_attr("owner", "bob")],
        ..AttributeChanges::default()
    };
    assert!(
        matches!(ports.attributes.apply(host.id, &refused).await, Err(StoreError::Conflict(r)) if r == "owned")
    );
    assert_eq!(ports.attributes.list(host.id).await.unwrap().len(), 3);

    let gone = EntityId(i64::MAX);
    assert!(matches!(
        ports.attributes.apply(gone, &setup).await,
        Err(StoreError::NotFound(_))
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
    assert!(
        matches!(refused, Err(StoreError::Conflict(rule)) if rule == "\"b\" is already in \"p\"")
    );
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
        Err(StoreError::NotFound(_))
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
        Err(StoreError::Conflict(_))
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
