use super::Inventory;
use crate::driver::Driver;
use crate::entity::{Entity, EntityDetails, EntityName, NewEntity};
use crate::error::StoreError;
use crate::inventory::InventoryError;
use crate::page::{PageRequest, Paged};
use crate::resource_manager::properties_for;

/// The result of creating entities by name.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateOutcome {
    /// One entity per requested name, in request order (existing ones as found).
    pub entities: Vec<Entity>,
    /// Those that existed before the request.
    pub existing: Vec<Entity>,
}

/// What to do with devices and a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolAction {
    /// Put them in.
    Insert,
    /// Take them out.
    Remove,
}

impl Inventory {
    /// Lists entities of the given drivers (all when empty), oldest first.
    ///
    /// # Errors
    /// [`InventoryError::Store`] when storage fails.
    pub async fn list(
        &self,
        drivers: &[Driver],
        page: Option<PageRequest>,
    ) -> Result<Paged<Entity>, InventoryError> {
        Ok(self.ports.entities.list(drivers, page).await?)
    }

    /// Creates the named entities of `driver` that do not exist yet, in one
    /// transaction. Resource managers start with their default properties.
    ///
    /// # Errors
    /// [`InventoryError::Store`] when storage fails.
    pub async fn create(
        &self,
        driver: Driver,
        names: &[EntityName],
    ) -> Result<CreateOutcome, InventoryError> {
        // A name created by someone else between the look-up and the write makes
        // the write fail as a whole: look again, once.
        for _ in 0..2 {
            let existing = self.ports.entities.find_many(names).await?;
            let mut missing: Vec<NewEntity> = Vec::new();
            for name in names {
                if !existing.iter().any(|e| &e.name == name)
                    && !missing.iter().any(|n| &n.name == name)
                {
                    let attributes = properties_for(driver, &[])?;
                    missing.push(NewEntity {
                        name: name.clone(),
                        driver,
                        attributes,
                    });
                }
            }
            let created = match self.ports.entities.create(&missing).await {
                Err(StoreError::NameTaken(_)) => continue,
                other => other?,
            };
            let entities = names
                .iter()
                .filter_map(|n| {
                    existing
                        .iter()
                        .chain(&created)
                        .find(|e| &e.name == n)
                        .cloned()
                })
                .collect();
            let existing = names
                .iter()
                .filter_map(|n| existing.iter().find(|e| &e.name == n).cloned())
                .collect();
            return Ok(CreateOutcome { entities, existing });
        }
        Err(InventoryError::Store(StoreError::Concurrent))
    }

    /// Deletes an entity, checking its driver.
    ///
    /// # Errors
    /// [`InventoryError::EntityNotFound`], [`InventoryError::DriverMismatch`].
    pub async fn delete(&self, name: &EntityName, driver: Driver) -> Result<(), InventoryError> {
        let entity = self.get(name, Some(driver)).await?;
        if self.ports.entities.delete(entity.id).await? {
            Ok(())
        } else {
            Err(InventoryError::EntityNotFound(name.to_string()))
        }
    }

    /// Finds entities by name, keeping the request order; `None` for the missing.
    ///
    /// # Errors
    /// [`InventoryError::Store`] when storage fails.
    pub async fn by_names(
        &self,
        names: &[EntityName],
    ) -> Result<Vec<Option<Entity>>, InventoryError> {
        let found = self.ports.entities.find_many(names).await?;
        Ok(names
            .iter()
            .map(|n| found.iter().find(|e| &e.name == n).cloned())
            .collect())
    }

