//! Support for strato's end-to-end suite and load test: fresh databases on
//! SQLite and PostgreSQL, the real server booted on a free port, and request
//! helpers that hide URLs.

// Test support fails loudly: a broken set-up is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod python;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use diesel::{Connection, RunQueryDsl};
use strato_adapters::DatabaseSettings;
use strato_api::compose::{self, Signals};
use strato_api::settings::{CloudSettings, LogFormat, LogSettings};
use strato_api::{Settings, telemetry};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh PostgreSQL database on the local server.
    Postgres,
}

/// Where the local PostgreSQL server is (`STRATO_TEST_POSTGRES_URL` overrides).
pub fn postgres_admin_url() -> String {
    std::env::var("STRATO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_owned())
}

/// Connects to the local PostgreSQL server; when it does not answer, starts
/// the machine's cluster once (`pg_ctlcluster`) and tries again.
fn connect_or_start_postgres(admin: &str) -> Result<diesel::PgConnection, diesel::ConnectionError> {
    static START: std::sync::Once = std::sync::Once::new();
    if let Ok(conn) = diesel::PgConnection::establish(admin) {
        return Ok(conn);
    }
    START.call_once(|| {
        let versions = std::fs::read_dir("/etc/postgresql")
            .map(|dir| {
                dir.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_else(|_| Vec::<String>::new());
        for version in versions {
            let _ = std::process::Command::new("pg_ctlcluster")
                .args(["--skip-systemctl-redirect", &version, "main", "start"])
                .status();
        }
    });
    let mut last = diesel::PgConnection::establish(admin);
    for _ in 0..50 {
        if last.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        last = diesel::PgConnection::establish(admin);
    }
    last
}

/// A database made for one test, removed when dropped.
#[derive(Debug)]
pub struct TestDatabase {
    /// URL strato connects to.
    pub url: String,
    kind: Db,
    name: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDatabase {
    /// Creates an empty database.
    ///
    /// # Panics
    /// When PostgreSQL is asked for and cannot be reached: tests that need it
    /// fail loudly instead of skipping.
    pub fn create(kind: Db) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "strato_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        match kind {
            Db::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                Self {
                    url: format!("sqlite://{}", path.display()),
                    kind,
                    name,
                }
            }
            Db::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = connect_or_start_postgres(&admin).unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is required by this test and is not reachable at {admin}: {e}. \
                         Start it (see .ci/run) or set STRATO_TEST_POSTGRES_URL."
                    )
                });
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(base, _)| base);
                Self {
                    url: format!("{base}/{name}"),
                    kind,
                    name,
                }
            }
        }
    }

    /// Runs SQL on the PostgreSQL server as its administrator, with `{db}`
    /// standing for this database's name (to break it on purpose).
    ///
    /// # Panics
    /// When the server is unreachable or the SQL fails.
    pub async fn admin_sql(&self, sql: &str) {
        let sql = sql.replace("{db}", &self.name);
        tokio::task::spawn_blocking(move || {
            let mut conn =
                diesel::PgConnection::establish(&postgres_admin_url()).expect("PostgreSQL answers");
            diesel::sql_query(&sql)
                .execute(&mut conn)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        })
        .await
        .expect("admin task");
    }

    /// Settings for a server on this database.
    pub fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: self.url.clone(),
            max_connections: 8,
            timeout_seconds: 10,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self.kind {
            Db::Sqlite => {
                let path = self.url.trim_start_matches("sqlite://");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            Db::Postgres => {
                if let Ok(mut conn) = diesel::PgConnection::establish(&postgres_admin_url()) {
                    let _ = diesel::sql_query(format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        self.name
                    ))
                    .execute(&mut conn);
                }
            }
        }
    }
}

/// A running strato server and a client for it.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The database it runs on (shared by servers started on it).
    pub database: Arc<TestDatabase>,
    handle: actix_web::dev::ServerHandle,
    client: reqwest::Client,
}

