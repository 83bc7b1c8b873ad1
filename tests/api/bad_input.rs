//! Bad input: a clear error in the inventory's format, and nothing written.

use serde_json::json;

use crate::helpers::{Db, app_with_fixture, assert_error, assert_json, on_both_databases};

on_both_databases!(
    malformed_bodies_are_refused,
    bad_values_write_nothing,
    oversized_bodies_are_refused,
    bad_names_and_properties_write_nothing,
    bad_headers_are_refused,
);

async fn malformed_bodies_are_refused(db: Db) {
    let app = app_with_fixture(db).await;
    let reply = app
        .post_json("/attribute/testserver1", "[{\"key\": \"a\", ")
        .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply
            .json()
            .as_str()
            .unwrap()
            .starts_with("Malformed JSON body"),
        "{}",
        reply.body
    );
    assert_error(
        &app.post_json("/attribute/testserver1", "[1, 2]").await,
        400,
        "Each attribute must be a JSON object",
    );
    assert_error(
        &app.post_json("/attribute/testserver1", "[{\"key\": \"a\"}]")
            .await,
        412,
        "Provide a key and a value for each attribute",
    );
    let reply = reqwest::Client::new()
        .post(format!("{}/entity/pool", app.address))
        .header("Content-Type", "application/xml")
        .body("<name>x</name>")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 415);
    assert_eq!(
        reply.json::<serde_json::Value>().await.unwrap(),
        json!("Unsupported content type \"application/xml\": send a form or JSON")
    );
    assert_json(&app.get("/attribute/testserver1/a").await, 200, json!([]));
}

async fn bad_values_write_nothing(db: Db) {
    let app = app_with_fixture(db).await;
    let before = app.get("/attribute/testserver1").await.json();
    assert_error(
        &app.post(
            "/attribute/testserver1",
            &[("key", "k"), ("value", "1"), ("datatype", "float")],
        )
        .await,
        400,
        "Unknown datatype \"float\"",
    );
    assert_error(
        &app.post(
            "/attribute/testserver1",
            &[("key", "k"), ("value", "six"), ("datatype", "int")],
        )
        .await,
        400,
        "invalid literal for int() with base 10: 'six'",
    );
    assert_error(
        &app.post(
            "/attribute/testserver1",
            &[("key", "k"), ("value", "noon"), ("datatype", "datetime")],
        )
        .await,
        400,
        "time data 'noon' does not match format '%Y-%m-%dT%H:%M:%S.%f'",
    );
    assert_error(
        &app.post(
            "/attribute/testserver1",
            &[("key", "k"), ("value", "ghost"), ("datatype", "relation")],
        )
        .await,
        404,
        "Object \"ghost\" not found (ghost does not exist.)",
    );
    // One bad attribute in a batch: none of the batch is written.
    assert_error(
        &app.post_json(
            "/attribute/testserver1",
            r#"[{"key":"ok","value":"fine"},{"key":"bad","value":"x","datatype":"int"}]"#,
        )
        .await,
        400,
        "invalid literal for int() with base 10: 'x'",
    );
    assert_error(
        &app.put(
            "/attribute/testserver1/key1/subkey1",
            &[("value", "x"), ("datatype", "json")],
        )
        .await,
        400,
        "invalid JSON value: expected value at line 1 column 1",
    );
    assert_json(&app.get("/attribute/testserver1").await, 200, before);
}

async fn oversized_bodies_are_refused(db: Db) {
    let app = app_with_fixture(db).await;
    let big = "v".repeat(70 * 1024);
    let reply = app
        .post("/attribute/testserver1", &[("key", "big"), ("value", &big)])
        .await;
    assert_error(&reply, 413, "Request body is larger than 65536 bytes");
    assert_json(&app.get("/attribute/testserver1/big").await, 200, json!([]));
}

async fn bad_names_and_properties_write_nothing(db: Db) {
    let app = app_with_fixture(db).await;
    assert_error(
        &app.post("/entity/pool", &[("name", "fine"), ("name", "not/fine")])
            .await,
        412,
        "Invalid name \"not/fine\": it contains '/'",
    );
    assert_error(
        &app.post(
            "/resourcemanager/ipmanager",
            &[("name", "badnet"), ("baseip", "10.0.0.300")],
        )
        .await,
        400,
        "Property \"baseip\" is not an IPv4 address: \"10.0.0.300\"",
    );
    assert_error(
        &app.post(
            "/resourcemanager/ipmanager",
            &[
                ("name", "badnet"),
                ("colour", "red"),
                ("baseip", "10.0.0.1"),
            ],
        )
        .await,
        400,
        "Unknown property \"colour\" for driver \"ipmanager\"",
    );
    assert_error(
        &app.post("/resourcemanager/basicserver", &[("name", "notamanager")])
            .await,
        412,
        "The driver \"basicserver\" cannot be used here: it is not a resource manager driver",
    );
    for name in ["fine", "badnet", "notamanager"] {
        assert_eq!(
            app.get(&format!("/by-name/{name}")).await.status,
            404,
            "{name} was written"
        );
    }
}

async fn bad_headers_are_refused(db: Db) {
    let app = app_with_fixture(db).await;
    assert_error(
        &app.get_with("/entity/", &[], &[("Clusto-Mode", "verbose")])
            .await,
        400,
        "Invalid Clusto-Mode \"verbose\": use compact or expanded",
    );
    assert_error(
        &app.get_with(
            "/entity/",
            &[],
            &[("Clusto-Page", "1"), ("Clusto-Per-Page", "0")],
        )
        .await,
        400,
        "Clusto-Page and Clusto-Per-Page must be positive",
    );
    assert_error(
        &app.get_with(
            "/from-pools",
            &[("pool", "multipool"), ("children", "maybe")],
            &[],
        )
        .await,
        412,
        "Parameter \"children\" must be true or false, not \"maybe\"",
    );
}

#[tokio::test]
async fn name_managers_refuse_counters_that_cannot_work() {
    let app = app_with_fixture(Db::Sqlite).await;
    assert_error(
        &app.post(
            "/resourcemanager/simplenamemanager",
            &[("name", "huge"), ("digits", "1000000000000")],
        )
        .await,
        400,
        "Property \"digits\" must be from 1 to 64, not 1000000000000",
    );
    assert_error(
        &app.post(
            "/resourcemanager/simplenamemanager",
            &[("name", "neg"), ("next", "-5")],
        )
        .await,
        400,
        "Property \"next\" must not be negative, not -5",
    );
    // A counter edited afterwards is checked again when it is used.
    app.post("/resourcemanager/simplenamemanager", &[("name", "edited")])
        .await;
    app.put(
        "/attribute/edited/digits/property",
        &[("value", "1000000000000"), ("datatype", "int")],
    )
    .await;
    assert_error(
        &app.post(
            "/resourcemanager/simplenamemanager/edited",
            &[("object", "testserver1")],
        )
        .await,
        400,
        "Property \"digits\" must be from 1 to 64, not 1000000000000",
    );
}
