//! The real `strato` binary as a child process, to kill it (SIGKILL) or
//! signal it (SIGTERM, SIGINT): a configuration file of its own, a free
//! port, its log kept in a scratch directory and shown when a test fails,
//! and a guard that never leaves it running.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use strato_tests::{Reply, TestDatabase};

/// A directory of its own under the system's temporary one, removed when
/// dropped.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// Creates an empty directory named after `label`.
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "strato-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Self(dir)
    }

    /// A path inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the process is configured with; the rest is fixed for tests.
#[derive(Debug, Clone)]
pub struct ProcessConfig {
    /// `database.url`.
    pub database_url: String,
    /// `jobs.lease_seconds`.
    pub lease_seconds: u64,
    /// `server.shutdown_grace_seconds`.
    pub shutdown_grace_seconds: u64,
    /// The `[clouds.default]` dummy cloud's `latency_ms`.
    pub latency_ms: u64,
    /// The `[clouds.default]` dummy cloud's `state_file`, if any.
    pub state_file: Option<PathBuf>,
}

impl ProcessConfig {
    /// A process on `database` with one dummy cloud, `default`.
    pub fn new(database: &TestDatabase) -> Self {
        Self {
            database_url: database.url.clone(),
            lease_seconds: 1,
            shutdown_grace_seconds: 5,
            latency_ms: 0,
            state_file: None,
        }
    }

    /// The TOML file's text, listening on `port`.
    fn toml(&self, port: u16) -> String {
        let state_file = self
            .state_file
            .as_ref()
            .map(|path| format!("state_file = {:?}\n", path.display().to_string()))
            .unwrap_or_default();
        format!(
            r#"[server]
listen = "127.0.0.1:{port}"
max_body_bytes = 65536
body_timeout_seconds = 5
shutdown_grace_seconds = {grace}
workers = 2

[database]
url = {url:?}
max_connections = 8
timeout_seconds = 10

[log]
level = "info"

[jobs]
workers = 2
lease_seconds = {lease}
max_attempts = 5
backoff_ms = 50
max_backoff_seconds = 1
reconcile_seconds = 3600
poll_ms = 50

[infrastructures]
refresh_seconds = 1
key = "{key}"

[clouds.default]
type = "dummy"
latency_ms = {latency}
{state_file}"#,
            grace = self.shutdown_grace_seconds,
            url = self.database_url,
            lease = self.lease_seconds,
            latency = self.latency_ms,
            key = "7e".repeat(32),
        )
    }

    /// Writes the configuration into `scratch` with a free port, for
    /// [`StratoProcess::start`] (once or for several restarts).
    pub fn write(&self, scratch: &Scratch) -> ConfigFile {
        let port = free_port();
        let path = scratch.path("strato.toml");
        std::fs::write(&path, self.toml(port)).expect("the configuration is written");
        ConfigFile {
            path,
            log: scratch.path("strato.log"),
            port,
        }
    }
}

/// A configuration file written for the binary.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
    log: PathBuf,
    port: u16,
}

/// A port nobody listened on a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// A running `strato serve --config FILE`, killed when dropped.
#[derive(Debug)]
pub struct StratoProcess {
    child: Child,
    log: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    client: reqwest::Client,
}

impl StratoProcess {
    /// Starts the binary on `config` and waits (at most 20 s) until
    /// `/healthz` answers 200.
    pub async fn start(config: &ConfigFile) -> Self {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&config.log)
            .expect("the log file");
        let child = Command::new(env!("CARGO_BIN_EXE_strato-process"))
            .env_remove("STRATO_TEST_POSTGRES_URL")
            .arg("serve")
            .arg("--config")
            .arg(&config.path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log)
            .spawn()
            .expect("the strato binary starts");
        let mut process = Self {
            child,
            log: config.log.clone(),
            address: format!("http://127.0.0.1:{}", config.port),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("a client"),
        };
        process.wait_until_healthy().await;
        process
    }

    async fn wait_until_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "strato exited before it served ({status}):\n{}",
                    log_tail(&self.log)
                );
            }
            let health = self
                .client
                .get(format!("{}/healthz", self.address))
                .timeout(Duration::from_millis(500))
                .send()
                .await;
            if health.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "strato did not answer /healthz within 20 s:\n{}",
                log_tail(&self.log)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A client for this process (own connection pool).
    pub fn client(&self) -> reqwest::Client {
        self.client.clone()
    }

    /// Kills the process with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL is sent");
        self.child.wait().expect("the killed process is reaped");
    }

    /// Sends a signal by name (`TERM`, `INT`) with `kill(1)`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill -{name} {} failed", self.pid());
    }

    /// Waits (polling) until the process exits, at most `within`.
    pub async fn exit_status(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("the process can be polled") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "strato did not exit within {within:?}:\n{}",
                log_tail(&self.log)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The end of the process's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// GET, read whole.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(format!("{}{path}", self.address)))
            .await
    }

    /// GET with query parameters.
    pub async fn get_with(&self, path: &str, params: &[(&str, &str)]) -> Reply {
        self.send(
            self.client
                .get(format!("{}{path}", self.address))
                .query(params),
        )
        .await
    }

    /// Any method with a JSON body.
    pub async fn send_json(&self, method: &str, path: &str, body: &Value) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method name");
        self.send(
            self.client
                .request(method, format!("{}{path}", self.address))
                .json(body),
        )
        .await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("strato does not answer: {e}\n{}", log_tail(&self.log)));
        read_reply(response).await
    }
}

impl Drop for StratoProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- strato (pid {}) log, last lines ---\n{}",
                self.child.id(),
                log_tail(&self.log)
            );
        }
    }
}

/// Reads an answer whole.
pub async fn read_reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.expect("a readable body");
    Reply {
        status,
        headers,
        body,
    }
}

/// The last 60 lines of a log file.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}
