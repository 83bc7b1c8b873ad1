//! /attribute: query, add (form and JSON), set and delete.

use serde_json::{Value, json};

use crate::helpers::{Db, app_with_fixture, assert_error, assert_json, on_both_databases};

on_both_databases!(
    attributes_are_queried_by_key_and_driver,
    attributes_are_added_with_their_datatypes,
    json_bodies_add_several_attributes,
    set_replaces_the_value_in_its_slot,
    delete_removes_only_the_matching_attributes,
);

fn attr(key: &str, subkey: Option<&str>, datatype: &str, value: Value) -> Value {
    json!({"datatype": datatype, "key": key, "number": null, "subkey": subkey, "value": value})
}

async fn attributes_are_queried_by_key_and_driver(db: Db) {
    let app = app_with_fixture(db).await;
    assert_json(
        &app.post("/entity/pool", &[("name", "attrpool1")]).await,
        201,
        json!(["/pool/attrpool1"]),
    );
    assert_json(&app.get("/attribute/attrpool1").await, 200, json!([]));
    assert_json(
        &app.get_with("/attribute/attrpool1", &[("driver", "pool")], &[])
            .await,
        200,
        json!([]),
    );
    assert_error(
        &app.get_with("/attribute/attrpool1", &[("driver", "basicserver")], &[])
            .await,
        409,
        "The driver for object \"attrpool1\" is not \"basicserver\"",
    );
    assert_json(&app.get("/attribute/attrpool1/owner").await, 200, json!([]));

    app.put("/attribute/attrpool1/owner", &[("value", "ops")])
        .await;
    app.put("/attribute/attrpool1/owner/backup", &[("value", "dev")])
        .await;
    app.put("/attribute/attrpool1/colour", &[("value", "red")])
        .await;
    assert_json(
        &app.get("/attribute/attrpool1/owner").await,
        200,
        json!([
            attr("owner", None, "string", json!("ops")),
            attr("owner", Some("backup"), "string", json!("dev"))
        ]),
    );
    assert_json(
        &app.get("/attribute/attrpool1/owner/backup").await,
        200,
        json!([attr("owner", Some("backup"), "string", json!("dev"))]),
    );
    assert_error(
        &app.get("/attribute/nothing").await,
        404,
        "Object \"nothing\" not found (nothing does not exist.)",
    );
}

async fn attributes_are_added_with_their_datatypes(db: Db) {
    let app = app_with_fixture(db).await;
    assert_json(
        &app.post("/entity/basicserver", &[("name", "addattrserver")])
            .await,
        201,
        json!(["/basicserver/addattrserver"]),
    );
    let web = attr("group", None, "string", json!("web"));
    assert_json(
        &app.post(
            "/attribute/addattrserver",
            &[("key", "group"), ("value", "web")],
        )
        .await,
        201,
        json!([web.clone()]),
    );
    let owner = attr("group", Some("owner"), "string", json!("web"));
    assert_json(
        &app.post(
            "/attribute/addattrserver",
            &[("key", "group"), ("subkey", "owner"), ("value", "web")],
        )
        .await,
        201,
        json!([web.clone(), owner.clone()]),
    );
    let id = attr("group", Some("id"), "int", json!(6));
    assert_json(
        &app.post(
            "/attribute/addattrserver",
            &[
                ("key", "group"),
                ("subkey", "id"),
                ("value", "6"),
                ("datatype", "int"),
            ],
        )
        .await,
        201,
        json!([web.clone(), owner.clone(), id.clone()]),
    );
    let inception = attr(
        "inception",
        None,
        "relation",
        json!("/basicserver/addattrserver"),
    );
    assert_json(
        &app.post(
            "/attribute/addattrserver",
            &[
                ("key", "inception"),
                ("value", "/basicserver/addattrserver"),
                ("datatype", "relation"),
            ],
        )
        .await,
        201,
        json!([web.clone(), owner.clone(), id.clone(), inception.clone()]),
    );
    let birthday = attr(
        "birthday",
        Some("jtcunning"),
        "datetime",
        json!("1991-07-09T14:46:51.321435"),
    );
    assert_json(
        &app.post(
            "/attribute/addattrserver",
            &[
                ("key", "birthday"),
                ("subkey", "jtcunning"),
                ("value", "1991-07-09T14:46:51.321435"),
                ("datatype", "datetime"),
            ],
        )
        .await,
        201,
        json!([birthday, web, owner, id, inception]),
    );

    // A mask reads other spellings; numbers keep several values under one key.
    let reply = app
        .post(
            "/attribute/addattrserver",
            &[
                ("key", "installed"),
                ("value", "24/12/2025"),
                ("datatype", "datetime"),
                ("mask", "%d/%m/%Y"),
            ],
        )
        .await;
    assert_eq!(reply.status, 201);
    assert!(reply.json().as_array().unwrap().contains(&attr(
        "installed",
        None,
        "datetime",
        json!("2025-12-24T00:00:00")
    )));
    app.post(
        "/attribute/addattrserver",
        &[("key", "disk"), ("value", "sda"), ("number", "true")],
    )
    .await;
    app.post(
        "/attribute/addattrserver",
        &[("key", "disk"), ("value", "sdb"), ("number", "true")],
    )
    .await;
    let disks = app.get("/attribute/addattrserver/disk").await.json();
    assert_eq!(disks[0]["number"], json!(0));
    assert_eq!(disks[1]["number"], json!(1));
    assert_eq!(disks[1]["value"], json!("sdb"));
}

