//! Assertions shared by the suite, and the macro that runs a test on both
//! databases.

use serde_json::Value;
pub use strato_tests::{Db, Reply, TestApp, spawn_app, spawn_app_on};

/// Asserts a JSON answer: status, content type and the whole body.
#[track_caller]
pub fn assert_json(reply: &Reply, status: u16, expected: Value) {
    assert_eq!(
        reply.status, status,
        "unexpected status, body {:?}",
        reply.body
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{reply:?}"
    );
    assert_eq!(reply.json(), expected, "unexpected body");
}

/// Asserts an error answer: status and the message, as a JSON string.
#[track_caller]
pub fn assert_error(reply: &Reply, status: u16, message: &str) {
    assert_json(reply, status, Value::String(message.to_owned()));
}

/// A server with the reference fixture loaded.
pub async fn app_with_fixture(db: Db) -> TestApp {
    let app = spawn_app(db).await;
    app.load_fixture().await;
    app
}

/// The expanded view of a fixture server.
pub fn fixture_server(name: &str) -> Value {
    let (subkey, value, parents) = match name {
        "testserver1" => (
            "subkey1",
            "value1",
            vec!["/pool/singlepool", "/pool/multipool"],
        ),
        _ => ("subkey2", "value2", vec!["/pool/multipool"]),
    };
    serde_json::json!({
        "attrs": [{"datatype": "string", "key": "key1", "number": null, "subkey": subkey, "value": value}],
        "contents": [],
        "driver": "basicserver",
        "ips": [],
        "name": name,
        "parents": parents,
        "type": "server",
    })
}

/// Declares `#[tokio::test]`s that run each named `async fn(Db)` of the
/// module on SQLite and on PostgreSQL.
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Db::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Db::Postgres).await;
                }
            )+
        }
    };
}
pub(crate) use on_both_databases;
