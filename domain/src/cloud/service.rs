use std::collections::BTreeMap;
use std::sync::Arc;

use super::error::CloudError;
use super::model::{
    CloudName, IdempotencyKey, NewNode, Node, NodeId, NodeImage, NodeLocation, NodeRef, NodeSize,
    ProviderInfo,
};
use super::ports::CloudProvider;
use super::reconcile::{Fix, Record};
use super::registration;
use crate::attribute::{Attribute, AttributeKey, AttributeQuery, AttributeRepository};
use crate::clock::Clock;
use crate::driver::Driver;
use crate::entity::{Entity, EntityRepository, NewEntity};
use crate::error::{Rejection, StoreError};
use crate::node_record::{ADDRESS, CLOUD, NAME, NODE_ID, STATE, UUID};

/// The outcome of an assignment or a release.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The node's inventory entity.
    pub entity: Entity,
    /// The provider's id of the node.
    pub node_id: NodeId,
}

/// What a cloud lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalogue {
    /// Its nodes.
    Nodes,
    /// The images nodes start from.
    Images,
    /// The sizes nodes can have.
    Sizes,
    /// Where nodes can run.
    Locations,
}

/// A cloud's listing, of the kind asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Listing {
    /// Nodes.
    Nodes(Vec<Node>),
    /// Images.
    Images(Vec<NodeImage>),
    /// Sizes.
    Sizes(Vec<NodeSize>),
    /// Locations.
    Locations(Vec<NodeLocation>),
}

/// A cloud's nodes beside its inventory records.
#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    /// What the provider reports.
    pub nodes: Vec<Node>,
    /// What the inventory records for the cloud.
    pub records: Vec<Record>,
}

