//! The server's own endpoints and the queries: /, /__doc__, OPTIONS, headers,
//! /driverlist, /typelist, /by-name, /by-names, /by-attr, /from-pools.

use serde_json::json;

use crate::helpers::{
    Db, app_with_fixture, assert_error, assert_json, fixture_server, on_both_databases,
};

on_both_databases!(
    server_endpoints_answer_as_documented,
    options_answers_anywhere_with_no_content,
    registries_list_drivers_and_types,
    by_name_finds_one_entity,
    by_names_reports_missing_names,
    by_attr_matches_key_subkey_and_value,
    from_pools_intersects_filters_and_pages,
);

async fn server_endpoints_answer_as_documented(db: Db) {
    let app = app_with_fixture(db).await;

    let icon = app.get("/favicon.ico").await;
    assert_eq!(icon.status, 410);
    assert_eq!(
        icon.header("content-type"),
        Some("text/html; charset=UTF-8")
    );

    assert_json(
        &app.get("/__version__").await,
        200,
        json!(env!("CARGO_PKG_VERSION")),
    );

    let head = app.request("HEAD", "/").await;
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("access-control-allow-origin"),
        Some("*"),
        "configured headers come on every answer"
    );
    assert!(head.header("spurious-header").is_none());

    let meta = app.get("/__meta__").await;
    assert_eq!(meta.status, 200);
    assert_eq!(meta.header("content-type"), Some("application/json"));
    assert_eq!(meta.json()["apps"]["/entity"], json!("entity"));

    let html = app.get("/__doc__").await;
    assert_eq!(html.status, 200);
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=UTF-8")
    );
    assert!(
        html.body
            .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\" ?>")
    );

    let text = app
        .get_with("/__doc__", &[], &[("Accept", "text/plain")])
        .await;
    assert_eq!(text.status, 200);
    assert_eq!(text.header("content-type"), Some("text/plain"));
    assert!(text.body.contains("/from-pools"));
    let index = app.get_with("/", &[], &[("Accept", "text/plain")]).await;
    assert_eq!(index.body, text.body, "/ and /__doc__ serve the same text");

    let section = app
        .get_with("/entity/__doc__", &[], &[("Accept", "text/plain")])
        .await;
    assert!(section.body.starts_with("/entity"), "{}", section.body);

    assert_error(
        &app.get("/no/such/thing").await,
        404,
        "Not found: /no/such/thing",
    );
}

async fn options_answers_anywhere_with_no_content(db: Db) {
    let app = app_with_fixture(db).await;
    for path in [
        "/",
        "/return/headers/no/matter/where",
        "/entity/",
        "/attribute/who/knows/where",
    ] {
        let reply = app.request("OPTIONS", path).await;
        assert_eq!(reply.status, 204, "OPTIONS {path}");
        assert!(reply.body.is_empty());
    }
}

async fn registries_list_drivers_and_types(db: Db) {
    let app = app_with_fixture(db).await;
    let drivers = app.get("/driverlist").await;
    assert_eq!(drivers.status, 200);
    let drivers = drivers.json();
    assert_eq!(drivers.as_object().map(|o| o.len()), Some(21));
    assert_eq!(
        drivers["basicserver"],
        json!("clusto.drivers.devices.servers.basicserver.BasicServer")
    );
    assert_eq!(
        drivers["unique_pool"],
        json!("clusto.drivers.categories.pool.UniquePool")
    );

    let types = app.get("/typelist").await.json();
    assert_eq!(types.as_object().map(|o| o.len()), Some(14));
    assert_eq!(
        types["server"],
        json!("clusto.drivers.devices.servers.basicserver.BasicVirtualServer")
    );
    assert_eq!(
        types["resourcemanager"],
        json!("clusto.drivers.resourcemanagers.ipmanager.IPManager")
    );
    assert_eq!(types["generic"], json!("clusto.drivers.base.device.Device"));
}

async fn by_name_finds_one_entity(db: Db) {
    let app = app_with_fixture(db).await;
    assert_error(
        &app.get("/by-name/nonserver").await,
        404,
        "Object \"nonserver\" not found (nonserver does not exist.)",
    );
    let compact = app
        .get_with("/by-name/testserver1", &[], &[("Clusto-Mode", "compact")])
        .await;
    assert_json(&compact, 200, json!("/basicserver/testserver1"));
    assert_json(
        &app.get("/by-name/testserver1").await,
        200,
        fixture_server("testserver1"),
    );
    assert_error(
        &app.get_with("/by-name/testserver1", &[("driver", "pool")], &[])
            .await,
        409,
        "The driver for object \"testserver1\" is not \"pool\"",
    );
    assert_error(
        &app.get_with("/by-name/testserver1", &[("driver", "nondriver")], &[])
            .await,
        412,
        "The driver \"nondriver\" is not a valid driver",
    );
}

async fn by_names_reports_missing_names(db: Db) {
    let app = app_with_fixture(db).await;
    assert_error(
        &app.get("/by-names").await,
        412,
        "Provide at least one name to get data from",
    );
    assert_json(
        &app.get_with("/by-names", &[("name", "nonserver")], &[])
            .await,
        404,
        json!([null]),
    );
    assert_json(
        &app.get_with(
            "/by-names",
            &[("name", "testserver1"), ("name", "nonserver")],
            &[],
        )
        .await,
        206,
        json!(["/basicserver/testserver1", null]),
    );
    assert_json(
        &app.get_with(
            "/by-names",
            &[("name", "testserver1"), ("name", "testserver2")],
            &[("Clusto-Mode", "expanded")],
        )
        .await,
        200,
        json!([fixture_server("testserver1"), fixture_server("testserver2")]),
    );
    assert_json(
        &app.get_with(
            "/by-names",
            &[("name", "nonserver1"), ("name", "nonserver2")],
            &[],
        )
        .await,
        404,
        json!([null, null]),
    );
}