/// The settings test servers use: a free port, the reference's CORS
/// header, a small body limit, quick job polling and retries, and three
/// clouds: `default` and `fake_driver` (dummy), and `flaky`, a dummy cloud
/// whose every call fails.
pub fn test_settings(database: &TestDatabase) -> Settings {
    let mut settings = Settings::defaults().expect("the built-in settings load");
    settings.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.server.max_body_bytes = 64 * 1024;
    settings.server.response_headers =
        [("Access-Control-Allow-Origin".to_owned(), "*".to_owned())].into();
    settings.server.workers = Some(2);
    settings.server.shutdown_grace_seconds = 5;
    settings.database = database.settings();
    settings.jobs.workers = 2;
    settings.jobs.lease_seconds = 2;
    settings.jobs.max_attempts = 3;
    settings.jobs.backoff_ms = 50;
    settings.jobs.poll_ms = 50;
    settings.jobs.reconcile_seconds = 3600;
    settings.infrastructures.refresh_seconds = 1;
    // A fixed key for the cloud credentials infrastructures store: replicas
    // of one test share it.
    settings.infrastructures.key = Some("7e".repeat(32));
    settings.set_clouds(
        [
            ("default", serde_json::json!({})),
            ("fake_driver", serde_json::json!({})),
            ("flaky", serde_json::json!({"failure_rate": 1.0})),
        ]
        .into_iter()
        .map(|(name, options)| (name.to_owned(), dummy_cloud(options)))
        .collect(),
    );
    settings
}

/// A dummy cloud's settings table.
///
/// # Panics
/// When `options` is not a JSON object.
pub fn dummy_cloud(options: serde_json::Value) -> CloudSettings {
    let serde_json::Value::Object(options) = options else {
        panic!("cloud options are an object");
    };
    CloudSettings {
        kind: "dummy".to_owned(),
        options: options.into_iter().collect::<BTreeMap<_, _>>(),
    }
}

/// Boots a server on a fresh database of `kind`.
pub async fn spawn_app(kind: Db) -> TestApp {
    spawn_app_on(Arc::new(TestDatabase::create(kind))).await
}

/// Boots a server on an existing test database (a second replica, or a restart).
pub async fn spawn_app_on(database: Arc<TestDatabase>) -> TestApp {
    let settings = test_settings(&database);
    spawn_app_with(database, settings).await
}

/// Boots a server with these settings (their database is `database`'s).
pub async fn spawn_app_with(database: Arc<TestDatabase>, settings: Settings) -> TestApp {
    let level = if std::env::var_os("TEST_LOG").is_some() {
        "debug"
    } else {
        "off"
    };
    telemetry::init(&LogSettings {
        format: LogFormat::Human,
        level: level.to_owned(),
    });
    let app = compose::build(&settings, Signals::Ignore)
        .await
        .expect("the test server builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        database,
        handle,
        client: reqwest::Client::new(),
    }
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body text.
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    ///
    /// # Panics
    /// When it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }

    /// A header's value, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One request of the fixture: method, path, form.
type FixtureStep = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Where a request's parameters go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Params {
    Query,
    Form,
}