/// The cloud service: the configured clouds, and the use cases that drive
/// them and keep the inventory in step.
#[derive(Clone)]
pub struct Clouds {
    providers: BTreeMap<CloudName, Arc<dyn CloudProvider>>,
    entities: Arc<dyn EntityRepository>,
    attributes: Arc<dyn AttributeRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Clouds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clouds")
            .field("clouds", &self.providers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Clouds {
    /// The service over these clouds, recording nodes through the entity and
    /// attribute ports.
    pub fn new(
        providers: BTreeMap<CloudName, Arc<dyn CloudProvider>>,
        entities: Arc<dyn EntityRepository>,
        attributes: Arc<dyn AttributeRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            providers,
            entities,
            attributes,
            clock,
        }
    }

    /// The configured clouds' names.
    pub fn names(&self) -> impl Iterator<Item = &CloudName> {
        self.providers.keys()
    }

    /// The provider of a configured cloud.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`].
    pub fn provider(&self, cloud: &CloudName) -> Result<&Arc<dyn CloudProvider>, CloudError> {
        self.providers
            .get(cloud)
            .ok_or_else(|| CloudError::UnknownCloud(cloud.to_string()))
    }

    /// What provider a cloud uses.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`].
    pub fn info(&self, cloud: &CloudName) -> Result<ProviderInfo, CloudError> {
        Ok(self.provider(cloud)?.info())
    }

    /// One of the cloud's listings, with what provider it uses.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::Provider`].
    pub async fn list(
        &self,
        cloud: &CloudName,
        what: Catalogue,
    ) -> Result<(ProviderInfo, Listing), CloudError> {
        let provider = self.provider(cloud)?;
        let listing = match what {
            Catalogue::Nodes => Listing::Nodes(provider.list_nodes().await?),
            Catalogue::Images => Listing::Images(provider.list_images().await?),
            Catalogue::Sizes => Listing::Sizes(provider.list_sizes().await?),
            Catalogue::Locations => Listing::Locations(provider.list_locations().await?),
        };
        Ok((provider.info(), listing))
    }

    /// Checks a start request before anything is stored.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::InvalidParameter`].
    pub fn check_start(&self, cloud: &CloudName, new: &NewNode) -> Result<(), CloudError> {
        self.provider(cloud)?;
        require([
            ("name", &new.name),
            ("image", &new.image),
            ("size", &new.size),
        ])?;
        let optional = [("location", &new.location), ("keyname", &new.key_name)];
        for (name, value) in optional {
            if let Some(value) = value {
                printable(name, value)?;
            }
        }
        Ok(())
    }

    /// Creates a node under `key` (a retry with the same key finds the node
    /// the first try made) and records it in the inventory. When the
    /// provider fails nothing is recorded; when recording fails the node is
    /// destroyed again, so that no node runs unrecorded.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::Provider`],
    /// [`CloudError::Store`], [`CloudError::NoFreeName`]. The parameters
    /// were checked ([`Clouds::check_start`]) before the job was stored.
    pub async fn create_and_record(
        &self,
        cloud: &CloudName,
        new: &NewNode,
        key: &IdempotencyKey,
    ) -> Result<(ProviderInfo, Node), CloudError> {
        let provider = self.provider(cloud)?;
        let node = provider.create_node(new, key).await?;
        if let Err(err) = self.register(cloud, &node).await {
            if let Err(cleanup) = provider.destroy_node(&node.id).await {
                tracing::error!(
                    %cloud, node = %node.id, error = %cleanup,
                    "a node that could not be recorded could not be destroyed either; \
                     reconciliation will record it"
                );
            }
            return Err(err);
        }
        Ok((provider.info(), node))
    }

    /// Destroys a node; its inventory record, if any, is marked terminated,
    /// loses its addresses and is released. On a `retry`, a node the
    /// provider no longer has counts as destroyed (the first try did it).
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::Provider`] (nothing is
    /// written), [`CloudError::Store`].
    pub async fn destroy_and_mark(
        &self,
        cloud: &CloudName,
        node: &NodeId,
        retry: bool,
    ) -> Result<(), CloudError> {
        let provider = self.provider(cloud)?;
        match provider.destroy_node(node).await {
            Ok(()) => {}
            Err(super::ProviderError::NotFound { .. }) if retry => {}
            Err(err) => return Err(err.into()),
        }
        if let Some((entity, attrs)) = self.registered(cloud, NODE_ID, node.as_str()).await? {
            self.terminate(&entity, &attrs).await?;
        }
        Ok(())
    }

    /// Marks a recorded node terminated, releasing it when it was assigned.
    async fn terminate(&self, entity: &Entity, attrs: &[Attribute]) -> Result<(), CloudError> {
        let released = registration::current_user(attrs).map(|_| self.clock.now());
        self.attributes
            .apply(entity.id, &registration::destroyed(released))
            .await?;
        Ok(())
    }

    /// Assigns a node to a user and an application, recording who, what and
    /// when on its inventory entity (registering the node when it is not yet).
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::InvalidParameter`],
    /// [`CloudError::NodeNotFound`], [`CloudError::AlreadyAssigned`],
    /// [`CloudError::Provider`], [`CloudError::Store`].
    pub async fn assign(
        &self,
        cloud: &CloudName,
        node: &NodeRef,
        user: &str,
        vm_type: &str,
    ) -> Result<Assignment, CloudError> {
        require([("user", user), ("vm_type", vm_type)])?;
        let node = self.find_node(cloud, node).await?;
        let entity = self.register(cloud, &node).await?;
        let changes = registration::assigned(user, vm_type, self.clock.now());
        match self.attributes.apply(entity.id, &changes).await {
            Ok(()) => Ok(Assignment {
                entity,
                node_id: node.id,
            }),
            Err(StoreError::Refused(Rejection::AssignedTo(holder))) => {
                Err(CloudError::AlreadyAssigned {
                    node: node.id.to_string(),
                    user: holder,
                })
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Releases an assigned node, recording when.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::NodeNotFound`],
    /// [`CloudError::NotAssigned`], [`CloudError::Provider`],
    /// [`CloudError::Store`].
    pub async fn release(
        &self,
        cloud: &CloudName,
        node: &NodeRef,
    ) -> Result<Assignment, CloudError> {
        let node = self.find_node(cloud, node).await?;
        let (entity, _) = self
            .registered(cloud, UUID, &node.uuid)
            .await?
            .ok_or_else(|| CloudError::NotAssigned(node.id.to_string()))?;
        let changes = registration::released(self.clock.now());
        match self.attributes.apply(entity.id, &changes).await {
            Ok(()) => Ok(Assignment {
                entity,
                node_id: node.id,
            }),
            Err(StoreError::Refused(Rejection::NotAssigned)) => {
                Err(CloudError::NotAssigned(node.id.to_string()))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The cloud's nodes and its inventory records, for reconciliation.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::Provider`],
    /// [`CloudError::Store`].
    pub async fn survey(&self, cloud: &CloudName) -> Result<Survey, CloudError> {
        let provider = self.provider(cloud)?;
        // Records first, then nodes: a node started meanwhile is then seen
        // unrecorded (and recorded again, harmlessly), never a fresh record
        // seen without its node (which would terminate it).
        let query = AttributeQuery {
            key: AttributeKey::known(CLOUD),
            subkey: Some(AttributeKey::known(NAME)),
            value: Some(cloud.to_string()),
        };
        let mut records = Vec::new();
        for entity in self.attributes.find_entities(&query, None).await?.items {
            let attrs = self.attributes.list(entity.id).await?;
            records.push(record(entity, &attrs));
        }
        let nodes = provider.list_nodes().await?;
        Ok(Survey { nodes, records })
    }

    /// Applies one reconciliation fix.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::Store`],
    /// [`CloudError::NoFreeName`].
    pub async fn fix(&self, cloud: &CloudName, fix: &Fix) -> Result<(), CloudError> {
        match fix {
            Fix::Terminate(entity) => {
                let attrs = self.attributes.list(entity.id).await?;
                self.terminate(entity, &attrs).await
            }
            Fix::Record(node) => self.register(cloud, node).await.map(|_| ()),
            Fix::Refresh(entity, node) => {
                self.attributes
                    .apply(entity.id, &registration::refresh(node))
                    .await?;
                Ok(())
            }
        }
    }

    async fn find_node(&self, cloud: &CloudName, wanted: &NodeRef) -> Result<Node, CloudError> {
        self.provider(cloud)?
            .list_nodes()
            .await?
            .into_iter()
            .find(|n| wanted.matches(n))
            .ok_or_else(|| CloudError::NodeNotFound(wanted.to_string()))
    }

    /// The entity of the cloud's node whose `cloud/<subkey>` is `value`,
    /// with its attributes.
    async fn registered(
        &self,
        cloud: &CloudName,
        subkey: &'static str,
        value: &str,
    ) -> Result<Option<(Entity, Vec<Attribute>)>, CloudError> {
        let query = AttributeQuery {
            key: AttributeKey::known(CLOUD),
            subkey: Some(AttributeKey::known(subkey)),
            value: Some(value.to_owned()),
        };
        for entity in self.attributes.find_entities(&query, None).await?.items {
            let attrs = self.attributes.list(entity.id).await?;
            if registration::value_of(&attrs, CLOUD, NAME) == Some(cloud.as_str()) {
                return Ok(Some((entity, attrs)));
            }
        }
        Ok(None)
    }

    /// Records a node: refreshes its entity when it has one, creates one
    /// otherwise under the first free candidate name.
    async fn register(&self, cloud: &CloudName, node: &Node) -> Result<Entity, CloudError> {
        if let Some((entity, attrs)) = self.registered(cloud, UUID, &node.uuid).await? {
            if !record(entity.clone(), &attrs).agrees_with(node) {
                self.attributes
                    .apply(entity.id, &registration::refresh(node))
                    .await?;
            }
            return Ok(entity);
        }
        let attributes = registration::attributes(cloud, self.provider(cloud)?.info(), node);
        for name in registration::candidate_names(cloud, node) {
            if self.entities.find(&name).await?.is_none() {
                let new = NewEntity {
                    name,
                    driver: Driver::BasicVirtualServer,
                    attributes: attributes.clone(),
                };
                match self.entities.create(std::slice::from_ref(&new)).await {
                    Ok(mut created) => {
                        if let Some(entity) = created.pop() {
                            return Ok(entity);
                        }
                    }
                    Err(StoreError::NameTaken(_)) => {}
                    Err(other) => return Err(other.into()),
                }
            }
            // The name may have been taken by a concurrent request recording
            // this very node: that entity is then the one to use.
            if let Some((entity, _)) = self.registered(cloud, UUID, &node.uuid).await? {
                return Ok(entity);
            }
        }
        Err(CloudError::NoFreeName(node.name.clone()))
    }
}

/// An entity's node record, as its attributes say.
fn record(entity: Entity, attrs: &[Attribute]) -> Record {
    let value = |subkey| registration::value_of(attrs, CLOUD, subkey).map(str::to_owned);
    Record {
        uuid: value(UUID),
        node_id: value(NODE_ID),
        state: value(STATE),
        addresses: addresses(attrs),
        entity,
    }
}

/// The `cloud/ip` addresses among `attrs`, in order.
fn addresses(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| {
            a.key.as_str() == CLOUD && a.subkey.as_ref().is_some_and(|s| s.as_str() == ADDRESS)
        })
        .filter_map(|a| match &a.value {
            crate::attribute::AttributeValue::String(ip) => Some(ip.clone()),
            _ => None,
        })
        .collect()
}

/// Refuses empty required parameters and those no record can hold.
fn require<const N: usize>(params: [(&str, &str); N]) -> Result<(), CloudError> {
    for (name, value) in params {
        if value.trim().is_empty() {
            return Err(CloudError::InvalidParameter(format!(
                "Parameter {name} must not be empty"
            )));
        }
        printable(name, value)?;
    }
    Ok(())
}

/// Refuses a parameter holding a NUL character, which no database column
/// can keep.
fn printable(name: &str, value: &str) -> Result<(), CloudError> {
    if value.contains('\0') {
        return Err(CloudError::InvalidParameter(format!(
            "Parameter {name} must not contain the NUL character"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::NaiveDate;

    use super::*;
    use crate::attribute::{AttributeValue, MockAttributeRepository};
    use crate::clock::MockClock;
    use crate::cloud::{MockCloudProvider, NodeState, ProviderError};
    use crate::entity::{EntityId, EntityName, MockEntityRepository};
    use crate::page::Paged;

    const INFO: ProviderInfo = ProviderInfo {
        kind: "dummy",
        display_name: "Dummy Node Provider",
    };

    fn fake() -> CloudName {
        CloudName::parse("fake").unwrap()
    }

    fn node(id: &str) -> Node {
        Node {
            id: NodeId::new(id),
            name: format!("dummy-{id}"),
            state: NodeState::Running,
            public_ips: vec![format!("127.0.0.{id}")],
            private_ips: vec![],
            uuid: format!("uuid-{id}"),
            extra: Default::default(),
            idempotency_key: None,
        }
    }

    fn vm(id: i64, name: &str) -> Entity {
        Entity {
            id: EntityId(id),
            name: EntityName::parse(name).unwrap(),
            driver: Driver::BasicVirtualServer,
        }
    }

    struct Fixture {
        provider: MockCloudProvider,
        entities: MockEntityRepository,
        attributes: MockAttributeRepository,
    }

    impl Fixture {
        fn new() -> Self {
            let mut provider = MockCloudProvider::new();
            provider.expect_info().return_const(INFO);
            Self {
                provider,
                entities: MockEntityRepository::new(),
                attributes: MockAttributeRepository::new(),
            }
        }

        fn build(self) -> Clouds {
            let mut clock = MockClock::new();
            let at = NaiveDate::from_ymd_opt(2026, 1, 2)
                .unwrap()
                .and_hms_opt(3, 4, 5)
                .unwrap();
            clock.expect_now().return_const(at);
            let providers =
                BTreeMap::from([(fake(), Arc::new(self.provider) as Arc<dyn CloudProvider>)]);
            Clouds::new(
                providers,
                Arc::new(self.entities),
                Arc::new(self.attributes),
                Arc::new(clock),
            )
        }
    }

    fn cloud_attrs(cloud: &str, user: Option<&str>) -> Vec<Attribute> {
        let attr = |key: &str, subkey: &str, value: &str| Attribute {
            key: AttributeKey::parse(key).unwrap(),
            subkey: Some(AttributeKey::parse(subkey).unwrap()),
            number: None,
            value: AttributeValue::String(value.into()),
        };
        let mut attrs = vec![attr("cloud", "name", cloud)];
        if let Some(user) = user {
            attrs.push(attr("assignment", "user", user));
        }
        attrs
    }

    #[tokio::test]
    async fn a_node_that_cannot_be_recorded_is_destroyed_again() {
        let mut f = Fixture::new();
        f.provider
            .expect_create_node()
            .returning(|_, _| Ok(node("3")));
        let destroyed = Arc::new(Mutex::new(Vec::new()));
        let seen = destroyed.clone();
        f.provider.expect_destroy_node().returning(move |id| {
            seen.lock().unwrap().push(id.to_string());
            Ok(())
        });
        f.attributes
            .expect_find_entities()
            .returning(|_, _| Err(StoreError::unavailable(std::fmt::Error)));
        let new = NewNode {
            name: "web".into(),
            size: "1".into(),
            image: "1".into(),
            location: None,
            key_name: None,
            metadata: Default::default(),
        };
        let err = f
            .build()
            .create_and_record(&fake(), &new, &IdempotencyKey::new("k"))
            .await
            .unwrap_err();
        assert!(matches!(err, CloudError::Store(_)));
        assert_eq!(*destroyed.lock().unwrap(), ["3"]);
    }

    #[tokio::test]
    async fn unknown_clouds_and_nodes_are_named() {
        let mut f = Fixture::new();
        f.provider
            .expect_list_nodes()
            .returning(|| Ok(vec![node("1")]));
        let clouds = f.build();
        let wrong = CloudName::parse("wrong").unwrap();
        assert!(matches!(
            clouds.list(&wrong, Catalogue::Nodes).await,
            Err(CloudError::UnknownCloud(c)) if c == "wrong"
        ));
        let err = clouds
            .assign(&fake(), &NodeRef::Id(NodeId::new("9")), "ann", "web")
            .await
            .unwrap_err();
        assert!(matches!(err, CloudError::NodeNotFound(n) if n == "9"));
    }

    #[tokio::test]
    async fn unsupported_operations_pass_through() {
        let mut f = Fixture::new();
        f.provider
            .expect_list_images()
            .returning(|| Err(ProviderError::Unsupported("images")));
        let err = f
            .build()
            .list(&fake(), Catalogue::Images)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            CloudError::Provider(ProviderError::Unsupported("images"))
        ));
    }

    #[tokio::test]
    async fn assignment_is_recorded_once_until_released() {
        let mut f = Fixture::new();
        f.provider
            .expect_list_nodes()
            .returning(|| Ok(vec![node("1")]));
        f.attributes
            .expect_find_entities()
            .returning(|_, _| Ok(Paged::all(vec![vm(5, "dummy-1")])));
        f.attributes
            .expect_list()
            .returning(|_| Ok(cloud_attrs("fake", None)));
        // Storage checks each change's guard against what it holds.
        let held = Arc::new(Mutex::new(cloud_attrs("fake", None)));
        let store = held.clone();
        f.attributes.expect_apply().returning(move |_, changes| {
            let mut attrs = store.lock().unwrap();
            if let Some(guard) = changes.guard {
                (guard.0)(&attrs).map_err(StoreError::Refused)?;
            }
            let sets_user = changes
                .set
                .iter()
                .any(|(slot, _)| slot.subkey.as_ref().is_some_and(|s| s.as_str() == "user"));
            if sets_user {
                *attrs = cloud_attrs("fake", Some("ann"));
            }
            Ok(())
        });
        let clouds = f.build();
        let first = clouds
            .assign(&fake(), &NodeRef::Hostname("dummy-1".into()), "ann", "web")
            .await
            .unwrap();
        assert_eq!(first.node_id, NodeId::new("1"));
        let again = clouds
            .assign(&fake(), &NodeRef::Id(NodeId::new("1")), "bob", "db")
            .await
            .unwrap_err();
        assert!(matches!(again, CloudError::AlreadyAssigned { user, .. } if user == "ann"));
        assert!(
            clouds
                .release(&fake(), &NodeRef::Id(NodeId::new("1")))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn releasing_an_unassigned_node_is_refused() {
        let mut f = Fixture::new();
        f.provider
            .expect_list_nodes()
            .returning(|| Ok(vec![node("2")]));
        f.attributes
            .expect_find_entities()
            .returning(|_, _| Ok(Paged::all(vec![vm(5, "dummy-2")])));
        f.attributes
            .expect_list()
            .returning(|_| Ok(cloud_attrs("fake", None)));
        f.attributes.expect_apply().returning(|_, changes| {
            let guard = changes.guard.expect("a release is guarded");
            (guard.0)(&cloud_attrs("fake", None)).map_err(StoreError::Refused)
        });
        let err = f
            .build()
            .release(&fake(), &NodeRef::Id(NodeId::new("2")))
            .await
            .unwrap_err();
        assert!(matches!(err, CloudError::NotAssigned(n) if n == "2"));
    }

    #[tokio::test]
    async fn a_failed_destroy_writes_nothing() {
        let mut f = Fixture::new();
        f.provider.expect_destroy_node().returning(|id| {
            Err(ProviderError::NotFound {
                kind: "node",
                id: id.to_string(),
            })
        });
        f.attributes.expect_apply().never();
        let err = f
            .build()
            .destroy_and_mark(&fake(), &NodeId::new("9"), false)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            CloudError::Provider(ProviderError::NotFound { .. })
        ));
    }
}