    /// Inserts devices into, or removes them from, a pool (any entity can hold
    /// others) in one transaction, and returns the pool's expanded view.
    ///
    /// # Errors
    /// [`InventoryError::EntityNotFound`] for a missing pool or device,
    /// [`InventoryError::DriverMismatch`] when the pool has another driver,
    /// [`InventoryError::Membership`] when a membership rule forbids it.
    pub async fn pool_action(
        &self,
        pool: &EntityName,
        driver: Driver,
        action: PoolAction,
        devices: &[EntityName],
    ) -> Result<EntityDetails, InventoryError> {
        let pool = self.get(pool, Some(driver)).await?;
        let mut members = Vec::with_capacity(devices.len());
        for name in devices {
            members.push(self.get(name, None).await?);
        }
        let ids: Vec<_> = members.iter().map(|m| m.id).collect();
        if let Some((_, twice)) = members
            .iter()
            .enumerate()
            .find(|(i, m)| ids[..*i].contains(&m.id))
        {
            return Err(InventoryError::Membership(format!(
                "\"{}\" is named twice",
                twice.name
            )));
        }
        match action {
            // Storage checks the membership rules inside its transaction, so
            // that concurrent inserts cannot break them together.
            PoolAction::Insert => self
                .ports
                .pools
                .insert(&pool, &members)
                .await
                .map_err(|e| match e {
                    StoreError::Refused(rule) => InventoryError::Membership(rule.to_string()),
                    other => other.into(),
                })?,
            PoolAction::Remove => {
                let parents = self.ports.pools.parents(&ids).await?;
                if let Some(outsider) = members.iter().find(|m| {
                    !parents
                        .iter()
                        .any(|(member, p)| *member == m.id && p.id == pool.id)
                }) {
                    return Err(InventoryError::Membership(format!(
                        "\"{}\" is not in \"{}\"",
                        outsider.name, pool.name
                    )));
                }
                self.ports
                    .pools
                    .remove(pool.id, &ids)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotAMember => InventoryError::Membership(format!(
                            "the members of \"{}\" changed meanwhile; try again",
                            pool.name
                        )),
                        other => other.into(),
                    })?;
            }
        }
        self.detail(&pool).await
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::inventory::test_support::{Mocks, entity, name};
    use crate::pool::MembershipRule;

    #[tokio::test]
    async fn create_skips_existing_names_and_reports_them() {
        let mut mocks = Mocks::default();
        mocks
            .entities
            .expect_find_many()
            .returning(|_| Ok(vec![entity(1, "createpool1", Driver::Pool)]));
        mocks
            .entities
            .expect_create()
            .withf(|new| new.len() == 1 && new[0].name.as_str() == "createpool2")
            .returning(|_| Ok(vec![entity(2, "createpool2", Driver::Pool)]));
        let outcome = mocks
            .build()
            .create(Driver::Pool, &[name("createpool1"), name("createpool2")])
            .await
            .unwrap();
        let names: Vec<_> = outcome.entities.iter().map(Entity::path).collect();
        assert_eq!(names, ["/pool/createpool1", "/pool/createpool2"]);
        assert_eq!(outcome.existing.len(), 1);
    }

    #[tokio::test]
    async fn resource_managers_start_with_their_properties() {
        let mut mocks = Mocks::default();
        mocks.entities.expect_find_many().returning(|_| Ok(vec![]));
        mocks
            .entities
            .expect_create()
            .withf(|new| new[0].attributes.len() == 4)
            .returning(|_| Ok(vec![entity(3, "names", Driver::SimpleNameManager)]));
        let outcome = mocks
            .build()
            .create(Driver::SimpleNameManager, &[name("names")])
            .await
            .unwrap();
        assert!(outcome.existing.is_empty());
    }

    #[tokio::test]
    async fn a_broken_membership_rule_is_a_membership_error() {
        let mut mocks = pool_and_server();
        mocks.pools.expect_insert().returning(|_, _| {
            Err(StoreError::Refused(
                MembershipRule::AlreadyIn {
                    device: name("server1"),
                    pool: name("pool1"),
                }
                .into(),
            ))
        });
        let err = mocks
            .build()
            .pool_action(
                &name("pool1"),
                Driver::Pool,
                PoolAction::Insert,
                &[name("server1")],
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, InventoryError::Membership(m) if m == "\"server1\" is already in \"pool1\"")
        );
    }

    #[tokio::test]
    async fn naming_a_device_twice_writes_nothing() {
        let mut mocks = pool_and_server();
        mocks.pools.expect_insert().never();
        let err = mocks
            .build()
            .pool_action(
                &name("pool1"),
                Driver::Pool,
                PoolAction::Insert,
                &[name("server1"), name("server1")],
            )
            .await
            .unwrap_err();
        assert!(matches!(err, InventoryError::Membership(_)));
    }

    #[tokio::test]
    async fn removing_a_non_member_is_a_membership_error() {
        let mut mocks = pool_and_server();
        mocks.pools.expect_parents().returning(|_| Ok(vec![]));
        mocks.pools.expect_remove().never();
        let err = mocks
            .build()
            .pool_action(
                &name("pool1"),
                Driver::Pool,
                PoolAction::Remove,
                &[name("server1")],
            )
            .await
            .unwrap_err();
        assert!(matches!(err, InventoryError::Membership(_)));
    }

    /// Mocks that find `pool1` (a pool) and `server1` (a server).
    fn pool_and_server() -> Mocks {
        let mut mocks = Mocks::default();
        mocks
            .entities
            .expect_find()
            .with(eq(name("pool1")))
            .returning(|_| Ok(Some(entity(1, "pool1", Driver::Pool))));
        mocks
            .entities
            .expect_find()
            .with(eq(name("server1")))
            .returning(|_| Ok(Some(entity(2, "server1", Driver::BasicServer))));
        mocks
    }

    #[tokio::test]
    async fn delete_checks_driver_before_deleting() {
        let mut mocks = Mocks::default();
        mocks
            .entities
            .expect_find()
            .returning(|_| Ok(Some(entity(1, "s", Driver::BasicServer))));
        mocks.entities.expect_delete().never();
        let err = mocks
            .build()
            .delete(&name("s"), Driver::Pool)
            .await
            .unwrap_err();
        assert!(matches!(err, InventoryError::DriverMismatch { .. }));
    }
}
