//! The `dummy` provider: libcloud's DummyNodeDriver, in memory, per cloud,
//! with optional latency and injected failures for tests.

use std::net::Ipv4Addr;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use sha1::{Digest, Sha1};
use strato_domain::cloud::{
    CloudProvider, KeyPair, NewNode, Node, NodeImage, NodeLocation, NodeSize, NodeState,
    ProviderError, ProviderInfo,
};

const INFO: ProviderInfo = ProviderInfo {
    kind: "dummy",
    display_name: "Dummy Node Provider",
};

/// Settings of a dummy cloud.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DummySettings {
    /// Added to every call, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Share of calls that fail with a provider failure (0 to 1).
    #[serde(default)]
    pub failure_rate: f64,
}

/// A dummy cloud.
#[derive(Debug)]
pub struct DummyProvider {
    settings: DummySettings,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    nodes: Vec<Node>,
    /// The highest node number ever used: numbers are never reused.
    highest: u32,
    images: Vec<NodeImage>,
    key_pairs: Vec<KeyPair>,
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
        id,
        state: NodeState::Running,
        public_ips: vec![public_ip.to_string()],
        private_ips: Vec::new(),
        extra: serde_json::Map::from_iter([("foo".to_owned(), serde_json::json!("bar"))]),
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
    /// A cloud holding `dummy-1` and `dummy-2`.
    ///
    /// # Errors
    /// When the failure rate is not between 0 and 1.
    pub fn new(settings: DummySettings) -> Result<Self, String> {
        if !(0.0..=1.0).contains(&settings.failure_rate) {
            return Err(format!(
                "failure_rate must be between 0 and 1, not {}",
                settings.failure_rate
            ));
        }
        let localhost = Ipv4Addr::LOCALHOST;
        let state = State {
            nodes: vec![node(1, localhost), node(2, localhost)],
            highest: 2,
            images: vec![
                image("1", "Ubuntu 9.10"),
                image("2", "Ubuntu 9.04"),
                image("3", "Slackware 4"),
            ],
            key_pairs: Vec::new(),
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
            return Err(ProviderError::Failure(format!(
                "injected failure of {operation}"
            )));
        }
        Ok(())
    }

    fn with_state<T>(
        &self,
        work: impl FnOnce(&mut State) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| ProviderError::Failure("the dummy cloud's state is poisoned".into()))?;
        work(&mut state)
    }

    fn set_state(&self, id: &str, to: NodeState) -> Result<Node, ProviderError> {
        self.with_state(|state| {
            let node = state
                .nodes
                .iter_mut()
                .find(|n| n.id == id)
                .ok_or_else(|| not_found("node", id))?;
            node.state = to;
            Ok(node.clone())
        })
    }
}

#[async_trait]
impl CloudProvider for DummyProvider {
    fn info(&self) -> ProviderInfo {
        INFO
    }

    async fn list_nodes(&self) -> Result<Vec<Node>, ProviderError> {
        self.call("list_nodes").await?;
        self.with_state(|state| Ok(state.nodes.clone()))
    }

    async fn list_sizes(&self) -> Result<Vec<NodeSize>, ProviderError> {
        self.call("list_sizes").await?;
        Ok(sizes())
    }

    async fn list_images(&self) -> Result<Vec<NodeImage>, ProviderError> {
        self.call("list_images").await?;
        self.with_state(|state| Ok(state.images.clone()))
    }

    async fn list_locations(&self) -> Result<Vec<NodeLocation>, ProviderError> {
        self.call("list_locations").await?;
        Ok(locations())
    }

