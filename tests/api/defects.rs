//! Defects, each pinned by the answer it must get: NUL characters, long
//! attribute values, request bodies that never finish, exhausted attribute
//! numbers, and wrong methods and paths inside an API family.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use strato_tests::{Reply, TestApp, TestDatabase, spawn_app_with, test_settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{
    Db, app_with_fixture, assert_json, on_both_databases, spawn_app, spawn_app_on,
};

on_both_databases!(
    nul_in_cloud_parameters_is_refused_and_records_nothing,
    long_attribute_values_are_stored_and_found,
    unfinished_bodies_get_408_in_their_family_format,
    exhausted_attribute_numbers_say_so,
    wrong_methods_and_paths_answer_in_their_family_format,
);

/// Asserts an inventory error: status, JSON content type, a JSON string;
/// returns the message.
#[track_caller]
fn clusto_error(reply: &Reply, status: u16) -> String {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{reply:?}"
    );
    match reply.json() {
        Value::String(message) if !message.is_empty() => message,
        other => panic!("not the inventory's error format (a JSON string): {other}"),
    }
}

/// Asserts a cloud API error envelope with this status; returns the message.
#[track_caller]
fn envelope_error(reply: &Reply, status: u16, short: &str) -> String {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{reply:?}"
    );
    let body = reply.json();
    assert_eq!(body["status"], json!("error"), "{body}");
    assert_eq!(body["status_code"], json!(status), "{body}");
    assert_eq!(body["status_short_message"], json!(short), "{body}");
    assert!(body["status_long_message"].is_string(), "{body}");
    body["message"]
        .as_str()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| panic!("no message: {body}"))
        .to_owned()
}

