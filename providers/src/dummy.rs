//! The `dummy` provider: libcloud's DummyNodeDriver, per cloud, in memory or
//! kept in a state file, with optional latency and injected failures for
//! tests.

mod state_file;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use sha1::{Digest, Sha1};
use strato_domain::cloud::{
    CloudProvider, FactoryError, IdempotencyKey, KeyPair, NewNode, Node, NodeId, NodeImage,
    NodeLocation, NodeSize, NodeState, ProviderError, ProviderInfo,
};
use tokio::sync::Mutex;

const INFO: ProviderInfo = ProviderInfo {
    kind: "dummy",
    display_name: "Dummy Node Provider",
};

/// Settings of a dummy cloud; every one has a default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DummySettings {
    /// Added to every call, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Share of calls that fail with a transient provider failure (0 to 1).
    #[serde(default)]
    pub failure_rate: f64,
    /// JSON file that keeps the cloud's state across restarts (relative to
    /// the working directory); without it the state lives in memory only.
    #[serde(default)]
    pub state_file: Option<PathBuf>,
}

/// A dummy cloud.
///
/// It remembers the idempotency key of every node it creates, also once the
/// node is destroyed. With a state file, every change is written to the file
/// (atomically) before the call returns; one file serves one provider at a
/// time.
#[derive(Debug)]
pub struct DummyProvider {
    settings: DummySettings,
    state: Mutex<State>,
}

/// What a dummy cloud holds.
#[derive(Debug, Clone, PartialEq)]
struct State {
    /// The nodes that exist.
    nodes: Vec<Node>,
    /// The nodes created with a key and destroyed since, terminated, so that
    /// a retry of their creation returns them.
    destroyed: Vec<Node>,
    /// The number the next node gets: numbers are never reused.
    next_number: u32,
    images: Vec<NodeImage>,
    key_pairs: Vec<KeyPair>,
}

impl State {
    /// A new cloud: libcloud's `dummy-1` and `dummy-2`, and its three images.
    fn fresh() -> Self {
        let localhost = Ipv4Addr::LOCALHOST;
        Self {
            nodes: vec![node(1, localhost), node(2, localhost)],
            destroyed: Vec::new(),
            next_number: 3,
            images: vec![
                image("1", "Ubuntu 9.10"),
                image("2", "Ubuntu 9.04"),
                image("3", "Slackware 4"),
            ],
            key_pairs: Vec::new(),
        }
    }

    /// The node created with `key`, as it is now or as it was destroyed.
    fn created_with(&self, key: &IdempotencyKey) -> Option<&Node> {
        self.nodes
            .iter()
            .chain(&self.destroyed)
            .find(|n| n.idempotency_key.as_ref() == Some(key))
    }

    fn node_mut(&mut self, id: &NodeId) -> Result<&mut Node, ProviderError> {
        self.nodes
            .iter_mut()
            .find(|n| n.id == *id)
            .ok_or_else(|| not_found("node", id.as_str()))
    }
}

