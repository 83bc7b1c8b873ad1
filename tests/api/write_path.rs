//! The write path keeps each request atomic however writes are grouped
//! into transactions (SQLite commits many requests' work at once): among
//! concurrent writes the bad ones change nothing and the good ones all
//! land, and a process killed in the middle of a burst of writes loses
//! none that it acknowledged.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use strato_tests::TestDatabase;

use crate::helpers::{Db, TestApp, assert_error, on_both_databases, spawn_app};
use crate::process::{ProcessConfig, Scratch, StratoProcess, read_reply};

on_both_databases!(
    concurrent_bad_writes_change_nothing_and_good_ones_all_land,
    a_kill_during_a_write_burst_loses_no_acknowledged_write,
);

/// Requests of each kind in the concurrent mix.
const EACH: usize = 40;

/// The highest attribute number: no `number=true` attribute fits above it.
const MAX_NUMBER: &str = "9223372036854775807";

/// One request of the concurrent mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Sets `owner` on `server{i}`.
    Set,
    /// Adds a `tag` to `server{i}`.
    Add,
    /// Creates `new{i}`.
    Create,
    /// Puts `member{i}` into the pool `good`.
    Insert,
    /// Puts `free{i}` then `taken{i}` into the unique pool `second`:
    /// `taken{i}` is in the unique pool `first` already, which storage finds
    /// after it has put `free{i}` in.
    BadInsert,
    /// Adds `note` to `full{i}`, then a numbered `slot`: its numbers are all
    /// used, which storage finds after it has added the note.
    BadAdd,
}

const KINDS: [Kind; 6] = [
    Kind::Set,
    Kind::Add,
    Kind::Create,
    Kind::Insert,
    Kind::BadInsert,
    Kind::BadAdd,
];

/// Names `count` entities of `driver` in one request.
async fn create(app: &TestApp, driver: &str, prefix: &str, count: usize) {
    let names: Vec<String> = (0..count).map(|i| format!("{prefix}{i}")).collect();
    let form: Vec<(&str, &str)> = names.iter().map(|n| ("name", n.as_str())).collect();
    let reply = app.post(&format!("/entity/{driver}"), &form).await;
    assert_eq!(reply.status, 201, "creating {prefix}*: {reply:?}");
}

/// The stored values of an entity's attributes under `key`.
async fn values(app: &TestApp, entity: &str, key: &str) -> Vec<Value> {
    let reply = app.get(&format!("/attribute/{entity}/{key}")).await;
    assert_eq!(reply.status, 200, "{entity}/{key}: {reply:?}");
    reply
        .json()
        .as_array()
        .expect("a list of attributes")
        .iter()
        .map(|a| a["value"].clone())
        .collect()
}

/// The pools holding an entity, as paths.
async fn parents(app: &TestApp, entity: &str) -> Value {
    let reply = app.get(&format!("/by-name/{entity}")).await;
    assert_eq!(reply.status, 200, "{entity}: {reply:?}");
    reply.json()["parents"].clone()
}

/// Sends request `i` of `kind` and checks its answer.
async fn send(app: &TestApp, kind: Kind, i: usize) {
    let reply = match kind {
        Kind::Set => {
            app.put(
                &format!("/attribute/server{i}/owner"),
                &[("value", &format!("team{i}"))],
            )
            .await
        }
        Kind::Add => {
            app.post(
                &format!("/attribute/server{i}"),
                &[("key", "tag"), ("value", &format!("tag{i}"))],
            )
            .await
        }
        Kind::Create => {
            app.post("/entity/basicserver", &[("name", &format!("new{i}"))])
                .await
        }
        Kind::Insert => {
            app.post(
                "/entity/pool/good",
                &[("device", &format!("member{i}")), ("action", "insert")],
            )
            .await
        }
        Kind::BadInsert => {
            let reply = app
                .post(
                    "/entity/unique_pool/second",
                    &[
                        ("device", &format!("free{i}")),
                        ("device", &format!("taken{i}")),
                        ("action", "insert"),
                    ],
                )
                .await;
            assert_error(
                &reply,
                409,
                &format!("\"taken{i}\" is in the unique pool \"first\" already"),
            );
            return;
        }
        Kind::BadAdd => {
            let body = json!([
                {"key": "note", "value": format!("note{i}")},
                {"key": "slot", "value": "more", "number": true},
            ]);
            let reply = app
                .post_json(&format!("/attribute/full{i}"), &body.to_string())
                .await;
            assert_error(
                &reply,
                409,
                "Every attribute number under key \"slot\" is in use: no number=true attribute can be added",
            );
            return;
        }
    };
    assert!(
        (200..300).contains(&reply.status),
        "{kind:?} {i} failed: {reply:?}"
    );
}