impl TestApp {
    /// Stops the server (the database stays).
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &[(&str, &str)],
        place: Params,
        headers: &[(&str, &str)],
        json: Option<&str>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if !params.is_empty() {
            request = match place {
                Params::Query => request.query(params),
                Params::Form => request.form(params),
            };
        }
        if let Some(body) = json {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_owned());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("a readable body");
        Reply {
            status,
            headers,
            body,
        }
    }

    /// GET with query parameters and request headers.
    pub async fn get_with(
        &self,
        path: &str,
        params: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        self.send(
            reqwest::Method::GET,
            path,
            params,
            Params::Query,
            headers,
            None,
        )
        .await
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[], &[]).await
    }

    /// POST with a form body.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.send(reqwest::Method::POST, path, form, Params::Form, &[], None)
            .await
    }

    /// POST with a JSON body.
    pub async fn post_json(&self, path: &str, body: &str) -> Reply {
        self.send(
            reqwest::Method::POST,
            path,
            &[],
            Params::Form,
            &[],
            Some(body),
        )
        .await
    }

    /// Any method with a JSON body.
    pub async fn send_json(&self, method: &str, path: &str, body: &str) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method name");
        self.send(method, path, &[], Params::Form, &[], Some(body))
            .await
    }

    /// PUT with a form body.
    pub async fn put(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.send(reqwest::Method::PUT, path, form, Params::Form, &[], None)
            .await
    }

    /// DELETE with a form body.
    pub async fn delete(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.send(reqwest::Method::DELETE, path, form, Params::Form, &[], None)
            .await
    }

    /// Any method, no parameters.
    pub async fn request(&self, method: &str, path: &str) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method name");
        self.send(method, path, &[], Params::Query, &[], None).await
    }

    /// Loads the reference's fixture through the API: three pools, two
    /// servers with one attribute each, and the `testnames` name manager.
    pub async fn load_fixture(&self) {
        let steps: [FixtureStep; 11] = [
            ("POST", "/entity/pool", &[("name", "emptypool")]),
            ("POST", "/entity/pool", &[("name", "multipool")]),
            ("POST", "/entity/pool", &[("name", "singlepool")]),
            (
                "POST",
                "/resourcemanager/simpleentitynamemanager",
                &[("name", "testnames"), ("basename", "s")],
            ),
            ("POST", "/entity/basicserver", &[("name", "testserver1")]),
            (
                "POST",
                "/entity/pool/singlepool",
                &[("device", "testserver1"), ("action", "insert")],
            ),
            (
                "POST",
                "/entity/pool/multipool",
                &[("device", "testserver1"), ("action", "insert")],
            ),
            (
                "PUT",
                "/attribute/testserver1/key1/subkey1",
                &[("value", "value1")],
            ),
            ("POST", "/entity/basicserver", &[("name", "testserver2")]),
            (
                "POST",
                "/entity/pool/multipool",
                &[("device", "testserver2"), ("action", "insert")],
            ),
            (
                "PUT",
                "/attribute/testserver2/key1/subkey2",
                &[("value", "value2")],
            ),
        ];
        for (method, path, form) in steps {
            let reply = match method {
                "POST" => self.post(path, form).await,
                _ => self.put(path, form).await,
            };
            assert!(
                reply.status < 300,
                "fixture step {method} {path} failed: {reply:?}"
            );
        }
    }
}

/// A row of the `jobs` table, as the suite reads it.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct JobRow {
    /// The job's id (its start's idempotency key).
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub id: String,
    /// `start_node`, `stop_node` or `reconcile`.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub kind: String,
    /// The task's JSON.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub payload: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub state: String,
    /// How many times it was claimed.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub attempts: i64,
    /// Who holds it while it runs.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub lease_owner: Option<String>,
    /// Why its last attempt failed.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub last_error: Option<String>,
}

impl JobRow {
    /// Whether the job is over (succeeded, failed or cancelled).
    pub fn is_final(&self) -> bool {
        matches!(self.state.as_str(), "succeeded" | "failed" | "cancelled")
    }
}

const JOBS_QUERY: &str = "SELECT id, kind, payload, state, attempts, lease_owner, last_error \
                          FROM jobs ORDER BY created, id";

impl TestDatabase {
    /// Every row of the `jobs` table, oldest first, read on a connection of
    /// the test's own (the servers on this database may be other processes).
    ///
    /// # Panics
    /// When the database cannot be read.
    pub async fn jobs(&self) -> Vec<JobRow> {
        let url = self.url.clone();
        let kind = self.kind;
        tokio::task::spawn_blocking(move || match kind {
            Db::Sqlite => {
                use diesel::connection::SimpleConnection;
                let mut conn =
                    diesel::SqliteConnection::establish(url.trim_start_matches("sqlite://"))
                        .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
                conn.batch_execute("PRAGMA busy_timeout = 10000")
                    .expect("busy timeout");
                diesel::sql_query(JOBS_QUERY)
                    .load::<JobRow>(&mut conn)
                    .unwrap_or_else(|e| panic!("cannot read the jobs of {url}: {e}"))
            }
            Db::Postgres => {
                let mut conn = diesel::PgConnection::establish(&url)
                    .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
                diesel::sql_query(JOBS_QUERY)
                    .load::<JobRow>(&mut conn)
                    .unwrap_or_else(|e| panic!("cannot read the jobs of {url}: {e}"))
            }
        })
        .await
        .expect("the jobs query task")
    }
}

impl TestApp {
    /// GET with a form body (the inventory reads parameters from the body
    /// too), for values too long for a query string.
    pub async fn get_form(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.send(reqwest::Method::GET, path, form, Params::Form, &[], None)
            .await
    }
}
