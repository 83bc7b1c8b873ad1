//! The IM-compatible infrastructures family, end to end on both databases:
//! synchronous and asynchronous deployments, VM ids, operations, export and
//! import, ownership, content negotiation, provider failures and the
//! inventory records of VMs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use strato_tests::{Reply, TestApp, TestDatabase, spawn_app_on};

use crate::helpers::{Db, on_both_databases, spawn_app};

on_both_databases!(
    a_synchronous_deployment_answers_when_every_vm_is_configured,
    an_asynchronous_deployment_is_polled_until_configured,
    vm_ids_are_never_reused,
    stop_start_alter_and_snapshot_act_on_the_vms,
    export_then_import_moves_an_infrastructure,
    owners_see_their_infrastructures_only,
    a_failing_cloud_fails_its_vms_only,
    bad_requests_change_nothing,
    vms_are_inventory_entities,
    another_replica_reads_the_same_state,
    dry_runs_reconfigurations_owners_and_logs,
    snapshots_and_alterations_reach_the_provider,
);

/// Alice's credentials, flattened as IM clients send them.
const ALICE: &str = "id = dummy; type = Dummy\\ntype = InfrastructureManager; username = alice; password = wonderland";
/// Bob's credentials.
const BOB: &str = "type = InfrastructureManager; username = bob; password = builder";
/// Two small VMs with contextualisation disabled (the spec's example 1).
const TWO_VMS: &str = "network privada ( )
system node ( cpu.arch = 'x86_64' and cpu.count >= 1 and memory.size >= 512m and net_interface.0.connection = 'privada' and
  disk.0.image.url = 'mock0://linux.for.ev.er/image' and disk.0.os.name = 'linux' )
contextualize ()
deploy node 2
";

