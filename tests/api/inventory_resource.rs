//! /resourcemanager: managers, name and IP allocation, release.

use serde_json::{Value, json};

use crate::helpers::{Db, app_with_fixture, assert_error, assert_json, on_both_databases};

on_both_databases!(
    managers_are_created_listed_and_shown,
    entity_name_managers_create_entities,
    ip_managers_allocate_and_release_addresses,
    name_managers_record_allocations_on_the_entity,
);

fn property(key: &str, value: Value) -> Value {
    let datatype = if value.is_i64() { "int" } else { "string" };
    json!({"datatype": datatype, "key": key, "number": null, "subkey": "property", "value": value})
}

fn name_manager(driver: &str, name: &str, basename: &str, next: i64, count: u64) -> Value {
    json!({
        "attrs": [
            property("basename", json!(basename)),
            property("digits", json!(2)),
            property("leadingZeros", json!(1)),
            property("next", json!(next)),
        ],
        "contents": [], "count": count, "driver": driver, "name": name, "parents": [], "type": "resourcemanager"
    })
}

fn ip_manager(name: &str, count: u64) -> Value {
    json!({
        "attrs": [
            property("baseip", json!("192.168.1.10")),
            property("gateway", json!("192.168.1.1")),
            property("netmask", json!("255.255.255.0")),
        ],
        "contents": [], "count": count, "driver": "ipmanager", "name": name, "parents": [], "type": "resourcemanager"
    })
}

const IP_MANAGER: [(&str, &str); 3] = [
    ("gateway", "192.168.1.1"),
    ("netmask", "255.255.255.0"),
    ("baseip", "192.168.1.10"),
];

async fn managers_are_created_listed_and_shown(db: Db) {
    let app = app_with_fixture(db).await;
    assert_json(
        &app.post(
            "/resourcemanager/simplenamemanager",
            &[("name", "zmanager")],
        )
        .await,
        201,
        name_manager("simplenamemanager", "zmanager", "", 1, 0),
    );
    assert_json(
        &app.get("/resourcemanager/").await,
        200,
        json!([
            "/simpleentitynamemanager/testnames",
            "/simplenamemanager/zmanager"
        ]),
    );
    assert_json(
        &app.get("/resourcemanager/simpleentitynamemanager").await,
        200,
        json!(["/simpleentitynamemanager/testnames"]),
    );
    assert_error(
        &app.get("/resourcemanager/notadriver").await,
        404,
        "Not a valid driver \"notadriver\" (driver name notadriver doesn't exist.)",
    );

    let mut form = vec![("name", "ipman1")];
    form.extend(IP_MANAGER);
    assert_json(
        &app.post("/resourcemanager/ipmanager", &form).await,
        201,
        ip_manager("ipman1", 0),
    );
    assert_error(
        &app.post("/resourcemanager/ipmanager", &form).await,
        409,
        "Entity /ipmanager/ipman1 already exists",
    );

    app.post(
        "/resourcemanager/simplenamemanager",
        &[("name", "nameman1")],
    )
    .await;
    assert_json(
        &app.get("/resourcemanager/simplenamemanager/nameman1").await,
        200,
        name_manager("simplenamemanager", "nameman1", "", 1, 0),
    );
    assert_error(
        &app.get("/resourcemanager/simpleentitynamemanager/nonames")
            .await,
        404,
        "Object \"nonames\" not found (nonames does not exist.)",
    );
    assert_error(
        &app.get("/resourcemanager/nomanager/testnames").await,
        412,
        "The driver \"nomanager\" is not a valid driver",
    );
    assert_error(
        &app.get("/resourcemanager/basicserver/testserver1").await,
        409,
        "The object \"testserver1\" is not a resource manager",
    );
    assert_error(
        &app.get("/resourcemanager/ipmanager/nameman1").await,
        409,
        "The driver for object \"nameman1\" is not \"ipmanager\"",
    );
}

async fn entity_name_managers_create_entities(db: Db) {
    let app = app_with_fixture(db).await;
    assert_json(
        &app.post(
            "/resourcemanager/simpleentitynamemanager",
            &[("name", "allocator")],
        )
        .await,
        201,
        name_manager("simpleentitynamemanager", "allocator", "", 1, 0),
    );
    assert_json(
        &app.post(
            "/resourcemanager/simpleentitynamemanager/allocator",
            &[("driver", "basicserver")],
        )
        .await,
        201,
        json!("/basicserver/01"),
    );
    assert_json(
        &app.post(
            "/resourcemanager/simpleentitynamemanager/allocator",
            &[("driver", "basicserver"), ("resource", "99")],
        )
        .await,
        201,
        json!("/basicserver/99"),
    );
    assert_json(
        &app.post(
            "/resourcemanager/simpleentitynamemanager/testnames",
            &[("driver", "basicvirtualserver")],
        )
        .await,
        201,
        json!("/basicvirtualserver/s01"),
    );
    assert_json(
        &app.get("/resourcemanager/simpleentitynamemanager/allocator")
            .await,
        200,
        name_manager("simpleentitynamemanager", "allocator", "", 2, 2),
    );
    assert_eq!(
        app.get("/by-name/99").await.json()["driver"],
        json!("basicserver")
    );
    assert_error(
        &app.post(
            "/resourcemanager/simpleentitynamemanager/allocator",
            &[("driver", "basicserver"), ("resource", "99")],
        )
        .await,
        409,
        "Resource \"99\" of /simpleentitynamemanager/allocator is already allocated",
    );
    assert_error(
        &app.post(
            "/resourcemanager/simpleentitynamemanager/allocator",
            &[("driver", "nodriver")],
        )
        .await,
        412,
        "The driver \"nodriver\" is not a valid driver",
    );
}

