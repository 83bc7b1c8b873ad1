//! PostgreSQL over TLS: libpq is built with OpenSSL, so `sslmode` and
//! `sslrootcert` in `database.url` work, and the server sees encrypted
//! connections.
//!
//! The local server has `ssl = on` with Debian's snakeoil certificate, a
//! self-signed certificate for `localhost` (its CN and only DNS name).

use std::sync::Arc;

use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use serde_json::json;
use strato_api::compose::{self, Signals};
use strato_tests::{Db, TestApp, TestDatabase, spawn_app_with, test_settings};

/// The certificate the local PostgreSQL presents, and so the root a client
/// trusts to verify it.
const SERVER_CERT: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
/// A bundle of public CAs, none of which signed the server's certificate.
const OTHER_CAS: &str = "/etc/ssl/certs/ca-certificates.crt";

#[tokio::test]
async fn strato_serves_over_tls_with_sslmode_require() {
    let (app, url) = app_with_url_options(|url| format!("{url}?sslmode=require")).await;
    serves_encrypted(&app, &url).await;
}

/// strato answers a write and a read, and every connection it holds on the
/// database is encrypted.
async fn serves_encrypted(app: &TestApp, url: &str) {
    writes_and_reads(app).await;
    let seen = server_view(url).await;
    assert!(seen.this_connection_encrypted, "{seen:?}");
    assert!(seen.tls_version.is_some(), "{seen:?}");
    assert!(seen.backends >= 1, "strato holds no connection: {seen:?}");
    assert_eq!(
        seen.encrypted_backends, seen.backends,
        "a connection of strato's is not encrypted: {seen:?}"
    );
}

#[tokio::test]
async fn the_encryption_check_tells_plain_connections_apart() {
    let (app, url) = app_with_url_options(|url| format!("{url}?sslmode=disable")).await;

    writes_and_reads(&app).await;

    let seen = server_view(&url).await;
    assert!(!seen.this_connection_encrypted, "{seen:?}");
    assert!(seen.backends >= 1, "{seen:?}");
    assert_eq!(seen.encrypted_backends, 0, "{seen:?}");
}

#[tokio::test]
async fn verify_ca_accepts_the_server_certificate() {
    let (app, url) =
        app_with_url_options(|url| format!("{url}?sslmode=verify-ca&sslrootcert={SERVER_CERT}"))
            .await;

    serves_encrypted(&app, &url).await;
}

#[tokio::test]
async fn verify_full_matches_the_certificate_name() {
    // The certificate names `localhost`, which resolves to 127.0.0.1;
    // `hostaddr` pins the address, `host` is the name checked.
    let (app, url) = app_with_url_options(|url| {
        format!(
            "{}?sslmode=verify-full&sslrootcert={SERVER_CERT}&hostaddr=127.0.0.1",
            by_certificate_name(url)
        )
    })
    .await;

    serves_encrypted(&app, &url).await;
}

#[tokio::test]
async fn verify_full_with_the_system_trust_store() {
    // `sslrootcert=system` trusts OpenSSL's default store, where Debian's
    // ssl-cert package links the snakeoil certificate
    // (/etc/ssl/certs/<hash>.0); libpq then insists on verify-full.
    let (app, url) = app_with_url_options(|url| {
        format!(
            "{}?sslmode=verify-full&sslrootcert=system&hostaddr=127.0.0.1",
            by_certificate_name(url)
        )
    })
    .await;

    serves_encrypted(&app, &url).await;
}

#[tokio::test]
async fn strato_refuses_a_server_it_cannot_verify() {
    let database = TestDatabase::create(Db::Postgres);
    let wrong_root = format!("{}?sslmode=verify-ca&sslrootcert={OTHER_CAS}", database.url);
    let wrong_name = format!(
        "{}?sslmode=verify-full&sslrootcert={SERVER_CERT}",
        database.url
    );
    assert!(wrong_name.contains("@127.0.0.1:"), "{wrong_name}");

    for (url, reason) in [
        (wrong_root, "certificate verify failed"),
        (wrong_name, "does not match host name"),
    ] {
        let mut settings = test_settings(&database);
        settings.database.url = url.clone();
        settings.database.timeout_seconds = 1;
        let err = match compose::build(&settings, Signals::Ignore).await {
            Ok(_) => panic!("strato started on an unverified server: {url}"),
            Err(err) => format!("{err:#}"),
        };
        assert!(err.contains(reason), "{url}: {err}");
    }
}

/// The test database's URL with the host the certificate names
/// (`localhost`) instead of 127.0.0.1.
fn by_certificate_name(url: &str) -> String {
    assert!(
        url.contains("@127.0.0.1:"),
        "these tests need the local server at 127.0.0.1: {url}"
    );
    url.replacen("@127.0.0.1:", "@localhost:", 1)
}

/// A server on a fresh PostgreSQL database whose `database.url` is the
/// test database's URL changed by `options`; and that URL.
async fn app_with_url_options(options: impl FnOnce(&str) -> String) -> (TestApp, String) {
    let database = TestDatabase::create(Db::Postgres);
    let url = options(&database.url);
    let mut settings = test_settings(&database);
    settings.database.url = url.clone();
    (spawn_app_with(Arc::new(database), settings).await, url)
}

/// A write (an entity and an attribute) and a read of it through the API.
async fn writes_and_reads(app: &TestApp) {
    let created = app.post("/entity/basicserver", &[("name", "web1")]).await;
    assert_eq!(created.status, 201, "{created:?}");
    let set = app
        .put("/attribute/web1/site", &[("value", "eu-west")])
        .await;
    assert!(set.status < 300, "{set:?}");

    let read = app.get("/by-name/web1").await;
    assert_eq!(read.status, 200, "{read:?}");
    let server = read.json();
    assert_eq!(server["name"], json!("web1"));
    assert_eq!(server["attrs"][0]["key"], json!("site"));
    assert_eq!(server["attrs"][0]["value"], json!("eu-west"));
}

/// What PostgreSQL reports about TLS, asked on a connection of its own made
/// with strato's URL.
#[derive(Debug, QueryableByName)]
struct ServerView {
    /// Whether the asking connection is encrypted.
    #[diesel(sql_type = Bool)]
    this_connection_encrypted: bool,
    /// Its protocol (`TLSv1.3`), when encrypted.
    #[diesel(sql_type = Nullable<Text>)]
    tls_version: Option<String>,
    /// The other connections to this database: strato's pool.
    #[diesel(sql_type = BigInt)]
    backends: i64,
    /// How many of them are encrypted.
    #[diesel(sql_type = BigInt)]
    encrypted_backends: i64,
}

const SERVER_VIEW: &str = "\
    SELECT me.ssl AS this_connection_encrypted, me.version AS tls_version, \
           (SELECT count(*) FROM pg_stat_activity a \
             WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()) AS backends, \
           (SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid \
             WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND s.ssl) \
             AS encrypted_backends \
      FROM pg_stat_ssl me WHERE me.pid = pg_backend_pid()";

async fn server_view(url: &str) -> ServerView {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = PgConnection::establish(&url)
            .unwrap_or_else(|e| panic!("cannot connect with {url}: {e}"));
        diesel::sql_query(SERVER_VIEW)
            .get_result::<ServerView>(&mut conn)
            .unwrap_or_else(|e| panic!("cannot read pg_stat_ssl: {e}"))
    })
    .await
    .expect("the query task")
}