/// One IM request: method, path, `Authorization`, `Accept`, body with its
/// `Content-Type`.
async fn im(
    app: &TestApp,
    method: &str,
    path: &str,
    auth: Option<&str>,
    accept: Option<&str>,
    body: Option<(&str, &str)>,
) -> Reply {
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client.request(method, format!("{}{path}", app.address));
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    if let Some((content_type, body)) = body {
        request = request
            .header("Content-Type", content_type)
            .body(body.to_owned());
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

#[track_caller]
fn assert_reply(reply: &Reply, status: u16, content_type: &str, body: &str) {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(
        reply.header("content-type"),
        Some(content_type),
        "{reply:?}"
    );
    assert_eq!(reply.body, body, "{reply:?}");
}

#[track_caller]
fn assert_json_reply(reply: &Reply, status: u16, expected: Value) {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{reply:?}"
    );
    assert_eq!(reply.json(), expected, "{reply:?}");
}

const TEXT: &str = "text/plain; charset=utf-8";
const URIS: &str = "text/uri-list; charset=utf-8";

/// Creates an infrastructure (synchronously unless `query` says otherwise)
/// and returns its id.
async fn create(app: &TestApp, auth: &str, radl: &str, query: &str) -> String {
    let reply = im(
        app,
        "POST",
        &format!("/infrastructures{query}"),
        Some(auth),
        None,
        Some(("text/plain", radl)),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some(URIS));
    let id = reply
        .body
        .strip_prefix(&format!("{}/infrastructures/", app.address))
        .unwrap_or_else(|| panic!("not an infrastructure URI: {reply:?}"))
        .to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(reply.header("infid"), Some(id.as_str()));
    id
}

async fn state(app: &TestApp, auth: &str, id: &str) -> Value {
    let reply = im(
        app,
        "GET",
        &format!("/infrastructures/{id}/state"),
        Some(auth),
        None,
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()["state"].clone()
}

/// Polls the state until `done` holds, at most 20 s.
async fn wait_state(app: &TestApp, auth: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = state(app, auth, id).await;
        if done(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "state stuck at {now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_synchronous_deployment_answers_when_every_vm_is_configured(db: Db) {
    let app = spawn_app(db).await;
    let id = create(&app, ALICE, TWO_VMS, "").await;
    let base = format!("{}/infrastructures/{id}", app.address);

    assert_json_reply(
        &im(
            &app,
            "GET",
            &format!("/infrastructures/{id}/state"),
            Some(ALICE),
            None,
            None,
        )
        .await,
        200,
        json!({"state": {"state": "configured", "vm_states": {"0": "configured", "1": "configured"}}}),
    );
    let list = im(&app, "GET", "/infrastructures", Some(ALICE), None, None).await;
    assert_reply(&list, 200, URIS, &base);
    let list = im(
        &app,
        "GET",
        "/infrastructures",
        Some(ALICE),
        Some("application/json"),
        None,
    )
    .await;
    assert_json_reply(&list, 200, json!({"uri-list": [{"uri": base}]}));

    let vms = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&vms, 200, URIS, &format!("{base}/vms/0\n{base}/vms/1"));

    let info = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/vms/0"),
        Some(ALICE),
        Some("application/json"),
        None,
    )
    .await;
    assert_eq!(info.status, 200, "{info:?}");
    let radl = info.json()["radl"].clone();
    let system = radl
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == "system")
        .unwrap()
        .clone();
    assert_eq!(system["id"], "node");
    assert_eq!(system["state"], "configured");
    assert_eq!(system["provider.type"], "Dummy");
    assert_eq!(system["cpu.count_min"], 1);
    assert_eq!(system["memory.size_min"], 512_000_000);
    assert_eq!(system["net_interface.0.dns_name"], "vnode-0");
    assert_eq!(system["disk.0.os.credentials.username"], "username");
    assert_eq!(
        system["disk.0.os.credentials.new.password"]
            .as_str()
            .map(str::len),
        Some(8)
    );
    let ip = system["net_interface.0.ip"].as_str().unwrap().to_owned();
    assert!(ip.starts_with("127.0.0."), "{ip}");
    assert!(
        radl.as_array()
            .unwrap()
            .iter()
            .any(|c| c["class"] == "network" && c["id"] == "privada")
    );

    for (feature, expected) in [
        ("state", json!("configured")),
        ("cpu.count", json!(1)),
        ("memory.size", json!(512_000_000)),
        ("net_interface.0.ip", json!(ip)),
    ] {
        let read = im(
            &app,
            "GET",
            &format!("/infrastructures/{id}/vms/0/{feature}"),
            Some(ALICE),
            Some("application/json"),
            None,
        )
        .await;
        assert_json_reply(&read, 200, json!({ feature: expected }));
    }
    let plain = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/vms/0/state"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&plain, 200, TEXT, "configured");
    let unknown = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/vms/0/command"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(
        &unknown,
        404,
        TEXT,
        "Error Getting VM. property: Incorrect property command for VM ID 0",
    );

    let radl = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/radl"),
        Some(ALICE),
        Some("application/json"),
        None,
    )
    .await;
    assert_eq!(radl.status, 200);
    let text = radl.json()["radl"].as_str().unwrap().to_owned();
    assert!(text.contains("deploy node 2"), "{text}");
    assert!(text.contains("memory.size >= 512m"), "{text}");

    let contmsg = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/contmsg"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(
        &contmsg,
        200,
        TEXT,
        "Contextualization disabled by the RADL/TOSCA template.\n\n",
    );

    let owners = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/authorization"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&owners, 200, TEXT, "alice");

    let destroyed = im(
        &app,
        "DELETE",
        &format!("/infrastructures/{id}"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&destroyed, 200, TEXT, "");
    let gone = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/state"),
        Some(ALICE),
        Some("application/json"),
        None,
    )
    .await;
    assert_json_reply(
        &gone,
        404,
        json!({"message": "Error Getting Inf. prop: Invalid infrastructure ID or access not granted.", "code": 404}),
    );
    let again = im(
        &app,
        "DELETE",
        &format!("/infrastructures/{id}"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(
        &again,
        404,
        TEXT,
        "Error Destroying Inf: Invalid infrastructure ID or access not granted.",
    );
    let list = im(&app, "GET", "/infrastructures", Some(ALICE), None, None).await;
    assert_reply(&list, 200, URIS, "");

    // The family has its own series in /metrics, and so do its jobs.
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .body
            .lines()
            .any(|l| l.starts_with("strato_http_requests_total")
                && l.contains("family=\"infrastructures\"")
                && l.contains("route=\"/infrastructures/{id}/{property}\"")),
        "{}",
        metrics.body
    );
    for kind in ["launch_vm", "destroy_infrastructure"] {
        assert!(
            metrics
                .body
                .lines()
                .any(|l| l.starts_with("strato_jobs_total")
                    && l.contains(&format!("kind=\"{kind}\""))),
            "no {kind} jobs counted: {}",
            metrics.body
        );
    }
}

