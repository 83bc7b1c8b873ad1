//! Allocation under concurrency: no resource is handed out twice, within one
//! server or across two servers sharing one PostgreSQL database.

use std::collections::HashSet;
use std::sync::Arc;

use crate::helpers::{Db, TestApp, spawn_app, spawn_app_on};

async fn ip_manager_with_servers(app: &TestApp, servers: usize) {
    let reply = app
        .post(
            "/resourcemanager/ipmanager",
            &[
                ("name", "pool-ips"),
                ("baseip", "10.1.0.0"),
                ("netmask", "255.255.252.0"),
                ("gateway", "10.1.0.1"),
            ],
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let names: Vec<String> = (0..servers).map(|i| format!("host{i}")).collect();
    let form: Vec<(&str, &str)> = names.iter().map(|n| ("name", n.as_str())).collect();
    assert_eq!(app.post("/entity/basicserver", &form).await.status, 201);
}

async fn allocate_all(apps: &[Arc<TestApp>], servers: usize) -> Vec<serde_json::Value> {
    let mut tasks = Vec::new();
    for i in 0..servers {
        let app = apps[i % apps.len()].clone();
        tasks.push(tokio::spawn(async move {
            let host = format!("host{i}");
            let reply = app
                .post("/resourcemanager/ipmanager/pool-ips", &[("object", &host)])
                .await;
            assert_eq!(reply.status, 201, "allocation for {host}: {reply:?}");
            reply.json()["value"].clone()
        }));
    }
    let mut values = Vec::new();
    for task in tasks {
        values.push(task.await.expect("allocation task"));
    }
    values
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgres_never_hand_out_an_address_twice() {
    let first = Arc::new(spawn_app(Db::Postgres).await);
    let second = Arc::new(spawn_app_on(first.database.clone()).await);
    ip_manager_with_servers(&first, 200).await;

    let values = allocate_all(&[first.clone(), second.clone()], 200).await;

    let distinct: HashSet<String> = values.iter().map(ToString::to_string).collect();
    assert_eq!(distinct.len(), 200, "an address was handed out twice");
    let manager = second.get("/resourcemanager/ipmanager/pool-ips").await;
    assert_eq!(manager.json()["count"], serde_json::json!(200));
    let gateway =
        serde_json::json!(i64::from(u32::from(std::net::Ipv4Addr::new(10, 1, 0, 1))) - (1 << 31));
    assert!(!values.contains(&gateway), "the gateway was handed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_allocations_on_sqlite_are_distinct() {
    let app = Arc::new(spawn_app(Db::Sqlite).await);
    ip_manager_with_servers(&app, 100).await;
    let values = allocate_all(std::slice::from_ref(&app), 100).await;
    let distinct: HashSet<String> = values.iter().map(ToString::to_string).collect();
    assert_eq!(distinct.len(), 100, "an address was handed out twice");
}