async fn json_bodies_add_several_attributes(db: Db) {
    let app = app_with_fixture(db).await;
    app.post("/entity/basicserver", &[("name", "jsonserver")])
        .await;
    let reply = app
        .post_json(
            "/attribute/jsonserver",
            r#"[{"key":"group","subkey":"admin","value":"apache"},{"key":"group","subkey":"member","value":"webapp"}]"#,
        )
        .await;
    assert_json(
        &reply,
        201,
        json!([
            attr("group", Some("admin"), "string", json!("apache")),
            attr("group", Some("member"), "string", json!("webapp")),
        ]),
    );
    let reply = app
        .post_json(
            "/attribute/jsonserver",
            r#"{"key":"layout","value":{"racks":[1,2],"row":"b"}}"#,
        )
        .await;
    assert_eq!(reply.status, 201);
    let layout = &reply.json()[2];
    assert_eq!(
        layout,
        &attr("layout", None, "json", json!({"racks": [1, 2], "row": "b"}))
    );
    let reply = app
        .post_json("/attribute/jsonserver", r#"{"key":"cores","value":16}"#)
        .await;
    assert_eq!(reply.json()[0], attr("cores", None, "int", json!(16)));
}

async fn set_replaces_the_value_in_its_slot(db: Db) {
    let app = app_with_fixture(db).await;
    app.post("/entity/basicserver", &[("name", "setattrserver")])
        .await;
    assert_json(
        &app.post(
            "/attribute/setattrserver",
            &[("key", "group"), ("value", "web")],
        )
        .await,
        201,
        json!([attr("group", None, "string", json!("web"))]),
    );
    assert_json(
        &app.put("/attribute/setattrserver/group", &[("value", "db")])
            .await,
        200,
        json!([attr("group", None, "string", json!("db"))]),
    );

    app.post("/entity/basicserver", &[("name", "setattrserver2")])
        .await;
    assert_json(
        &app.put("/attribute/setattrserver2/group/owner", &[("value", "joe")])
            .await,
        200,
        json!([attr("group", Some("owner"), "string", json!("joe"))]),
    );
    assert_json(
        &app.put("/attribute/setattrserver2/group/owner", &[("value", "bob")])
            .await,
        200,
        json!([attr("group", Some("owner"), "string", json!("bob"))]),
    );
    assert_json(
        &app.put(
            "/attribute/setattrserver2/size",
            &[("value", "42"), ("datatype", "int")],
        )
        .await,
        200,
        json!([
            attr("group", Some("owner"), "string", json!("bob")),
            attr("size", None, "int", json!(42))
        ]),
    );
    assert_error(
        &app.put("/attribute/setattrserver2/size", &[]).await,
        412,
        "Provide a value to set",
    );
}

async fn delete_removes_only_the_matching_attributes(db: Db) {
    let app = app_with_fixture(db).await;
    app.post("/entity/basicserver", &[("name", "deleteserver1")])
        .await;
    assert_json(
        &app.put("/attribute/deleteserver1/group/owner", &[("value", "joe")])
            .await,
        200,
        json!([attr("group", Some("owner"), "string", json!("joe"))]),
    );
    assert_json(
        &app.delete("/attribute/deleteserver1/group/owner", &[])
            .await,
        200,
        json!([]),
    );

    app.post("/entity/basicserver", &[("name", "deleteserver2")])
        .await;
    let engineering = attr("group", None, "string", json!("engineering"));
    assert_json(
        &app.put(
            "/attribute/deleteserver2/group",
            &[("value", "engineering")],
        )
        .await,
        200,
        json!([engineering.clone()]),
    );
    assert_json(
        &app.put("/attribute/deleteserver2/group/owner", &[("value", "joe")])
            .await,
        200,
        json!([
            engineering.clone(),
            attr("group", Some("owner"), "string", json!("joe"))
        ]),
    );
    assert_json(
        &app.delete("/attribute/deleteserver2/group/owner", &[])
            .await,
        200,
        json!([engineering]),
    );
    assert_json(
        &app.delete("/attribute/deleteserver2/group", &[]).await,
        200,
        json!([]),
    );
}

#[tokio::test]
async fn numbered_attributes_in_one_batch_get_their_own_numbers() {
    let app = app_with_fixture(Db::Sqlite).await;
    let reply = app
        .post_json(
            "/attribute/testserver2",
            r#"[{"key":"disk","number":true,"value":"sda"},{"key":"disk","number":true,"value":"sdb"}]"#,
        )
        .await;
    assert_eq!(reply.status, 201);
    let disks = app.get("/attribute/testserver2/disk").await.json();
    assert_eq!(disks[0]["number"], json!(0));
    assert_eq!(disks[1]["number"], json!(1));
}

#[tokio::test]
async fn internal_attributes_are_never_shown() {
    let app = app_with_fixture(Db::Sqlite).await;
    assert_eq!(
        app.post(
            "/attribute/testserver2",
            &[("key", "_checksum"), ("value", "x")]
        )
        .await
        .status,
        201
    );
    assert_eq!(
        app.get("/attribute/testserver2").await.json(),
        json!([attr("key1", Some("subkey2"), "string", json!("value2"))])
    );
    assert_eq!(
        app.get("/by-name/testserver2").await.json()["attrs"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}
