//! Load test of the inventory API and of the IM infrastructures family over
//! HTTP.
//!
//! For each database (SQLite, PostgreSQL) and each size, seeds a fresh
//! database through the storage ports with N servers carrying two attributes
//! each (`rack`: 50 servers share a value; `serial`: unique), 50 servers to a
//! pool, starts the real `strato` binary on it as a separate process, then
//! drives each phase with C keep-alive connections for S seconds and prints a
//! markdown table per run (requests, errors, req/s, latency percentiles, the
//! server's resident memory) and a summary against the targets of issue 7
//! and of the IM family. The IM phases (module `im`) run last, as one user
//! owning 20 infrastructures seeded over HTTP.
//!
//!     cargo build --release -p strato-api -p strato-tests
//!     target/release/loadtest --help
//!
//! The load generator is a minimal HTTP/1.1 client on blocking sockets, one
//! thread per connection, with every read request built before the phase
//! starts: it costs the shared cores far less than a general client, so that
//! the figures are the server's.

#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use strato_adapters::Store;
use strato_domain::attribute::{AttributeKey, AttributeValue, NewAttribute, NumberSpec};
use strato_domain::driver::Driver;
use strato_domain::entity::{Entity, EntityName, NewEntity};
use strato_domain::inventory::Ports;
use strato_tests::{Db, TestDatabase};

// The crate root's modules resolve beside it, in src/bin/: point at ours.
#[path = "loadtest/im.rs"]
mod im;

const USAGE: &str = "\
loadtest: seeds strato's database and measures the inventory API and the IM
infrastructures family over HTTP

Usage: loadtest [OPTIONS]

Options:
  --db sqlite|postgres|both  databases to measure [default: both]
  --entities N[,N...]        servers to seed, one run per size [default: 5000,100000;
                             5000 when only IM phases run]
  --per-pool N               servers in each pool, and so in each from-pools
                             answer [default: 50: 100 pools at 5,000 servers,
                             2,000 at 100,000]
  --seconds S                seconds per phase [default: 10]
  --concurrency C            keep-alive connections, one load thread each [default: 8]
  --phases P[,P...]          phases to run, always in this order [default: all]:
                             version, by-name, by-attr, from-pools, put, post,
                             create, mixed, im-list, im-state, im-state-all,
                             im-create, im-delete; `inventory` and `im` name
                             the first eight and the last five
  --im-pool N                infrastructures im-delete may destroy: those
                             im-create made, topped up to N beforehand
                             [default: 4000]; the phase ends when they run out
  --server PATH              the strato binary [default: strato beside loadtest]
  -h, --help                 print this help

Phases:
  version     GET /__version__: the HTTP stack and the load generator alone
  by-name     GET /by-name/<server> (expanded)
  by-attr     GET /by-attr?key=rack&value=<rack> (50 servers per answer)
  from-pools  GET /from-pools?pool=<pool> (--per-pool servers per answer)
  put         PUT /attribute/<server>/note, a new value each time
  post        POST /attribute/<server> key=tag, a new value each time (adds)
  create      POST /entity/basicserver, a new name each time
  mixed       90% reads (by-name, by-attr, from-pools evenly), 10% writes
              (put and post evenly)
  IM phases, as one user (Authorization: type = InfrastructureManager;
  username = load; password = test) owning 20 infrastructures of 2 VMs:
  im-list       GET /infrastructures (20 URIs per answer)
  im-state      GET /infrastructures/<id>/state over ONE connection
  im-state-all  the same over every connection (concurrent readers)
  im-create     POST /infrastructures, RADL text deploying 2 VMs on the dummy
                cloud, synchronous (answers once both are configured)
  im-delete     DELETE /infrastructures/<id>, each consuming one (--im-pool)

Targets (issue 7): req/s on SQLite (by-name 15,000, by-attr 4,400, from-pools
9,300, put 17,000, post 15,800), p99 under 5 ms in every inventory phase,
PostgreSQL within 2x of SQLite in every phase, server memory under 30 MiB idle
and 100 MiB under load. IM family, req/s on SQLite: im-list 20,000, im-state
2,250, im-create 215, im-delete 980; im-state-all p99 under 5 ms; memory
under 30 MiB idle after the IM phases.

