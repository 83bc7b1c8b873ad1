//! Durable jobs, on the real binary: a crash in the middle of a burst of
//! starts and stops loses and duplicates nothing, a job a dead server held
//! is finished by another server, and SIGTERM or SIGINT let an in-flight
//! start finish before the process exits.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use strato_tests::{JobRow, Reply, TestDatabase, spawn_app_with, test_settings};

use crate::helpers::{Db, assert_json, on_both_databases};
use crate::process::{ProcessConfig, Scratch, StratoProcess, read_reply};

on_both_databases!(
    a_crash_during_a_burst_loses_and_duplicates_nothing,
    sigterm_lets_an_in_flight_start_finish,
    sigint_lets_an_in_flight_start_finish,
);

/// Starts in the burst.
const STARTS: usize = 30;
/// Nodes started before the burst and stopped during it.
const STOPS: usize = 6;

/// Polls the jobs table until one matches, at most `within`.
async fn wait_for_job(
    database: &TestDatabase,
    within: Duration,
    what: &str,
    matches: impl Fn(&JobRow) -> bool,
) -> JobRow {
    let deadline = Instant::now() + within;
    loop {
        let jobs = database.jobs().await;
        if let Some(job) = jobs.iter().find(|j| matches(j)) {
            return job.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no job is {what} after {within:?}: {jobs:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls the jobs table until no job is queued or running and at least
/// `reconciliations` reconciliations are over, at most 30 s.
async fn settled_jobs(database: &TestDatabase, reconciliations: usize) -> Vec<JobRow> {
    let within = Duration::from_secs(30);
    let deadline = Instant::now() + within;
    loop {
        let jobs = database.jobs().await;
        let reconciled = jobs
            .iter()
            .filter(|j| j.kind == "reconcile" && j.is_final())
            .count();
        if reconciled >= reconciliations && jobs.iter().all(JobRow::is_final) {
            return jobs;
        }
        assert!(
            Instant::now() < deadline,
            "jobs still queued or running after {within:?}: {:#?}",
            jobs.iter().filter(|j| !j.is_final()).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A request of the burst.
#[derive(Debug, Clone)]
enum Op {
    Start(usize),
    Stop(String),
}

/// What became of a request of the burst.
#[derive(Debug)]
enum Outcome {
    /// An answer came.
    Answered(u16, Value),
    /// The connection failed (the server died).
    Lost,
}

async fn send_op(
    client: reqwest::Client,
    base: String,
    op: Op,
    started: Arc<AtomicUsize>,
) -> Outcome {
    let request = match &op {
        Op::Start(i) => client
            .post(format!("{base}/api/v1/vm/start"))
            .json(&json!({"name": format!("burst-{i}"), "image": "1", "size": "1"})),
        Op::Stop(node) => client
            .put(format!("{base}/api/v1/vm/stop"))
            .json(&json!({"node": node})),
    };
    match request.send().await {
        Ok(response) => {
            let reply = read_reply(response).await;
            let body = serde_json::from_str(&reply.body).unwrap_or(Value::String(reply.body));
            if matches!(op, Op::Start(_)) && reply.status == 200 {
                started.fetch_add(1, Ordering::SeqCst);
            }
            Outcome::Answered(reply.status, body)
        }
        Err(_) => Outcome::Lost,
    }
}

/// The dummy cloud's state file: its nodes (id -> uuid, key), the nodes it
/// destroyed, and how many nodes it ever made.
#[derive(Debug)]
struct CloudState {
    nodes: BTreeMap<String, (String, Option<String>)>,
    destroyed: BTreeMap<String, (String, Option<String>)>,
    made: u64,
}

fn read_state_file(path: &Path) -> CloudState {
    let text = std::fs::read_to_string(path).expect("the dummy cloud's state file");
    let state: Value = serde_json::from_str(&text).expect("the state file is JSON");
    let nodes = |list: &str| {
        state[list]
            .as_array()
            .unwrap_or_else(|| panic!("no {list} in the state file: {state}"))
            .iter()
            .map(|n| {
                (
                    n["id"].as_str().unwrap().to_owned(),
                    (
                        n["uuid"].as_str().unwrap().to_owned(),
                        n["idempotency_key"].as_str().map(str::to_owned),
                    ),
                )
            })
            .collect::<BTreeMap<_, _>>()
    };
    CloudState {
        nodes: nodes("nodes"),
        destroyed: nodes("destroyed"),
        // dummy-1 and dummy-2 were there from the start: numbers from 3.
        made: state["next_number"].as_u64().expect("next_number") - 3,
    }
}

/// The inventory entities (compact paths) whose `cloud/<subkey>` is `value`.
async fn records(server: &StratoProcess, subkey: &str, value: &str) -> Vec<String> {
    let reply = server
        .get_with(
            "/by-attr",
            &[("key", "cloud"), ("subkey", subkey), ("value", value)],
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    serde_json::from_str(&reply.body).expect("a list of entities")
}

/// The value of an entity's `cloud/<subkey>` attribute.
async fn cloud_attribute(server: &StratoProcess, entity: &str, subkey: &str) -> Value {
    let name = entity.rsplit('/').next().expect("a compact path");
    let reply = server
        .get(&format!("/attribute/{name}/cloud/{subkey}"))
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()[0]["value"].clone()
}

async fn a_crash_during_a_burst_loses_and_duplicates_nothing(db: Db) {
    // Arrange: the binary on a dummy cloud kept in a state file, and nodes
    // to stop during the burst.
    let database = TestDatabase::create(db);
    let scratch = Scratch::new("burst");
    let state_file = scratch.path("default.json");
    let config = ProcessConfig {
        latency_ms: 20,
        state_file: Some(state_file.clone()),
        lease_seconds: 1,
        ..ProcessConfig::new(&database)
    }
    .write(&scratch);
    let mut first = StratoProcess::start(&config).await;
    let mut early = BTreeMap::new();
    for i in 0..STOPS {
        let started = first
            .send_json(
                "POST",
                "/api/v1/vm/start",
                &json!({"name": format!("early-{i}"), "image": "1", "size": "1"}),
            )
            .await;
        assert_eq!(started.status, 200, "{started:?}");
        let node = &started.json()["nodes"];
        early.insert(
            node["id"].as_str().unwrap().to_owned(),
            node["uuid"].as_str().unwrap().to_owned(),
        );
    }

    // Act: a burst of starts and stops, cut short by SIGKILL once some
    // starts have answered; then the same configuration again.
    let started = Arc::new(AtomicUsize::new(0));
    let mut ops: Vec<Op> = (0..STARTS).map(Op::Start).collect();
    for (n, node) in early.keys().enumerate() {
        ops.insert(n * 5 + 2, Op::Stop(node.clone()));
    }
    let burst: Vec<_> = ops
        .into_iter()
        .map(|op| {
            let task = tokio::spawn(send_op(
                first.client(),
                first.address.clone(),
                op.clone(),
                started.clone(),
            ));
            (op, task)
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(15);
    while started.load(Ordering::SeqCst) < 3 {
        assert!(
            Instant::now() < deadline,
            "no start of the burst answered within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill();
    let mut outcomes = Vec::new();
    for (op, task) in burst {
        let outcome = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("a request of the burst ends once the server is dead")
            .expect("the request task");
        outcomes.push((op, outcome));
    }
    let second = StratoProcess::start(&config).await;
    let jobs = settled_jobs(&database, 2).await;

    // Assert: every job finished.
    let unfinished: Vec<_> = jobs
        .iter()
        .filter(|j| j.kind != "reconcile" && j.state != "succeeded")
        .collect();
    assert!(
        unfinished.is_empty(),
        "start and stop jobs that did not succeed: {unfinished:#?}"
    );

    // No node was made twice: each node the cloud made carries the key of
    // a start job of its own, and every start job made its node.
    let cloud = read_state_file(&state_file);
    let start_jobs: BTreeSet<&str> = jobs
        .iter()
        .filter(|j| j.kind == "start_node")
        .map(|j| j.id.as_str())
        .collect();
    assert!(
        cloud.made <= start_jobs.len() as u64,
        "the cloud made {} nodes for {} start jobs",
        cloud.made,
        start_jobs.len()
    );
    let keys: Vec<&str> = cloud
        .nodes
        .values()
        .chain(cloud.destroyed.values())
        .filter_map(|(_, key)| key.as_deref())
        .collect();
    assert_eq!(
        keys.len() as u64,
        cloud.made,
        "every node made carries its key"
    );
    assert_eq!(
        keys.iter().collect::<BTreeSet<_>>().len(),
        keys.len(),
        "two nodes share a key: {keys:?}"
    );
    for key in &keys {
        assert!(
            start_jobs.contains(key),
            "node key {key} names no start job"
        );
    }
    for job in &start_jobs {
        assert!(keys.contains(job), "start job {job} made no node");
    }

    // Every node the cloud lists has exactly one record.
    let listed = second.get("/api/v1/nodes").await;
    assert_eq!(listed.status, 200, "{listed:?}");
    let listed = listed.json()["nodes"].as_array().unwrap().clone();
    let uuids: BTreeSet<String> = listed
        .iter()
        .filter(|n| !matches!(n["id"].as_str(), Some("1" | "2")))
        .map(|n| n["uuid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        uuids,
        cloud
            .nodes
            .iter()
            .filter(|(id, _)| !matches!(id.as_str(), "1" | "2"))
            .map(|(_, (uuid, _))| uuid.clone())
            .collect(),
        "the cloud lists the nodes of its state file"
    );
    for uuid in &uuids {
        let found = records(&second, "uuid", uuid).await;
        assert_eq!(found.len(), 1, "records of node {uuid}: {found:?}");
    }

    // Every record of a running node names a node the cloud has.
    for entity in records(&second, "state", "running").await {
        let uuid = cloud_attribute(&second, &entity, "uuid").await;
        assert!(
            uuid.as_str().is_some_and(|u| uuids.contains(u)),
            "{entity} is recorded running, but the cloud has no node {uuid}"
        );
    }

    // What was acknowledged holds: started nodes exist, stopped ones are
    // gone and recorded terminated.
    let mut answered = 0;
    for (op, outcome) in &outcomes {
        let Outcome::Answered(status, body) = outcome else {
            continue;
        };
        answered += 1;
        assert_eq!(*status, 200, "{op:?} answered {body}");
        match op {
            Op::Start(_) => {
                let uuid = body["nodes"]["uuid"].as_str().unwrap();
                assert!(uuids.contains(uuid), "started node {uuid} is gone");
            }
            Op::Stop(node) => {
                let uuid = &early[node];
                assert!(!uuids.contains(uuid), "stopped node {node} is still there");
                let found = records(&second, "uuid", uuid).await;
                assert_eq!(found.len(), 1, "records of node {node}: {found:?}");
                assert_eq!(
                    cloud_attribute(&second, &found[0], "state").await,
                    json!("terminated"),
                    "the record of stopped node {node}"
                );
            }
        }
    }
    assert!(answered >= 3, "{outcomes:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_server_died_is_finished_by_another_server() {
    // Arrange: server A, the binary, with a slow cloud, running a start.
    let database = Arc::new(TestDatabase::create(Db::Postgres));
    let scratch = Scratch::new("takeover");
    let config = ProcessConfig {
        latency_ms: 4000,
        lease_seconds: 1,
        ..ProcessConfig::new(&database)
    }
    .write(&scratch);
    let mut a = StratoProcess::start(&config).await;
    let request = {
        let client = a.client();
        let url = format!("{}/api/v1/vm/start", a.address);
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"name": "web", "image": "1", "size": "1"}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    let job = wait_for_job(&database, Duration::from_secs(10), "a running start", |j| {
        j.kind == "start_node" && j.state == "running"
    })
    .await;

    // Act: A dies; server B, in process, with its own cloud of that name.
    a.kill();
    let mut settings = test_settings(&database);
    settings.jobs.lease_seconds = 1;
    let b = spawn_app_with(database.clone(), settings).await;
    let done = wait_for_job(&database, Duration::from_secs(15), "the start, over", |j| {
        j.id == job.id && j.is_final()
    })
    .await;

    // Assert
    assert_eq!(done.state, "succeeded", "{done:#?}");
    assert_eq!(done.attempts, 2, "{done:#?}");
    let nodes = b.get("/api/v1/nodes").await;
    assert_eq!(nodes.status, 200, "{nodes:?}");
    let nodes = nodes.json()["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 3, "{nodes:#?}");
    let made = nodes
        .iter()
        .find(|n| n["name"] == json!("dummy-3"))
        .unwrap_or_else(|| panic!("B's cloud has no dummy-3: {nodes:#?}"));
    assert_json(
        &b.get_with(
            "/by-attr",
            &[
                ("key", "cloud"),
                ("subkey", "uuid"),
                ("value", made["uuid"].as_str().unwrap()),
            ],
            &[],
        )
        .await,
        200,
        json!(["/basicvirtualserver/dummy-3"]),
    );
    assert_json(
        &b.get_with(
            "/by-attr",
            &[("key", "cloud"), ("subkey", "name"), ("value", "default")],
            &[],
        )
        .await,
        200,
        json!(["/basicvirtualserver/dummy-3"]),
    );
    let answer = tokio::time::timeout(Duration::from_secs(5), request)
        .await
        .expect("the request to A ended with A")
        .expect("the request task");
    assert!(answer.is_err(), "A answered before it died: {answer:?}");
    b.stop().await;
}

/// Starts a slow node on the binary, sends `signal` while it runs, and
/// checks that the start is answered and the process exits cleanly.
async fn drains_on(db: Db, signal: &str) {
    // Arrange: a start in flight on a slow cloud.
    let database = TestDatabase::create(db);
    let scratch = Scratch::new("drain");
    let config = ProcessConfig {
        latency_ms: 1500,
        shutdown_grace_seconds: 5,
        ..ProcessConfig::new(&database)
    }
    .write(&scratch);
    let mut server = StratoProcess::start(&config).await;
    let request = {
        let client = server.client();
        let url = format!("{}/api/v1/vm/start", server.address);
        tokio::spawn(async move {
            let response = client
                .post(url)
                .json(&json!({"name": "web", "image": "1", "size": "1"}))
                .send()
                .await?;
            Ok::<Reply, reqwest::Error>(read_reply(response).await)
        })
    };
    let job = wait_for_job(&database, Duration::from_secs(10), "a running start", |j| {
        j.kind == "start_node" && j.state == "running"
    })
    .await;

    // Act
    server.signal(signal);

    // Assert: the start is answered, then the process exits with success.
    let reply = tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .expect("the in-flight start is answered within 10 s")
        .expect("the request task")
        .unwrap_or_else(|e| {
            panic!(
                "the in-flight start got no answer after SIG{signal}: {e}\n{}",
                server.log_tail()
            )
        });
    assert_eq!(reply.status, 200, "{reply:?}");
    let body = reply.json();
    assert_eq!(body["status"], json!("ok"), "{body}");
    assert_eq!(body["nodes"]["name"], json!("dummy-3"), "{body}");
    let status = server.exit_status(Duration::from_secs(8)).await;
    assert!(
        status.success(),
        "strato exited with {status} after SIG{signal}:\n{}",
        server.log_tail()
    );
    let jobs = database.jobs().await;
    let settled = jobs.iter().find(|j| j.id == job.id).expect("the start job");
    assert_eq!(settled.state, "succeeded", "{settled:#?}");
}

async fn sigterm_lets_an_in_flight_start_finish(db: Db) {
    drains_on(db, "TERM").await;
}

async fn sigint_lets_an_in_flight_start_finish(db: Db) {
    drains_on(db, "INT").await;
}
