//! /entity: list, create, show, insert/remove and delete.

use serde_json::json;

use crate::helpers::{Db, app_with_fixture, assert_error, assert_json, on_both_databases};

on_both_databases!(
    entities_are_listed_by_driver,
    creating_existing_entities_warns,
    entities_are_shown_with_their_driver,
    devices_are_inserted_into_and_removed_from_pools,
    pool_rules_are_kept,
    deleting_an_entity_removes_it,
);

async fn entities_are_listed_by_driver(db: Db) {
    let app = app_with_fixture(db).await;
    assert_json(
        &app.get("/entity/").await,
        200,
        json!([
            "/clustometa/clustometa",
            "/pool/emptypool",
            "/pool/multipool",
            "/pool/singlepool",
            "/simpleentitynamemanager/testnames",
            "/basicserver/testserver1",
            "/basicserver/testserver2",
        ]),
    );
    assert_json(
        &app.get("/entity/clustometa").await,
        200,
        json!(["/clustometa/clustometa"]),
    );
    assert_error(
        &app.get("/entity/nondriver").await,
        412,
        "The requested driver \"nondriver\" does not exist",
    );
    let page = app
        .get_with(
            "/entity/pool",
            &[],
            &[("Clusto-Page", "2"), ("Clusto-Per-Page", "2")],
        )
        .await;
    assert_json(&page, 200, json!(["/pool/singlepool"]));
    assert_eq!(page.header("clusto-pages"), Some("2"));
}

async fn creating_existing_entities_warns(db: Db) {
    let app = app_with_fixture(db).await;
    assert_json(
        &app.post("/entity/pool", &[("name", "createpool1")]).await,
        201,
        json!(["/pool/createpool1"]),
    );
    let again = app.post("/entity/pool", &[("name", "createpool1")]).await;
    assert_json(&again, 202, json!(["/pool/createpool1"]));
    assert!(
        again
            .header("warnings")
            .unwrap()
            .starts_with("Entity(s) /pool/createpool1 already exist(s)")
    );
    assert_error(
        &app.post("/entity/nondriver", &[("name", "createobject")])
            .await,
        412,
        "Requested driver \"nondriver\" does not exist",
    );
    let two = app
        .post(
            "/entity/pool",
            &[("name", "createpool1"), ("name", "createpool2")],
        )
        .await;
    assert_json(&two, 202, json!(["/pool/createpool1", "/pool/createpool2"]));
    assert!(
        two.header("warnings")
            .unwrap()
            .starts_with("Entity(s) /pool/createpool1 already exist(s)")
    );
    assert_json(
        &app.get("/entity/pool/createpool2").await,
        200,
        json!({
            "attrs": [], "contents": [], "driver": "pool", "name": "createpool2", "parents": [], "type": "pool"
        }),
    );
    assert_json(
        &app.post(
            "/entity/basicserver",
            &[("name", "server2"), ("name", "server3")],
        )
        .await,
        201,
        json!(["/basicserver/server2", "/basicserver/server3"]),
    );
    assert_error(
        &app.post("/entity/pool", &[]).await,
        412,
        "Provide at least one name to create",
    );
}

async fn entities_are_shown_with_their_driver(db: Db) {
    let app = app_with_fixture(db).await;
    assert_json(
        &app.post("/entity/pool", &[("name", "showpool")]).await,
        201,
        json!(["/pool/showpool"]),
    );
    assert_json(
        &app.get("/entity/pool/showpool").await,
        200,
        json!({"attrs": [], "contents": [], "driver": "pool", "name": "showpool", "parents": [], "type": "pool"}),
    );
    assert_error(
        &app.get("/entity/basicserver/showpool").await,
        409,
        "The driver for object \"showpool\" is not \"basicserver\"",
    );
    assert_json(
        &app.get_with("/entity/pool/showpool", &[], &[("Clusto-Mode", "compact")])
            .await,
        200,
        json!("/pool/showpool"),
    );
}