Environment: STRATO_TEST_POSTGRES_URL is the PostgreSQL administrator URL
[default: postgres://root@127.0.0.1:5432/test]. STRATO_* variables reach the
server, except STRATO_DATABASE__URL, STRATO_SERVER__LISTEN and
STRATO_LOG__LEVEL, which the load test sets (warn); it also sets
STRATO_INFRASTRUCTURES__KEY (a fixed test key) unless it or
STRATO_INFRASTRUCTURES__KEY_FILE is set.
";

#[derive(Debug, Clone)]
struct Options {
    dbs: Vec<Db>,
    sizes: Vec<usize>,
    per_pool: usize,
    seconds: u64,
    concurrency: usize,
    phases: Vec<Phase>,
    im_pool: usize,
    server: Option<PathBuf>,
}

fn number(text: &str) -> anyhow::Result<usize> {
    let n: usize = text
        .replace('_', "")
        .parse()
        .with_context(|| format!("{text} is not a number"))?;
    if n == 0 {
        bail!("{text}: give at least 1");
    }
    Ok(n)
}

fn options() -> anyhow::Result<Options> {
    let mut o = Options {
        dbs: vec![Db::Sqlite, Db::Postgres],
        sizes: vec![5_000, 100_000],
        per_pool: 50,
        seconds: 10,
        concurrency: 8,
        phases: Phase::ALL.to_vec(),
        im_pool: 4_000,
        server: None,
    };
    let mut sizes_given = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--db" => {
                o.dbs = match value()?.as_str() {
                    "sqlite" => vec![Db::Sqlite],
                    "postgres" => vec![Db::Postgres],
                    "both" => vec![Db::Sqlite, Db::Postgres],
                    other => bail!("unknown database {other}: sqlite, postgres or both"),
                }
            }
            "--entities" => {
                o.sizes = value()?.split(',').map(number).collect::<Result<_, _>>()?;
                sizes_given = true;
            }
            "--per-pool" => o.per_pool = number(&value()?)?,
            "--seconds" => o.seconds = u64::try_from(number(&value()?)?)?,
            "--concurrency" => o.concurrency = number(&value()?)?,
            "--phases" => {
                let wanted = value()?;
                let mut groups = wanted.split(',').map(|w| match w.trim() {
                    "inventory" => Ok(Phase::ALL.into_iter().filter(|p| !p.is_im()).collect()),
                    "im" => Ok(Phase::ALL.into_iter().filter(|p| p.is_im()).collect()),
                    w => Phase::ALL
                        .into_iter()
                        .find(|p| p.flag() == w)
                        .map(|p| vec![p])
                        .with_context(|| format!("unknown phase {w}")),
                });
                let wanted: Vec<Phase> = groups.try_fold(Vec::new(), |mut all, group| {
                    all.extend(group?);
                    anyhow::Ok(all)
                })?;
                o.phases = Phase::ALL
                    .into_iter()
                    .filter(|p| wanted.contains(p))
                    .collect();
            }
            "--im-pool" => o.im_pool = number(&value()?)?,
            "--server" => o.server = Some(value()?.into()),
            "--help" | "-h" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown flag {other} (see --help)"),
        }
    }
    if !sizes_given && o.phases.iter().all(|p| p.is_im()) {
        // The IM phases do not read the seeded servers: one run is enough.
        o.sizes = vec![5_000];
    }
    Ok(o)
}

// ---------------------------------------------------------------- seeding

/// Servers sharing a `rack` value: each by-attr answer lists this many.
const PER_RACK: usize = 50;

fn server_name(i: usize) -> String {
    format!("server{i:06}")
}

fn rack_value(i: usize) -> String {
    format!("rack-{}", i / PER_RACK)
}

fn pool_name(p: usize) -> String {
    format!("pool{p:05}")
}

/// The dataset of one run: `entities` servers, `rack` shared by 50 of them,
/// servers `p * per_pool ..` in pool `p`.
#[derive(Debug, Clone, Copy)]
struct Dataset {
    entities: usize,
    per_pool: usize,
}

impl Dataset {
    fn racks(self) -> usize {
        self.entities.div_ceil(PER_RACK)
    }

    fn pools(self) -> usize {
        self.entities.div_ceil(self.per_pool)
    }
}

/// Seeds through the ports: pools first, then servers in batches of 1,000
/// (four batches in flight), each batch inserted into its pools.
async fn seed(ports: &Ports, data: Dataset) -> anyhow::Result<()> {
    let key = |k: &str| AttributeKey::parse(k).unwrap();
    let mut pools: Vec<Entity> = Vec::with_capacity(data.pools());
    for start in (0..data.pools()).step_by(1_000) {
        let new: Vec<NewEntity> = (start..(start + 1_000).min(data.pools()))
            .map(|p| NewEntity::new(EntityName::parse(&pool_name(p)).unwrap(), Driver::Pool))
            .collect();
        pools.extend(ports.entities.create(&new).await?);
    }
    let pools = Arc::new(pools);
    let batch = 1_000;
    let mut tasks = tokio::task::JoinSet::new();
    for start in (0..data.entities).step_by(batch) {
        let ports = ports.clone();
        let pools = pools.clone();
        let end = (start + batch).min(data.entities);
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
                            value: AttributeValue::String(rack_value(i)),
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
            // Server i is in pool i / per_pool; `created` is in `new`'s order.
            let mut at = 0;
            while at < created.len() {
                let pool = (start + at) / data.per_pool;
                let end = ((pool + 1) * data.per_pool - start).min(created.len());
                ports.pools.insert(&pools[pool], &created[at..end]).await?;
                at = end;
            }
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

/// Creates and seeds a database; on PostgreSQL, then runs `VACUUM ANALYZE`
/// so that the phases meet the statistics autovacuum would leave.
fn prepare(db: Db, data: Dataset) -> anyhow::Result<TestDatabase> {
    let database = TestDatabase::create(db);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let settings = database.settings();
        let store = Arc::new(tokio::task::spawn_blocking(move || Store::open(&settings)).await??);
        let ports = Ports {
            entities: store.clone(),
            attributes: store.clone(),
            pools: store.clone(),
            resources: store,
        };
        seed(&ports, data).await
    })?;
    if db == Db::Postgres {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::PgConnection::establish(&database.url)?;
        diesel::sql_query("VACUUM ANALYZE").execute(&mut conn)?;
    }
    Ok(database)
}

