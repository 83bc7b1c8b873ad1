//! The resource repository: allocations under a lock on their manager.

use async_trait::async_trait;
use strato_domain::StoreError;
use strato_domain::attribute::{Attribute, AttributeKey, ExactSlot};
use strato_domain::driver::Driver;
use strato_domain::entity::{EntityId, EntityName};
use strato_domain::resource_manager::{
    Allocated, AllocationError, AllocationTarget, ManagerState, PROPERTY_SUBKEY, Policy,
    ResourceRepository,
};

use crate::connection::DbConnection;
use crate::store::Store;
use crate::tables::allocations::{self, NewAllocation};
use crate::tables::attributes::{self, Match};
use crate::tables::entities;

/// The manager's state, read with its row locked until the transaction ends
/// (SQLite's `BEGIN IMMEDIATE` holds the database's write lock already).
fn locked_state(conn: &mut DbConnection, manager: i64) -> Result<ManagerState, StoreError> {
    if entities::lock(conn, &[manager])?.is_empty() {
        return Err(StoreError::EntityGone);
    }
    Ok(ManagerState {
        properties: attributes::with_subkey(conn, manager, PROPERTY_SUBKEY)?
            .into_iter()
            .collect(),
        taken: allocations::taken(conn, manager)?.into_iter().collect(),
    })
}

/// The entity name a resource would be created under.
fn entity_name(resource: &str) -> Result<EntityName, AllocationError> {
    EntityName::parse(resource).map_err(|e| AllocationError::InvalidResource(e.to_string()))
}

fn allocate(
    conn: &mut DbConnection,
    manager: i64,
    target: &AllocationTarget,
    policy: &Policy,
) -> Result<Allocated, AllocationError> {
    let mut state = locked_state(conn, manager)?;
    let mut choice = policy.choose(&state)?;
    let name_taken = |driver: Driver, name: EntityName| AllocationError::NameTaken { driver, name };
    // An entity name manager skips names that exist already, taken by hand.
    if let AllocationTarget::Create(driver) = target {
        while entities::name_taken(conn, &choice.resource)? {
            if policy.is_explicit() || !state.taken.insert(choice.resource.clone()) {
                return Err(name_taken(*driver, entity_name(&choice.resource)?));
            }
            choice = policy.choose(&state)?;
        }
    }
    let thing = match target {
        AllocationTarget::Existing(thing) => thing.clone(),
        AllocationTarget::Create(driver) => {
            let name = entity_name(&choice.resource)?;
            entities::insert(conn, &name, *driver).map_err(|e| match e {
                StoreError::NameTaken(name) => name_taken(*driver, name),
                other => other.into(),
            })?
        }
    };
    let numbers = attributes::insert(conn, thing.id.0, &choice.record)?;
    let recorded = choice.record.first().map(|first| Attribute {
        key: first.key.clone(),
        subkey: first.subkey.clone(),
        number: numbers.first().copied().flatten(),
        value: first.value.clone(),
    });
    let allocation = NewAllocation {
        manager,
        resource: &choice.resource,
        thing: thing.id.0,
        attr_key: recorded.as_ref().map(|a| a.key.as_str()),
        attr_number: recorded.as_ref().and_then(|a| a.number),
    };
    allocations::insert(conn, allocation).map_err(|e| match e {
        StoreError::ResourceTaken(resource) => AllocationError::Taken(resource),
        other => other.into(),
    })?;
    let property =
        AttributeKey::parse(PROPERTY_SUBKEY).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    for (key, value) in &choice.updates {
        let slot = ExactSlot {
            key: key.clone(),
            subkey: Some(property.clone()),
            number: None,
        };
        attributes::set_slot(conn, manager, &slot, value)?;
    }
    Ok(Allocated {
        thing,
        resource: choice.resource,
        recorded,
    })
}

fn deallocate(
    conn: &mut DbConnection,
    manager: i64,
    thing: i64,
    resource: Option<&str>,
) -> Result<u64, StoreError> {
    let held = allocations::held_by(conn, manager, thing, resource)?;
    for (id, key, number) in &held {
        if let Some(key) = key {
            let number = number.map_or(Match::Null, Match::Eq);
            attributes::delete_matching(conn, thing, Some(key), Match::Any, number)?;
        }
        allocations::delete(conn, *id)?;
    }
    Ok(held.len() as u64)
}

#[async_trait]
impl ResourceRepository for Store {
    async fn allocate(
        &self,
        manager: EntityId,
        target: AllocationTarget,
        policy: Policy,
    ) -> Result<Allocated, AllocationError> {
        self.write(move |conn| allocate(conn, manager.0, &target, &policy))
            .await
    }

    async fn deallocate(
        &self,
        manager: EntityId,
        thing: EntityId,
        resource: Option<String>,
    ) -> Result<u64, StoreError> {
        self.write(move |conn| deallocate(conn, manager.0, thing.0, resource.as_deref()))
            .await
    }
}
