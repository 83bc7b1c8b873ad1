//! Load test of the inventory API over HTTP.
//!
//! Seeds a fresh database (SQLite, PostgreSQL or both) with N servers carrying
//! two attributes each (`rack`: 50 servers share a value; `serial`: unique),
//! spread over P pools, starts the real `strato` binary on it as a separate
//! process, then drives each scenario with C concurrent keep-alive
//! connections for S seconds and prints requests per second and latency
//! percentiles, and the server's resident memory at idle and after the load.
//!
//!     cargo build --release -p strato-api -p strato-tests
//!     target/release/loadtest [--db sqlite|postgres|both] [--entities N]
//!         [--pools P] [--seconds S] [--concurrency C]

#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use strato_adapters::Store;
use strato_domain::attribute::{AttributeKey, AttributeValue, NewAttribute, NumberSpec};
use strato_domain::driver::Driver;
use strato_domain::entity::{EntityName, NewEntity};
use strato_domain::inventory::Ports;
use strato_tests::{Db, TestDatabase};

#[derive(Debug, Clone)]
struct Options {
    dbs: Vec<Db>,
    entities: usize,
    pools: usize,
    seconds: u64,
    concurrency: usize,
}

fn options() -> anyhow::Result<Options> {
    let mut o = Options {
        dbs: vec![Db::Sqlite, Db::Postgres],
        entities: 100_000,
        pools: 100,
        seconds: 5,
        concurrency: 32,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--db" => {
                o.dbs = match value()?.as_str() {
                    "sqlite" => vec![Db::Sqlite],
                    "postgres" => vec![Db::Postgres],
                    "both" => vec![Db::Sqlite, Db::Postgres],
                    other => bail!("unknown database {other}"),
                }
            }
            "--entities" => o.entities = value()?.parse()?,
            "--pools" => o.pools = value()?.parse()?,
            "--seconds" => o.seconds = value()?.parse()?,
            "--concurrency" => o.concurrency = value()?.parse()?,
            "--help" | "-h" => {
                println!(
                    "loadtest [--db sqlite|postgres|both] [--entities N] [--pools P] [--seconds S] [--concurrency C]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(o)
}

const PER_RACK: usize = 50;

fn server_name(i: usize) -> String {
    format!("server{i:06}")
}

async fn seed(ports: &Ports, o: &Options) -> anyhow::Result<()> {
    let key = |k: &str| AttributeKey::parse(k).unwrap();
    let pools: Vec<NewEntity> = (0..o.pools)
        .map(|p| {
            NewEntity::new(
                EntityName::parse(&format!("pool{p:03}")).unwrap(),
                Driver::Pool,
            )
        })
        .collect();
    let pools = ports.entities.create(&pools).await?;
    let batch = 1_000;
    let mut tasks = tokio::task::JoinSet::new();
    for start in (0..o.entities).step_by(batch) {
        let ports = ports.clone();
        let pools = pools.clone();
        let end = (start + batch).min(o.entities);
        let (rack, serial) = (key("rack"), key("serial"));
        tasks.spawn(async move {
            let new: Vec<NewEntity> = (start..end)
                .map(|i| NewEntity {
                    name: EntityName::parse(&server_name(i)).unwrap(),
                    driver: Driver::BasicServer,
                    attributes: vec![
                        NewAttribute {
                            key: rack.clone(),
                            subkey: None,
                            number: NumberSpec::None,
                            value: AttributeValue::String(format!("rack-{}", i / PER_RACK)),
                        },
                        NewAttribute {
                            key: serial.clone(),
                            subkey: None,
                            number: NumberSpec::None,
                            value: AttributeValue::String(format!("SN{i:08}")),
                        },
                    ],
                })
                .collect();
            let created = ports.entities.create(&new).await?;
            let pool = &pools[(start / batch) % pools.len()];
            ports.pools.insert(pool, &created).await?;
            anyhow::Ok(())
        });
        while tasks.len() >= 4 {
            tasks.join_next().await.expect("a task")??;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(url: &str, port: u16) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?.with_file_name("strato");
        if !exe.exists() {
            bail!(
                "{} is missing: cargo build --release -p strato-api first",
                exe.display()
            );
        }
        let child = Command::new(exe)
            .arg("serve")
            .env("STRATO_DATABASE__URL", url)
            .env("STRATO_DATABASE__MAX_CONNECTIONS", "16")
            .env("STRATO_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("STRATO_LOG__LEVEL", "warn")
            .stdout(Stdio::null())
            .spawn()?;
        Ok(Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
        })
    }

    fn resident_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    }
}

#[derive(Debug, Clone, Copy)]
enum Scenario {
    /// The HTTP stack and load generator alone: the ceiling on this machine.
    Version,
    ByName,
    ByAttr,
    FromPools,
    AttributePut,
}

impl Scenario {
    fn label(self) -> &'static str {
        match self {
            Self::Version => "baseline: /__version__",
            Self::ByName => "by-name (expanded)",
            Self::ByAttr => "by-attr (50 per answer)",
            Self::FromPools => "from-pools (1 pool)",
            Self::AttributePut => "attribute PUT",
        }
    }

    fn request(
        self,
        client: &reqwest::Client,
        base: &str,
        o: &Options,
        n: usize,
    ) -> reqwest::RequestBuilder {
        let server = server_name(n % o.entities);
        match self {
            Self::Version => client.get(format!("{base}/__version__")),
            Self::ByName => client.get(format!("{base}/by-name/{server}")),
            Self::ByAttr => client.get(format!("{base}/by-attr")).query(&[
                ("key", "rack".to_owned()),
                (
                    "value",
                    format!("rack-{}", n % (o.entities / PER_RACK).max(1)),
                ),
            ]),
            Self::FromPools => client
                .get(format!("{base}/from-pools"))
                .query(&[("pool", format!("pool{:03}", n % o.pools))]),
            Self::AttributePut => client
                .put(format!("{base}/attribute/{server}/owner"))
                .form(&[("value", format!("team{}", n % 97))]),
        }
    }
}

struct Outcome {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
}

async fn drive(scenario: Scenario, base: &str, o: &Options) -> Outcome {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.concurrency)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..o.concurrency {
        let (client, base, o) = (client.clone(), base.to_owned(), o.clone());
        workers.spawn(async move {
            let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
            let (mut requests, mut errors) = (0u64, 0u64);
            let mut n = worker.wrapping_mul(7919);
            while Instant::now() < deadline {
                n = n.wrapping_mul(1_103_515_245).wrapping_add(12_345) % 1_000_000_007;
                let sent = Instant::now();
                let ok = match scenario.request(&client, &base, &o, n).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                latency.saturating_record(micros.max(1));
                requests += 1;
                errors += u64::from(!ok);
            }
            (requests, errors, latency)
        });
    }
    let mut outcome = Outcome {
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latency: Histogram::new_with_bounds(1, 60_000_000, 3).unwrap(),
    };
    while let Some(done) = workers.join_next().await {
        let (requests, errors, latency) = done.unwrap();
        outcome.requests += requests;
        outcome.errors += errors;
        outcome.latency.add(latency).unwrap();
    }
    outcome.elapsed = started.elapsed();
    outcome
}

