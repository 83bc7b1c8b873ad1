use super::Inventory;
use crate::driver::Driver;
use crate::entity::{Entity, EntityDetails, EntityName, NewEntity};
use crate::error::StoreError;
use crate::inventory::InventoryError;
use crate::page::{PageRequest, Paged};
use crate::resource_manager::{
    Allocated, AllocationError, AllocationTarget, Policy, properties_for,
};

/// What an allocation hands its resource to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllocationRequest {
    /// An existing entity.
    Thing(EntityName),
    /// A new entity of this driver, named by the manager (entity name managers).
    Create(Driver),
}

impl Inventory {
    /// Lists resource managers, of one driver or all, oldest first.
    ///
    /// # Errors
    /// [`InventoryError::WrongDriver`] when `driver` is not a manager driver.
    pub async fn managers(
        &self,
        driver: Option<Driver>,
        page: Option<PageRequest>,
    ) -> Result<Paged<Entity>, InventoryError> {
        let drivers: Vec<Driver> = match driver {
            Some(d) => vec![manager_driver(d)?],
            None => Driver::ALL
                .into_iter()
                .filter(|d| d.is_resource_manager())
                .collect(),
        };
        self.list(&drivers, page).await
    }

    /// Creates a resource manager with its properties (the rest take defaults).
    ///
    /// # Errors
    /// [`InventoryError::WrongDriver`], [`InventoryError::InvalidProperty`],
    /// [`InventoryError::AlreadyExists`] (nothing is written).
    pub async fn create_manager(
        &self,
        driver: Driver,
        name: &EntityName,
        properties: &[(String, String)],
    ) -> Result<EntityDetails, InventoryError> {
        let driver = manager_driver(driver)?;
        let attributes = properties_for(driver, properties)?;
        let new = NewEntity {
            name: name.clone(),
            driver,
            attributes,
        };
        let created = match self.ports.entities.create(std::slice::from_ref(&new)).await {
            Ok(mut created) => created
                .pop()
                .ok_or_else(|| InventoryError::EntityNotFound(name.to_string()))?,
            Err(StoreError::NameTaken(name)) => {
                return Err(InventoryError::AlreadyExists { driver, name });
            }
            Err(other) => return Err(other.into()),
        };
        self.detail(&created).await
    }

    /// The expanded view of a resource manager, with its allocation count.
    ///
    /// # Errors
    /// As [`Inventory::manager`].
    pub async fn show_manager(
        &self,
        name: &EntityName,
        driver: Driver,
    ) -> Result<EntityDetails, InventoryError> {
        let manager = self.manager(name, driver).await?;
        self.detail(&manager).await
    }

    /// Finds a resource manager, checking it is one and of `driver`.
    ///
    /// # Errors
    /// [`InventoryError::EntityNotFound`], [`InventoryError::NotAResourceManager`],
    /// [`InventoryError::DriverMismatch`].
    pub async fn manager(
        &self,
        name: &EntityName,
        driver: Driver,
    ) -> Result<Entity, InventoryError> {
        let entity = self.get(name, None).await?;
        if !entity.driver.is_resource_manager() {
            return Err(InventoryError::NotAResourceManager(name.to_string()));
        }
        if entity.driver != driver {
            return Err(InventoryError::DriverMismatch {
                name: name.to_string(),
                expected: driver,
            });
        }
        Ok(entity)
    }

    /// Allocates a resource of a manager: the one asked for, or the next free.
    ///
    /// # Errors
    /// As [`Inventory::manager`]; [`InventoryError::WrongDriver`] when the
    /// request does not suit the manager; [`InventoryError::ResourceTaken`],
    /// [`InventoryError::Exhausted`], [`InventoryError::InvalidResource`],
    /// [`InventoryError::AlreadyExists`].
    pub async fn allocate(
        &self,
        manager: &EntityName,
        driver: Driver,
        request: AllocationRequest,
        resource: Option<String>,
    ) -> Result<Allocated, InventoryError> {
        let manager = self.manager(manager, driver).await?;
        let target = match (request, manager.driver) {
            (AllocationRequest::Create(new_driver), Driver::SimpleEntityNameManager) => {
                AllocationTarget::Create(new_driver)
            }
            (AllocationRequest::Thing(name), d) if d != Driver::SimpleEntityNameManager => {
                AllocationTarget::Existing(self.get(&name, None).await?)
            }
            (_, d) => {
                return Err(InventoryError::WrongDriver {
                    driver: d,
                    reason: if d == Driver::SimpleEntityNameManager {
                        "it creates entities: give the driver of the entity to create"
                    } else {
                        "it allocates to existing entities: give the object"
                    },
                });
            }
        };
        let label = manager.clone();
        let policy = Policy::new(manager.clone(), resource);
        self.ports
            .resources
            .allocate(manager.id, target, policy)
            .await
            .map_err(|e| match e {
                AllocationError::Exhausted => InventoryError::Exhausted(label),
                AllocationError::Taken(resource) => InventoryError::ResourceTaken {
                    manager: label,
                    resource,
                },
                AllocationError::InvalidResource(why) => InventoryError::InvalidResource(why),
                AllocationError::InvalidProperty(why) => InventoryError::InvalidProperty(why),
                AllocationError::NameTaken { driver, name } => {
                    InventoryError::AlreadyExists { driver, name }
                }
                AllocationError::Store(store) => store.into(),
            })
    }