async fn an_asynchronous_deployment_is_polled_until_configured(db: Db) {
    let app = spawn_app(db).await;
    let id = create(&app, ALICE, TWO_VMS, "?async=1").await;
    let done = wait_state(&app, ALICE, &id, |s| s["state"] == "configured").await;
    assert_eq!(
        done,
        json!({"state": "configured", "vm_states": {"0": "configured", "1": "configured"}})
    );
    let empty = create(&app, ALICE, "", "").await;
    assert_eq!(
        state(&app, ALICE, &empty).await,
        json!({"state": "failed", "vm_states": {}})
    );
    let contmsg = im(
        &app,
        "GET",
        &format!("/infrastructures/{empty}/contmsg"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(
        &contmsg,
        200,
        TEXT,
        "Infrastructure without any deploy. Exiting.",
    );
}

async fn vm_ids_are_never_reused(db: Db) {
    let app = spawn_app(db).await;
    let id = create(&app, ALICE, TWO_VMS, "").await;
    let base = format!("{}/infrastructures/{id}", app.address);
    let removed = im(
        &app,
        "DELETE",
        &format!("/infrastructures/{id}/vms/1"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&removed, 200, TEXT, "");
    let added = im(
        &app,
        "POST",
        &format!("/infrastructures/{id}"),
        Some(ALICE),
        None,
        Some(("text/plain", "system node\ndeploy node 1")),
    )
    .await;
    assert_reply(&added, 200, URIS, &format!("{base}/vms/2"));
    let vms = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&vms, 200, URIS, &format!("{base}/vms/0\n{base}/vms/2"));
    let deleted = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/vms/1"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&deleted, 404, TEXT, "Error Getting VM. info: Deleted VM.");
    let never = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/vms/7"),
        Some(ALICE),
        Some("application/json"),
        None,
    )
    .await;
    assert_json_reply(
        &never,
        404,
        json!({"message": "Error Getting VM. info: Invalid VM ID", "code": 404}),
    );
    let bad_list = im(
        &app,
        "DELETE",
        &format!("/infrastructures/{id}/vms/0,9"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_eq!(bad_list.status, 404, "{bad_list:?}");
    assert_eq!(
        state(&app, ALICE, &id).await,
        json!({"state": "configured", "vm_states": {"0": "configured", "2": "configured"}})
    );
}

async fn stop_start_alter_and_snapshot_act_on_the_vms(db: Db) {
    let app = spawn_app(db).await;
    let id = create(&app, ALICE, TWO_VMS, "").await;
    let stop = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/stop"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&stop, 200, TEXT, "");
    assert_eq!(
        state(&app, ALICE, &id).await,
        json!({"state": "stopped", "vm_states": {"0": "stopped", "1": "stopped"}})
    );
    let start = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/start"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&start, 200, TEXT, "");
    assert_eq!(state(&app, ALICE, &id).await["state"], "configured");

    let stop_one = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/vms/0/stop"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&stop_one, 200, TEXT, "");
    assert_eq!(
        state(&app, ALICE, &id).await,
        json!({"state": "stopped", "vm_states": {"0": "stopped", "1": "configured"}})
    );
    let reboot = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/vms/1/reboot"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&reboot, 200, TEXT, "");
    let other = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/vms/1/explode"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&other, 404, TEXT, "Operation not found");
    let start_one = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/vms/0/start"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&start_one, 200, TEXT, "");
    assert_eq!(
        state(&app, ALICE, &id).await,
        json!({"state": "configured", "vm_states": {"0": "configured", "1": "configured"}})
    );

    let altered = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/vms/1"),
        Some(ALICE),
        Some("application/json"),
        Some((
            "text/plain",
            "system node ( cpu.count = 4 and memory.size = 2048m )",
        )),
    )
    .await;
    assert_eq!(altered.status, 200, "{altered:?}");
    let system = altered.json()["radl"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == "system")
        .unwrap()
        .clone();
    assert_eq!(system["cpu.count"], 4);
    assert_eq!(system["memory.size"], 2_048_000_000);
    let read = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/vms/1/cpu.count"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&read, 200, TEXT, "4");

    let snapshot = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/vms/1/disks/0/snapshot?image_name=backup"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_eq!(snapshot.status, 200, "{snapshot:?}");
    assert_eq!(snapshot.header("content-type"), Some(TEXT));
    assert!(snapshot.body.contains("://"), "{snapshot:?}");
    let missing = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/vms/1/disks/0/snapshot"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&missing, 400, TEXT, "Missing query parameter 'image_name'");
}

async fn export_then_import_moves_an_infrastructure(db: Db) {
    let first = spawn_app(db).await;
    let second = spawn_app(db).await;
    let id = create(&first, ALICE, TWO_VMS, "").await;
    let exported = im(
        &first,
        "GET",
        &format!("/infrastructures/{id}/data?delete=1"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_eq!(exported.status, 200, "{exported:?}");
    let data = exported.json()["data"].as_str().unwrap().to_owned();
    assert!(!data.contains("wonderland"), "an export holds no secret");
    let gone = im(
        &first,
        "GET",
        &format!("/infrastructures/{id}/state"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_eq!(gone.status, 404, "{gone:?}");

    let imported = im(
        &second,
        "PUT",
        "/infrastructures",
        Some(BOB),
        None,
        Some(("application/json", &data)),
    )
    .await;
    assert_reply(
        &imported,
        200,
        URIS,
        &format!("{}/infrastructures/{id}", second.address),
    );
    assert_eq!(
        state(&second, BOB, &id).await,
        json!({"state": "configured", "vm_states": {"0": "configured", "1": "configured"}})
    );
    let twice = im(
        &second,
        "PUT",
        "/infrastructures",
        Some(BOB),
        None,
        Some(("application/json", &data)),
    )
    .await;
    assert_reply(
        &twice,
        400,
        TEXT,
        "Error Importing Inf.: Trying to add an existing infrastructure ID.",
    );
    let bad = im(
        &second,
        "PUT",
        "/infrastructures",
        Some(BOB),
        None,
        Some(("application/json", "\"nonsense\"")),
    )
    .await;
    assert_eq!(bad.status, 400, "{bad:?}");
    assert!(
        bad.body.starts_with(
            "Error Importing Inf.: Error importing the infrastructure, incorrect data: "
        ),
        "{bad:?}"
    );
}

async fn owners_see_their_infrastructures_only(db: Db) {
    let app = spawn_app(db).await;
    let id = create(&app, ALICE, TWO_VMS, "?async=1").await;
    let forbidden = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/state"),
        Some(BOB),
        None,
        None,
    )
    .await;
    assert_reply(
        &forbidden,
        403,
        TEXT,
        "Error Getting Inf. prop: Access to this infrastructure not granted.",
    );
    let impostor = "type = InfrastructureManager; username = alice; password = guess";
    let impostor = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}"),
        Some(impostor),
        None,
        None,
    )
    .await;
    assert_reply(
        &impostor,
        403,
        TEXT,
        "Error Getting Inf. info: Access to this infrastructure not granted.",
    );
    let list = im(&app, "GET", "/infrastructures", Some(BOB), None, None).await;
    assert_reply(&list, 200, URIS, "");

    let missing = im(&app, "GET", "/infrastructures", None, None, None).await;
    assert_reply(&missing, 401, TEXT, "No authentication data provided");
    let no_user = im(
        &app,
        "GET",
        "/infrastructures",
        Some("id = one; type = Dummy"),
        None,
        None,
    )
    .await;
    assert_reply(
        &no_user,
        401,
        TEXT,
        "Error Getting Inf. List: No credentials provided for the InfrastructureManager.",
    );
    let basic = im(
        &app,
        "GET",
        "/infrastructures",
        Some("Basic !!!"),
        None,
        None,
    )
    .await;
    assert_reply(
        &basic,
        401,
        TEXT,
        "Error Getting Inf. List: Invalid Basic credentials",
    );

    let shared = im(
        &app,
        "POST",
        &format!("/infrastructures/{id}/authorization"),
        Some(ALICE),
        None,
        Some((
            "application/json",
            r#"{"username":"bob","password":"builder"}"#,
        )),
    )
    .await;
    assert_reply(&shared, 200, TEXT, "");
    let owners = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/authorization"),
        Some(BOB),
        Some("application/json"),
        None,
    )
    .await;
    assert_json_reply(&owners, 200, json!({"authorization": ["alice", "bob"]}));
    let list = im(&app, "GET", "/infrastructures", Some(BOB), None, None).await;
    assert_reply(
        &list,
        200,
        URIS,
        &format!("{}/infrastructures/{id}", app.address),
    );
    let basic_bob = format!("Basic {}", "Ym9iOmJ1aWxkZXI=");
    let list = im(
        &app,
        "GET",
        "/infrastructures",
        Some(&basic_bob),
        None,
        None,
    )
    .await;
    assert_reply(
        &list,
        200,
        URIS,
        &format!("{}/infrastructures/{id}", app.address),
    );
}

async fn a_failing_cloud_fails_its_vms_only(db: Db) {
    let app = spawn_app(db).await;
    let radl = "network net ( )
system good ( net_interface.0.connection = 'net' )
system bad ( net_interface.0.connection = 'net' )
contextualize ()
deploy good 1
deploy bad 1 flaky
";
    let id = create(&app, ALICE, radl, "").await;
    assert_eq!(
        state(&app, ALICE, &id).await,
        json!({"state": "failed", "vm_states": {"0": "configured", "1": "failed"}})
    );
    let log = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/vms/1/contmsg"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_eq!(log.status, 200, "{log:?}");
    assert!(log.body.contains("Error launching the VM"), "{log:?}");

    let all_bad = "system bad ( cpu.count = 1 )\ncontextualize ()\ndeploy bad 2 flaky\n";
    let failed = im(
        &app,
        "POST",
        "/infrastructures",
        Some(ALICE),
        None,
        Some(("text/plain", all_bad)),
    )
    .await;
    assert_eq!(failed.status, 400, "{failed:?}");
    assert!(
        failed.body.starts_with("Error Creating Inf.: "),
        "{failed:?}"
    );
    let list = im(&app, "GET", "/infrastructures", Some(ALICE), None, None).await;
    assert_reply(
        &list,
        200,
        URIS,
        &format!("{}/infrastructures/{id}", app.address),
    );
}

async fn bad_requests_change_nothing(db: Db) {
    let app = spawn_app(db).await;
    let yaml = im(
        &app,
        "POST",
        "/infrastructures",
        Some(ALICE),
        None,
        Some(("text/yaml", "a: b")),
    )
    .await;
    assert_reply(&yaml, 415, TEXT, "Unsupported Media Type ['text/yaml']");
    let syntax = im(
        &app,
        "POST",
        "/infrastructures",
        Some(ALICE),
        None,
        Some(("text/plain", "system ( broken")),
    )
    .await;
    assert_eq!(syntax.status, 400, "{syntax:?}");
    assert!(
        syntax
            .body
            .starts_with("Error parsing request body: Line 1: Parse error in: "),
        "{syntax:?}"
    );
    let deploy = im(
        &app,
        "POST",
        "/infrastructures",
        Some(ALICE),
        None,
        Some(("text/plain", "system a ( )\ndeploy b 1")),
    )
    .await;
    assert_reply(
        &deploy,
        400,
        TEXT,
        "Error Creating Inf.: Line 2: Invalid system id in the deploy.",
    );
    let cloud = im(
        &app,
        "POST",
        "/infrastructures",
        Some(ALICE),
        None,
        Some(("text/plain", "system a ( )\ndeploy a 1 nowhere")),
    )
    .await;
    assert_reply(
        &cloud,
        400,
        TEXT,
        "Error Creating Inf.: No auth data for cloud with ID: nowhere",
    );
    let accept = im(
        &app,
        "GET",
        "/infrastructures",
        Some(ALICE),
        Some("image/png"),
        None,
    )
    .await;
    assert_reply(
        &accept,
        415,
        TEXT,
        "Unsupported Accept Media Types: image/png",
    );
    let flag = im(
        &app,
        "POST",
        "/infrastructures?async=maybe",
        Some(ALICE),
        None,
        Some(("text/plain", TWO_VMS)),
    )
    .await;
    assert_reply(
        &flag,
        400,
        TEXT,
        "Invalid value for query parameter 'async': maybe",
    );
    let list = im(&app, "GET", "/infrastructures", Some(ALICE), None, None).await;
    assert_reply(&list, 200, URIS, "");

    let id = create(&app, ALICE, TWO_VMS, "").await;
    let property = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/colour"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&property, 404, TEXT, "Incorrect infrastructure property");
    let tosca = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/outputs"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(
        &tosca,
        403,
        TEXT,
        "'outputs' infrastructure property is not valid in this infrastructure",
    );
    let tosca = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/tosca"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(
        &tosca,
        403,
        TEXT,
        "'tosca' infrastructure property is not valid in this infrastructure",
    );
    let operation = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/explode"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&operation, 404, TEXT, "Operation not found");
    let stats = im(&app, "GET", "/stats", Some(ALICE), None, None).await;
    assert_reply(&stats, 404, TEXT, "Not Found");
    let html = im(
        &app,
        "GET",
        "/infrastructures/nope/radl",
        Some(ALICE),
        Some("text/html, */*"),
        None,
    )
    .await;
    assert_eq!(html.status, 404);
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(html.body.contains("<h1>Code: 404.</h1>"), "{html:?}");
    let method = im(&app, "PATCH", "/infrastructures", Some(ALICE), None, None).await;
    assert_eq!(method.status, 405, "{method:?}");
    assert_eq!(method.body, "Method Not Allowed");
    let version = im(
        &app,
        "GET",
        "/version",
        None,
        Some("application/json"),
        None,
    )
    .await;
    assert_json_reply(&version, 200, json!({"version": env!("CARGO_PKG_VERSION")}));
}