async fn devices_are_inserted_into_and_removed_from_pools(db: Db) {
    let app = app_with_fixture(db).await;
    app.post("/entity/pool", &[("name", "pool1")]).await;
    app.post("/entity/basicserver", &[("name", "server1")])
        .await;
    assert_json(
        &app.post(
            "/entity/pool/pool1",
            &[("device", "server1"), ("action", "insert")],
        )
        .await,
        200,
        json!({"attrs": [], "contents": ["/basicserver/server1"], "driver": "pool", "name": "pool1", "parents": [], "type": "pool"}),
    );
    assert_eq!(
        app.get("/by-name/server1").await.json()["parents"],
        json!(["/pool/pool1"])
    );
    assert_json(
        &app.post(
            "/entity/pool/pool1",
            &[("device", "server1"), ("action", "remove")],
        )
        .await,
        200,
        json!({"attrs": [], "contents": [], "driver": "pool", "name": "pool1", "parents": [], "type": "pool"}),
    );

    app.post("/entity/pool", &[("name", "pool2")]).await;
    app.post(
        "/entity/basicserver",
        &[("name", "server2"), ("name", "server3")],
    )
    .await;
    assert_json(
        &app.post(
            "/entity/pool/pool2",
            &[
                ("device", "server2"),
                ("device", "server3"),
                ("action", "insert"),
            ],
        )
        .await,
        200,
        json!({
            "attrs": [], "contents": ["/basicserver/server2", "/basicserver/server3"],
            "driver": "pool", "name": "pool2", "parents": [], "type": "pool"
        }),
    );
    assert_json(
        &app.post(
            "/entity/pool/pool2",
            &[
                ("device", "server2"),
                ("device", "server3"),
                ("action", "remove"),
            ],
        )
        .await,
        200,
        json!({"attrs": [], "contents": [], "driver": "pool", "name": "pool2", "parents": [], "type": "pool"}),
    );
    assert_error(
        &app.post(
            "/entity/pool/pool2",
            &[("device", "server2"), ("action", "shake")],
        )
        .await,
        412,
        "Unknown action \"shake\": use insert or remove",
    );
    assert_error(
        &app.post(
            "/entity/pool/pool2",
            &[("device", "ghost"), ("action", "insert")],
        )
        .await,
        404,
        "Object \"ghost\" not found (ghost does not exist.)",
    );
}

async fn pool_rules_are_kept(db: Db) {
    let app = app_with_fixture(db).await;
    assert_error(
        &app.post(
            "/entity/pool/multipool",
            &[("device", "testserver1"), ("action", "insert")],
        )
        .await,
        409,
        "\"testserver1\" is already in \"multipool\"",
    );
    assert_error(
        &app.post(
            "/entity/pool/emptypool",
            &[("device", "testserver2"), ("action", "remove")],
        )
        .await,
        409,
        "\"testserver2\" is not in \"emptypool\"",
    );
    app.post("/entity/exclusive_pool", &[("name", "quarantine")])
        .await;
    assert_error(
        &app.post(
            "/entity/exclusive_pool/quarantine",
            &[("device", "testserver2"), ("action", "insert")],
        )
        .await,
        409,
        "\"testserver2\" is in other pools and cannot join the exclusive pool \"quarantine\"",
    );
    // A failed batch writes nothing: emptypool stays empty.
    assert_eq!(
        app.post(
            "/entity/pool/emptypool",
            &[
                ("device", "testserver2"),
                ("device", "testserver2"),
                ("action", "insert")
            ]
        )
        .await
        .status,
        409
    );
    assert_json(
        &app.get_with("/from-pools", &[("pool", "emptypool")], &[])
            .await,
        200,
        json!([]),
    );
}

async fn deleting_an_entity_removes_it(db: Db) {
    let app = app_with_fixture(db).await;
    assert_json(
        &app.post("/entity/basicserver", &[("name", "servercreated")])
            .await,
        201,
        json!(["/basicserver/servercreated"]),
    );
    assert_error(
        &app.delete("/entity/nondriver/servercreated", &[]).await,
        412,
        "Requested driver \"nondriver\" does not exist",
    );
    let deleted = app.delete("/entity/basicserver/servercreated", &[]).await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_empty());
    assert!(deleted.header("content-type").is_none());
    let again = app.delete("/entity/basicserver/servercreated", &[]).await;
    assert_eq!(again.status, 404);
    assert!(again.body.is_empty());

    // Deleting a member takes it out of its pools.
    assert_eq!(
        app.delete("/entity/basicserver/testserver2", &[])
            .await
            .status,
        204
    );
    assert_json(
        &app.get_with("/from-pools", &[("pool", "multipool")], &[])
            .await,
        200,
        json!(["/basicserver/testserver1"]),
    );
}