// ---------------------------------------------------------------- the server

struct Server {
    child: Child,
    address: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(exe: &Path, url: &str) -> anyhow::Result<Self> {
        // A port that was free a moment ago.
        let address = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .env("STRATO_DATABASE__URL", url)
            .env("STRATO_SERVER__LISTEN", address.to_string())
            .env("STRATO_LOG__LEVEL", "warn")
            .stdout(Stdio::null());
        // The key of the infrastructures' cloud credentials: required on
        // PostgreSQL; on SQLite it spares a key file beside the database.
        let has_key = [
            "STRATO_INFRASTRUCTURES__KEY",
            "STRATO_INFRASTRUCTURES__KEY_FILE",
        ]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
        if !has_key {
            command.env("STRATO_INFRASTRUCTURES__KEY", "7e".repeat(32));
        }
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let mut server = Self { child, address };
        server.wait_healthy()?;
        Ok(server)
    }

    fn wait_healthy(&mut self) -> anyhow::Result<()> {
        let request = Requests::get(&self.address, "/healthz");
        let mut conn = Connection::new(self.address);
        for _ in 0..600 {
            if let Some(status) = self.exited() {
                bail!("the server exited at start-up ({status})");
            }
            if conn.exchange(&request).is_ok_and(|s| s == 200) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("the server did not become healthy in 30 s")
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// A `/proc/PID/status` field in KiB (`VmRSS`, `VmHWM`).
    fn memory_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    }
}

// ---------------------------------------------------------------- HTTP client

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// One keep-alive HTTP/1.1 connection: writes a request, reads its whole
/// answer (`Content-Length`, chunked, or up to the close), reconnects after
/// a failure or a `Connection: close`.
struct Connection {
    address: SocketAddr,
    stream: Option<TcpStream>,
    /// What the socket gave for the current answer.
    buffer: Vec<u8>,
    /// Each read lands here first (allocated once, never cleared).
    chunk: Box<[u8]>,
    body: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn malformed(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

/// Reads what the socket has onto `buffer`; the peer closing is an error.
fn read_more(
    stream: &mut TcpStream,
    chunk: &mut [u8],
    buffer: &mut Vec<u8>,
) -> std::io::Result<()> {
    let n = stream.read(chunk)?;
    if n == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    buffer.extend_from_slice(&chunk[..n]);
    Ok(())
}

impl Connection {
    fn new(address: SocketAddr) -> Self {
        Self {
            address,
            stream: None,
            buffer: Vec::with_capacity(64 * 1024),
            chunk: vec![0; 16 * 1024].into_boxed_slice(),
            body: Vec::with_capacity(64 * 1024),
        }
    }

    fn connect(&mut self) -> std::io::Result<&mut TcpStream> {
        if self.stream.is_none() {
            let stream = TcpStream::connect_timeout(&self.address, IO_TIMEOUT)?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(IO_TIMEOUT))?;
            stream.set_write_timeout(Some(IO_TIMEOUT))?;
            self.stream = Some(stream);
        }
        Ok(self.stream.as_mut().expect("connected"))
    }

    /// Sends a request and returns the answer's status; its body is then in
    /// [`Connection::body`].
    fn exchange(&mut self, request: &[u8]) -> std::io::Result<u16> {
        let answer = self.try_exchange(request);
        if !matches!(answer, Ok((_, true))) {
            self.stream = None;
        }
        answer.map(|(status, _)| status)
    }

    /// The status and whether the connection stays open.
    fn try_exchange(&mut self, request: &[u8]) -> std::io::Result<(u16, bool)> {
        self.connect()?;
        let Self {
            stream,
            buffer,
            chunk,
            body,
            ..
        } = self;
        let stream = stream.as_mut().expect("connected");
        stream.write_all(request)?;
        buffer.clear();
        body.clear();
        let head_end = loop {
            if let Some(end) = find(buffer, b"\r\n\r\n") {
                break end + 4;
            }
            read_more(stream, chunk, buffer)?;
        };
        let head = std::str::from_utf8(&buffer[..head_end]).map_err(|_| malformed("head"))?;
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| malformed("status line"))?;
        let (mut length, mut chunked, mut keep) = (None, false, true);
        for (name, value) in lines.filter_map(|l| l.split_once(':')) {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<usize>().map_err(|_| malformed("length"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                keep = !value.eq_ignore_ascii_case("close");
            }
        }
        if status < 200 || status == 204 || status == 304 {
            // No body.
        } else if chunked {
            let mut at = head_end;
            loop {
                let line_end = loop {
                    if let Some(end) = find(&buffer[at..], b"\r\n") {
                        break at + end;
                    }
                    read_more(stream, chunk, buffer)?;
                };
                let size = std::str::from_utf8(&buffer[at..line_end])
                    .ok()
                    .and_then(|l| usize::from_str_radix(l.split(';').next()?.trim(), 16).ok())
                    .ok_or_else(|| malformed("chunk size"))?;
                at = line_end + 2;
                while buffer.len() < at + size + 2 {
                    read_more(stream, chunk, buffer)?;
                }
                body.extend_from_slice(&buffer[at..at + size]);
                at += size + 2;
                if size == 0 {
                    break;
                }
            }
        } else if let Some(length) = length {
            while buffer.len() < head_end + length {
                read_more(stream, chunk, buffer)?;
            }
            body.extend_from_slice(&buffer[head_end..head_end + length]);
        } else {
            keep = false;
            body.extend_from_slice(&buffer[head_end..]);
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest)?;
            body.extend_from_slice(&rest);
        }
        Ok((status, keep))
    }