async fn vms_are_inventory_entities(db: Db) {
    let app = spawn_app(db).await;
    let id = create(&app, ALICE, TWO_VMS, "").await;
    let pool = app.get(&format!("/from-pools?pool={id}")).await;
    assert_eq!(pool.status, 200, "{pool:?}");
    let members: Vec<String> = pool
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(members.len(), 2, "{members:?}");
    let vm = app.get(&format!("/by-name/{id}-vm0")).await;
    assert_eq!(vm.status, 200, "{vm:?}");
    let attrs = vm.json()["attrs"].clone();
    let value = |subkey: &str| {
        attrs
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == "cloud" && a["subkey"] == subkey)
            .map(|a| a["value"].clone())
    };
    assert_eq!(value("name"), Some(json!("dummy")));
    assert_eq!(value("state"), Some(json!("running")));
    let destroyed = im(
        &app,
        "DELETE",
        &format!("/infrastructures/{id}"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_eq!(destroyed.status, 200, "{destroyed:?}");
    let vm = app.get(&format!("/by-name/{id}-vm0")).await;
    assert_eq!(vm.status, 200, "the record stays: {vm:?}");
    let attrs = vm.json()["attrs"].clone();
    assert!(
        attrs
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["subkey"] == "state" && a["value"] == "terminated"),
        "{attrs}"
    );
}