async fn by_attr_matches_key_subkey_and_value(db: Db) {
    let app = app_with_fixture(db).await;
    assert_error(
        &app.get("/by-attr").await,
        412,
        "Provide a key to use get_by_attr",
    );
    assert_json(
        &app.get_with("/by-attr", &[("key", "nonkey")], &[]).await,
        200,
        json!([]),
    );
    assert_json(
        &app.get_with(
            "/by-attr",
            &[("key", "key1"), ("subkey", "subkey1"), ("value", "value1")],
            &[],
        )
        .await,
        200,
        json!(["/basicserver/testserver1"]),
    );
    assert_json(
        &app.get_with("/by-attr", &[("key", "key1"), ("value", "value2")], &[])
            .await,
        200,
        json!(["/basicserver/testserver2"]),
    );
    assert_json(
        &app.get_with(
            "/by-attr",
            &[("key", "key1")],
            &[("Clusto-Mode", "expanded")],
        )
        .await,
        200,
        json!([fixture_server("testserver1"), fixture_server("testserver2")]),
    );
}

async fn from_pools_intersects_filters_and_pages(db: Db) {
    let app = app_with_fixture(db).await;
    assert_error(
        &app.get("/from-pools").await,
        412,
        "Provide at least one pool to get data from",
    );
    assert_error(
        &app.get_with(
            "/from-pools",
            &[("pool", "emptypool")],
            &[("Clusto-Page", "notanint")],
        )
        .await,
        400,
        "invalid literal for int() with base 10: 'notanint'",
    );
    assert_json(
        &app.get_with("/from-pools", &[("pool", "emptypool")], &[])
            .await,
        200,
        json!([]),
    );
    assert_json(
        &app.get_with(
            "/from-pools",
            &[("pool", "singlepool"), ("pool", "multipool")],
            &[],
        )
        .await,
        200,
        json!(["/basicserver/testserver1"]),
    );
    assert_json(
        &app.get_with(
            "/from-pools",
            &[("pool", "multipool")],
            &[("Clusto-Mode", "expanded")],
        )
        .await,
        200,
        json!([fixture_server("testserver1"), fixture_server("testserver2")]),
    );

    let first = app
        .get_with(
            "/from-pools",
            &[("pool", "multipool")],
            &[("Clusto-Page", "1"), ("Clusto-Per-Page", "1")],
        )
        .await;
    assert_json(&first, 200, json!(["/basicserver/testserver1"]));
    assert_eq!(first.header("clusto-pages"), Some("2"));
    assert_json(
        &app.get_with(
            "/from-pools",
            &[("pool", "multipool")],
            &[("Clusto-Page", "1"), ("Clusto-Per-Page", "100")],
        )
        .await,
        200,
        json!(["/basicserver/testserver1", "/basicserver/testserver2"]),
    );
    assert_json(
        &app.get_with(
            "/from-pools",
            &[("pool", "multipool")],
            &[("Clusto-Page", "100"), ("Clusto-Per-Page", "100")],
        )
        .await,
        200,
        json!([]),
    );

    let minified = app
        .get_with(
            "/from-pools",
            &[("pool", "multipool")],
            &[("Clusto-Minify", "True")],
        )
        .await;
    assert_eq!(minified.status, 200);
    assert_eq!(
        minified.body,
        "[\"/basicserver/testserver1\", \"/basicserver/testserver2\"]"
    );
    let pretty = app
        .get_with("/from-pools", &[("pool", "multipool")], &[])
        .await;
    assert_eq!(
        pretty.body,
        "[\n    \"/basicserver/testserver1\",\n    \"/basicserver/testserver2\"\n]"
    );

    // A pool inside a pool: its members count unless children=false.
    app.post("/entity/pool", &[("name", "outer")]).await;
    app.post(
        "/entity/pool/outer",
        &[("device", "singlepool"), ("action", "insert")],
    )
    .await;
    assert_json(
        &app.get_with("/from-pools", &[("pool", "outer")], &[]).await,
        200,
        json!(["/pool/singlepool", "/basicserver/testserver1"]),
    );
    assert_json(
        &app.get_with(
            "/from-pools",
            &[("pool", "outer"), ("children", "false")],
            &[],
        )
        .await,
        200,
        json!(["/pool/singlepool"]),
    );
    assert_json(
        &app.get_with("/from-pools", &[("pool", "outer"), ("type", "server")], &[])
            .await,
        200,
        json!(["/basicserver/testserver1"]),
    );
    assert_json(
        &app.get_with("/from-pools", &[("pool", "outer"), ("driver", "pool")], &[])
            .await,
        200,
        json!(["/pool/singlepool"]),
    );
    assert_error(
        &app.get_with("/from-pools", &[("pool", "nopool")], &[])
            .await,
        404,
        "Object \"nopool\" not found (nopool does not exist.)",
    );
}
