//! The dummy cloud's state file: read at construction, replaced atomically
//! after every change.
//!
//! The format is this module's own DTOs (the domain's types have no serde):
//! `{"version": 1, "next_number": …, "nodes": […], "destroyed": […],
//! "images": […], "key_pairs": […]}`. A node strato created carries its
//! idempotency key; `destroyed` keeps such nodes once destroyed, terminated,
//! so together they are the key -> node records.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use strato_domain::cloud::{
    FactoryError, IdempotencyKey, KeyPair, Node, NodeId, NodeImage, NodeState, ProviderError,
};

use super::State;

/// The format's version, written in every file.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    version: u32,
    next_number: u32,
    nodes: Vec<NodeDto>,
    destroyed: Vec<NodeDto>,
    images: Vec<ImageDto>,
    key_pairs: Vec<KeyPairDto>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeDto {
    id: String,
    name: String,
    /// The state's lowercase name.
    state: String,
    public_ips: Vec<String>,
    private_ips: Vec<String>,
    uuid: String,
    extra: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageDto {
    id: String,
    name: String,
    extra: Map<String, Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyPairDto {
    name: String,
    fingerprint: String,
    public_key: String,
}

/// Why a file parsed as JSON holds no state this provider can use.
#[derive(Debug, thiserror::Error)]
enum Corrupt {
    #[error("format version {0} is not {VERSION}")]
    Version(u32),
    #[error("node {id} has an unknown state {state:?}")]
    UnknownState { id: String, state: String },
    #[error("node id {0} appears twice")]
    DuplicateId(String),
    #[error("idempotency key {0} names two nodes")]
    DuplicateKey(String),
    #[error("destroyed node {0} has no idempotency key")]
    KeylessDestroyed(String),
    #[error("node {id} is numbered at or above next_number {next}")]
    NumberAhead { id: String, next: u32 },
}

impl From<&Node> for NodeDto {
    fn from(node: &Node) -> Self {
        Self {
            id: node.id.as_str().to_owned(),
            name: node.name.clone(),
            state: node.state.as_str().to_owned(),
            public_ips: node.public_ips.clone(),
            private_ips: node.private_ips.clone(),
            uuid: node.uuid.clone(),
            extra: node.extra.clone(),
            idempotency_key: node.idempotency_key.as_ref().map(|k| k.as_str().to_owned()),
        }
    }
}

impl TryFrom<NodeDto> for Node {
    type Error = Corrupt;

    fn try_from(dto: NodeDto) -> Result<Self, Corrupt> {
        let state = NodeState::parse(&dto.state).ok_or_else(|| Corrupt::UnknownState {
            id: dto.id.clone(),
            state: dto.state.clone(),
        })?;
        Ok(Self {
            id: NodeId::new(dto.id),
            name: dto.name,
            state,
            public_ips: dto.public_ips,
            private_ips: dto.private_ips,
            uuid: dto.uuid,
            extra: dto.extra,
            idempotency_key: dto.idempotency_key.map(IdempotencyKey::new),
        })
    }
}

impl From<&State> for StateFile {
    fn from(state: &State) -> Self {
        Self {
            version: VERSION,
            next_number: state.next_number,
            nodes: state.nodes.iter().map(NodeDto::from).collect(),
            destroyed: state.destroyed.iter().map(NodeDto::from).collect(),
            images: state
                .images
                .iter()
                .map(|i| ImageDto {
                    id: i.id.clone(),
                    name: i.name.clone(),
                    extra: i.extra.clone(),
                })
                .collect(),
            key_pairs: state
                .key_pairs
                .iter()
                .map(|k| KeyPairDto {
                    name: k.name.clone(),
                    fingerprint: k.fingerprint.clone(),
                    public_key: k.public_key.clone(),
                })
                .collect(),
        }
    }
}

impl TryFrom<StateFile> for State {
    type Error = Corrupt;

    /// The state, checked for what the provider relies on: node ids and keys
    /// are unique, numbers below `next_number`, destroyed nodes keyed.
    fn try_from(file: StateFile) -> Result<Self, Corrupt> {
        if file.version != VERSION {
            return Err(Corrupt::Version(file.version));
        }
        let nodes = convert(file.nodes)?;
        let destroyed = convert(file.destroyed)?;
        let mut ids = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for node in nodes.iter().chain(&destroyed) {
            if !ids.insert(node.id.as_str()) {
                return Err(Corrupt::DuplicateId(node.id.to_string()));
            }
            if let Some(key) = &node.idempotency_key
                && !keys.insert(key.as_str())
            {
                return Err(Corrupt::DuplicateKey(key.to_string()));
            }
            if node
                .id
                .as_str()
                .parse::<u32>()
                .is_ok_and(|number| number >= file.next_number)
            {
                return Err(Corrupt::NumberAhead {
                    id: node.id.to_string(),
                    next: file.next_number,
                });
            }
        }
        if let Some(keyless) = destroyed.iter().find(|n| n.idempotency_key.is_none()) {
            return Err(Corrupt::KeylessDestroyed(keyless.id.to_string()));
        }
        Ok(Self {
            nodes,
            destroyed,
            next_number: file.next_number,
            images: file
                .images
                .into_iter()
                .map(|i| NodeImage {
                    id: i.id,
                    name: i.name,
                    extra: i.extra,
                })
                .collect(),
            key_pairs: file
                .key_pairs
                .into_iter()
                .map(|k| KeyPair {
                    name: k.name,
                    fingerprint: k.fingerprint,
                    public_key: k.public_key,
                })
                .collect(),
        })
    }
}

fn convert(nodes: Vec<NodeDto>) -> Result<Vec<Node>, Corrupt> {
    nodes.into_iter().map(Node::try_from).collect()
}

fn bad(reason: String) -> FactoryError {
    FactoryError::BadSetting {
        setting: "state_file".to_owned(),
        reason,
    }
}

/// The directory a file is in (`.` for a bare file name).
fn directory(path: &Path) -> &Path {
    path.parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The state kept in `path`, or `None` when there is no such file (yet).
///
/// # Errors
/// [`FactoryError::BadSetting`] naming `state_file` when the file cannot be
/// read or holds no dummy cloud's state, or when the path names no file in
/// an existing directory.
pub(super) fn load(path: &Path) -> Result<Option<State>, FactoryError> {
    let shown = path.display();
    if path.file_name().is_none() {
        return Err(bad(format!("{shown:?} names no file")));
    }
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            let dir = directory(path);
            if !dir.is_dir() {
                return Err(bad(format!(
                    "{shown} cannot be written: directory {} does not exist",
                    dir.display()
                )));
            }
            return Ok(None);
        }
        Err(err) => return Err(bad(format!("cannot read {shown}: {err}"))),
    };
    let file: StateFile = serde_json::from_slice(&bytes)
        .map_err(|err| bad(format!("{shown} holds no dummy cloud's state: {err}")))?;
    State::try_from(file)
        .map(Some)
        .map_err(|err| bad(format!("{shown} holds no dummy cloud's state: {err}")))
}

/// Why the state could not be saved.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the dummy cloud's state to {}", path.display())]
struct WriteError {
    path: PathBuf,
    source: io::Error,
}

/// Writes `state` to `path`, atomically, off the async runtime's threads.
///
/// # Errors
/// [`ProviderError::Unavailable`] when it cannot be written.
pub(super) async fn save(path: &Path, state: &State) -> Result<(), ProviderError> {
    let bytes =
        serde_json::to_vec_pretty(&StateFile::from(state)).map_err(ProviderError::unavailable)?;
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        write_atomically(&path, &bytes).map_err(|source| WriteError { path, source })
    })
    .await
    .map_err(ProviderError::unavailable)?
    .map_err(ProviderError::unavailable)
}

/// Replaces `path` with `bytes` so that a reader, or a restart after a crash
/// at any point, sees the old content or the new one, never a mix: the bytes
/// go to a synced temporary file in the same directory, renamed over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let dir = directory(path);
    let temp = dir.join(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let written = write_synced(&temp, bytes).and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        // The temporary file is of no use; failing to remove it changes
        // nothing the caller can act on.
        let _ = fs::remove_file(&temp);
    }
    written?;
    sync_directory(dir)
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes the rename itself durable.
#[cfg(unix)]
fn sync_directory(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_directory(_dir: &Path) -> io::Result<()> {
    Ok(())
}