/// Runs the NUL requests on a fresh server; returns the answers.
async fn nul_attribute_replies(db: Db) -> Vec<(u16, String)> {
    let app = app_with_fixture(db).await;
    let before = app.get("/attribute/testserver1").await.json();
    let replies = [
        app.put("/attribute/testserver1/k", &[("value", "a\u{0}b")])
            .await,
        app.put(
            "/attribute/testserver1/key1/subkey1",
            &[("value", "a\u{0}b")],
        )
        .await,
        app.post(
            "/attribute/testserver1",
            &[("key", "k"), ("value", "a\u{0}b")],
        )
        .await,
        app.post_json(
            "/attribute/testserver1",
            r#"{"key": "k", "value": "a\u0000b"}"#,
        )
        .await,
        app.post_json(
            "/attribute/testserver1",
            r#"[{"key": "ok", "value": "fine"}, {"key": "k", "value": "a\u0000b"}]"#,
        )
        .await,
    ];
    for reply in &replies {
        let message = clusto_error(reply, 400);
        assert!(
            message.to_ascii_lowercase().contains("nul"),
            "the message does not name the NUL character: {message:?}"
        );
    }
    assert_json(&app.get("/attribute/testserver1").await, 200, before);
    app.stop().await;
    replies.into_iter().map(|r| (r.status, r.body)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_in_attribute_values_is_refused_alike_on_both_databases() {
    let sqlite = nul_attribute_replies(Db::Sqlite).await;
    let postgres = nul_attribute_replies(Db::Postgres).await;
    assert_eq!(sqlite, postgres, "SQLite and PostgreSQL answer differently");
}

/// Looking a NUL up finds nothing the same way on both databases (there
/// can be no such value), without a server error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_in_an_attribute_query_answers_alike_on_both_databases() {
    let mut replies = Vec::new();
    for db in [Db::Sqlite, Db::Postgres] {
        let app = app_with_fixture(db).await;
        let reply = app
            .get_with("/by-attr", &[("key", "key1"), ("value", "a\u{0}b")], &[])
            .await;
        replies.push((reply.status, reply.body));
        app.stop().await;
    }
    assert!(
        replies.iter().all(|(status, _)| *status < 500),
        "a server error (SQLite, PostgreSQL): {replies:?}"
    );
    assert_eq!(
        replies[0], replies[1],
        "SQLite and PostgreSQL answer differently"
    );
}

async fn nul_in_cloud_parameters_is_refused_and_records_nothing(db: Db) {
    let app = spawn_app(db).await;
    for (method, path, body) in [
        (
            "PUT",
            "/api/v1/vm/action/assign/fake_driver",
            r#"{"node": "1", "user": "a\u0000b", "vm_type": "web"}"#,
        ),
        (
            "PUT",
            "/api/v1/vm/action/assign/fake_driver",
            r#"{"node": "1", "user": "ann", "vm_type": "w\u0000b"}"#,
        ),
        (
            "POST",
            "/api/v1/vm/start/fake_driver",
            r#"{"name": "a\u0000b", "image": "1", "size": "1"}"#,
        ),
    ] {
        let reply = app.send_json(method, path, body).await;
        let message = envelope_error(&reply, 400, "Bad Request");
        assert!(
            message.contains("NUL"),
            "{method} {path} {body}: the message does not name the NUL character: {message:?}"
        );
    }
    assert_json(&app.get("/entity/basicvirtualserver").await, 200, json!([]));
    assert_json(
        &app.get_with(
            "/by-attr",
            &[("key", "assignment"), ("subkey", "user")],
            &[],
        )
        .await,
        200,
        json!([]),
    );
    let nodes = app.get("/api/v1/nodes/fake_driver").await.json();
    assert_eq!(nodes["nodes"].as_array().map(Vec::len), Some(2), "{nodes}");
    app.stop().await;
}

/// A value of about `len` bytes: letters and digits, with a three-byte
/// character every `multibyte_every` characters (so that a prefix cut by
/// bytes would split one), ending in `last`.
fn long_value(len: usize, multibyte_every: Option<usize>, last: char) -> String {
    let alphabet = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut value = String::with_capacity(len + 4);
    let mut i = 0;
    while value.len() + 4 < len {
        if multibyte_every.is_some_and(|n| i % n == n - 1) {
            value.push('€');
        } else {
            value.push(char::from(alphabet[i % alphabet.len()]));
        }
        i += 1;
    }
    value.push(last);
    value
}

/// Stores two values of about `len` bytes that differ only in their last
/// character on two new servers (one with a JSON POST, one with a form
/// PUT), and finds each by its value.
async fn store_and_find(app: &TestApp, label: &str, len: usize, multibyte_every: Option<usize>) {
    let first = long_value(len, multibyte_every, 'A');
    let second = long_value(len, multibyte_every, 'B');
    for name in [format!("{label}-a"), format!("{label}-b")] {
        let created = app.post("/entity/basicserver", &[("name", &name)]).await;
        assert_eq!(created.status, 201, "{created:?}");
    }

    let body = json!({"key": "blob", "subkey": label, "value": first}).to_string();
    let added = app.post_json(&format!("/attribute/{label}-a"), &body).await;
    assert_eq!(
        added.status,
        201,
        "storing {len} bytes: {}",
        added.body.chars().take(300).collect::<String>()
    );
    assert!(
        added.json()[0]["value"] == json!(first),
        "the stored {len} bytes do not read back"
    );
    let set = app
        .put(
            &format!("/attribute/{label}-b/blob/{label}"),
            &[("value", &second)],
        )
        .await;
    assert_eq!(
        set.status,
        200,
        "setting {len} bytes: {}",
        set.body.chars().take(300).collect::<String>()
    );
    assert!(
        set.json()[0]["value"] == json!(second),
        "the set {len} bytes do not read back"
    );

    for (value, name) in [(&first, "a"), (&second, "b")] {
        let found = app
            .get_form(
                "/by-attr",
                &[("key", "blob"), ("subkey", label), ("value", value)],
            )
            .await;
        assert_json(&found, 200, json!([format!("/basicserver/{label}-{name}")]));
    }
}

async fn long_attribute_values_are_stored_and_found(db: Db) {
    let database = Arc::new(TestDatabase::create(db));
    let capped = spawn_app_on(database.clone()).await;
    let mut settings = test_settings(&database);
    settings.server.max_body_bytes = 1024 * 1024;
    let roomy = spawn_app_with(database, settings).await;

    store_and_find(&capped, "kb3", 3 * 1024, Some(40)).await;
    // Close to the 64 KiB cap: no character that a form would escape.
    store_and_find(&capped, "kib60", 60 * 1024, None).await;
    store_and_find(&roomy, "kb100", 100_000, Some(500)).await;
    store_and_find(&roomy, "kib900", 900 * 1024, Some(5000)).await;
    roomy.stop().await;
    capped.stop().await;
}

/// Sends the head of a request that announces 100 bytes of body, and 10 of
/// them, then waits for the answer: its status, headers, body and when it
/// came.
async fn unfinished_request(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, String, String, Duration) {
    assert_eq!(body.len(), 10);
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("the server accepts");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\n\
         Content-Length: 100\r\n\r\n"
    );
    stream
        .write_all(head.as_bytes())
        .await
        .expect("the head is sent");
    stream.write_all(body).await.expect("10 bytes are sent");
    stream.flush().await.expect("flushed");
    let sent = Instant::now();

    let mut received = Vec::new();
    let mut chunk = [0_u8; 4096];
    let answer = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&received[..end]).into_owned();
                let length = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        if name.eq_ignore_ascii_case("content-length") {
                            value.trim().parse::<usize>().ok()
                        } else {
                            None
                        }
                    })
                    .unwrap_or(0);
                if received.len() >= end + 4 + length {
                    let body =
                        String::from_utf8_lossy(&received[end + 4..end + 4 + length]).into_owned();
                    return (head, body);
                }
            }
            let read = stream.read(&mut chunk).await.expect("the answer is read");
            assert!(
                read > 0,
                "the server closed the connection without a full answer: {:?}",
                String::from_utf8_lossy(&received)
            );
            received.extend_from_slice(&chunk[..read]);
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no answer to the unfinished POST {path} within 10 s"));
    let elapsed = sent.elapsed();
    let (head, body) = answer;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    (status, head, body, elapsed)
}