    fn body(&self) -> &[u8] {
        &self.body
    }
}

// ---------------------------------------------------------------- phases

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The HTTP stack and load generator alone: the ceiling on this machine.
    Version,
    ByName,
    ByAttr,
    FromPools,
    AttributePut,
    AttributePost,
    EntityCreate,
    /// 90% reads (by-name, by-attr, from-pools), 10% writes (PUT, POST).
    Mixed,
    /// `GET /infrastructures`: the user's 20 infrastructures.
    ImList,
    /// `GET /infrastructures/<id>/state` over one connection.
    ImState,
    /// The same over every connection.
    ImStateAll,
    /// `POST /infrastructures` of 2 VMs, synchronous.
    ImCreate,
    /// `DELETE /infrastructures/<id>`, each consuming one.
    ImDelete,
}

impl Phase {
    const ALL: [Self; 13] = [
        Self::Version,
        Self::ByName,
        Self::ByAttr,
        Self::FromPools,
        Self::AttributePut,
        Self::AttributePost,
        Self::EntityCreate,
        Self::Mixed,
        Self::ImList,
        Self::ImState,
        Self::ImStateAll,
        Self::ImCreate,
        Self::ImDelete,
    ];

    /// Whether it measures the IM family (those run last, on its own data).
    fn is_im(self) -> bool {
        matches!(
            self,
            Self::ImList | Self::ImState | Self::ImStateAll | Self::ImCreate | Self::ImDelete
        )
    }

    /// Its keep-alive connections: one for `im-state`, else `--concurrency`.
    fn connections(self, o: &Options) -> usize {
        match self {
            Self::ImState => 1,
            _ => o.concurrency,
        }
    }

    fn flag(self) -> &'static str {
        match self {
            Self::Version => "version",
            Self::ByName => "by-name",
            Self::ByAttr => "by-attr",
            Self::FromPools => "from-pools",
            Self::AttributePut => "put",
            Self::AttributePost => "post",
            Self::EntityCreate => "create",
            Self::Mixed => "mixed",
            Self::ImList => "im-list",
            Self::ImState => "im-state",
            Self::ImStateAll => "im-state-all",
            Self::ImCreate => "im-create",
            Self::ImDelete => "im-delete",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Version => "baseline `GET /__version__`",
            Self::ByName => "`GET /by-name/<server>`",
            Self::ByAttr => "`GET /by-attr?key=rack&value=…`",
            Self::FromPools => "`GET /from-pools?pool=…`",
            Self::AttributePut => "`PUT /attribute/<server>/note`",
            Self::AttributePost => "`POST /attribute/<server>` (adds)",
            Self::EntityCreate => "`POST /entity/basicserver`",
            Self::Mixed => "mixed: 90% reads, 10% writes",
            Self::ImList => "IM `GET /infrastructures` (20 owned)",
            Self::ImState => "IM `GET /infrastructures/<id>/state`, 1 connection",
            Self::ImStateAll => "IM `GET /infrastructures/<id>/state`, every connection",
            Self::ImCreate => "IM `POST /infrastructures` (2 VMs, synchronous)",
            Self::ImDelete => "IM `DELETE /infrastructures/<id>`",
        }
    }

    /// The req/s target on SQLite: issue 7's, and 50× IM's figures for the
    /// IM family (its list target is the issue's).
    fn target(self) -> Option<f64> {
        match self {
            Self::ByName => Some(15_000.0),
            Self::ByAttr => Some(4_400.0),
            Self::FromPools => Some(9_300.0),
            Self::AttributePut => Some(17_000.0),
            Self::AttributePost => Some(15_800.0),
            Self::ImList => Some(20_000.0),
            Self::ImState => Some(2_250.0),
            Self::ImCreate => Some(215.0),
            Self::ImDelete => Some(980.0),
            _ => None,
        }
    }

    /// The p99 target, on both databases: every inventory phase, and the
    /// concurrent state reads of the IM family.
    fn p99_target(self) -> Option<f64> {
        (!self.is_im() || self == Self::ImStateAll).then_some(P99_TARGET_MS)
    }
}

const P99_TARGET_MS: f64 = 5.0;
const POSTGRES_RATIO_TARGET: f64 = 2.0;
const IDLE_TARGET_MIB: f64 = 30.0;
const LOAD_TARGET_MIB: f64 = 100.0;

/// Every request a phase sends, built before it starts: reads whole, writes
/// as a head to which each request's own body is added.
struct Requests {
    version: Vec<u8>,
    by_name: Vec<Vec<u8>>,
    by_attr: Vec<Vec<u8>>,
    from_pools: Vec<Vec<u8>>,
    /// `PUT /attribute/<server>/note HTTP/1.1 …` up to the length header.
    put: Vec<Vec<u8>>,
    /// `POST /attribute/<server> HTTP/1.1 …` up to the length header.
    post: Vec<Vec<u8>>,
    create: Vec<u8>,
    /// The IM phases' requests, completed by their setup.
    im: im::Requests,
}