/// Hex SHA-1 of `text`.
fn sha1_hex(text: &str) -> String {
    Sha1::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn node(number: u32, public_ip: Ipv4Addr) -> Node {
    let id = number.to_string();
    Node {
        uuid: sha1_hex(&format!("{id}:{}", INFO.kind)),
        name: format!("dummy-{id}"),
        id: NodeId::new(id),
        state: NodeState::Running,
        public_ips: vec![public_ip.to_string()],
        private_ips: Vec::new(),
        extra: serde_json::Map::from_iter([("foo".to_owned(), serde_json::json!("bar"))]),
        idempotency_key: None,
    }
}

fn image(id: &str, name: &str) -> NodeImage {
    NodeImage {
        id: id.to_owned(),
        name: name.to_owned(),
        extra: serde_json::Map::new(),
    }
}

fn size(id: &str, name: &str, ram: u64, disk: u64, bandwidth: u64, price: f64) -> NodeSize {
    NodeSize {
        id: id.to_owned(),
        name: name.to_owned(),
        ram,
        disk,
        cpu: 0,
        bandwidth: Some(bandwidth),
        price: Some(price),
    }
}

fn sizes() -> Vec<NodeSize> {
    vec![
        size("1", "Small", 128, 4, 500, 4.0),
        size("2", "Medium", 512, 16, 1500, 8.0),
        size("3", "Big", 4096, 32, 2500, 32.0),
        size("4", "XXL Big", 8192, 128, 5000, 64.0),
    ]
}

fn locations() -> Vec<NodeLocation> {
    [
        ("1", "Paul's Room", "US"),
        ("2", "London Loft", "GB"),
        ("3", "Island Datacenter", "FJ"),
    ]
    .into_iter()
    .map(|(id, name, country)| NodeLocation {
        id: id.into(),
        name: name.into(),
        country: country.into(),
    })
    .collect()
}

fn not_found(kind: &'static str, id: &str) -> ProviderError {
    ProviderError::NotFound {
        kind,
        id: id.to_owned(),
    }
}

impl DummyProvider {
    /// A cloud holding `dummy-1` and `dummy-2`, or the one kept in the state
    /// file when that file exists.
    ///
    /// # Errors
    /// [`FactoryError::BadSetting`] naming `failure_rate` when it is not
    /// between 0 and 1, or `state_file` when the file cannot be read or
    /// holds no dummy cloud's state.
    pub fn new(settings: DummySettings) -> Result<Self, FactoryError> {
        if !(0.0..=1.0).contains(&settings.failure_rate) {
            return Err(FactoryError::BadSetting {
                setting: "failure_rate".to_owned(),
                reason: format!("must be between 0 and 1, not {}", settings.failure_rate),
            });
        }
        let state = match &settings.state_file {
            Some(path) => state_file::load(path)?.unwrap_or_else(State::fresh),
            None => State::fresh(),
        };
        Ok(Self {
            settings,
            state: Mutex::new(state),
        })
    }

    /// Waits the configured latency, then fails as often as configured.
    async fn call(&self, operation: &str) -> Result<(), ProviderError> {
        if self.settings.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.settings.latency_ms)).await;
        }
        if self.settings.failure_rate > 0.0 && fastrand::f64() < self.settings.failure_rate {
            return Err(ProviderError::unavailable(format!(
                "injected failure of {operation}"
            )));
        }
        Ok(())
    }

    async fn read<T>(&self, work: impl FnOnce(&State) -> T + Send) -> T {
        work(&*self.state.lock().await)
    }

    /// Runs `work` on the state. With a state file, it runs on a copy, which
    /// is written to the file when it differs and only then becomes the
    /// state: a call that fails, writing included, changes nothing.
    async fn change<T: Send>(
        &self,
        work: impl FnOnce(&mut State) -> Result<T, ProviderError> + Send,
    ) -> Result<T, ProviderError> {
        let mut state = self.state.lock().await;
        let Some(path) = &self.settings.state_file else {
            return work(&mut state);
        };
        let mut next = state.clone();
        let out = work(&mut next)?;
        if next != *state {
            state_file::save(path, &next).await?;
            *state = next;
        }
        Ok(out)
    }

    async fn set_state(&self, id: &NodeId, to: NodeState) -> Result<Node, ProviderError> {
        self.change(|state| {
            let node = state.node_mut(id)?;
            node.state = to;
            Ok(node.clone())
        })
        .await
    }
}

#[async_trait]
impl CloudProvider for DummyProvider {
    fn info(&self) -> ProviderInfo {
        INFO
    }

    async fn list_nodes(&self) -> Result<Vec<Node>, ProviderError> {
        self.call("list_nodes").await?;
        Ok(self.read(|state| state.nodes.clone()).await)
    }

    async fn list_sizes(&self) -> Result<Vec<NodeSize>, ProviderError> {
        self.call("list_sizes").await?;
        Ok(sizes())
    }

    async fn list_images(&self) -> Result<Vec<NodeImage>, ProviderError> {
        self.call("list_images").await?;
        Ok(self.read(|state| state.images.clone()).await)
    }

