use std::collections::BTreeMap;
use std::sync::Arc;

use super::error::CloudError;
use super::model::{
    CloudName, NewNode, Node, NodeImage, NodeLocation, NodeRef, NodeSize, ProviderInfo,
};
use super::ports::{Clock, CloudProvider};
use super::registration::{self, CLOUD};
use crate::attribute::{AttributeKey, AttributeQuery, AttributeRepository};
use crate::driver::Driver;
use crate::entity::{Entity, EntityRepository, NewEntity};
use crate::error::StoreError;
use crate::service::Ports;

/// The outcome of an assignment or a release.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The node's inventory entity.
    pub entity: Entity,
    /// The provider's id of the node.
    pub node_id: String,
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

/// A cloud picked by a request.
struct Picked {
    name: CloudName,
    provider: Arc<dyn CloudProvider>,
}

impl Clouds {
    /// The service over these clouds, recording nodes through `ports`.
    pub fn new(
        providers: BTreeMap<CloudName, Arc<dyn CloudProvider>>,
        ports: &Ports,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            providers,
            entities: ports.entities.clone(),
            attributes: ports.attributes.clone(),
            clock,
        }
    }

    fn pick(&self, cloud: Option<&str>) -> Result<Picked, CloudError> {
        let wanted = cloud.unwrap_or(CloudName::DEFAULT);
        let unknown = || CloudError::UnknownCloud(wanted.to_owned());
        let name = CloudName::parse(wanted).ok_or_else(unknown)?;
        let provider = self.providers.get(&name).ok_or_else(unknown)?.clone();
        Ok(Picked { name, provider })
    }

    /// What provider a cloud uses.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`].
    pub fn info(&self, cloud: Option<&str>) -> Result<ProviderInfo, CloudError> {
        Ok(self.pick(cloud)?.provider.info())
    }

    /// The cloud's nodes, with what provider it uses.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::Provider`].
    pub async fn nodes(
        &self,
        cloud: Option<&str>,
    ) -> Result<(ProviderInfo, Vec<Node>), CloudError> {
        let picked = self.pick(cloud)?;
        Ok((picked.provider.info(), picked.provider.list_nodes().await?))
    }

    /// The cloud's images.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::Provider`].
    pub async fn images(
        &self,
        cloud: Option<&str>,
    ) -> Result<(ProviderInfo, Vec<NodeImage>), CloudError> {
        let picked = self.pick(cloud)?;
        Ok((picked.provider.info(), picked.provider.list_images().await?))
    }

    /// The cloud's sizes.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::Provider`].
    pub async fn sizes(
        &self,
        cloud: Option<&str>,
    ) -> Result<(ProviderInfo, Vec<NodeSize>), CloudError> {
        let picked = self.pick(cloud)?;
        Ok((picked.provider.info(), picked.provider.list_sizes().await?))
    }

    /// The cloud's locations.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::Provider`].
    pub async fn locations(
        &self,
        cloud: Option<&str>,
    ) -> Result<(ProviderInfo, Vec<NodeLocation>), CloudError> {
        let picked = self.pick(cloud)?;
        Ok((
            picked.provider.info(),
            picked.provider.list_locations().await?,
        ))
    }

    /// Creates a node and records it in the inventory. When the provider
    /// fails nothing is recorded; when recording fails the node is destroyed
    /// again, so that no node runs unrecorded.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::InvalidParameter`],
    /// [`CloudError::Provider`], [`CloudError::Store`].
    pub async fn start(
        &self,
        cloud: Option<&str>,
        new: &NewNode,
    ) -> Result<(ProviderInfo, Node), CloudError> {
        let picked = self.pick(cloud)?;
        require([
            ("name", &new.name),
            ("image", &new.image),
            ("size", &new.size),
        ])?;
        let node = picked.provider.create_node(new).await?;
        if let Err(err) = self.register(&picked, &node).await {
            if let Err(cleanup) = picked.provider.destroy_node(&node.id).await {
                tracing::error!(
                    cloud = %picked.name, node = %node.id, error = %cleanup,
                    "a node that could not be recorded could not be destroyed either"
                );
            }
            return Err(err);
        }
        Ok((picked.provider.info(), node))
    }

    /// Destroys a node; its inventory entity, if any, is marked terminated and
    /// loses its addresses.
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::Provider`] (nothing is
    /// written), [`CloudError::Store`].
    pub async fn stop(&self, cloud: Option<&str>, node_id: &str) -> Result<(), CloudError> {
        let picked = self.pick(cloud)?;
        let entity = self.registered(&picked.name, "node_id", node_id).await?;
        picked.provider.destroy_node(node_id).await?;
        if let Some(entity) = entity {
            let attrs = self.attributes.list(entity.id).await?;
            let released = registration::current_user(&attrs).map(|_| self.clock.now());
            self.attributes
                .apply(entity.id, &registration::destroyed(released))
                .await?;
        }
        Ok(())
    }

    /// Assigns a node to a user and an application, recording who, what and
    /// when on its inventory entity (registering the node when it is not yet).
    ///
    /// # Errors
    /// [`CloudError::UnknownCloud`], [`CloudError::NodeNotFound`],
    /// [`CloudError::AlreadyAssigned`], [`CloudError::Provider`],
    /// [`CloudError::Store`].
    pub async fn assign(
        &self,
        cloud: Option<&str>,
        node: &NodeRef,
        user: &str,
        vm_type: &str,
    ) -> Result<Assignment, CloudError> {
        require([("user", user), ("vm_type", vm_type)])?;
        let picked = self.pick(cloud)?;
        let node = self.find_node(&picked, node).await?;
        let entity = self.register(&picked, &node).await?;
        let changes = registration::assigned(user, vm_type, self.clock.now());
        match self.attributes.apply(entity.id, &changes).await {
            Ok(()) => Ok(Assignment {
                entity,
                node_id: node.id,
            }),
            Err(StoreError::Conflict(holder)) => Err(CloudError::AlreadyAssigned {
                node: node.id,
                user: holder,
            }),
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
        cloud: Option<&str>,
        node: &NodeRef,
    ) -> Result<Assignment, CloudError> {
        let picked = self.pick(cloud)?;
        let node = self.find_node(&picked, node).await?;
        let entity = self
            .registered(&picked.name, "uuid", &node.uuid)
            .await?
            .ok_or_else(|| CloudError::NotAssigned(node.id.clone()))?;
        let changes = registration::released(self.clock.now());
        match self.attributes.apply(entity.id, &changes).await {
            Ok(()) => Ok(Assignment {
                entity,
                node_id: node.id,
            }),
            Err(StoreError::Conflict(_)) => Err(CloudError::NotAssigned(node.id)),
            Err(other) => Err(other.into()),
        }
    }

    async fn find_node(&self, picked: &Picked, wanted: &NodeRef) -> Result<Node, CloudError> {
        picked
            .provider
            .list_nodes()
            .await?
            .into_iter()
            .find(|n| wanted.matches(n))
            .ok_or_else(|| CloudError::NodeNotFound(wanted.to_string()))
    }

    /// The entity of the cloud's node whose `cloud/<subkey>` is `value`.
    async fn registered(
        &self,
        cloud: &CloudName,
        subkey: &'static str,
        value: &str,
    ) -> Result<Option<Entity>, CloudError> {
        let query = AttributeQuery {
            key: AttributeKey::known(CLOUD),
            subkey: Some(AttributeKey::known(subkey)),
            value: Some(value.to_owned()),
        };
        for entity in self.attributes.find_entities(&query, None).await?.items {
            let attrs = self.attributes.list(entity.id).await?;
            if registration::value_of(&attrs, CLOUD, "name") == Some(cloud.as_str()) {
                return Ok(Some(entity));
            }
        }
        Ok(None)
    }

    /// Records a node: refreshes its entity when it has one, creates one
    /// otherwise under the first free candidate name.
    async fn register(&self, picked: &Picked, node: &Node) -> Result<Entity, CloudError> {
        if let Some(entity) = self.registered(&picked.name, "uuid", &node.uuid).await? {
            self.attributes
                .apply(entity.id, &registration::refresh(node))
                .await?;
            return Ok(entity);
        }
        let attributes = registration::attributes(&picked.name, picked.provider.info(), node);
        for name in registration::candidate_names(&picked.name, node) {
            let taken = match self.entities.find(&name).await? {
                Some(_) => true,
                None => {
                    let new = NewEntity {
                        name,
                        driver: Driver::BasicVirtualServer,
                        attributes: attributes.clone(),
                    };
                    match self.entities.create(std::slice::from_ref(&new)).await {
                        Ok(mut created) => {
                            return created
                                .pop()
                                .ok_or_else(|| StoreError::NotFound(new.name.to_string()).into());
                        }
                        Err(StoreError::Conflict(_)) => true,
                        Err(other) => return Err(other.into()),
                    }
                }
            };
            // The name may have been taken by a concurrent request recording
            // this very node: that entity is then the one to use.
            if taken && let Some(entity) = self.registered(&picked.name, "uuid", &node.uuid).await?
            {
                return Ok(entity);
            }
        }
        Err(StoreError::Conflict(format!("no free inventory name for node {}", node.name)).into())
    }
}

/// Refuses empty required parameters.
fn require<const N: usize>(params: [(&str, &str); N]) -> Result<(), CloudError> {
    match params.iter().find(|(_, value)| value.trim().is_empty()) {
        Some((name, _)) => Err(CloudError::InvalidParameter(format!(
            "Parameter {name} must not be empty"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::NaiveDate;

    use super::*;
    use crate::attribute::{Attribute, AttributeValue, MockAttributeRepository};
    use crate::cloud::ProviderError;
    use crate::cloud::{MockClock, MockCloudProvider, NodeState};
    use crate::entity::{EntityId, EntityName, MockEntityRepository};
    use crate::page::Paged;
    use crate::pool::MockPoolRepository;
    use crate::resource_manager::MockResourceRepository;

    const INFO: ProviderInfo = ProviderInfo {
        kind: "dummy",
        display_name: "Dummy Node Provider",
    };

    fn node(id: &str) -> Node {
        Node {
            id: id.into(),
            name: format!("dummy-{id}"),
            state: NodeState::Running,
            public_ips: vec![format!("127.0.0.{id}")],
            private_ips: vec![],
            uuid: format!("uuid-{id}"),
            extra: Default::default(),
        }
    }

    fn new_node() -> NewNode {
        NewNode {
            name: "web".into(),
            size: "1".into(),
            image: "1".into(),
            location: None,
            key_name: None,
            metadata: Default::default(),
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
            let ports = Ports {
                entities: Arc::new(self.entities),
                attributes: Arc::new(self.attributes),
                pools: Arc::new(MockPoolRepository::new()),
                resources: Arc::new(MockResourceRepository::new()),
            };
            let mut clock = MockClock::new();
            let at = NaiveDate::from_ymd_opt(2026, 1, 2)
                .unwrap()
                .and_hms_opt(3, 4, 5)
                .unwrap();
            clock.expect_now().return_const(at);
            let providers = BTreeMap::from([(
                CloudName::parse("fake").unwrap(),
                Arc::new(self.provider) as Arc<dyn CloudProvider>,
            )]);
            Clouds::new(providers, &ports, Arc::new(clock))
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
    async fn started_nodes_are_registered_as_virtual_servers() {
        let mut f = Fixture::new();
        f.provider.expect_create_node().returning(|_| Ok(node("3")));
        f.attributes
            .expect_find_entities()
            .returning(|_, _| Ok(Paged::all(vec![])));
        f.entities.expect_find().returning(|_| Ok(None));
        f.entities
            .expect_create()
            .withf(|new| {
                new[0].name.as_str() == "dummy-3"
                    && new[0].driver == Driver::BasicVirtualServer
                    && new[0]
                        .attributes
                        .iter()
                        .any(|a| a.value == AttributeValue::String("uuid-3".into()))
            })
            .returning(|_| Ok(vec![vm(7, "dummy-3")]));
        let (info, started) = f.build().start(Some("fake"), &new_node()).await.unwrap();
        assert_eq!((info, started.name.as_str()), (INFO, "dummy-3"));
    }

    #[tokio::test]
    async fn a_provider_failure_records_nothing() {
        let mut f = Fixture::new();
        f.provider
            .expect_create_node()
            .returning(|_| Err(ProviderError::Failure("boom".into())));
        f.entities.expect_create().never();
        let err = f
            .build()
            .start(Some("fake"), &new_node())
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            CloudError::Provider(ProviderError::Failure(_))
        ));
    }

    #[tokio::test]
    async fn a_node_that_cannot_be_recorded_is_destroyed_again() {
        let mut f = Fixture::new();
        f.provider.expect_create_node().returning(|_| Ok(node("3")));
        let destroyed = Arc::new(Mutex::new(Vec::new()));
        let seen = destroyed.clone();
        f.provider.expect_destroy_node().returning(move |id| {
            seen.lock().unwrap().push(id.to_owned());
            Ok(())
        });
        f.attributes
            .expect_find_entities()
            .returning(|_, _| Err(StoreError::Unavailable("down".into())));
        let err = f
            .build()
            .start(Some("fake"), &new_node())
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
        assert!(
            matches!(clouds.nodes(Some("wrong")).await, Err(CloudError::UnknownCloud(c)) if c == "wrong")
        );
        assert!(
            matches!(clouds.nodes(None).await, Err(CloudError::UnknownCloud(c)) if c == "default")
        );
        let err = clouds
            .assign(Some("fake"), &NodeRef::Id("9".into()), "ann", "web")
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
        let err = f.build().images(Some("fake")).await.unwrap_err();
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
                (guard.0)(&attrs).map_err(StoreError::Conflict)?;
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
            .assign(
                Some("fake"),
                &NodeRef::Hostname("dummy-1".into()),
                "ann",
                "web",
            )
            .await
            .unwrap();
        assert_eq!(first.node_id, "1");
        let again = clouds
            .assign(Some("fake"), &NodeRef::Id("1".into()), "bob", "db")
            .await
            .unwrap_err();
        assert!(matches!(again, CloudError::AlreadyAssigned { user, .. } if user == "ann"));
        assert!(
            clouds
                .release(Some("fake"), &NodeRef::Id("1".into()))
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
            .returning(|_, _| Ok(Paged::all(vec![])));
        f.attributes.expect_apply().never();
        let err = f
            .build()
            .release(Some("fake"), &NodeRef::Id("2".into()))
            .await
            .unwrap_err();
        assert!(matches!(err, CloudError::NotAssigned(n) if n == "2"));

        let mut g = Fixture::new();
        g.provider
            .expect_list_nodes()
            .returning(|| Ok(vec![node("2")]));
        g.attributes
            .expect_find_entities()
            .returning(|_, _| Ok(Paged::all(vec![vm(5, "dummy-2")])));
        g.attributes
            .expect_list()
            .returning(|_| Ok(cloud_attrs("fake", None)));
        g.attributes.expect_apply().returning(|_, changes| {
            let guard = changes.guard.expect("a release is guarded");
            (guard.0)(&cloud_attrs("fake", None)).map_err(StoreError::Conflict)
        });
        let err = g
            .build()
            .release(Some("fake"), &NodeRef::Id("2".into()))
            .await
            .unwrap_err();
        assert!(matches!(err, CloudError::NotAssigned(n) if n == "2"));
    }

    #[tokio::test]
    async fn stopping_marks_the_registered_entity_and_releases_it() {
        let mut f = Fixture::new();
        f.attributes
            .expect_find_entities()
            .returning(|_, _| Ok(Paged::all(vec![vm(5, "dummy-3")])));
        f.attributes
            .expect_list()
            .returning(|_| Ok(cloud_attrs("fake", Some("ann"))));
        f.provider.expect_destroy_node().returning(|_| Ok(()));
        f.attributes
            .expect_apply()
            .withf(|id, changes| {
                *id == EntityId(5)
                    && changes.set[0].1 == AttributeValue::String("terminated".into())
                    && changes.set[1]
                        .0
                        .subkey
                        .as_ref()
                        .is_some_and(|s| s.as_str() == "released_at")
            })
            .returning(|_, _| Ok(()));
        f.build().stop(Some("fake"), "3").await.unwrap();
    }

    #[tokio::test]
    async fn a_failed_destroy_writes_nothing() {
        let mut f = Fixture::new();
        f.attributes
            .expect_find_entities()
            .returning(|_, _| Ok(Paged::all(vec![])));
        f.provider.expect_destroy_node().returning(|id| {
            Err(ProviderError::NotFound {
                kind: "node",
                id: id.to_owned(),
            })
        });
        f.attributes.expect_apply().never();
        let err = f.build().stop(Some("fake"), "9").await.unwrap_err();
        assert!(matches!(
            err,
            CloudError::Provider(ProviderError::NotFound { .. })
        ));
    }
}