async fn concurrent_bad_writes_change_nothing_and_good_ones_all_land(db: Db) {
    // Arrange: servers to write to, members for a pool, entities held by a
    // unique pool, and entities whose `slot` numbers are all used.
    let app = Arc::new(spawn_app(db).await);
    for (driver, prefix) in [
        ("basicserver", "server"),
        ("basicserver", "member"),
        ("basicserver", "free"),
        ("basicserver", "taken"),
        ("basicserver", "full"),
    ] {
        create(&app, driver, prefix, EACH).await;
    }
    assert_eq!(
        app.post("/entity/pool", &[("name", "good")]).await.status,
        201
    );
    for pool in ["first", "second"] {
        let reply = app.post("/entity/unique_pool", &[("name", pool)]).await;
        assert_eq!(reply.status, 201, "{reply:?}");
    }
    let taken: Vec<String> = (0..EACH).map(|i| format!("taken{i}")).collect();
    let mut form: Vec<(&str, &str)> = taken.iter().map(|t| ("device", t.as_str())).collect();
    form.push(("action", "insert"));
    let reply = app.post("/entity/unique_pool/first", &form).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    for i in 0..EACH {
        let reply = app
            .put(
                &format!("/attribute/full{i}/slot"),
                &[("value", "last"), ("number", MAX_NUMBER)],
            )
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }

    // Act: every request at once, kinds interleaved.
    let mut requests = Vec::new();
    for i in 0..EACH {
        for kind in KINDS {
            let app = app.clone();
            requests.push(tokio::spawn(async move { send(&app, kind, i).await }));
        }
    }
    for request in requests {
        request.await.expect("a request answered as expected");
    }

    // Assert: the good ones landed, the bad ones left nothing behind.
    for i in 0..EACH {
        assert_eq!(
            values(&app, &format!("server{i}"), "owner").await,
            [json!(format!("team{i}"))]
        );
        assert_eq!(
            values(&app, &format!("server{i}"), "tag").await,
            [json!(format!("tag{i}"))]
        );
        assert_eq!(app.get(&format!("/by-name/new{i}")).await.status, 200);
        assert_eq!(
            parents(&app, &format!("member{i}")).await,
            json!(["/pool/good"])
        );
        assert_eq!(parents(&app, &format!("free{i}")).await, json!([]));
        assert_eq!(
            parents(&app, &format!("taken{i}")).await,
            json!(["/unique_pool/first"])
        );
        assert_eq!(
            values(&app, &format!("full{i}"), "note").await,
            [] as [Value; 0]
        );
        assert_eq!(
            values(&app, &format!("full{i}"), "slot").await,
            [json!("last")]
        );
    }
    let second = app.get("/by-name/second").await.json();
    assert_eq!(second["contents"], json!([]), "{second}");
    app.stop().await;
}

/// Servers the burst writes to.
const SERVERS: usize = 20;
/// Concurrent writers in the burst.
const WRITERS: usize = 16;
/// Acknowledged writes after which the process is killed.
const ACKNOWLEDGED_BEFORE_KILL: usize = 300;

/// One write of the burst, each to a place of its own.
#[derive(Debug, Clone)]
enum Write {
    /// `PUT /attribute/{server}/{key}` with `value`.
    Set {
        server: String,
        key: String,
        value: String,
    },
    /// `POST /attribute/{server}` of `key` = `value`.
    Add {
        server: String,
        key: String,
        value: String,
    },
    /// `POST /entity/basicserver` of `name`.
    Create { name: String },
}

