//! /api/v1: the cloud API on the dummy provider, and the nodes it records in
//! the inventory.

use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, assert_json, on_both_databases, spawn_app, spawn_app_on};

on_both_databases!(
    catalogues_answer_as_documented,
    nodes_start_and_stop_as_documented,
    started_nodes_are_recorded_in_the_inventory,
    emulated_assign_and_release_answer_as_documented,
    assignments_are_stored_and_survive_a_restart,
    bad_requests_get_the_error_envelope,
    provider_failures_record_nothing,
);

fn dummy_node(id: u32, ip: &str, uuid: &str) -> Value {
    json!({
        "cloud_type": "Dummy Node Provider",
        "extra": {"foo": "bar"},
        "id": id.to_string(),
        "name": format!("dummy-{id}"),
        "private_ips": [],
        "provider": "dummy",
        "public_ips": [ip],
        "state": 0,
        "uuid": uuid,
    })
}

fn envelope(status: u16, short: &str, long: &str, message: &str) -> Value {
    json!({
        "message": message,
        "status": "error",
        "status_code": status,
        "status_long_message": long,
        "status_short_message": short,
    })
}

fn bad_request(message: &str) -> Value {
    envelope(
        400,
        "Bad Request",
        "Bad request syntax or unsupported method",
        message,
    )
}

fn wrong_cloud() -> Value {
    envelope(
        500,
        "Internal Server Error",
        "Server got itself in trouble",
        "Cloud not valid or wrong path",
    )
}

const UUID_1: &str = "2c183c20f71eb5732512d6cfe1f75ebc9d9bb4dd";
const UUID_2: &str = "46ff62f5eafc7837de6ec1450b8e0e608db06d7a";
const UUID_3: &str = "aef321fde331680846014b121ff377dcb8477731";
const UUID_4: &str = "f0f0f81f0a63ccd2c5e0c5244beebeafd0f2429c";

async fn put_json(app: &TestApp, path: &str, body: &str) -> strato_tests::Reply {
    app.send_json("PUT", path, body).await
}

async fn catalogues_answer_as_documented(db: Db) {
    let app = spawn_app(db).await;
    let nodes = json!({
        "nodes": [dummy_node(1, "127.0.0.1", UUID_1), dummy_node(2, "127.0.0.1", UUID_2)],
        "status": "ok",
    });
    assert_json(
        &app.get("/api/v1/nodes/fake_driver").await,
        200,
        nodes.clone(),
    );
    assert_json(&app.get("/api/v1/nodes").await, 200, nodes);

    let image = |id: &str, name: &str| json!({"cloud_type": "Dummy Node Provider", "id": id, "name": name, "provider": "dummy"});
    assert_json(
        &app.get("/api/v1/images/fake_driver").await,
        200,
        json!({
            "images": [image("1", "Ubuntu 9.10"), image("2", "Ubuntu 9.04"), image("3", "Slackware 4")],
            "status": "ok",
        }),
    );

    let flavor = |id: &str, name: &str, ram: u64, disk: u64| json!({"cloud_type": "Dummy Node Provider", "cpu": 0, "disk": disk, "id": id, "name": name, "provider": "dummy", "ram": ram});
    assert_json(
        &app.get("/api/v1/sizes/fake_driver").await,
        200,
        json!({
            "flavors": [
                flavor("1", "Small", 128, 4),
                flavor("2", "Medium", 512, 16),
                flavor("3", "Big", 4096, 32),
                flavor("4", "XXL Big", 8192, 128),
            ],
            "status": "ok",
        }),
    );
    let locations = app.get("/api/v1/locations/fake_driver").await;
    assert_eq!(locations.status, 200);
    assert_eq!(
        locations.json()["locations"][0]["name"],
        json!("Paul's Room")
    );

    for what in ["nodes", "images", "sizes"] {
        assert_json(
            &app.get(&format!("/api/v1/{what}/wrong_driver")).await,
            500,
            wrong_cloud(),
        );
    }
}

