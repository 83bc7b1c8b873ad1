//! Operating strato: the command line's configuration commands, variables
//! that name no setting, probes while draining, request ids, access lines
//! and metrics.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{Db, spawn_app};
use crate::process::Scratch;

fn strato(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strato-process"))
        .env_clear()
        .envs(envs.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the strato binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn config_check_accepts_good_settings_and_names_bad_ones() {
    let scratch = Scratch::new("config-check");
    let good = scratch.path("good.toml");
    std::fs::write(
        &good,
        "[server]\nlisten = \"127.0.0.1:9\"\n[clouds.lab]\ntype = \"dummy\"\n",
    )
    .unwrap();
    let out = strato(
        &["config", "check", "--config", good.to_str().unwrap()],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("valid"));

    let bad = scratch.path("bad.toml");
    for (file, named) in [
        ("[server]\nlisen = \"127.0.0.1:9\"\n", "lisen"),
        (
            "[clouds.lab]\ntype = \"dummy\"\nfailure_rate = 7\n",
            "failure_rate",
        ),
        ("[clouds.lab]\ntype = \"ec3\"\n", "ec3"),
        ("[log]\nlevel = \"=nonsense=\"\n", "log.level"),
    ] {
        std::fs::write(&bad, file).unwrap();
        let out = strato(&["config", "check", "--config", bad.to_str().unwrap()], &[]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        assert!(
            text(&out.stderr).contains(named),
            "{file}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_variable_that_names_no_setting_stops_start_up() {
    for name in [
        "STRATO_SERVER_LISTEN",
        "STRATO_DATABASE__UR",
        "STRATO_SERVR__LISTEN",
    ] {
        let out = strato(&["serve"], &[(name, "x")]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(
            text(&out.stderr).contains(name),
            "{name}: {}",
            text(&out.stderr)
        );
    }
    // Kubernetes' service links for a service named strato are not settings.
    let out = strato(
        &["config", "check"],
        &[
            ("STRATO_SERVICE_HOST", "10.0.0.1"),
            ("STRATO_PORT", "tcp://10.0.0.1:80"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn config_show_prints_the_effective_settings_without_secrets() {
    let out = strato(
        &["config", "show"],
        &[
            (
                "STRATO_DATABASE__URL",
                "postgres://strato:hunter2@db.example.org/strato",
            ),
            ("STRATO_JOBS__WORKERS", "7"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    let parsed: toml::Table = shown.parse().expect("config show prints TOML");
    assert_eq!(
        parsed["database"]["url"].as_str(),
        Some("postgres://strato:***@db.example.org/strato")
    );
    assert_eq!(parsed["jobs"]["workers"].as_integer(), Some(7));
    assert_eq!(parsed["clouds"]["default"]["type"].as_str(), Some("dummy"));
    assert!(!shown.contains("hunter2"));
}

#[test]
fn help_shows_defaults_and_variables() {
    let out = strato(&["serve", "--help"], &[]);
    let help = text(&out.stdout);
    for expected in [
        "STRATO_CONFIG",
        "STRATO_SERVER__LISTEN",
        "127.0.0.1:8080",
        "strato.toml",
    ] {
        assert!(help.contains(expected), "{expected} missing from:\n{help}");
    }
}

/// Polls `url` until `check` accepts the reply, within `within`.
async fn poll(url: &str, within: Duration, check: impl Fn(u16) -> bool) -> u16 {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + within;
    loop {
        if let Ok(reply) = client
            .get(url)
            .timeout(Duration::from_millis(500))
            .send()
            .await
        {
            let status = reply.status().as_u16();
            if check(status) {
                return status;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{url} never answered as expected"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_overrides_the_file_and_readyz_fails_while_draining_with_json_access_lines() {
    let scratch = Scratch::new("drain");
    let (file_port, port) = (free_port(), free_port());
    let config = scratch.path("strato.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{file_port}\"\ndrain_delay_seconds = 2\n\
             [database]\nurl = \"sqlite://{}\"\n[log]\nformat = \"json\"\nlevel = \"info\"\n",
            scratch.path("strato.db").display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(scratch.path("strato.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_strato-process"))
        .env_clear()
        .args(["serve", "--config", config.to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    poll(&format!("{base}/readyz"), Duration::from_secs(20), |s| {
        s == 200
    })
    .await;
    let reply = reqwest::Client::new()
        .get(format!("{base}/by-name/nothing"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 404);
    assert_eq!(reply.headers()["x-request-id"], "trace-me-42");
    assert_eq!(
        poll(&format!("{base}/livez"), Duration::from_secs(5), |s| s
            == 200)
        .await,
        200
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // During the drain delay the server still answers, but is not ready.
    poll(&format!("{base}/readyz"), Duration::from_secs(2), |s| {
        s == 503
    })
    .await;
    assert_eq!(
        poll(&format!("{base}/livez"), Duration::from_secs(1), |s| s
            == 200)
        .await,
        200
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "strato did not stop");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(exit.success());

    let log = std::fs::read_to_string(scratch.path("strato.log")).unwrap();
    assert!(!log.contains('\u{1b}'), "colour codes in a log file");
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let access = lines
        .iter()
        .find(|l| l["fields"]["route"] == "/by-name/{name}")
        .unwrap_or_else(|| panic!("no access line in:\n{log}"));
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["fields"]["status"], 404);
    assert_eq!(access["fields"]["method"], "GET");
    assert!(access["fields"]["latency_ms"].is_number());
    assert!(access["fields"]["bytes"].is_number());
    assert_eq!(access["span"]["request_id"], "trace-me-42");
    let start = lines
        .iter()
        .find(|l| l["fields"]["message"] == "strato is starting")
        .unwrap_or_else(|| panic!("no start-up line in:\n{log}"));
    for field in [
        "version",
        "config",
        "database",
        "clouds",
        "listen",
        "job_workers",
        "migrations",
    ] {
        assert!(
            !start["fields"][field].is_null(),
            "{field} missing: {start}"
        );
    }
}

/// The value of a Prometheus series (its first line starting with `series`).
fn value_of(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_move_with_real_traffic() {
    for db in [Db::Sqlite, Db::Postgres] {
        metrics_move_on(db).await;
    }
}

#[tokio::test]
async fn readyz_follows_the_database() {
    for db in [Db::Sqlite, Db::Postgres] {
        let app = spawn_app(db).await;
        let ready = app.get("/readyz").await;
        assert_eq!(
            (ready.status, ready.json()),
            (200, serde_json::json!({"status": "ok"}))
        );
        assert_eq!(app.get("/livez").await.status, 200);
        if db == Db::Postgres {
            app.database
                .admin_sql("DROP DATABASE {db} WITH (FORCE)")
                .await;
            let gone = app.get("/readyz").await;
            assert_eq!(
                (gone.status, gone.json()),
                (503, serde_json::json!({"status": "unavailable"}))
            );
            assert_eq!(app.get("/livez").await.status, 200);
        }
        app.stop().await;
    }
}

async fn metrics_move_on(db: Db) {
    let app = spawn_app(db).await;
    let before = app.get("/metrics").await;
    assert_eq!(before.status, 200);
    assert!(
        before
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let requests = r#"strato_http_requests_total{family="inventory",route="/by-name/{name}",method="GET",status="404"}"#;
    let provider =
        r#"strato_provider_calls_total{cloud="default",operation="create_node",outcome="ok"}"#;
    let jobs = r#"strato_jobs_total{kind="start_node",outcome="succeeded"}"#;
    let seen = |text: &str| {
        (
            value_of(text, requests),
            value_of(text, provider),
            value_of(text, jobs),
        )
    };
    let (r0, p0, j0) = seen(&before.body);

    assert_eq!(app.get("/by-name/nothing").await.status, 404);
    let started = app
        .post_json(
            "/api/v1/vm/start",
            r#"{"name": "m", "image": "1", "size": "1"}"#,
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.body);

    let after = app.get("/metrics").await.body;
    let (r1, p1, j1) = seen(&after);
    assert!(r1 >= r0 + 1.0, "requests: {r0} → {r1}");
    assert!(p1 >= p0 + 1.0, "provider calls: {p0} → {p1}");
    assert!(j1 >= j0 + 1.0, "jobs: {j0} → {j1}");
    for series in [
        "strato_http_request_duration_seconds_bucket",
        "strato_provider_call_duration_seconds_bucket",
        "strato_job_duration_seconds_bucket",
        "strato_jobs{",
        "strato_jobs_oldest_queued_age_seconds",
        "strato_db_pool_connections",
        "strato_db_pool_in_use",
        "strato_build_info{",
    ] {
        assert!(after.contains(series), "{series} missing from:\n{after}");
    }
    app.stop().await;
}
