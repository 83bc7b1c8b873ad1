//! The IM infrastructures workload (spec `im.md` §3): one user, the
//! infrastructures it owns, and the requests of the `im-*` phases.
//!
//! Before the first IM phase, [`Requests::setup`] warms the credentials up
//! (strato hashes the password with argon2 once, then caches it), creates
//! [`SEEDED`] infrastructures of two VMs over HTTP and checks that the list
//! and state answers are as the phases assume. The delete phase consumes
//! infrastructures: those the create phase made, topped up beforehand by
//! [`Requests::fill_deletes`] to `--im-pool`.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};

use super::{Connection, Server, describe};

/// The one user every IM request authenticates as.
pub const AUTHORIZATION: &str = "type = InfrastructureManager; username = load; password = test";

/// Two small VMs on the default (dummy) cloud, contextualisation disabled:
/// a synchronous create answers once both are `configured`.
pub const TWO_VMS: &str = "network net ( )\nsystem node ( cpu.count >= 1 and memory.size >= 512m and \
                           net_interface.0.connection = 'net' )\ncontextualize ()\ndeploy node 2\n";

/// Infrastructures the user owns during the list and state phases.
pub const SEEDED: usize = 20;

/// The IM requests of a run, built before the phases that send them.
#[derive(Debug)]
pub struct Requests {
    address: SocketAddr,
    /// `http://<address>/infrastructures/`: create answers this and an id.
    prefix: String,
    /// `GET /infrastructures`.
    pub list: Vec<u8>,
    /// `POST /infrastructures` with [`TWO_VMS`].
    pub create: Vec<u8>,
    /// `GET /infrastructures/<id>/state`, one per seeded infrastructure.
    pub states: Vec<Vec<u8>>,
    /// Infrastructures the delete phase may destroy, oldest first.
    pool: Vec<String>,
    /// `DELETE /infrastructures/<id>` of the pool, each sent once.
    deletes: Vec<Vec<u8>>,
    next_delete: AtomicUsize,
}

impl Requests {
    pub fn new(address: &SocketAddr) -> Self {
        let head = |method: &str, path: &str| {
            format!(
                "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: {AUTHORIZATION}\r\n"
            )
        };
        let mut create = head("POST", "/infrastructures");
        let _ = write!(
            create,
            "Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{TWO_VMS}",
            TWO_VMS.len()
        );
        Self {
            address: *address,
            prefix: format!("http://{address}/infrastructures/"),
            list: (head("GET", "/infrastructures") + "\r\n").into_bytes(),
            create: create.into_bytes(),
            states: Vec::new(),
            pool: Vec::new(),
            deletes: Vec::new(),
            next_delete: AtomicUsize::new(0),
        }
    }