async fn nodes_start_and_stop_as_documented(db: Db) {
    let app = spawn_app(db).await;
    let started = app
        .post_json(
            "/api/v1/vm/start/fake_driver",
            r#"{"image": "1", "name": "cloud_test", "size": "1"}"#,
        )
        .await;
    assert_json(
        &started,
        200,
        json!({"nodes": dummy_node(3, "127.0.0.3", UUID_3), "status": "ok"}),
    );
    let again = app
        .post_json(
            "/api/v1/vm/start/fake_driver",
            r#"{ "name": "cloud_test", "image": "1" , "size" : "1" }"#,
        )
        .await;
    assert_json(
        &again,
        200,
        json!({"nodes": dummy_node(4, "127.0.0.4", UUID_4), "status": "ok"}),
    );

    assert_json(
        &put_json(&app, "/api/v1/vm/stop/fake_driver", r#"{"node": "3"}"#).await,
        200,
        json!({"result": "Node 3 deleted", "status": "ok"}),
    );
    assert_json(
        &put_json(&app, "/api/v1/vm/stop/fake_driver", r#"{ "node": "4" }"#).await,
        200,
        json!({"result": "Node 4 deleted", "status": "ok"}),
    );
    // Numbers are never reused, and the default cloud keeps its own nodes.
    let next = app
        .post_json(
            "/api/v1/vm/start/fake_driver",
            r#"{"name": "x", "image": "2", "size": "4"}"#,
        )
        .await;
    assert_eq!(next.json()["nodes"]["name"], json!("dummy-5"));
    assert_eq!(
        app.get("/api/v1/nodes").await.json()["nodes"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_json(
        &app.post_json(
            "/api/v1/vm/start/wrong_driver",
            r#"{"name": "x", "image": "1", "size": "1"}"#,
        )
        .await,
        500,
        wrong_cloud(),
    );
}

async fn started_nodes_are_recorded_in_the_inventory(db: Db) {
    let app = spawn_app(db).await;
    app.post_json(
        "/api/v1/vm/start/fake_driver",
        r#"{"name": "web", "image": "1", "size": "2"}"#,
    )
    .await;
    let cloud_attr = |subkey: &str, number: Option<i64>, value: &str| json!({"datatype": "string", "key": "cloud", "number": number, "subkey": subkey, "value": value});
    let recorded = |state: &str, addresses: &[&str]| {
        let mut attrs = vec![
            cloud_attr("name", None, "fake_driver"),
            cloud_attr("provider", None, "dummy"),
            cloud_attr("node_id", None, "3"),
            cloud_attr("uuid", None, UUID_3),
        ];
        let ips: Vec<Value> = addresses
            .iter()
            .enumerate()
            .map(|(n, ip)| cloud_attr("ip", Some(n as i64), ip))
            .collect();
        // A state set later is the newest attribute under "cloud".
        if state == "running" {
            attrs.push(cloud_attr("state", None, state));
            attrs.extend(ips);
        } else {
            attrs.extend(ips);
            attrs.push(cloud_attr("state", None, state));
        }
        json!({
            "attrs": attrs, "contents": [], "driver": "basicvirtualserver", "ips": addresses,
            "name": "dummy-3", "parents": [], "type": "server",
        })
    };
    assert_json(
        &app.get("/by-name/dummy-3").await,
        200,
        recorded("running", &["127.0.0.3"]),
    );
    assert_json(
        &app.get_with(
            "/by-attr",
            &[("key", "cloud"), ("subkey", "uuid"), ("value", UUID_3)],
            &[],
        )
        .await,
        200,
        json!(["/basicvirtualserver/dummy-3"]),
    );

    put_json(&app, "/api/v1/vm/stop/fake_driver", r#"{"node": "3"}"#).await;
    assert_json(
        &app.get("/by-name/dummy-3").await,
        200,
        recorded("terminated", &[]),
    );

    // The same node number on another cloud gets a cloud-qualified name.
    app.post_json(
        "/api/v1/vm/start",
        r#"{"name": "web", "image": "1", "size": "1", "keyname": "ops"}"#,
    )
    .await;
    assert_json(
        &app.get_with(
            "/by-attr",
            &[("key", "cloud"), ("subkey", "name"), ("value", "default")],
            &[],
        )
        .await,
        200,
        json!(["/basicvirtualserver/dummy-3@default"]),
    );
}

async fn emulated_assign_and_release_answer_as_documented(db: Db) {
    let app = spawn_app(db).await;
    let documented = json!({"id": 42, "id_vm": "-fake_id-", "result": "Node -fake_id- assigned", "status": "ok"});
    assert_json(
        &put_json(
            &app,
            "/api/v1/vm/action/assign/fake_driver",
            r#"{"emulate": "True", "node": "fake_id", "user": "fake_user", "vm_type": "app_name"}"#,
        )
        .await,
        200,
        documented.clone(),
    );
    assert_json(
        &put_json(
            &app,
            "/api/v1/vm/action/release/fake_driver",
            r#"{"emulate": "True", "node": "fake_id"}"#,
        )
        .await,
        200,
        documented,
    );
    assert_json(&app.get("/entity/basicvirtualserver").await, 200, json!([]));
}

async fn assignments_are_stored_and_survive_a_restart(db: Db) {
    let app = spawn_app(db).await;
    let assigned = put_json(
        &app,
        "/api/v1/vm/action/assign/fake_driver",
        r#"{"node": "1", "user": "ann", "vm_type": "billing"}"#,
    )
    .await;
    assert_eq!(assigned.status, 200, "{assigned:?}");
    let body = assigned.json();
    assert_eq!(body["id_vm"], json!("1"));
    assert_eq!(body["result"], json!("Node 1 assigned"));
    assert_eq!(body["status"], json!("ok"));
    assert!(body["id"].is_i64());

    assert_json(
        &put_json(
            &app,
            "/api/v1/vm/action/assign/fake_driver",
            r#"{"hostname": "dummy-1", "user": "bob", "vm_type": "crm"}"#,
        )
        .await,
        409,
        envelope(
            409,
            "Conflict",
            "Request conflict.",
            "Node 1 is already assigned to ann",
        ),
    );
    app.stop().await;

    let again = spawn_app_on(app.database.clone()).await;
    let assignment = again.get("/attribute/dummy-1/assignment").await.json();
    let subkeys: Vec<&str> = assignment
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["subkey"].as_str().unwrap())
        .collect();
    assert_eq!(subkeys, ["user", "vm_type", "assigned_at"]);
    assert_eq!(assignment[0]["value"], json!("ann"));
    assert_eq!(assignment[1]["value"], json!("billing"));
    assert_eq!(assignment[2]["datatype"], json!("datetime"));
    assert_eq!(
        again
            .get_with(
                "/by-attr",
                &[("key", "assignment"), ("subkey", "user"), ("value", "ann")],
                &[]
            )
            .await
            .json(),
        json!(["/basicvirtualserver/dummy-1"])
    );

    let released = put_json(
        &again,
        "/api/v1/vm/action/release/fake_driver",
        r#"{"hostname": "dummy-1"}"#,
    )
    .await;
    assert_eq!(released.status, 200);
    assert_eq!(released.json()["result"], json!("Node 1 released"));
    let assignment = again
        .get("/attribute/dummy-1/assignment/released_at")
        .await
        .json();
    assert_eq!(assignment[0]["datatype"], json!("datetime"));
    assert_json(
        &put_json(
            &again,
            "/api/v1/vm/action/release/fake_driver",
            r#"{"node": "1"}"#,
        )
        .await,
        409,
        envelope(
            409,
            "Conflict",
            "Request conflict.",
            "Node 1 is not assigned",
        ),
    );
    // A released node can be assigned again.
    assert_eq!(
        put_json(
            &again,
            "/api/v1/vm/action/assign/fake_driver",
            r#"{"node": "1", "user": "bob", "vm_type": "crm"}"#
        )
        .await
        .status,
        200
    );
}

async fn bad_requests_get_the_error_envelope(db: Db) {
    let app = spawn_app(db).await;
    assert_json(
        &app.post_json(
            "/api/v1/vm/start/fake_driver",
            r#"{"name": "x", "size": "1"}"#,
        )
        .await,
        400,
        bad_request("Missing parameter: image"),
    );
    let malformed = app
        .post_json("/api/v1/vm/start/fake_driver", r#"{"name": "x", "#)
        .await;
    assert_eq!(malformed.status, 400);
    assert!(
        malformed.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Malformed JSON body")
    );
    assert_json(
        &app.post_json("/api/v1/vm/start/fake_driver", "[1]").await,
        400,
        bad_request("The body must be a JSON object"),
    );
    assert_json(
        &app.post_json(
            "/api/v1/vm/start/fake_driver",
            r#"{"name": "x", "image": {"id": 1}, "size": "1"}"#,
        )
        .await,
        400,
        bad_request("Parameter image must be a string"),
    );
    assert_json(
        &put_json(&app, "/api/v1/vm/stop/fake_driver", "{}").await,
        400,
        bad_request("Missing parameter: node"),
    );
    assert_json(
        &put_json(
            &app,
            "/api/v1/vm/action/assign/fake_driver",
            r#"{"user": "ann", "vm_type": "web"}"#,
        )
        .await,
        400,
        bad_request("Missing parameter: node or hostname"),
    );
    assert_json(
        &put_json(
            &app,
            "/api/v1/vm/action/assign/fake_driver",
            r#"{"node": "99", "user": "ann", "vm_type": "web"}"#,
        )
        .await,
        404,
        envelope(
            404,
            "Not Found",
            "Nothing matches the given URI",
            "Node 99 not found",
        ),
    );
    assert_json(
        &app.post_json(
            "/api/v1/vm/start/fake_driver",
            r#"{"name": "x", "image": "9", "size": "1"}"#,
        )
        .await,
        404,
        envelope(
            404,
            "Not Found",
            "Nothing matches the given URI",
            "The cloud has no image 9",
        ),
    );
    assert_json(
        &put_json(&app, "/api/v1/vm/stop/fake_driver", r#"{"node": "9"}"#).await,
        404,
        envelope(
            404,
            "Not Found",
            "Nothing matches the given URI",
            "The cloud has no node 9",
        ),
    );
    assert_json(&app.get("/entity/basicvirtualserver").await, 200, json!([]));
}

async fn provider_failures_record_nothing(db: Db) {
    let app = spawn_app(db).await;
    let failed = app
        .post_json(
            "/api/v1/vm/start/flaky",
            r#"{"name": "x", "image": "1", "size": "1"}"#,
        )
        .await;
    assert_json(
        &failed,
        502,
        envelope(
            502,
            "Bad Gateway",
            "Invalid responses from another server/proxy.",
            "The cloud provider failed",
        ),
    );
    assert_json(
        &put_json(
            &app,
            "/api/v1/vm/action/assign/flaky",
            r#"{"node": "1", "user": "ann", "vm_type": "web"}"#,
        )
        .await,
        502,
        envelope(
            502,
            "Bad Gateway",
            "Invalid responses from another server/proxy.",
            "The cloud provider failed",
        ),
    );
    assert_json(&app.get("/entity/basicvirtualserver").await, 200, json!([]));
    assert_json(
        &app.get_with(
            "/by-attr",
            &[("key", "cloud"), ("subkey", "name"), ("value", "flaky")],
            &[],
        )
        .await,
        200,
        json!([]),
    );
}

#[tokio::test]
async fn stopping_an_assigned_node_releases_it() {
    let app = spawn_app(Db::Sqlite).await;
    app.post_json(
        "/api/v1/vm/start/fake_driver",
        r#"{"name": "web", "image": "1", "size": "1"}"#,
    )
    .await;
    let assigned = put_json(
        &app,
        "/api/v1/vm/action/assign/fake_driver",
        r#"{"node": "3", "user": "ann", "vm_type": "web"}"#,
    )
    .await;
    assert_eq!(assigned.status, 200, "{assigned:?}");
    put_json(&app, "/api/v1/vm/stop/fake_driver", r#"{"node": "3"}"#).await;
    let released = app.get("/attribute/dummy-3/assignment/released_at").await;
    assert_eq!(released.json()[0]["datatype"], json!("datetime"));
}

#[tokio::test]
async fn wrong_paths_under_the_cloud_api_get_the_envelope() {
    let app = spawn_app(Db::Sqlite).await;
    for path in [
        "/api/v1/nodes/fake_driver/extra",
        "/api/v1/flavours",
        "/api/v1/",
    ] {
        assert_json(&app.get(path).await, 500, wrong_cloud());
    }
}

#[tokio::test]
async fn concurrent_first_assignments_record_one_entity_and_one_holder() {
    let app = std::sync::Arc::new(spawn_app(Db::Postgres).await);
    let mut tasks = Vec::new();
    for user in ["ann", "bob", "cid", "dan"] {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let body = format!(r#"{{"node": "1", "user": "{user}", "vm_type": "web"}}"#);
            app.send_json("PUT", "/api/v1/vm/action/assign/fake_driver", &body)
                .await
                .status
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409, 409, 409]);
    assert_json(
        &app.get("/entity/basicvirtualserver").await,
        200,
        json!(["/basicvirtualserver/dummy-1"]),
    );
}
