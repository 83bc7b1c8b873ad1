//! Operations: health, persistence across restarts.

use serde_json::json;

use crate::helpers::{Db, assert_json, on_both_databases, spawn_app, spawn_app_on};

on_both_databases!(health_reports_the_database, data_survives_a_restart);

async fn health_reports_the_database(db: Db) {
    let app = spawn_app(db).await;
    let reply = app.get("/healthz").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"status": "ok"}));
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
}

async fn data_survives_a_restart(db: Db) {
    let app = spawn_app(db).await;
    app.load_fixture().await;
    app.post(
        "/resourcemanager/ipmanager",
        &[
            ("name", "ips"),
            ("baseip", "10.9.0.0"),
            ("netmask", "255.255.255.0"),
        ],
    )
    .await;
    app.post(
        "/resourcemanager/ipmanager/ips",
        &[("object", "testserver1")],
    )
    .await;
    app.stop().await;

    let again = spawn_app_on(app.database.clone()).await;
    let server = again.get("/by-name/testserver1").await;
    assert_eq!(server.json()["ips"], json!(["10.9.0.1"]));
    assert_json(
        &again
            .post(
                "/resourcemanager/ipmanager/ips",
                &[("object", "testserver2")],
            )
            .await,
        201,
        json!({"datatype": "int", "key": "ip", "number": 0, "subkey": null, "value": i64::from(u32::from(std::net::Ipv4Addr::new(10, 9, 0, 2))) - (1 << 31)}),
    );
}

#[tokio::test]
async fn health_fails_when_postgres_goes_away() {
    let app = spawn_app(Db::Postgres).await;
    assert_eq!(app.get("/healthz").await.status, 200);
    app.database
        .admin_sql("DROP DATABASE {db} WITH (FORCE)")
        .await;
    let reply = app.get("/healthz").await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.json(), json!({"status": "unavailable"}));
}

#[tokio::test]
async fn connections_the_database_closed_are_replaced() {
    let app = spawn_app(Db::Postgres).await;
    assert_eq!(app.get("/healthz").await.status, 200);
    app.database
        .admin_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'")
        .await;
    // Each dead connection fails one request at most, then the pool opens new ones.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(app.get("/healthz").await.status);
    }
    assert!(
        statuses.iter().rev().take(3).all(|s| *s == 200),
        "{statuses:?}"
    );
    assert_eq!(app.get("/by-name/clustometa").await.status, 200);
}