    /// Releases what a manager allocated to an entity (only `resource` when given).
    ///
    /// # Errors
    /// As [`Inventory::manager`]; [`InventoryError::NotAllocated`] when there
    /// was nothing to release.
    pub async fn deallocate(
        &self,
        manager: &EntityName,
        driver: Driver,
        thing: &EntityName,
        resource: Option<String>,
    ) -> Result<(), InventoryError> {
        let manager = self.manager(manager, driver).await?;
        let thing = self.get(thing, None).await?;
        let released = self
            .ports
            .resources
            .deallocate(manager.id, thing.id, resource)
            .await?;
        if released == 0 {
            return Err(InventoryError::NotAllocated { manager, thing });
        }
        Ok(())
    }
}

fn manager_driver(driver: Driver) -> Result<Driver, InventoryError> {
    if driver.is_resource_manager() {
        Ok(driver)
    } else {
        Err(InventoryError::WrongDriver {
            driver,
            reason: "it is not a resource manager driver",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::test_support::{Mocks, entity, name};
    use crate::resource_manager::{Choice, ManagerState};

    #[tokio::test]
    async fn allocation_uses_the_manager_policy_inside_the_port() {
        let mut mocks = Mocks::default();
        mocks.entities.expect_find().returning(|n| {
            Ok(Some(match n.as_str() {
                "ipman" => entity(1, "ipman", Driver::IpManager),
                _ => entity(2, "a01", Driver::BasicServer),
            }))
        });
        mocks
            .resources
            .expect_allocate()
            .returning(|_, target, policy| {
                let state = ManagerState {
                    properties: [
                        ("baseip".to_owned(), "10.0.0.0".to_owned()),
                        ("netmask".to_owned(), "255.255.255.0".to_owned()),
                    ]
                    .into_iter()
                    .collect(),
                    taken: Default::default(),
                };
                let Choice { resource, .. } = policy.choose(&state)?;
                let AllocationTarget::Existing(thing) = target else {
                    panic!("expected an existing thing")
                };
                Ok(Allocated {
                    thing,
                    resource,
                    recorded: None,
                })
            });
        let allocated = mocks
            .build()
            .allocate(
                &name("ipman"),
                Driver::IpManager,
                AllocationRequest::Thing(name("a01")),
                None,
            )
            .await
            .unwrap();
        assert_eq!(allocated.resource, "10.0.0.1");
    }

    #[tokio::test]
    async fn exhausted_managers_say_so() {
        let mut mocks = Mocks::default();
        mocks.entities.expect_find().returning(|n| {
            Ok(Some(match n.as_str() {
                "ipman" => entity(1, "ipman", Driver::IpManager),
                _ => entity(2, "a01", Driver::BasicServer),
            }))
        });
        mocks
            .resources
            .expect_allocate()
            .returning(|_, _, _| Err(AllocationError::Exhausted));
        let err = mocks
            .build()
            .allocate(
                &name("ipman"),
                Driver::IpManager,
                AllocationRequest::Thing(name("a01")),
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, InventoryError::Exhausted(m) if m.path() == "/ipmanager/ipman"));
    }

    #[tokio::test]
    async fn entity_name_managers_need_a_driver() {
        let mut mocks = Mocks::default();
        mocks
            .entities
            .expect_find()
            .returning(|_| Ok(Some(entity(1, "names", Driver::SimpleEntityNameManager))));
        mocks.resources.expect_allocate().never();
        let err = mocks
            .build()
            .allocate(
                &name("names"),
                Driver::SimpleEntityNameManager,
                AllocationRequest::Thing(name("x")),
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, InventoryError::WrongDriver { .. }));
    }

    #[tokio::test]
    async fn non_managers_are_refused() {
        let mut mocks = Mocks::default();
        mocks
            .entities
            .expect_find()
            .returning(|_| Ok(Some(entity(1, "testserver1", Driver::BasicServer))));
        let err = mocks
            .build()
            .manager(&name("testserver1"), Driver::BasicServer)
            .await
            .unwrap_err();
        assert!(matches!(err, InventoryError::NotAResourceManager(_)));
    }

    #[tokio::test]
    async fn creating_an_existing_manager_conflicts() {
        let mut mocks = Mocks::default();
        mocks
            .entities
            .expect_create()
            .returning(|_| Err(StoreError::NameTaken(name("zmanager"))));
        let err = mocks
            .build()
            .create_manager(Driver::SimpleNameManager, &name("zmanager"), &[])
            .await
            .unwrap_err();
        assert!(
            matches!(err, InventoryError::AlreadyExists { driver: Driver::SimpleNameManager, name } if name.as_str() == "zmanager")
        );
    }

    #[tokio::test]
    async fn releasing_nothing_is_reported() {
        let mut mocks = Mocks::default();
        mocks.entities.expect_find().returning(|n| {
            Ok(Some(match n.as_str() {
                "ipman" => entity(1, "ipman", Driver::IpManager),
                _ => entity(2, "a01", Driver::BasicServer),
            }))
        });
        mocks
            .resources
            .expect_deallocate()
            .returning(|_, _, _| Ok(0));
        let err = mocks
            .build()
            .deallocate(&name("ipman"), Driver::IpManager, &name("a01"), None)
            .await
            .unwrap_err();
        assert!(matches!(err, InventoryError::NotAllocated { .. }));
    }
}
