//! The inventory's use cases, over the storage ports.

mod attributes;
mod entities;
mod error;
mod queries;
mod resources;

use std::sync::Arc;

use crate::attribute::AttributeRepository;
use crate::driver::Driver;
use crate::entity::{Entity, EntityDetails, EntityName, EntityRepository};
use crate::pool::PoolRepository;
use crate::resource_manager::ResourceRepository;

pub use attributes::AttributeInput;
pub use entities::{CreateOutcome, PoolAction};
pub use error::InventoryError;
pub use queries::PoolQuery;
pub use resources::AllocationRequest;

/// The storage ports the inventory works on.
#[derive(Clone)]
pub struct Ports {
    /// Entities.
    pub entities: Arc<dyn EntityRepository>,
    /// Attributes.
    pub attributes: Arc<dyn AttributeRepository>,
    /// Pool memberships.
    pub pools: Arc<dyn PoolRepository>,
    /// Allocations.
    pub resources: Arc<dyn ResourceRepository>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

/// The inventory service: every inventory use case, each one call.
#[derive(Debug, Clone)]
pub struct Inventory {
    ports: Ports,
}

impl Inventory {
    /// A service over these ports.
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    /// Finds an entity, checking its driver when one is given.
    ///
    /// # Errors
    /// [`InventoryError::EntityNotFound`], [`InventoryError::DriverMismatch`].
    pub async fn get(
        &self,
        name: &EntityName,
        driver: Option<Driver>,
    ) -> Result<Entity, InventoryError> {
        let entity = self.ports.entities.find(name).await?;
        found(name, driver, entity, |e| e.driver)
    }

    /// The expanded view of an entity, checking its driver when one is given.
    ///
    /// # Errors
    /// [`InventoryError::EntityNotFound`], [`InventoryError::DriverMismatch`].
    pub async fn show(
        &self,
        name: &EntityName,
        driver: Option<Driver>,
    ) -> Result<EntityDetails, InventoryError> {
        let details = self.ports.entities.find_details(name).await?.map(visible);
        found(name, driver, details, |d| d.entity.driver)
    }

    /// The expanded views of entities, in the order given.
    ///
    /// # Errors
    /// [`InventoryError::Store`] when storage fails.
    pub async fn details(&self, entities: &[Entity]) -> Result<Vec<EntityDetails>, InventoryError> {
        if entities.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .ports
            .entities
            .details(entities)
            .await?
            .into_iter()
            .map(visible)
            .collect())
    }

    /// The expanded view of one entity.
    ///
    /// # Errors
    /// [`InventoryError::Store`] when storage fails.
    pub async fn detail(&self, entity: &Entity) -> Result<EntityDetails, InventoryError> {
        self.details(std::slice::from_ref(entity))
            .await?
            .pop()
            .ok_or_else(|| InventoryError::EntityNotFound(entity.name.to_string()))
    }
}

/// What was found by name, checked against the driver asked for.
fn found<T>(
    name: &EntityName,
    driver: Option<Driver>,
    item: Option<T>,
    driver_of: impl Fn(&T) -> Driver,
) -> Result<T, InventoryError> {
    let item = item.ok_or_else(|| InventoryError::EntityNotFound(name.to_string()))?;
    match driver {
        Some(expected) if expected != driver_of(&item) => Err(InventoryError::DriverMismatch {
            name: name.to_string(),
            expected,
        }),
        _ => Ok(item),
    }
}

/// An expanded view without internal (`_`) attributes.
fn visible(mut details: EntityDetails) -> EntityDetails {
    details.attributes.retain(|a| !a.key.is_internal());
    details
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Arc;

    use super::{Inventory, Ports};
    use crate::attribute::MockAttributeRepository;
    use crate::driver::Driver;
    use crate::entity::{Entity, EntityId, EntityName, MockEntityRepository};
    use crate::pool::MockPoolRepository;
    use crate::resource_manager::MockResourceRepository;

    /// Mocks of every port, to set expectations on before building the service.
    #[derive(Default)]
    pub(crate) struct Mocks {
        pub entities: MockEntityRepository,
        pub attributes: MockAttributeRepository,
        pub pools: MockPoolRepository,
        pub resources: MockResourceRepository,
    }

    impl Mocks {
        pub(crate) fn build(self) -> Inventory {
            Inventory::new(Ports {
                entities: Arc::new(self.entities),
                attributes: Arc::new(self.attributes),
                pools: Arc::new(self.pools),
                resources: Arc::new(self.resources),
            })
        }
    }

    pub(crate) fn entity(id: i64, name: &str, driver: Driver) -> Entity {
        Entity {
            id: EntityId(id),
            name: EntityName::parse(name).unwrap(),
            driver,
        }
    }

    pub(crate) fn name(name: &str) -> EntityName {
        EntityName::parse(name).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{Mocks, entity, name};
    use crate::driver::Driver;
    use crate::inventory::InventoryError;

    #[tokio::test]
    async fn get_checks_the_driver() {
        let mut mocks = Mocks::default();
        mocks
            .entities
            .expect_find()
            .returning(|_| Ok(Some(entity(1, "testserver1", Driver::BasicServer))));
        let inventory = mocks.build();
        assert!(
            inventory
                .get(&name("testserver1"), Some(Driver::BasicServer))
                .await
                .is_ok()
        );
        let err = inventory
            .get(&name("testserver1"), Some(Driver::Pool))
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            InventoryError::DriverMismatch {
                expected: Driver::Pool,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn show_checks_the_driver_of_the_expanded_view() {
        let mut mocks = Mocks::default();
        mocks.entities.expect_find_details().returning(|_| {
            Ok(Some(crate::entity::EntityDetails {
                entity: entity(1, "showpool", Driver::Pool),
                attributes: vec![],
                contents: vec![],
                parents: vec![],
                allocations: None,
            }))
        });
        let inventory = mocks.build();
        assert!(
            inventory
                .show(&name("showpool"), Some(Driver::Pool))
                .await
                .is_ok()
        );
        let err = inventory
            .show(&name("showpool"), Some(Driver::BasicServer))
            .await
            .unwrap_err();
        assert!(matches!(err, InventoryError::DriverMismatch { .. }));
    }

    #[tokio::test]
    async fn internal_attributes_stay_out_of_expanded_views() {
        use crate::attribute::{Attribute, AttributeKey, AttributeValue};
        let mut mocks = Mocks::default();
        mocks.entities.expect_find_details().returning(|_| {
            let attr = |key: &str| Attribute {
                key: AttributeKey::parse(key).unwrap(),
                subkey: None,
                number: None,
                value: AttributeValue::Int(1),
            };
            Ok(Some(crate::entity::EntityDetails {
                entity: entity(1, "s", Driver::BasicServer),
                attributes: vec![attr("_secret"), attr("rack")],
                contents: vec![],
                parents: vec![],
                allocations: None,
            }))
        });
        let shown = mocks.build().show(&name("s"), None).await.unwrap();
        assert_eq!(shown.attributes.len(), 1);
        assert_eq!(shown.attributes[0].key.as_str(), "rack");
    }

    #[tokio::test]
    async fn get_reports_missing_entities() {
        let mut mocks = Mocks::default();
        mocks.entities.expect_find().returning(|_| Ok(None));
        let err = mocks
            .build()
            .get(&name("nonserver"), None)
            .await
            .unwrap_err();
        assert!(matches!(err, InventoryError::EntityNotFound(n) if n == "nonserver"));
    }
}