/// A small, fast generator (xorshift64*): each worker draws its own targets.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        usize::try_from((x >> 32) % n as u64).unwrap_or(0)
    }
}

impl Requests {
    fn get(address: &SocketAddr, path: &str) -> Vec<u8> {
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n").into_bytes()
    }

    fn form_head(address: &SocketAddr, method: &str, path: &str) -> Vec<u8> {
        format!(
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
        )
        .into_bytes()
    }

    fn build(address: &SocketAddr, data: Dataset) -> Self {
        let servers = 0..data.entities;
        Self {
            version: Self::get(address, "/__version__"),
            by_name: servers
                .clone()
                .map(|i| Self::get(address, &format!("/by-name/{}", server_name(i))))
                .collect(),
            by_attr: (0..data.racks())
                .map(|r| {
                    let value = rack_value(r * PER_RACK);
                    Self::get(address, &format!("/by-attr?key=rack&value={value}"))
                })
                .collect(),
            from_pools: (0..data.pools())
                .map(|p| Self::get(address, &format!("/from-pools?pool={}", pool_name(p))))
                .collect(),
            put: servers
                .clone()
                .map(|i| {
                    let path = format!("/attribute/{}/note", server_name(i));
                    Self::form_head(address, "PUT", &path)
                })
                .collect(),
            post: servers
                .map(|i| {
                    let path = format!("/attribute/{}", server_name(i));
                    Self::form_head(address, "POST", &path)
                })
                .collect(),
            create: Self::form_head(address, "POST", "/entity/basicserver"),
            im: im::Requests::new(address),
        }
    }

    /// Writes a form request: `head`, the body's length, the body.
    fn form(out: &mut Vec<u8>, head: &[u8], body: std::fmt::Arguments<'_>) {
        let mut text = String::with_capacity(64);
        let _ = text.write_fmt(body);
        out.clear();
        out.extend_from_slice(head);
        let _ = write!(out, "{}\r\n\r\n{text}", text.len());
    }

    /// The next request of `phase` for a worker: a pre-built read, or a
    /// write assembled in `scratch` with a value no request used before
    /// (`tag` tells phases apart, `worker` and `seq` requests); `None` when
    /// the phase has used up what it consumes (im-delete).
    fn next<'a>(
        &'a self,
        phase: Phase,
        rng: &mut Rng,
        scratch: &'a mut Vec<u8>,
        worker: usize,
        seq: u64,
    ) -> Option<&'a [u8]> {
        let tag = match phase {
            Phase::Mixed => 'm',
            _ => 'p',
        };
        let phase = match phase {
            Phase::Mixed => match rng.below(100) {
                0..30 => Phase::ByName,
                30..60 => Phase::ByAttr,
                60..90 => Phase::FromPools,
                90..95 => Phase::AttributePut,
                _ => Phase::AttributePost,
            },
            other => other,
        };
        let pick = |all: &'a [Vec<u8>], rng: &mut Rng| all[rng.below(all.len())].as_slice();
        Some(match phase {
            Phase::Version => &self.version,
            Phase::ByName => pick(&self.by_name, rng),
            Phase::ByAttr => pick(&self.by_attr, rng),
            Phase::FromPools => pick(&self.from_pools, rng),
            Phase::AttributePut => {
                let head = pick(&self.put, rng);
                Self::form(
                    scratch,
                    head,
                    format_args!("value={tag}{worker:03}x{seq:010}"),
                );
                scratch
            }
            Phase::AttributePost => {
                let head = pick(&self.post, rng);
                Self::form(
                    scratch,
                    head,
                    format_args!("key=tag&value={tag}{worker:03}x{seq:010}"),
                );
                scratch
            }
            // (Mixed was resolved to one of the above.)
            Phase::EntityCreate | Phase::Mixed => {
                Self::form(
                    scratch,
                    &self.create,
                    format_args!("name=new-{worker:03}-{seq:010}"),
                );
                scratch
            }
            Phase::ImList => &self.im.list,
            Phase::ImState | Phase::ImStateAll => pick(&self.im.states, rng),
            Phase::ImCreate => &self.im.create,
            Phase::ImDelete => return self.im.next_delete(),
        })
    }

    /// Checks a successful answer's body where a phase needs it: im-create
    /// answers the new URI, whose id goes to `ids`.
    fn accept(&self, phase: Phase, body: &[u8], ids: &mut Vec<String>) -> bool {
        match phase {
            Phase::ImCreate => self.im.created_id(body).map(|id| ids.push(id)).is_some(),
            _ => true,
        }
    }
}