    async fn list_locations(&self) -> Result<Vec<NodeLocation>, ProviderError> {
        self.call("list_locations").await?;
        Ok(locations())
    }

    async fn create_node(
        &self,
        new: &NewNode,
        key: &IdempotencyKey,
    ) -> Result<Node, ProviderError> {
        self.call("create_node").await?;
        self.change(|state| {
            if let Some(created) = state.created_with(key) {
                return Ok(created.clone());
            }
            if !sizes().iter().any(|s| s.id == new.size) {
                return Err(not_found("size", &new.size));
            }
            if let Some(location) = &new.location
                && !locations().iter().any(|l| l.id == *location)
            {
                return Err(not_found("location", location));
            }
            if !state.images.iter().any(|i| i.id == new.image) {
                return Err(not_found("image", &new.image));
            }
            let number = state.next_number;
            let address = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 0, 0)) + number);
            let mut created = node(number, address);
            created.idempotency_key = Some(key.clone());
            state.next_number = number + 1;
            state.nodes.push(created.clone());
            Ok(created)
        })
        .await
    }

    async fn destroy_node(&self, id: &NodeId) -> Result<(), ProviderError> {
        self.call("destroy_node").await?;
        self.change(|state| {
            let index = state
                .nodes
                .iter()
                .position(|n| n.id == *id)
                .ok_or_else(|| not_found("node", id.as_str()))?;
            let mut gone = state.nodes.remove(index);
            if gone.idempotency_key.is_some() {
                gone.state = NodeState::Terminated;
                state.destroyed.push(gone);
            }
            Ok(())
        })
        .await
    }

    async fn start_node(&self, id: &NodeId) -> Result<Node, ProviderError> {
        self.call("start_node").await?;
        self.set_state(id, NodeState::Running).await
    }

    async fn stop_node(&self, id: &NodeId) -> Result<Node, ProviderError> {
        self.call("stop_node").await?;
        self.set_state(id, NodeState::Stopped).await
    }

    async fn reboot_node(&self, id: &NodeId) -> Result<Node, ProviderError> {
        self.call("reboot_node").await?;
        self.set_state(id, NodeState::Rebooting).await
    }

    async fn resize_node(&self, id: &NodeId, size: &str) -> Result<Node, ProviderError> {
        self.call("resize_node").await?;
        self.change(|state| {
            if !sizes().iter().any(|s| s.id == size) {
                return Err(not_found("size", size));
            }
            let node = state.node_mut(id)?;
            node.extra.insert("size".into(), serde_json::json!(size));
            Ok(node.clone())
        })
        .await
    }

    async fn delete_image(&self, id: &str) -> Result<(), ProviderError> {
        self.call("delete_image").await?;
        self.change(|state| {
            let at = state
                .images
                .iter()
                .position(|i| i.id == id)
                .ok_or_else(|| not_found("image", id))?;
            state.images.remove(at);
            Ok(())
        })
        .await
    }

    async fn create_image(&self, node_id: &NodeId, name: &str) -> Result<NodeImage, ProviderError> {
        self.call("create_image").await?;
        self.change(|state| {
            state.node_mut(node_id)?;
            let next = state
                .images
                .iter()
                .filter_map(|i| i.id.parse::<u64>().ok())
                .max()
                .unwrap_or(0)
                + 1;
            let id = next.to_string();
            let mut created = image(&id, name);
            created
                .extra
                .insert("source_node".into(), serde_json::json!(node_id.as_str()));
            state.images.push(created.clone());
            Ok(created)
        })
        .await
    }

    async fn import_key_pair(
        &self,
        name: &str,
        public_key: &str,
    ) -> Result<KeyPair, ProviderError> {
        self.call("import_key_pair").await?;
        self.change(|state| {
            let hex = sha1_hex(public_key);
            let fingerprint = hex.as_bytes()[..32]
                .chunks(2)
                .map(|pair| String::from_utf8_lossy(pair).into_owned())
                .collect::<Vec<_>>()
                .join(":");
            let pair = KeyPair {
                name: name.to_owned(),
                fingerprint,
                public_key: public_key.to_owned(),
            };
            state.key_pairs.retain(|k| k.name != name);
            state.key_pairs.push(pair.clone());
            Ok(pair)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::fs;
    use std::path::Path;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn cloud() -> DummyProvider {
        DummyProvider::new(DummySettings::default()).unwrap()
    }

    fn kept_in(path: &Path) -> Result<DummyProvider, FactoryError> {
        DummyProvider::new(DummySettings {
            state_file: Some(path.to_owned()),
            ..DummySettings::default()
        })
    }

    fn new_node(image: &str, size: &str) -> NewNode {
        NewNode {
            name: "cloud_test".into(),
            size: size.into(),
            image: image.into(),
            location: None,
            key_name: None,
            metadata: Default::default(),
        }
    }

    fn key(text: &str) -> IdempotencyKey {
        IdempotencyKey::new(text)
    }

    fn id(text: &str) -> NodeId {
        NodeId::new(text)
    }

    /// A directory of its own under the system's temporary one, removed
    /// when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Self {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let dir = std::env::temp_dir().join(format!(
                "strato-dummy-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn file(&self) -> PathBuf {
            self.0.join("cloud.json")
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[tokio::test]
    async fn starts_with_libclouds_two_nodes() {
        let nodes = cloud().list_nodes().await.unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].name, "dummy-1");
        assert_eq!(nodes[0].uuid, "2c183c20f71eb5732512d6cfe1f75ebc9d9bb4dd");
        assert_eq!(nodes[1].uuid, "46ff62f5eafc7837de6ec1450b8e0e608db06d7a");
        assert_eq!(nodes[1].public_ips, ["127.0.0.1"]);
        assert_eq!(nodes[0].extra.get("foo"), Some(&serde_json::json!("bar")));
        assert_eq!(nodes[0].idempotency_key, None);
    }

    #[tokio::test]
    async fn node_numbers_are_never_reused() {
        let cloud = cloud();
        let third = cloud
            .create_node(&new_node("1", "1"), &key("a"))
            .await
            .unwrap();
        assert_eq!(
            (third.name.as_str(), third.public_ips[0].as_str()),
            ("dummy-3", "127.0.0.3")
        );
        assert_eq!(third.uuid, "aef321fde331680846014b121ff377dcb8477731");
        cloud.destroy_node(&id("3")).await.unwrap();
        let fourth = cloud
            .create_node(&new_node("1", "1"), &key("b"))
            .await
            .unwrap();
        assert_eq!(fourth.id, id("4"));
        assert_eq!(fourth.uuid, "f0f0f81f0a63ccd2c5e0c5244beebeafd0f2429c");
        assert!(matches!(
            cloud.destroy_node(&id("3")).await,
            Err(ProviderError::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn a_key_creates_one_node() {
        let cloud = cloud();
        let first = cloud
            .create_node(&new_node("1", "1"), &key("k"))
            .await
            .unwrap();
        assert_eq!(first.idempotency_key, Some(key("k")));
        let again = cloud
            .create_node(&new_node("1", "1"), &key("k"))
            .await
            .unwrap();
        assert_eq!(again, first);
        let nodes = cloud.list_nodes().await.unwrap();
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes[2].idempotency_key, Some(key("k")));

        // A retry returns the node as it is now.
        cloud.stop_node(&first.id).await.unwrap();
        let stopped = cloud
            .create_node(&new_node("1", "1"), &key("k"))
            .await
            .unwrap();
        assert_eq!(stopped.state, NodeState::Stopped);
    }

    #[tokio::test]
    async fn a_key_still_returns_its_node_once_destroyed() {
        let cloud = cloud();
        let first = cloud
            .create_node(&new_node("1", "1"), &key("k"))
            .await
            .unwrap();
        cloud.destroy_node(&first.id).await.unwrap();
        let again = cloud
            .create_node(&new_node("1", "1"), &key("k"))
            .await
            .unwrap();
        assert_eq!(again.id, first.id);
        assert_eq!(again.state, NodeState::Terminated);
        assert_eq!(cloud.list_nodes().await.unwrap().len(), 2);
        let next = cloud
            .create_node(&new_node("1", "1"), &key("other"))
            .await
            .unwrap();
        assert_eq!(next.id, id("4"));
    }

    #[tokio::test]
    async fn unknown_images_and_sizes_are_refused() {
        let cloud = cloud();
        assert!(matches!(
            cloud.create_node(&new_node("9", "1"), &key("a")).await,
            Err(ProviderError::NotFound { kind: "image", .. })
        ));
        assert!(matches!(
            cloud.create_node(&new_node("1", "9"), &key("b")).await,
            Err(ProviderError::NotFound { kind: "size", .. })
        ));
        assert_eq!(cloud.list_nodes().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn catalogue_matches_libcloud() {
        let cloud = cloud();
        let sizes: Vec<_> = cloud
            .list_sizes()
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.name, s.ram, s.disk))
            .collect();
        assert_eq!(
            sizes,
            [
                ("Small".into(), 128, 4),
                ("Medium".into(), 512, 16),
                ("Big".into(), 4096, 32),
                ("XXL Big".into(), 8192, 128)
            ]
        );
        let images: Vec<_> = cloud
            .list_images()
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.name)
            .collect();
        assert_eq!(images, ["Ubuntu 9.10", "Ubuntu 9.04", "Slackware 4"]);
        let locations: Vec<_> = cloud
            .list_locations()
            .await
            .unwrap()
            .into_iter()
            .map(|l| (l.name, l.country))
            .collect();
        assert_eq!(locations[1], ("London Loft".to_owned(), "GB".to_owned()));
    }

    #[tokio::test]
    async fn states_follow_start_stop_and_reboot() {
        let cloud = cloud();
        assert_eq!(
            cloud.stop_node(&id("1")).await.unwrap().state,
            NodeState::Stopped
        );
        assert_eq!(
            cloud.start_node(&id("1")).await.unwrap().state,
            NodeState::Running
        );
        assert_eq!(
            cloud.reboot_node(&id("2")).await.unwrap().state,
            NodeState::Rebooting
        );
        let image = cloud.create_image(&id("1"), "golden").await.unwrap();
        assert_eq!(image.id, "4");
        let pair = cloud
            .import_key_pair("ops", "ssh-ed25519 AAAA")
            .await
            .unwrap();
        assert_eq!(pair.fingerprint.split(':').count(), 16);
        // Like libcloud's dummy, any key name is accepted.
        let mut with_key = new_node("4", "2");
        with_key.key_name = Some("anything".into());
        assert!(cloud.create_node(&with_key, &key("a")).await.is_ok());
    }

    #[tokio::test]
    async fn failures_are_injected_and_transient() {
        let failing = DummyProvider::new(DummySettings {
            latency_ms: 1,
            failure_rate: 1.0,
            state_file: None,
        })
        .unwrap();
        let err = failing.list_nodes().await.unwrap_err();
        assert!(matches!(err, ProviderError::Unavailable(_)));
        assert!(err.is_transient());
        assert_eq!(
            err.source().unwrap().to_string(),
            "injected failure of list_nodes"
        );
        let err = failing
            .create_node(&new_node("1", "1"), &key("a"))
            .await
            .unwrap_err();
        assert!(err.is_transient());
        assert_eq!(
            err.source().unwrap().to_string(),
            "injected failure of create_node"
        );
    }

    #[tokio::test]
    async fn a_missing_state_file_is_a_fresh_cloud() {
        let scratch = Scratch::new();
        let cloud = kept_in(&scratch.file()).unwrap();
        assert_eq!(cloud.list_nodes().await.unwrap().len(), 2);
        // Nothing changed, so nothing was written.
        assert!(!scratch.file().exists());
    }

    #[tokio::test]
    async fn the_state_file_survives_a_restart() {
        let scratch = Scratch::new();
        let before = kept_in(&scratch.file()).unwrap();
        let kept = before
            .create_node(&new_node("1", "1"), &key("kept"))
            .await
            .unwrap();
        let gone = before
            .create_node(&new_node("1", "2"), &key("gone"))
            .await
            .unwrap();
        before.destroy_node(&gone.id).await.unwrap();
        before.stop_node(&id("1")).await.unwrap();
        before.create_image(&kept.id, "golden").await.unwrap();
        before
            .import_key_pair("ops", "ssh-ed25519 AAAA")
            .await
            .unwrap();
        let nodes = before.list_nodes().await.unwrap();
        let images = before.list_images().await.unwrap();
        drop(before);

        let after = kept_in(&scratch.file()).unwrap();
        assert_eq!(after.list_nodes().await.unwrap(), nodes);
        assert_eq!(after.list_images().await.unwrap(), images);
        let retried = after
            .create_node(&new_node("1", "1"), &key("kept"))
            .await
            .unwrap();
        assert_eq!(retried, kept);
        let retried = after
            .create_node(&new_node("1", "1"), &key("gone"))
            .await
            .unwrap();
        assert_eq!(
            (retried.id, retried.state),
            (gone.id, NodeState::Terminated)
        );
        let next = after
            .create_node(&new_node("1", "1"), &key("new"))
            .await
            .unwrap();
        assert_eq!(next.id, id("5"));
        // Key pairs are kept too.
        let state = after.state.lock().await;
        assert_eq!(state.key_pairs.len(), 1);
        assert_eq!(state.key_pairs[0].name, "ops");
    }

    #[tokio::test]
    async fn a_node_the_caller_saw_is_in_the_file() {
        let scratch = Scratch::new();
        let cloud = kept_in(&scratch.file()).unwrap();
        cloud
            .create_node(&new_node("1", "1"), &key("seen"))
            .await
            .unwrap();
        let text = fs::read_to_string(scratch.file()).unwrap();
        assert!(text.contains("\"seen\""), "{text}");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(&scratch.0).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn a_torn_or_foreign_state_file_is_refused() {
        let scratch = Scratch::new();
        let cloud = kept_in(&scratch.file()).unwrap();
        cloud
            .create_node(&new_node("1", "1"), &key("k"))
            .await
            .unwrap();
        let whole = fs::read(scratch.file()).unwrap();
        for bad in [&whole[..whole.len() / 2], b"garbage", b"{\"nodes\": []}"] {
            fs::write(scratch.file(), bad).unwrap();
            match kept_in(&scratch.file()) {
                Err(FactoryError::BadSetting { setting, .. }) => assert_eq!(setting, "state_file"),
                Err(other) => panic!("expected a bad state_file, got {other}"),
                Ok(_) => panic!("a bad state file was accepted"),
            }
        }
    }

    #[tokio::test]
    async fn a_state_file_in_no_directory_is_refused() {
        let scratch = Scratch::new();
        let path = scratch.0.join("missing").join("cloud.json");
        for path in [path, PathBuf::new()] {
            assert!(matches!(
                kept_in(&path),
                Err(FactoryError::BadSetting { setting, .. }) if setting == "state_file"
            ));
        }
    }

    #[tokio::test]
    async fn a_failed_write_is_transient_and_changes_nothing() {
        let scratch = Scratch::new();
        let cloud = kept_in(&scratch.file()).unwrap();
        fs::remove_dir_all(&scratch.0).unwrap();
        let err = cloud
            .create_node(&new_node("1", "1"), &key("k"))
            .await
            .unwrap_err();
        assert!(matches!(err, ProviderError::Unavailable(_)), "{err:?}");
        assert_eq!(cloud.list_nodes().await.unwrap().len(), 2);
        fs::create_dir_all(&scratch.0).unwrap();
        let created = cloud
            .create_node(&new_node("1", "1"), &key("k"))
            .await
            .unwrap();
        assert_eq!(created.id, id("3"));
    }
}