    fn get(&self, path: &str) -> Vec<u8> {
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {AUTHORIZATION}\r\n\r\n",
            self.address
        )
        .into_bytes()
    }

    fn delete(&self, id: &str) -> Vec<u8> {
        format!(
            "DELETE /infrastructures/{id} HTTP/1.1\r\nHost: {}\r\nAuthorization: {AUTHORIZATION}\r\n\r\n",
            self.address
        )
        .into_bytes()
    }

    /// Whether the setup ran (the state requests exist).
    pub fn ready(&self) -> bool {
        !self.states.is_empty()
    }

    /// The id in a create answer (`<prefix><36-character id>`), if it is one.
    pub fn created_id(&self, body: &[u8]) -> Option<String> {
        let id = std::str::from_utf8(body).ok()?.strip_prefix(&self.prefix)?;
        let valid = id.len() == 36
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-');
        valid.then(|| id.to_owned())
    }

    /// Warms the credentials up, seeds [`SEEDED`] infrastructures over
    /// `connections` connections, and checks that the list names exactly
    /// them and that each is `configured`. Returns how long the first
    /// create took (it stores the user, hashing the password) and the rest
    /// of the seeding.
    pub fn setup(&mut self, server: &Server, connections: usize) -> anyhow::Result<(f64, f64)> {
        let mut conn = Connection::new(server.address);
        // A user exists once it owns something: until then no request can
        // verify (and cache) its password. So one create goes first, alone.
        let started = Instant::now();
        let mut seeded = self.create_many(1, 1)?;
        let warm_up = started.elapsed().as_secs_f64();
        let started = Instant::now();
        seeded.extend(self.create_many(SEEDED - 1, connections)?);
        let seeding = started.elapsed().as_secs_f64();
        self.states = seeded
            .iter()
            .map(|id| self.get(&format!("/infrastructures/{id}/state")))
            .collect();

        // The list: the seeded infrastructures' URIs, newest first.
        let answer = conn.exchange(&self.list);
        if !matches!(answer, Ok(200)) {
            bail!("GET /infrastructures: {}", describe(&answer, &conn));
        }
        let mut listed: Vec<String> = String::from_utf8_lossy(conn.body())
            .split('\n')
            .filter(|l| !l.is_empty())
            .map(|l| l.strip_prefix(&self.prefix).unwrap_or(l).to_owned())
            .collect();
        listed.sort();
        let mut expected = seeded.clone();
        expected.sort();
        if listed != expected {
            bail!(
                "GET /infrastructures lists {} infrastructures, not the {} seeded ones: {}",
                listed.len(),
                expected.len(),
                describe(&answer, &conn)
            );
        }

        // Each state: {"state":{"state":"configured","vm_states":{"0":…,"1":…}}}.
        for (id, request) in seeded.iter().zip(&self.states) {
            let answer = conn.exchange(request);
            let state: Option<serde_json::Value> = serde_json::from_slice(conn.body()).ok();
            let state = state.as_ref().map(|s| &s["state"]);
            let configured = state.is_some_and(|s| {
                s["state"] == "configured"
                    && s["vm_states"].as_object().is_some_and(|vms| vms.len() == 2)
            });
            if !matches!(answer, Ok(200)) || !configured {
                bail!(
                    "the state of {id} is not two configured VMs: {}",
                    describe(&answer, &conn)
                );
            }
        }
        Ok((warm_up, seeding))
    }

    /// Keeps the infrastructures the create phase made for the delete phase.
    pub fn keep(&mut self, ids: Vec<String>) {
        self.pool.extend(ids);
    }

    /// Creates infrastructures until the pool holds `at_least`, then builds
    /// one delete per infrastructure of the pool. Returns how many were
    /// created and how long it took.
    pub fn fill_deletes(
        &mut self,
        at_least: usize,
        connections: usize,
    ) -> anyhow::Result<(usize, f64)> {
        let missing = at_least.saturating_sub(self.pool.len());
        let started = Instant::now();
        let created = self.create_many(missing, connections)?;
        self.pool.extend(created);
        let pool = std::mem::take(&mut self.pool);
        self.deletes = pool.iter().map(|id| self.delete(id)).collect();
        self.next_delete.store(0, Ordering::Relaxed);
        Ok((missing, started.elapsed().as_secs_f64()))
    }

    /// Infrastructures the delete phase may destroy.
    pub fn deletable(&self) -> usize {
        self.deletes.len()
    }

    /// The next delete, each infrastructure once; `None` when the pool is
    /// used up.
    pub fn next_delete(&self) -> Option<&[u8]> {
        let at = self.next_delete.fetch_add(1, Ordering::Relaxed);
        self.deletes.get(at).map(Vec::as_slice)
    }

    /// Creates `n` infrastructures of [`TWO_VMS`] over `connections`
    /// connections; fails on the first answer that is not a new URI.
    fn create_many(&self, n: usize, connections: usize) -> anyhow::Result<Vec<String>> {
        let next = AtomicUsize::new(0);
        let created = Mutex::new(Vec::with_capacity(n));
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..connections.min(n))
                .map(|_| {
                    scope.spawn(|| {
                        let mut conn = Connection::new(self.address);
                        while next.fetch_add(1, Ordering::Relaxed) < n {
                            let answer = conn.exchange(&self.create);
                            let id = matches!(answer, Ok(200))
                                .then(|| self.created_id(conn.body()))
                                .flatten()
                                .with_context(|| {
                                    format!(
                                        "POST /infrastructures did not answer a new URI: {}",
                                        describe(&answer, &conn)
                                    )
                                })?;
                            created.lock().expect("not poisoned").push(id);
                        }
                        anyhow::Ok(())
                    })
                })
                .collect();
            workers
                .into_iter()
                .try_for_each(|w| w.join().expect("a creating thread"))
        })?;
        Ok(created.into_inner().expect("not poisoned"))
    }
}