impl Write {
    /// The `n`th write of writer `w`.
    fn nth(w: usize, n: usize) -> Self {
        let server = format!("server{}", (w + n) % SERVERS);
        let id = format!("w{w}n{n}");
        match n % 3 {
            0 => Self::Set {
                server,
                key: format!("set-{id}"),
                value: format!("value-{id}"),
            },
            1 => Self::Add {
                server,
                key: format!("add-{id}"),
                value: format!("value-{id}"),
            },
            _ => Self::Create {
                name: format!("created-{id}"),
            },
        }
    }

    /// Sends it; true when the server acknowledged it.
    async fn send(&self, client: &reqwest::Client, base: &str) -> bool {
        let request = match self {
            Self::Set { server, key, value } => client
                .put(format!("{base}/attribute/{server}/{key}"))
                .form(&[("value", value)]),
            Self::Add { server, key, value } => client
                .post(format!("{base}/attribute/{server}"))
                .form(&[("key", key), ("value", value)]),
            Self::Create { name } => client
                .post(format!("{base}/entity/basicserver"))
                .form(&[("name", name)]),
        };
        match request.send().await {
            Ok(response) => read_reply(response).await.status < 300,
            Err(_) => false,
        }
    }

    /// Whether the server holds it.
    async fn is_stored(&self, server: &StratoProcess) -> bool {
        match self {
            Self::Set {
                server: on,
                key,
                value,
            }
            | Self::Add {
                server: on,
                key,
                value,
            } => {
                let reply = server.get(&format!("/attribute/{on}/{key}")).await;
                assert_eq!(reply.status, 200, "{reply:?}");
                reply
                    .json()
                    .as_array()
                    .is_some_and(|attrs| attrs.len() == 1 && attrs[0]["value"] == json!(value))
            }
            Self::Create { name } => server.get(&format!("/by-name/{name}")).await.status == 200,
        }
    }
}

async fn a_kill_during_a_write_burst_loses_no_acknowledged_write(db: Db) {
    // Arrange: the binary with servers to write to.
    let database = TestDatabase::create(db);
    let scratch = Scratch::new("write-burst");
    let config = ProcessConfig::new(&database).write(&scratch);
    let mut first = StratoProcess::start(&config).await;
    let names: Vec<String> = (0..SERVERS).map(|i| format!("server{i}")).collect();
    let form: Vec<(&str, &str)> = names.iter().map(|n| ("name", n.as_str())).collect();
    let reply = read_reply(
        first
            .client()
            .post(format!("{}/entity/basicserver", first.address))
            .form(&form)
            .send()
            .await
            .expect("the server answers"),
    )
    .await;
    assert_eq!(reply.status, 201, "{reply:?}");

    // Act: writers send writes back to back, recording those acknowledged,
    // until SIGKILL cuts them short; then the same configuration again.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (client, base) = (first.client(), first.address.clone());
            let (acknowledged, count, killed) =
                (acknowledged.clone(), count.clone(), killed.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    let write = Write::nth(w, n);
                    if write.send(&client, &base).await {
                        acknowledged.lock().unwrap().push(write);
                        count.fetch_add(1, Ordering::SeqCst);
                    } else if killed.load(Ordering::SeqCst) {
                        return;
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while count.load(Ordering::SeqCst) < ACKNOWLEDGED_BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "the burst got {} writes acknowledged in 30 s",
            count.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    killed.store(true, Ordering::SeqCst);
    first.kill();
    for writer in writers {
        tokio::time::timeout(Duration::from_secs(20), writer)
            .await
            .expect("a writer stops once the server is dead")
            .expect("the writer task");
    }
    let second = StratoProcess::start(&config).await;

    // Assert: every acknowledged write is there.
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= ACKNOWLEDGED_BEFORE_KILL);
    let mut lost = Vec::new();
    for write in &acknowledged {
        if !write.is_stored(&second).await {
            lost.push(write.clone());
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes were lost: {lost:#?}",
        lost.len(),
        acknowledged.len()
    );
}