async fn wait_healthy(base: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server did not become healthy")
}

async fn run(db: Db, o: &Options, port: u16) -> anyhow::Result<()> {
    let database = Arc::new(TestDatabase::create(db));
    let seed_started = Instant::now();
    let store = {
        let settings = database.settings();
        tokio::task::spawn_blocking(move || Store::open(&settings)).await??
    };
    let store = Arc::new(store);
    let ports = Ports {
        entities: store.clone(),
        attributes: store.clone(),
        pools: store.clone(),
        resources: store.clone(),
    };
    seed(&ports, o).await?;
    drop(ports);
    drop(store);
    if db == Db::Postgres {
        // Measure the steady state: statistics as autovacuum would leave them.
        let url = database.url.clone();
        tokio::task::spawn_blocking(move || {
            use diesel::{Connection, RunQueryDsl};
            let mut conn = diesel::PgConnection::establish(&url)?;
            diesel::sql_query("VACUUM ANALYZE").execute(&mut conn)?;
            anyhow::Ok(())
        })
        .await??;
    }
    println!(
        "\n## {db:?}: {} servers (2 attributes each) in {} pools, seeded in {:.1} s; {} connections, {} s per scenario",
        o.entities,
        o.pools,
        seed_started.elapsed().as_secs_f64(),
        o.concurrency,
        o.seconds
    );
    let server = Server::start(&database.url, port)?;
    wait_healthy(&server.address).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = server.resident_kib();
    println!("\n| scenario | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for scenario in [
        Scenario::Version,
        Scenario::ByName,
        Scenario::ByAttr,
        Scenario::FromPools,
        Scenario::AttributePut,
    ] {
        let out = drive(scenario, &server.address, o).await;
        let ms = |q: f64| out.latency.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} |",
            scenario.label(),
            out.requests,
            out.errors,
            out.requests as f64 / out.elapsed.as_secs_f64(),
            ms(0.5),
            ms(0.9),
            ms(0.99),
            out.latency.max() as f64 / 1000.0
        );
    }
    println!(
        "\nserver resident memory: {} KiB at idle, {} KiB after the load",
        idle.map_or("?".into(), |k| k.to_string()),
        server.resident_kib().map_or("?".into(), |k| k.to_string())
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let o = options()?;
    for (i, db) in o.dbs.iter().enumerate() {
        run(*db, &o, 18_700 + u16::try_from(i).unwrap_or(0)).await?;
    }
    Ok(())
}