async fn ip_managers_allocate_and_release_addresses(db: Db) {
    let app = app_with_fixture(db).await;
    let mut form = vec![("name", "ipman2")];
    form.extend(IP_MANAGER);
    assert_json(
        &app.post("/resourcemanager/ipmanager", &form).await,
        201,
        ip_manager("ipman2", 0),
    );
    assert_json(
        &app.post(
            "/resourcemanager/simpleentitynamemanager",
            &[("name", "names2"), ("basename", "a")],
        )
        .await,
        201,
        name_manager("simpleentitynamemanager", "names2", "a", 1, 0),
    );
    assert_json(
        &app.post(
            "/resourcemanager/simpleentitynamemanager/names2",
            &[("driver", "basicserver")],
        )
        .await,
        201,
        json!("/basicserver/a01"),
    );
    assert_json(
        &app.post("/resourcemanager/ipmanager/ipman2", &[("object", "a01")])
            .await,
        201,
        json!({"datatype": "int", "key": "ip", "number": 0, "subkey": null, "value": 1_084_752_130_i64}),
    );
    let server = app.get("/by-name/a01").await.json();
    assert_eq!(server["ips"], json!(["192.168.1.2"]));
    assert_eq!(
        server["attrs"],
        json!([
            {"datatype": "int", "key": "ip", "number": 0, "subkey": null, "value": 1_084_752_130_i64},
            {"datatype": "relation", "key": "ip", "number": 0, "subkey": "manager", "value": "/ipmanager/ipman2"},
        ])
    );
    assert_eq!(
        app.get("/resourcemanager/ipmanager/ipman2").await.json()["count"],
        json!(1)
    );
    assert_eq!(
        app.post(
            "/resourcemanager/ipmanager/ipman2",
            &[("object", "a01"), ("resource", "192.168.1.50")]
        )
        .await
        .json()["number"],
        json!(1)
    );
    assert_error(
        &app.post(
            "/resourcemanager/ipmanager/ipman2",
            &[("object", "testserver1"), ("resource", "192.168.1.50")],
        )
        .await,
        409,
        "Resource \"192.168.1.50\" of /ipmanager/ipman2 is already allocated",
    );
    assert_error(
        &app.post(
            "/resourcemanager/ipmanager/ipman2",
            &[("object", "testserver1"), ("resource", "10.0.0.1")],
        )
        .await,
        400,
        "10.0.0.1 is not an address ipman2 hands out",
    );

    let released = app
        .delete("/resourcemanager/ipmanager/ipman2", &[("object", "a01")])
        .await;
    assert_eq!(released.status, 204);
    assert!(released.body.is_empty());
    assert!(released.header("content-type").is_none());
    let server = app.get("/by-name/a01").await.json();
    assert_eq!(server["ips"], json!([]));
    assert_eq!(server["attrs"], json!([]));
    assert_error(
        &app.delete("/resourcemanager/ipmanager/ipman2", &[("object", "a01")])
            .await,
        404,
        "/ipmanager/ipman2 has nothing allocated to /basicserver/a01",
    );
    // Released addresses are handed out again.
    assert_eq!(
        app.post(
            "/resourcemanager/ipmanager/ipman2",
            &[("object", "testserver2")]
        )
        .await
        .json()["value"],
        json!(1_084_752_130_i64)
    );
}

async fn name_managers_record_allocations_on_the_entity(db: Db) {
    let app = app_with_fixture(db).await;
    app.post(
        "/resourcemanager/simplenamemanager",
        &[("name", "hostnames"), ("basename", "web"), ("digits", "3")],
    )
    .await;
    assert_json(
        &app.post(
            "/resourcemanager/simplenamemanager/hostnames",
            &[("object", "testserver2")],
        )
        .await,
        201,
        json!({"datatype": "string", "key": "simplename", "number": 0, "subkey": null, "value": "web001"}),
    );
    assert_error(
        &app.post(
            "/resourcemanager/simplenamemanager/hostnames",
            &[("driver", "basicserver")],
        )
        .await,
        412,
        "The driver \"simplenamemanager\" cannot be used here: it allocates to existing entities: give the object",
    );
    assert_json(
        &app.get_with(
            "/by-attr",
            &[("key", "simplename"), ("value", "web001")],
            &[],
        )
        .await,
        200,
        json!(["/basicserver/testserver2"]),
    );
}

#[tokio::test]
async fn entity_name_managers_skip_names_taken_by_hand() {
    let app = app_with_fixture(Db::Sqlite).await;
    app.post("/entity/basicserver", &[("name", "s01"), ("name", "s02")])
        .await;
    assert_json(
        &app.post(
            "/resourcemanager/simpleentitynamemanager/testnames",
            &[("driver", "basicserver")],
        )
        .await,
        201,
        json!("/basicserver/s03"),
    );
    assert_error(
        &app.post(
            "/resourcemanager/simpleentitynamemanager/testnames",
            &[("driver", "basicserver"), ("resource", "s01")],
        )
        .await,
        409,
        "Entity /basicserver/s01 already exists",
    );
}