async fn another_replica_reads_the_same_state(db: Db) {
    let database = Arc::new(TestDatabase::create(db));
    let first = spawn_app_on(database.clone()).await;
    let second = spawn_app_on(database).await;
    let id = create(&first, ALICE, TWO_VMS, "?async=1").await;
    let done = wait_state(&second, ALICE, &id, |s| s["state"] == "configured").await;
    assert_eq!(
        done["vm_states"],
        json!({"0": "configured", "1": "configured"})
    );
    let destroyed = im(
        &second,
        "DELETE",
        &format!("/infrastructures/{id}"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_eq!(destroyed.status, 200, "{destroyed:?}");
    let gone = im(
        &first,
        "GET",
        &format!("/infrastructures/{id}"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_eq!(gone.status, 404, "{gone:?}");
}

async fn dry_runs_reconfigurations_owners_and_logs(db: Db) {
    let app = spawn_app(db).await;
    let estimate = im(
        &app,
        "POST",
        "/infrastructures?dry_run=1",
        Some(ALICE),
        None,
        Some(("text/plain", "network pub ( outbound = 'yes' )\nsystem big ( cpu.count >= 2 and memory.size >= 2g and disk.0.size = 20g and disk.1.size = 100g and net_interface.0.connection = 'pub' )\ndeploy big 2\n")),
    )
    .await;
    let compute =
        json!({"cpuCores": 2, "memoryInMegabytes": 2000, "diskSizeInGigabytes": 20, "publicIP": 1});
    assert_json_reply(
        &estimate,
        200,
        json!({"dummy": {"cloudType": "Dummy", "cloudEndpoint": "", "compute": [compute, compute],
            "storage": [{"sizeInGigabytes": 100}, {"sizeInGigabytes": 100}]}}),
    );
    let list = im(&app, "GET", "/infrastructures", Some(ALICE), None, None).await;
    assert_reply(&list, 200, URIS, "");

    let radl = "network privada ( )\nsystem node ( net_interface.0.connection = 'privada' )\nsystem db ( net_interface.0.connection = 'privada' )\nconfigure db ( )\ncontextualize ( system node configure node )\nconfigure node (\n@begin\n- tasks: []\n@end\n)\ndeploy node 1\ndeploy db 1\n";
    let id = create(&app, ALICE, radl, "").await;
    assert_eq!(
        state(&app, ALICE, &id).await,
        json!({"state": "unconfigured", "vm_states": {"0": "unconfigured", "1": "configured"}})
    );
    let vm_log = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/vms/1/contmsg"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&vm_log, 200, TEXT, "Contextualization disabled");
    let header = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/contmsg?headeronly=1"),
        Some(ALICE),
        Some("application/json"),
        None,
    )
    .await;
    assert_json_reply(
        &header,
        200,
        json!({"contmsg": "Contextualization Error: contextualization is not supported by this server."}),
    );
    let full = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/contmsg"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert!(
        full.body.contains("VM 0:\nContextualization Error"),
        "{full:?}"
    );
    assert!(full.body.contains(&"*".repeat(75)), "{full:?}");

    let reconfigured = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/reconfigure?vm_list=0,1"),
        Some(ALICE),
        None,
        Some((
            "text/plain",
            "configure node (\n@begin\n- tasks: [{debug: {msg: again}}]\n@end\n)\n",
        )),
    )
    .await;
    assert_reply(&reconfigured, 200, TEXT, "");
    assert_eq!(reconfigured.header("infid"), Some(id.as_str()));
    let stored = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/radl"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert!(stored.body.contains("msg: again"), "{stored:?}");
    let bad_list = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/reconfigure?vm_list=0,x"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&bad_list, 400, TEXT, "Incorrect vm_list format.");
    let bad_yaml = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/reconfigure"),
        Some(ALICE),
        None,
        Some((
            "text/plain",
            "configure node (\n@begin\n- [unclosed\n@end\n)\n",
        )),
    )
    .await;
    assert_eq!(bad_yaml.status, 400, "{bad_yaml:?}");
    let unchanged = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/radl"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_eq!(
        unchanged.body, stored.body,
        "a refused reconfiguration changes nothing"
    );

    let carol = r#"{"username":"carol","password":"c"}"#;
    let overwrite = im(
        &app,
        "POST",
        &format!("/infrastructures/{id}/authorization?overwrite=1"),
        Some(ALICE),
        None,
        Some(("application/json", carol)),
    )
    .await;
    assert_reply(&overwrite, 200, TEXT, "");
    let alice_out = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_eq!(alice_out.status, 403, "{alice_out:?}");
    let carol_auth = "type = InfrastructureManager; username = carol; password = c";
    let owners = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/authorization"),
        Some(carol_auth),
        None,
        None,
    )
    .await;
    assert_reply(&owners, 200, TEXT, "carol");
    let not_json = im(
        &app,
        "POST",
        &format!("/infrastructures/{id}/authorization"),
        Some(carol_auth),
        None,
        Some(("text/plain", carol)),
    )
    .await;
    assert_reply(
        &not_json,
        415,
        TEXT,
        "Unsupported Media Type ['text/plain']",
    );

    let huge = "#".repeat(70 * 1024);
    let too_large = im(
        &app,
        "POST",
        "/infrastructures",
        Some(ALICE),
        None,
        Some(("text/plain", &huge)),
    )
    .await;
    assert_reply(&too_large, 413, TEXT, "Request body too large");
}

