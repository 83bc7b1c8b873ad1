//! The entity repository.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use strato_domain::StoreError;
use strato_domain::driver::Driver;
use strato_domain::entity::{
    Entity, EntityDetails, EntityId, EntityName, EntityRepository, NewEntity,
};
use strato_domain::page::{PageRequest, Paged};

use crate::connection::DbConnection;
use crate::rows::{ExpandedRow, expanded_of};
use crate::store::Store;
use crate::tables::pool_members::{Membership, Side};
use crate::tables::{allocations, attributes, entities, pool_members};

/// The entity with this name and its expanded view: one statement on
/// PostgreSQL, where each round trip counts; a few on SQLite, where a
/// statement is a function call.
fn find_details(conn: &mut DbConnection, name: &str) -> Result<Option<EntityDetails>, StoreError> {
    if let DbConnection::Pg(pg) = conn {
        let rows = entities::expanded_by_name(pg, name)?;
        return match ExpandedRow::entity_of(&rows)? {
            Some(entity) => Ok(expanded_of(std::slice::from_ref(&entity), rows)?.pop()),
            None => Ok(None),
        };
    }
    match entities::find(conn, name)? {
        Some(entity) => Ok(details(conn, std::slice::from_ref(&entity))?.pop()),
        None => Ok(None),
    }
}

/// The expanded view of each entity: attributes, contents, parents and, for
/// resource managers, how many resources they handed out. One statement on
/// PostgreSQL, a few on SQLite.
fn details(conn: &mut DbConnection, list: &[Entity]) -> Result<Vec<EntityDetails>, StoreError> {
    let ids: Vec<i64> = list.iter().map(|e| e.id.0).collect();
    if let DbConnection::Pg(pg) = conn {
        return expanded_of(list, entities::expanded_by_ids(pg, &ids)?);
    }
    let mut attrs: HashMap<i64, Vec<_>> = HashMap::new();
    for (id, attr) in attributes::load(conn, &ids)? {
        attrs.entry(id).or_default().push(attr);
    }
    let wanted: HashSet<i64> = ids.iter().copied().collect();
    let mut contents: HashMap<i64, Vec<Entity>> = HashMap::new();
    let mut parents: HashMap<i64, Vec<Entity>> = HashMap::new();
    for Membership { pool, member } in pool_members::memberships(conn, &ids, Side::Either)? {
        if wanted.contains(&pool.id.0) {
            contents.entry(pool.id.0).or_default().push(member.clone());
        }
        if wanted.contains(&member.id.0) {
            parents.entry(member.id.0).or_default().push(pool);
        }
    }
    let managers: Vec<i64> = list
        .iter()
        .filter(|e| e.driver.is_resource_manager())
        .map(|e| e.id.0)
        .collect();
    let counts = allocations::counts(conn, &managers)?;
    Ok(list
        .iter()
        .map(|entity| {
            let id = entity.id.0;
            EntityDetails {
                entity: entity.clone(),
                attributes: attrs.remove(&id).unwrap_or_default(),
                contents: contents.remove(&id).unwrap_or_default(),
                parents: parents.remove(&id).unwrap_or_default(),
                allocations: entity
                    .driver
                    .is_resource_manager()
                    .then(|| counts.get(&id).copied().unwrap_or(0).unsigned_abs()),
            }
        })
        .collect())
}

#[async_trait]
impl EntityRepository for Store {
    async fn find(&self, name: &EntityName) -> Result<Option<Entity>, StoreError> {
        let name = name.as_str().to_owned();
        self.run(move |conn| entities::find(conn, &name)).await
    }

    async fn find_details(&self, name: &EntityName) -> Result<Option<EntityDetails>, StoreError> {
        let name = name.as_str().to_owned();
        self.run(move |conn| find_details(conn, &name)).await
    }

    async fn find_many(&self, names: &[EntityName]) -> Result<Vec<Entity>, StoreError> {
        let names: Vec<String> = names.iter().map(|n| n.as_str().to_owned()).collect();
        self.run(move |conn| entities::find_many(conn, &names))
            .await
    }

    async fn list(
        &self,
        drivers: &[Driver],
        page: Option<PageRequest>,
    ) -> Result<Paged<Entity>, StoreError> {
        let drivers: Vec<&'static str> = drivers.iter().map(|d| d.as_str()).collect();
        self.run(move |conn| entities::list(conn, &drivers, page))
            .await
    }

    async fn create(&self, new: &[NewEntity]) -> Result<Vec<Entity>, StoreError> {
        let new = new.to_vec();
        self.write(move |conn| {
            new.iter()
                .map(|n| {
                    let entity = entities::insert(conn, &n.name, n.driver)?;
                    attributes::insert(conn, entity.id.0, &n.attributes)?;
                    Ok(entity)
                })
                .collect()
        })
        .await
    }

    async fn delete(&self, id: EntityId) -> Result<bool, StoreError> {
        self.write(move |conn| entities::delete(conn, id.0)).await
    }

    async fn details(&self, list: &[Entity]) -> Result<Vec<EntityDetails>, StoreError> {
        let list = list.to_vec();
        self.run(move |conn| details(conn, &list)).await
    }
}