async fn unfinished_bodies_get_408_in_their_family_format(db: Db) {
    let database = Arc::new(TestDatabase::create(db));
    let mut settings = test_settings(&database);
    settings.server.body_timeout_seconds = 1;
    let app = spawn_app_with(database, settings).await;

    let (status, head, body, elapsed) = unfinished_request(
        &app,
        "/entity/basicserver",
        "application/x-www-form-urlencoded",
        b"name=slow1",
    )
    .await;
    assert_eq!(status, 408, "{head}\n\n{body}");
    assert!(
        elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let message: Value = serde_json::from_str(&body).expect("a JSON body");
    assert!(
        message.as_str().is_some_and(|m| !m.is_empty()),
        "not the inventory's error format (a JSON string): {body}"
    );

    let (status, head, body, elapsed) = unfinished_request(
        &app,
        "/api/v1/vm/start",
        "application/json",
        br#"{"name": ""#,
    )
    .await;
    assert_eq!(status, 408, "{head}\n\n{body}");
    assert!(
        elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}"
    );
    let envelope: Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(envelope["status"], json!("error"), "{envelope}");
    assert_eq!(envelope["status_code"], json!(408), "{envelope}");
    assert_eq!(
        envelope["status_short_message"],
        json!("Request Timeout"),
        "{envelope}"
    );
    assert!(envelope["message"].is_string(), "{envelope}");

    assert_json(&app.get("/entity/basicserver").await, 200, json!([]));
    assert_json(&app.get("/entity/basicvirtualserver").await, 200, json!([]));
    let nodes = app.get("/api/v1/nodes").await.json();
    assert_eq!(nodes["nodes"].as_array().map(Vec::len), Some(2), "{nodes}");
    app.stop().await;
}

async fn exhausted_attribute_numbers_say_so(db: Db) {
    let app = app_with_fixture(db).await;
    let last = i64::MAX.to_string();
    let created = app
        .post(
            "/attribute/testserver1",
            &[("key", "slots"), ("number", &last), ("value", "last")],
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let before = app.get("/attribute/testserver1").await.json();

    for reply in [
        app.post(
            "/attribute/testserver1",
            &[("key", "slots"), ("number", "true"), ("value", "one more")],
        )
        .await,
        app.post_json(
            "/attribute/testserver1",
            r#"{"key": "slots", "number": true, "value": "one more"}"#,
        )
        .await,
    ] {
        let message = clusto_error(&reply, 409);
        assert!(
            message.contains("\"slots\"")
                && (message.contains("in use") || message.contains("exhausted")),
            "the message does not say the numbers under \"slots\" are used up: {message:?}"
        );
        assert!(!message.contains("concurrent"), "{message:?}");
    }
    assert_json(&app.get("/attribute/testserver1").await, 200, before);
    app.stop().await;
}

async fn wrong_methods_and_paths_answer_in_their_family_format(db: Db) {
    let app = spawn_app(db).await;

    // The cloud API answers in its envelope.
    for (method, path) in [
        ("DELETE", "/api/v1/nodes"),
        ("POST", "/api/v1/vm/stop"),
        ("GET", "/api/v1/vm/start/fake_driver"),
    ] {
        let reply = app.request(method, path).await;
        envelope_error(&reply, 405, "Method Not Allowed");
    }
    assert_json(
        &app.get("/api/v1/nowhere").await,
        500,
        json!({
            "message": "Cloud not valid or wrong path",
            "status": "error",
            "status_code": 500,
            "status_long_message": "Server got itself in trouble",
            "status_short_message": "Internal Server Error",
        }),
    );

    // The inventory answers a JSON string.
    for (method, path, status) in [
        ("PATCH", "/by-name/x", 405),
        ("DELETE", "/by-attr", 405),
        ("PATCH", "/attribute/x/k", 405),
        ("GET", "/nowhere", 404),
    ] {
        let reply = app.request(method, path).await;
        clusto_error(&reply, status);
    }
    app.stop().await;
}