async fn snapshots_and_alterations_reach_the_provider(db: Db) {
    let app = spawn_app(db).await;
    let radl = "system node ( cpu.count >= 1 and memory.size >= 512m )\ncontextualize ()\ndeploy node 1 default\n";
    let id = create(&app, ALICE, radl, "").await;
    let images = |reply: &Reply| -> Vec<String> {
        reply.json()["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let snapshot = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/vms/0/disks/0/snapshot?image_name=keep"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_eq!(snapshot.status, 200, "{snapshot:?}");
    let temporary = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/vms/0/disks/0/snapshot?image_name=scratch&auto_delete=1"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_eq!(temporary.status, 200, "{temporary:?}");
    assert!(
        temporary.body.starts_with("dummy://default/"),
        "{temporary:?}"
    );
    let listed = app.get("/api/v1/images/default").await;
    assert!(
        images(&listed).contains(&"scratch".to_owned()),
        "{listed:?}"
    );

    let nodes = app.get("/api/v1/nodes/default").await;
    let node_of = |reply: &Reply| {
        reply.json()["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| !matches!(n["id"].as_str(), Some("1" | "2")))
            .cloned()
            .unwrap()
    };
    assert!(node_of(&nodes)["extra"].get("size").is_none(), "{nodes:?}");
    let altered = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/vms/0"),
        Some(ALICE),
        None,
        Some(("text/plain", "system node ( memory.size >= 2g )")),
    )
    .await;
    assert_eq!(altered.status, 200, "{altered:?}");
    assert!(altered.body.contains("memory.size >= 2g"), "{altered:?}");
    let nodes = app.get("/api/v1/nodes/default").await;
    assert!(
        node_of(&nodes)["extra"]["size"].is_string(),
        "the provider resized the node: {nodes:?}"
    );
    let too_big = im(
        &app,
        "PUT",
        &format!("/infrastructures/{id}/vms/0"),
        Some(ALICE),
        None,
        Some(("text/plain", "system node ( memory.size >= 4096g )")),
    )
    .await;
    assert_eq!(too_big.status, 400, "{too_big:?}");
    assert!(
        too_big.body.starts_with("Error modifying resources: "),
        "{too_big:?}"
    );
    let read = im(
        &app,
        "GET",
        &format!("/infrastructures/{id}/vms/0/memory.size"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_reply(&read, 200, TEXT, "2000000000");

    let destroyed = im(
        &app,
        "DELETE",
        &format!("/infrastructures/{id}"),
        Some(ALICE),
        None,
        None,
    )
    .await;
    assert_eq!(destroyed.status, 200, "{destroyed:?}");
    let listed = images(&app.get("/api/v1/images/default").await);
    assert!(listed.contains(&"keep".to_owned()), "{listed:?}");
    assert!(
        !listed.contains(&"scratch".to_owned()),
        "auto_delete images go with the infrastructure: {listed:?}"
    );
}

mod crash {
    //! A server killed (SIGKILL) during an asynchronous deployment: after a
    //! restart the deployment completes, with exactly one node per VM.

    use std::time::{Duration, Instant};

    use serde_json::{Value, json};
    use strato_tests::TestDatabase;

    use crate::helpers::{Db, on_both_databases};
    use crate::process::{ProcessConfig, Scratch, StratoProcess, read_reply};

    on_both_databases!(a_crash_during_an_asynchronous_deployment_makes_each_node_once);

    const AUTH: &str = "type = InfrastructureManager; username = ops; password = secret";
    const FIVE_VMS: &str = "system node ( cpu.count >= 1 )\ncontextualize ()\ndeploy node 5\n";

    async fn state(process: &StratoProcess, id: &str) -> Value {
        let response = process
            .client()
            .get(format!("{}/infrastructures/{id}/state", process.address))
            .header("Authorization", AUTH)
            .send()
            .await
            .expect("strato answers");
        let reply = read_reply(response).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        reply.json()["state"].clone()
    }

    async fn a_crash_during_an_asynchronous_deployment_makes_each_node_once(db: Db) {
        // Arrange: the binary on a slow dummy cloud kept in a state file.
        let database = TestDatabase::create(db);
        let scratch = Scratch::new("deployment");
        let state_file = scratch.path("default.json");
        let config = ProcessConfig {
            latency_ms: 150,
            state_file: Some(state_file.clone()),
            lease_seconds: 1,
            ..ProcessConfig::new(&database)
        }
        .write(&scratch);
        let mut first = StratoProcess::start(&config).await;

        // Act: an asynchronous deployment of five VMs, killed once the
        // first node exists; then the same configuration again.
        let response = first
            .client()
            .post(format!("{}/infrastructures?async=1", first.address))
            .header("Authorization", AUTH)
            .header("Content-Type", "text/plain")
            .body(FIVE_VMS)
            .send()
            .await
            .expect("strato answers");
        let created = read_reply(response).await;
        assert_eq!(created.status, 200, "{created:?}");
        let id = created.header("infid").expect("an InfID header").to_owned();
        let deadline = Instant::now() + Duration::from_secs(20);
        while state(&first, &id).await["vm_states"]
            .as_object()
            .is_none_or(serde_json::Map::is_empty)
        {
            assert!(Instant::now() < deadline, "no VM launched within 20 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        first.kill();
        let second = StratoProcess::start(&config).await;

        // Assert: the deployment completes, and the cloud made five nodes,
        // one per VM key.
        let deadline = Instant::now() + Duration::from_secs(30);
        let done = loop {
            let now = state(&second, &id).await;
            if now["state"] == "configured" {
                break now;
            }
            assert!(
                Instant::now() < deadline,
                "stuck at {now}\n{}",
                second.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(
            done["vm_states"],
            json!({"0": "configured", "1": "configured", "2": "configured", "3": "configured", "4": "configured"})
        );
        let cloud: Value =
            serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
        let keys: Vec<String> = cloud["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["idempotency_key"].as_str().map(str::to_owned))
            .collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(keys.len(), 5, "nodes made with keys: {keys:?}");
        assert_eq!(unique.len(), 5, "two nodes share a key: {keys:?}");
        assert!(keys.iter().all(|k| k.starts_with(&id)), "{keys:?}");
        // dummy-1 and dummy-2 were there from the start: numbers from 3.
        assert_eq!(
            cloud["next_number"].as_u64(),
            Some(3 + 5),
            "the cloud made other nodes"
        );
    }
}

mod im_client {
    //! The real IM client (IM-client from PyPI, pinned) against strato:
    //! create, list, getstate, getinfo, addresource, removeresource, stop,
    //! start and destroy.

    use std::process::{Command, Stdio};

    use strato_tests::python;

    use crate::helpers::{Db, on_both_databases, spawn_app};

    on_both_databases!(the_im_client_drives_a_whole_life_cycle);

    /// The pinned client.
    const IM_CLIENT: &str = "IM-client==1.8.4";

    /// Runs `im_client -r URL -a AUTH <args>` in a scratch home; returns
    /// its exit status and standard output.
    async fn run(url: &str, dir: &std::path::Path, args: &[&str]) -> (bool, String) {
        let venv = python::venv("im", &[IM_CLIENT]);
        let mut command: Command = venv.command("im_client");
        command
            .arg("-r")
            .arg(url)
            .arg("-a")
            .arg(dir.join("auth.dat"))
            .args(args)
            .current_dir(dir)
            .env("HOME", dir)
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .stdin(Stdio::null());
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .unwrap()
            .expect("im_client runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.trim().is_empty() || output.status.success(),
            "{args:?}: {stdout}{stderr}"
        );
        (output.status.success(), stdout)
    }

    async fn the_im_client_drives_a_whole_life_cycle(db: Db) {
        let app = spawn_app(db).await;
        let dir = std::env::temp_dir().join(format!("strato-im-client-{}", fastrand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("auth.dat"),
            "# strato\nid = dummy; type = Dummy\ntype = InfrastructureManager; username = user; password = pass\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("two.radl"),
            "network publica ( outbound = 'yes' )\n\
             system front ( cpu.count >= 1 and memory.size >= 512m and net_interface.0.connection = 'publica' and disk.0.image.url = 'one://server/1' )\n\
             contextualize ()\n\
             deploy front 2\n",
        )
        .unwrap();
        std::fs::write(dir.join("more.radl"), "system front\ndeploy front 1\n").unwrap();
        let url = app.address.as_str();

        let (ok, out) = run(url, &dir, &["create", "two.radl", "0"]).await;
        assert!(ok, "{out}");
        let id = out
            .lines()
            .find_map(|l| l.strip_prefix("Infrastructure successfully created with ID: "))
            .unwrap_or_else(|| panic!("no id in {out:?}"))
            .trim()
            .to_owned();
        assert_eq!(id.len(), 36, "{out}");

        let (ok, out) = run(url, &dir, &["list"]).await;
        assert!(ok && out.contains(&format!("  {id}")), "{out}");

        let (ok, out) = run(url, &dir, &["getstate", &id]).await;
        assert!(ok, "{out}");
        assert!(
            out.contains("The infrastructure is in state: configured"),
            "{out}"
        );
        assert!(out.contains("VM ID: 0 is in state: configured."), "{out}");
        assert!(out.contains("VM ID: 1 is in state: configured."), "{out}");

        let (ok, out) = run(url, &dir, &["getinfo", &id]).await;
        assert!(ok, "{out}");
        assert!(out.contains("Info about VM with ID: 1"), "{out}");
        assert!(out.contains("net_interface.0.ip = '127.0.0."), "{out}");

        let (ok, out) = run(url, &dir, &["addresource", &id, "more.radl"]).await;
        assert!(ok, "{out}");
        assert!(
            out.contains("Resources with IDs: 2 successfully added."),
            "{out}"
        );

        let (ok, out) = run(url, &dir, &["removeresource", &id, "1"]).await;
        assert!(
            ok && out.contains("Resources with IDs: 1 successfully deleted."),
            "{out}"
        );
        let (_, out) = run(url, &dir, &["getstate", &id]).await;
        assert!(out.contains("VM ID: 2 is in state: configured."), "{out}");
        assert!(!out.contains("VM ID: 1 "), "{out}");

        let (ok, out) = run(url, &dir, &["stop", &id]).await;
        assert!(
            ok && out.contains("Infrastructure successfully stopped"),
            "{out}"
        );
        let (_, out) = run(url, &dir, &["getstate", &id]).await;
        assert!(
            out.contains("The infrastructure is in state: stopped"),
            "{out}"
        );

        let (ok, out) = run(url, &dir, &["start", &id]).await;
        assert!(
            ok && out.contains("Infrastructure successfully started"),
            "{out}"
        );
        let (_, out) = run(url, &dir, &["getstate", &id]).await;
        assert!(
            out.contains("The infrastructure is in state: configured"),
            "{out}"
        );

        let (ok, out) = run(url, &dir, &["-y", "destroy", &id]).await;
        assert!(
            ok && out.contains("Infrastructure successfully destroyed"),
            "{out}"
        );
        let (ok, out) = run(url, &dir, &["getstate", &id]).await;
        assert!(!ok, "{out}");
        assert!(
            out.contains("Invalid infrastructure ID or access not granted."),
            "{out}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn fastrand_suffix() -> String {
        format!("{}-{:?}", std::process::id(), std::thread::current().id())
            .replace(|c: char| !c.is_ascii_alphanumeric(), "")
    }
}