/// Checks, before measuring, that the dataset answers as the phases assume:
/// a by-name answer, 50 servers per by-attr answer, `per_pool` per
/// from-pools answer.
fn check_answers(server: &Server, requests: &Requests, data: Dataset) -> anyhow::Result<()> {
    let mut conn = Connection::new(server.address);
    let mut items = |request: &[u8]| -> anyhow::Result<usize> {
        let status = conn.exchange(request)?;
        let body: serde_json::Value = serde_json::from_slice(conn.body())
            .with_context(|| format!("HTTP {status}: the answer is not JSON"))?;
        if status != 200 {
            bail!("HTTP {status}: {body}");
        }
        Ok(body.as_array().map_or(1, Vec::len))
    };
    let last = data.entities - 1;
    items(&requests.by_name[last]).context("by-name")?;
    let expected = [
        ("by-attr", &requests.by_attr[0], PER_RACK.min(data.entities)),
        (
            "from-pools",
            &requests.from_pools[0],
            data.per_pool.min(data.entities),
        ),
    ];
    for (what, request, expected) in expected {
        let found = items(request).context(what)?;
        if found != expected {
            bail!("{what} answers {found} entities, not {expected}: the dataset is not as seeded");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- driving

struct Outcome {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
    /// Highest VmRSS sampled during the phase.
    peak_kib: Option<u64>,
    first_error: Option<String>,
    /// The infrastructures im-create made.
    ids: Vec<String>,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1000.0
    }

    fn max_ms(&self) -> f64 {
        self.latency.max() as f64 / 1000.0
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

/// Describes a failed request for the report: status and body, or the
/// transport error.
fn describe(answer: &std::io::Result<u16>, conn: &Connection) -> String {
    match answer {
        Ok(status) => {
            let body = String::from_utf8_lossy(conn.body());
            let body: String = body.chars().take(400).collect();
            format!("HTTP {status}: {}", body.trim())
        }
        Err(e) => format!("transport: {e}"),
    }
}

/// Runs one phase: one thread per connection sends requests back to back
/// until the deadline (or until the phase has nothing left to send), while
/// another samples the server's VmRSS.
fn drive(phase: Phase, requests: &Requests, server: &Server, o: &Options) -> Outcome {
    let first_error = Mutex::new(None::<String>);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(o.seconds);
    let finished = AtomicBool::new(false);
    let (per_worker, elapsed, peak_kib) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..phase.connections(o))
            .map(|worker| {
                let first_error = &first_error;
                scope.spawn(move || {
                    let mut conn = Connection::new(server.address);
                    let _ = conn.connect();
                    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((worker as u64 + 1) * 0x1000_0001));
                    let mut scratch = Vec::with_capacity(512);
                    let mut latency = histogram();
                    let mut ids = Vec::new();
                    let (mut sent, mut errors) = (0u64, 0u64);
                    while Instant::now() < deadline {
                        let Some(request) =
                            requests.next(phase, &mut rng, &mut scratch, worker, sent)
                        else {
                            break;
                        };
                        let start = Instant::now();
                        let answer = conn.exchange(request);
                        let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
                        latency.saturating_record(micros.max(1));
                        sent += 1;
                        let accepted = matches!(answer, Ok(200..=299))
                            && requests.accept(phase, conn.body(), &mut ids);
                        if !accepted {
                            errors += 1;
                            let mut first = first_error.lock().expect("not poisoned");
                            if first.is_none() {
                                *first = Some(describe(&answer, &conn));
                            }
                            if answer.is_err() {
                                // Do not spin on a dead server.
                                std::thread::sleep(Duration::from_millis(10));
                            }
                        }
                    }
                    (sent, errors, latency, ids)
                })
            })
            .collect();
        let sampler = scope.spawn(|| {
            let mut peak = None;
            loop {
                peak = peak.max(server.memory_kib("VmRSS"));
                if finished.load(Ordering::Relaxed) || Instant::now() >= deadline {
                    break peak;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let per_worker: Vec<_> = workers
            .into_iter()
            .map(|w| w.join().expect("a load thread"))
            .collect();
        // The last answer: the deadline, or earlier if the phase ran out.
        let elapsed = started.elapsed();
        finished.store(true, Ordering::Relaxed);
        (per_worker, elapsed, sampler.join().expect("the sampler"))
    });
    let mut outcome = Outcome {
        requests: 0,
        errors: 0,
        elapsed,
        latency: histogram(),
        peak_kib,
        first_error: first_error.into_inner().expect("not poisoned"),
        ids: Vec::new(),
    };
    for (sent, errors, latency, ids) in per_worker {
        outcome.requests += sent;
        outcome.errors += errors;
        outcome.latency.add(latency).expect("same bounds");
        outcome.ids.extend(ids);
    }
    outcome
}

// ---------------------------------------------------------------- reporting

fn db_name(db: Db) -> &'static str {
    match db {
        Db::Sqlite => "SQLite",
        Db::Postgres => "PostgreSQL",
    }
}

/// `12345.6` as `12,346`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kib: Option<u64>) -> Option<f64> {
    kib.map(|k| k as f64 / 1024.0)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

struct Run {
    db: Db,
    entities: usize,
    phases: Vec<(Phase, Outcome)>,
    idle_kib: Option<u64>,
    /// VmRSS at rest after the IM phases, when some ran.
    idle_im_kib: Option<u64>,
    /// Highest VmRSS sampled under load, and VmHWM after the last phase.
    load_kib: Option<u64>,
    hwm_kib: Option<u64>,
}

impl Run {
    fn phase(&self, phase: Phase) -> Option<&Outcome> {
        self.phases
            .iter()
            .find(|(p, _)| *p == phase)
            .map(|(_, o)| o)
    }
}

fn run(db: Db, entities: usize, exe: &Path, o: &Options) -> anyhow::Result<Run> {
    let data = Dataset {
        entities,
        per_pool: o.per_pool,
    };
    let seeding = Instant::now();
    let database = prepare(db, data)?;
    let seeded = seeding.elapsed();
    let mut server = Server::start(exe, &database.url)?;
    std::thread::sleep(Duration::from_secs(1));
    let idle_kib = server.memory_kib("VmRSS");
    let mut requests = Requests::build(&server.address, data);
    check_answers(&server, &requests, data)?;
    println!(
        "\n### {}, {} servers\n\n{} servers (2 attributes each), {} per rack, {} pools of {}, \
         seeded in {:.1} s; {} connections, {} s per phase; server idle at {:.1} MiB.\n",
        db_name(db),
        thousands(entities as f64),
        thousands(entities as f64),
        PER_RACK,
        thousands(data.pools() as f64),
        o.per_pool,
        seeded.as_secs_f64(),
        o.concurrency,
        o.seconds,
        mib(idle_kib).unwrap_or(f64::NAN),
    );
    println!(
        "| phase | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms | peak RSS MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut phases = Vec::new();
    let mut notes = Vec::new();
    for &phase in &o.phases {
        if phase.is_im() && !requests.im.ready() {
            match requests.im.setup(&server, o.concurrency) {
                Ok((warm_up, seeding)) => notes.push(format!(
                    "IM set-up: the first create (it stores the user, hashing the password) \
                     took {:.0} ms; {} more infrastructures of 2 VMs in {seeding:.1} s.",
                    warm_up * 1000.0,
                    im::SEEDED - 1,
                )),
                Err(e) => {
                    notes.push(format!(
                        "IM set-up failed, the IM phases are skipped: {e:#}"
                    ));
                    break;
                }
            }
        }
        if phase == Phase::ImDelete {
            match requests.im.fill_deletes(o.im_pool, o.concurrency) {
                Ok((created, took)) => notes.push(format!(
                    "im-delete: {} infrastructures to destroy, {} of them created for it \
                     in {took:.1} s.",
                    thousands(requests.im.deletable() as f64),
                    thousands(created as f64),
                )),
                Err(e) => {
                    notes.push(format!("creating infrastructures to delete failed: {e:#}"));
                    break;
                }
            }
        }
        let mut out = drive(phase, &requests, &server, o);
        match phase {
            Phase::ImCreate => requests.im.keep(std::mem::take(&mut out.ids)),
            Phase::ImDelete => notes.push(format!(
                "im-delete: {} requests in {:.1} s{}.",
                thousands(out.requests as f64),
                out.elapsed.as_secs_f64(),
                if out.requests as usize >= requests.im.deletable() {
                    ", when the infrastructures ran out"
                } else {
                    ""
                },
            )),
            _ => {}
        }
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} |",
            phase.label(),
            thousands(out.requests as f64),
            thousands(out.errors as f64),
            thousands(out.rate()),
            out.ms(0.5),
            out.ms(0.9),
            out.ms(0.99),
            out.max_ms(),
            mib(out.peak_kib).unwrap_or(f64::NAN),
        );
        phases.push((phase, out));
        if let Some(status) = server.exited() {
            println!("\nthe server exited ({status}): the remaining phases are skipped");
            break;
        }
    }
    for note in &notes {
        println!("\n{note}");
    }
    for (phase, out) in &phases {
        if let Some(error) = &out.first_error {
            println!("\nfirst error in {}: {error}", phase.flag());
        }
    }
    let load_kib = phases.iter().filter_map(|(_, out)| out.peak_kib).max();
    let hwm_kib = server.memory_kib("VmHWM");
    let idle_im_kib = if phases.iter().any(|(p, _)| p.is_im()) && server.exited().is_none() {
        std::thread::sleep(Duration::from_secs(2));
        server.memory_kib("VmRSS")
    } else {
        None
    };
    println!(
        "\nserver memory: {:.1} MiB idle (target < {IDLE_TARGET_MIB}), {:.1} MiB peak under \
         load (VmHWM {:.1} MiB; target < {LOAD_TARGET_MIB}){}",
        mib(idle_kib).unwrap_or(f64::NAN),
        mib(load_kib).unwrap_or(f64::NAN),
        mib(hwm_kib).unwrap_or(f64::NAN),
        mib(idle_im_kib).map_or(String::new(), |m| format!(
            ", {m:.1} MiB idle after the IM phases (target < {IDLE_TARGET_MIB})"
        )),
    );
    drop(server);
    drop(database);
    Ok(Run {
        db,
        entities,
        phases,
        idle_kib,
        idle_im_kib,
        load_kib,
        hwm_kib,
    })
}

/// Counts checks against the targets.
#[derive(Default)]
struct Tally {
    met: usize,
    checked: usize,
}

impl Tally {
    fn check(&mut self, met: bool) -> &'static str {
        self.checked += 1;
        self.met += usize::from(met);
        verdict(met)
    }
}

/// req/s of a phase, with its verdict when a target applies; a phase with
/// errors misses its target.
fn rate_cell(out: Option<&Outcome>, target: Option<f64>, tally: &mut Tally) -> String {
    let Some(out) = out else {
        return "–".into();
    };
    let errors = if out.errors > 0 {
        format!(", {} errors", thousands(out.errors as f64))
    } else {
        String::new()
    };
    match target {
        Some(target) => {
            let met = out.rate() >= target && out.errors == 0;
            format!(
                "{} (≥ {}{errors}) {}",
                thousands(out.rate()),
                thousands(target),
                tally.check(met)
            )
        }
        None => format!("{}{errors}", thousands(out.rate())),
    }
}

/// p99 of a phase, with its verdict when a target applies.
fn p99_cell(out: Option<&Outcome>, target: Option<f64>, tally: &mut Tally) -> String {
    out.map_or("–".into(), |out| {
        let p99 = out.ms(0.99);
        match target {
            Some(target) => format!("{p99:.2} {}", tally.check(p99 < target)),
            None => format!("{p99:.2}"),
        }
    })
}

fn summary(runs: &[Run], o: &Options) {
    let mut tally = Tally::default();
    let find = |db: Db, entities: usize| runs.iter().find(|r| r.db == db && r.entities == entities);
    println!("\n## Summary against the targets of issue 7 and of the IM family\n");
    println!(
        "req/s targets apply on SQLite; p99 < {P99_TARGET_MS} ms in every inventory phase and \
         in im-state-all, on both databases; PostgreSQL within {POSTGRES_RATIO_TARGET}× of \
         SQLite's req/s.\n"
    );
    println!(
        "| phase | servers | SQLite req/s | PostgreSQL req/s | SQLite ÷ PostgreSQL | \
         SQLite p99 ms | PostgreSQL p99 ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for &phase in &o.phases {
        for &entities in &o.sizes {
            let (sqlite, postgres) = (find(Db::Sqlite, entities), find(Db::Postgres, entities));
            let s = sqlite.and_then(|r| r.phase(phase));
            let p = postgres.and_then(|r| r.phase(phase));
            let ratio = match (s, p) {
                (Some(s), Some(p)) => {
                    let ratio = s.rate() / p.rate();
                    format!(
                        "{ratio:.2}× {}",
                        tally.check(ratio <= POSTGRES_RATIO_TARGET && p.errors == 0)
                    )
                }
                _ => "–".into(),
            };
            println!(
                "| {} | {} | {} | {} | {ratio} | {} | {} |",
                phase.label(),
                thousands(entities as f64),
                rate_cell(s, phase.target(), &mut tally),
                rate_cell(p, None, &mut tally),
                p99_cell(s, phase.p99_target(), &mut tally),
                p99_cell(p, phase.p99_target(), &mut tally),
            );
        }
    }
    println!("\n| server memory | servers | SQLite MiB | PostgreSQL MiB | target |");
    println!("|---|---:|---:|---:|---:|");
    for &entities in &o.sizes {
        let (sqlite, postgres) = (find(Db::Sqlite, entities), find(Db::Postgres, entities));
        let mut cell = |run: Option<&Run>, kib: fn(&Run) -> Option<u64>, target: f64| match run
            .and_then(|r| mib(kib(r)))
        {
            Some(m) => format!("{m:.1} {}", tally.check(m < target)),
            None => "–".into(),
        };
        let idle = (
            cell(sqlite, |r| r.idle_kib, IDLE_TARGET_MIB),
            cell(postgres, |r| r.idle_kib, IDLE_TARGET_MIB),
        );
        let peak = |r: &Run| r.load_kib.max(r.hwm_kib);
        let load = (
            cell(sqlite, peak, LOAD_TARGET_MIB),
            cell(postgres, peak, LOAD_TARGET_MIB),
        );
        println!(
            "| idle | {} | {} | {} | < {IDLE_TARGET_MIB} |",
            thousands(entities as f64),
            idle.0,
            idle.1
        );
        println!(
            "| peak under load (VmHWM) | {} | {} | {} | < {LOAD_TARGET_MIB} |",
            thousands(entities as f64),
            load.0,
            load.1
        );
        if [sqlite, postgres]
            .iter()
            .any(|r| r.is_some_and(|r| r.idle_im_kib.is_some()))
        {
            let idle_im = (
                cell(sqlite, |r| r.idle_im_kib, IDLE_TARGET_MIB),
                cell(postgres, |r| r.idle_im_kib, IDLE_TARGET_MIB),
            );
            println!(
                "| idle after the IM phases | {} | {} | {} | < {IDLE_TARGET_MIB} |",
                thousands(entities as f64),
                idle_im.0,
                idle_im.1
            );
        }
    }
    println!("\n{} of {} checks met.", tally.met, tally.checked);
}

fn main() -> anyhow::Result<()> {
    let o = options()?;
    let exe = match &o.server {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("strato"),
    };
    if !exe.exists() {
        bail!(
            "{} is missing: cargo build --release -p strato-api -p strato-tests first, or give --server",
            exe.display()
        );
    }
    println!(
        "# strato load test\n\n{} connections, {} s per phase, phases: {}.",
        o.concurrency,
        o.seconds,
        o.phases
            .iter()
            .map(|p| p.flag())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut runs = Vec::new();
    for &entities in &o.sizes {
        for &db in &o.dbs {
            runs.push(run(db, entities, &exe, &o)?);
        }
    }
    summary(&runs, &o);
    Ok(())
}