    async fn create_node(&self, new: &NewNode) -> Result<Node, ProviderError> {
        self.call("create_node").await?;
        if !sizes().iter().any(|s| s.id == new.size) {
            return Err(not_found("size", &new.size));
        }
        if let Some(location) = &new.location
            && !locations().iter().any(|l| l.id == *location)
        {
            return Err(not_found("location", location));
        }
        self.with_state(|state| {
            if !state.images.iter().any(|i| i.id == new.image) {
                return Err(not_found("image", &new.image));
            }
            let number = state.highest + 1;
            let address = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 0, 0)) + number);
            let created = node(number, address);
            state.highest = number;
            state.nodes.push(created.clone());
            Ok(created)
        })
    }

    async fn destroy_node(&self, id: &str) -> Result<(), ProviderError> {
        self.call("destroy_node").await?;
        self.with_state(|state| {
            let index = state
                .nodes
                .iter()
                .position(|n| n.id == id)
                .ok_or_else(|| not_found("node", id))?;
            state.nodes.remove(index);
            Ok(())
        })
    }

    async fn start_node(&self, id: &str) -> Result<Node, ProviderError> {
        self.call("start_node").await?;
        self.set_state(id, NodeState::Running)
    }

    async fn stop_node(&self, id: &str) -> Result<Node, ProviderError> {
        self.call("stop_node").await?;
        self.set_state(id, NodeState::Stopped)
    }

    async fn reboot_node(&self, id: &str) -> Result<Node, ProviderError> {
        self.call("reboot_node").await?;
        self.set_state(id, NodeState::Rebooting)
    }

    async fn create_image(&self, node_id: &str, name: &str) -> Result<NodeImage, ProviderError> {
        self.call("create_image").await?;
        self.with_state(|state| {
            if !state.nodes.iter().any(|n| n.id == node_id) {
                return Err(not_found("node", node_id));
            }
            let id = (state.images.len() + 1).to_string();
            let mut created = image(&id, name);
            created
                .extra
                .insert("source_node".into(), serde_json::json!(node_id));
            state.images.push(created.clone());
            Ok(created)
        })
    }

    async fn import_key_pair(
        &self,
        name: &str,
        public_key: &str,
    ) -> Result<KeyPair, ProviderError> {
        self.call("import_key_pair").await?;
        self.with_state(|state| {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud() -> DummyProvider {
        DummyProvider::new(DummySettings::default()).unwrap()
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

    #[tokio::test]
    async fn starts_with_libclouds_two_nodes() {
        let nodes = cloud().list_nodes().await.unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].name, "dummy-1");
        assert_eq!(nodes[0].uuid, "2c183c20f71eb5732512d6cfe1f75ebc9d9bb4dd");
        assert_eq!(nodes[1].uuid, "46ff62f5eafc7837de6ec1450b8e0e608db06d7a");
        assert_eq!(nodes[1].public_ips, ["127.0.0.1"]);
        assert_eq!(nodes[0].extra.get("foo"), Some(&serde_json::json!("bar")));
    }

    #[tokio::test]
    async fn node_numbers_are_never_reused() {
        let cloud = cloud();
        let third = cloud.create_node(&new_node("1", "1")).await.unwrap();
        assert_eq!(
            (third.name.as_str(), third.public_ips[0].as_str()),
            ("dummy-3", "127.0.0.3")
        );
        assert_eq!(third.uuid, "aef321fde331680846014b121ff377dcb8477731");
        cloud.destroy_node("3").await.unwrap();
        let fourth = cloud.create_node(&new_node("1", "1")).await.unwrap();
        assert_eq!(fourth.id, "4");
        assert_eq!(fourth.uuid, "f0f0f81f0a63ccd2c5e0c5244beebeafd0f2429c");
        assert!(matches!(
            cloud.destroy_node("3").await,
            Err(ProviderError::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn unknown_images_and_sizes_are_refused() {
        let cloud = cloud();
        assert!(matches!(
            cloud.create_node(&new_node("9", "1")).await,
            Err(ProviderError::NotFound { kind: "image", .. })
        ));
        assert!(matches!(
            cloud.create_node(&new_node("1", "9")).await,
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
            cloud.stop_node("1").await.unwrap().state,
            NodeState::Stopped
        );
        assert_eq!(
            cloud.start_node("1").await.unwrap().state,
            NodeState::Running
        );
        assert_eq!(
            cloud.reboot_node("2").await.unwrap().state,
            NodeState::Rebooting
        );
        let image = cloud.create_image("1", "golden").await.unwrap();
        assert_eq!(image.id, "4");
        let pair = cloud
            .import_key_pair("ops", "ssh-ed25519 AAAA")
            .await
            .unwrap();
        assert_eq!(pair.fingerprint.split(':').count(), 16);
        // Like libcloud's dummy, any key name is accepted.
        let mut with_key = new_node("4", "2");
        with_key.key_name = Some("anything".into());
        assert!(cloud.create_node(&with_key).await.is_ok());
    }

    #[tokio::test]
    async fn failures_are_injected() {
        let failing = DummyProvider::new(DummySettings {
            latency_ms: 1,
            failure_rate: 1.0,
        })
        .unwrap();
        assert!(matches!(
            failing.list_nodes().await,
            Err(ProviderError::Failure(_))
        ));
        assert!(matches!(
            failing.create_node(&new_node("1", "1")).await,
            Err(ProviderError::Failure(_))
        ));
    }
}
