//! The resource repository: allocations under a lock on their manager.

use async_trait::async_trait;
use diesel::prelude::*;
use strato_domain::StoreError;
use strato_domain::attribute::{Attribute, AttributeKey, ExactSlot};
use strato_domain::entity::{EntityId, EntityName, NewEntity};
use strato_domain::resource_manager::{
    Allocated, AllocationError, AllocationTarget, ManagerState, PROPERTY_SUBKEY, Policy,
    ResourceRepository,
};

use crate::attributes::{self, Match, delete_matching, set_slot};
use crate::connection::DbConnection;
use crate::entities::{insert_entity, lock, name_taken};
use crate::error::from_diesel;
use crate::schema::{allocations, attributes as attrs};
use crate::store::Store;

/// Locks the manager's row until the transaction ends. SQLite's
/// `BEGIN IMMEDIATE` holds the database's write lock already.
fn state_of(conn: &mut DbConnection, manager: i64) -> Result<ManagerState, StoreError> {
    let properties: Vec<(String, String)> = attrs::table
        .filter(attrs::entity_id.eq(manager))
        .filter(attrs::subkey.eq(PROPERTY_SUBKEY))
        .select((attrs::key, attrs::value))
        .load(conn)
        .map_err(from_diesel)?;
    let taken: Vec<String> = allocations::table
        .filter(allocations::manager_id.eq(manager))
        .select(allocations::resource)
        .load(conn)
        .map_err(from_diesel)?;
    Ok(ManagerState {
        properties: properties.into_iter().collect(),
        taken: taken.into_iter().collect(),
    })
}

fn allocate(
    conn: &mut DbConnection,
    manager: i64,
    target: &AllocationTarget,
    policy: &Policy,
) -> Result<Allocated, AllocationError> {
    lock(conn, &[manager])?;
    let mut state = state_of(conn, manager)?;
    let mut choice = policy.choose(&state)?;
    // An entity name manager skips names that exist already, taken by hand.
    if let AllocationTarget::Create(driver) = target {
        while name_taken(conn, &choice.resource)? {
            if policy.is_explicit() || !state.taken.insert(choice.resource.clone()) {
                return Err(AllocationError::NameTaken(format!(
                    "/{driver}/{}",
                    choice.resource
                )));
            }
            choice = policy.choose(&state)?;
        }
    }
    let thing = match target {
        AllocationTarget::Existing(thing) => thing.clone(),
        AllocationTarget::Create(driver) => {
            let name = EntityName::parse(&choice.resource)
                .map_err(|e| AllocationError::InvalidResource(e.to_string()))?;
            insert_entity(conn, &NewEntity::new(name, *driver)).map_err(|e| match e {
                StoreError::Conflict(path) => AllocationError::NameTaken(path),
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
    diesel::insert_into(allocations::table)
        .values((
            allocations::manager_id.eq(manager),
            allocations::resource.eq(&choice.resource),
            allocations::thing_id.eq(thing.id.0),
            allocations::attr_key.eq(recorded.as_ref().map(|a| a.key.as_str().to_owned())),
            allocations::attr_number.eq(recorded.as_ref().and_then(|a| a.number)),
        ))
        .execute(conn)
        .map_err(|e| match from_diesel(e) {
            StoreError::Conflict(_) => AllocationError::Taken(choice.resource.clone()),
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
        set_slot(conn, manager, &slot, value)?;
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
    let mut rows = allocations::table
        .filter(allocations::manager_id.eq(manager))
        .filter(allocations::thing_id.eq(thing))
        .select((
            allocations::id,
            allocations::attr_key,
            allocations::attr_number,
        ))
        .into_boxed();
    if let Some(resource) = resource {
        rows = rows.filter(allocations::resource.eq(resource.to_owned()));
    }
    let rows: Vec<(i64, Option<String>, Option<i64>)> = rows.load(conn).map_err(from_diesel)?;
    for (id, key, number) in &rows {
        if let Some(key) = key {
            let number = number.map_or(Match::Null, Match::Eq);
            delete_matching(conn, thing, Some(key), Match::Any, number)?;
        }
        diesel::delete(allocations::table.filter(allocations::id.eq(id)))
            .execute(conn)
            .map_err(from_diesel)?;
    }
    Ok(rows.len() as u64)
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
