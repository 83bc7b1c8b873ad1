//! The entity repository.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use diesel::dsl::count_star;
use diesel::prelude::*;
use strato_domain::StoreError;
use strato_domain::driver::Driver;
use strato_domain::entity::{
    Entity, EntityDetails, EntityId, EntityName, EntityRepository, NewEntity,
};
use strato_domain::page::{PageRequest, Paged};

use crate::attributes;
use crate::connection::DbConnection;
use crate::error::from_diesel;
use crate::rows::{CHUNK, EntityRow, NewEntityRow, entities_of};
use crate::schema::{allocations, entities, pool_members};
use crate::store::Store;

/// Entities with these ids, in the order of `ids` (missing ones left out).
pub(crate) fn load_by_ids(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<Entity>, StoreError> {
    let mut by_id = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<EntityRow> = entities::table
            .filter(entities::id.eq_any(chunk))
            .select(EntityRow::as_select())
            .load(conn)
            .map_err(from_diesel)?;
        for row in rows {
            by_id.insert(row.id, row);
        }
    }
    ids.iter()
        .filter_map(|id| by_id.remove(id))
        .map(EntityRow::into_entity)
        .collect()
}

/// Locks the rows of these entities until the transaction ends (PostgreSQL;
/// SQLite's write transactions hold the whole database) and returns the ids
/// that exist.
pub(crate) fn lock(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let query = entities::table.select(entities::id).order(entities::id);
        // One id compares with `=`, so that the statement stays prepared.
        let locked = match (&mut *conn, chunk) {
            (DbConnection::Pg(pg), [id]) => query
                .filter(entities::id.eq(id))
                .for_update()
                .load::<i64>(pg),
            (DbConnection::Pg(pg), _) => query
                .filter(entities::id.eq_any(chunk))
                .for_update()
                .load::<i64>(pg),
            (DbConnection::Sqlite(lite), [id]) => {
                query.filter(entities::id.eq(id)).load::<i64>(lite)
            }
            (DbConnection::Sqlite(lite), _) => {
                query.filter(entities::id.eq_any(chunk)).load::<i64>(lite)
            }
        };
        found.extend(locked.map_err(from_diesel)?);
    }
    Ok(found)
}

/// Whether an entity has this name.
pub(crate) fn name_taken(conn: &mut DbConnection, name: &str) -> Result<bool, StoreError> {
    Ok(find(conn, name)?.is_some())
}

/// The entity with this name.
fn find(conn: &mut DbConnection, name: &str) -> Result<Option<Entity>, StoreError> {
    entities::table
        .filter(entities::name.eq(name))
        .select(EntityRow::as_select())
        .first(conn)
        .optional()
        .map_err(from_diesel)?
        .map(EntityRow::into_entity)
        .transpose()
}

/// Creates one entity with its attributes; `Conflict` when the name is taken.
pub(crate) fn insert_entity(
    conn: &mut DbConnection,
    new: &NewEntity,
) -> Result<Entity, StoreError> {
    diesel::insert_into(entities::table)
        .values(NewEntityRow {
            name: new.name.as_str(),
            driver: new.driver.as_str(),
        })
        .execute(conn)
        .map_err(|e| match from_diesel(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("/{}/{}", new.driver, new.name))
            }
            other => other,
        })?;
    let id: i64 = entities::table
        .filter(entities::name.eq(new.name.as_str()))
        .select(entities::id)
        .first(conn)
        .map_err(from_diesel)?;
    attributes::insert(conn, id, &new.attributes)?;
    Ok(Entity {
        id: EntityId(id),
        name: new.name.clone(),
        driver: new.driver,
    })
}

/// An entity's columns as a tuple, as aliased selects return them.
type EntityColumns = (i64, String, String);

/// A pool membership with both ends.
pub(crate) struct Membership {
    /// The pool (any entity that holds others).
    pub(crate) pool: Entity,
    /// The entity it holds.
    pub(crate) member: Entity,
}

/// Which end of a membership the ids of [`memberships`] name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// The ids are pools: their contents.
    Pool,
    /// The ids are members: their parents.
    Member,
    /// Either: contents and parents at once.
    Either,
}

/// Memberships in which `ids` stand on `side`, oldest first, in one query per
/// chunk.
pub(crate) fn memberships(
    conn: &mut DbConnection,
    ids: &[i64],
    side: Side,
) -> Result<Vec<Membership>, StoreError> {
    let (pools, members) = diesel::alias!(entities as pool_entity, entities as member_entity);
    let columns = (entities::id, entities::name, entities::driver);
    let mut rows: Vec<(i64, EntityRow, EntityRow)> = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let query = pool_members::table
            .inner_join(pools.on(pool_members::pool_id.eq(pools.field(entities::id))))
            .inner_join(members.on(pool_members::member_id.eq(members.field(entities::id))))
            .select((
                pool_members::id,
                pools.fields(columns),
                members.fields(columns),
            ));
        // One id compares with `=`, so that the statement stays prepared.
        let found: Vec<(i64, EntityColumns, EntityColumns)> = match (side, chunk) {
            (Side::Pool, [id]) => query.filter(pool_members::pool_id.eq(id)).load(conn),
            (Side::Member, [id]) => query.filter(pool_members::member_id.eq(id)).load(conn),
            (Side::Either, [id]) => query
                .filter(
                    pool_members::pool_id
                        .eq(id)
                        .or(pool_members::member_id.eq(id)),
                )
                .load(conn),
            (Side::Pool, _) => query.filter(pool_members::pool_id.eq_any(chunk)).load(conn),
            (Side::Member, _) => query
                .filter(pool_members::member_id.eq_any(chunk))
                .load(conn),
            (Side::Either, _) => query
                .filter(
                    pool_members::pool_id
                        .eq_any(chunk)
                        .or(pool_members::member_id.eq_any(chunk)),
                )
                .load(conn),
        }
        .map_err(from_diesel)?;
        let row = |(id, name, driver)| EntityRow { id, name, driver };
        rows.extend(
            found
                .into_iter()
                .map(|(order, pool, member)| (order, row(pool), row(member))),
        );
    }
    rows.sort_by_key(|(order, ..)| *order);
    rows.dedup_by_key(|(order, ..)| *order);
    rows.into_iter()
        .map(|(_, pool, member)| {
            Ok(Membership {
                pool: pool.into_entity()?,
                member: member.into_entity()?,
            })
        })
        .collect()
}

/// Which of `ids` hold entities themselves: one index-only look-up per chunk.
pub(crate) fn holders(conn: &mut DbConnection, ids: &[i64]) -> Result<HashSet<i64>, StoreError> {
    let mut found = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        let held: Vec<i64> = pool_members::table
            .filter(pool_members::pool_id.eq_any(chunk))
            .select(pool_members::pool_id)
            .distinct()
            .load(conn)
            .map_err(from_diesel)?;
        found.extend(held);
    }
    Ok(found)
}

fn details(conn: &mut DbConnection, list: &[Entity]) -> Result<Vec<EntityDetails>, StoreError> {
    let ids: Vec<i64> = list.iter().map(|e| e.id.0).collect();
    let mut attrs: HashMap<i64, Vec<_>> = HashMap::new();
    for (id, attr) in attributes::load(conn, &ids)? {
        attrs.entry(id).or_default().push(attr);
    }
    let wanted: HashSet<i64> = ids.iter().copied().collect();
    let mut contents: HashMap<i64, Vec<Entity>> = HashMap::new();
    let mut parents: HashMap<i64, Vec<Entity>> = HashMap::new();
    for Membership { pool, member, .. } in memberships(conn, &ids, Side::Either)? {
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
    let mut counts: HashMap<i64, i64> = HashMap::new();
    for chunk in managers.chunks(CHUNK) {
        let rows: Vec<(i64, i64)> = allocations::table
            .filter(allocations::manager_id.eq_any(chunk))
            .group_by(allocations::manager_id)
            .select((allocations::manager_id, count_star()))
            .load(conn)
            .map_err(from_diesel)?;
        counts.extend(rows);
    }
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
        self.run(move |conn| find(conn, &name)).await
    }

    async fn find_details(&self, name: &EntityName) -> Result<Option<EntityDetails>, StoreError> {
        let name = name.as_str().to_owned();
        self.run(move |conn| {
            let Some(entity) = find(conn, &name)? else {
                return Ok(None);
            };
            Ok(details(conn, std::slice::from_ref(&entity))?.pop())
        })
        .await
    }

    async fn find_many(&self, names: &[EntityName]) -> Result<Vec<Entity>, StoreError> {
        let names: Vec<String> = names.iter().map(|n| n.as_str().to_owned()).collect();
        self.run(move |conn| {
            let mut rows = Vec::new();
            for chunk in names.chunks(CHUNK) {
                rows.extend(
                    entities::table
                        .filter(entities::name.eq_any(chunk))
                        .select(EntityRow::as_select())
                        .load(conn)
                        .map_err(from_diesel)?,
                );
            }
            entities_of(rows)
        })
        .await
    }

    async fn list(
        &self,
        drivers: &[Driver],
        page: Option<PageRequest>,
    ) -> Result<Paged<Entity>, StoreError> {
        let drivers: Vec<&'static str> = drivers.iter().map(|d| d.as_str()).collect();
        self.run(move |conn| {
            let filtered = || {
                let mut query = entities::table.select(EntityRow::as_select()).into_boxed();
                if !drivers.is_empty() {
                    query = query.filter(entities::driver.eq_any(drivers.clone()));
                }
                query
            };
            let Some(page) = page else {
                let rows = filtered()
                    .order(entities::id)
                    .load(conn)
                    .map_err(from_diesel)?;
                return Ok(Paged::all(entities_of(rows)?));
            };
            let mut total = entities::table.select(count_star()).into_boxed();
            if !drivers.is_empty() {
                total = total.filter(entities::driver.eq_any(drivers.clone()));
            }
            let total: i64 = total.first(conn).map_err(from_diesel)?;
            let rows = filtered()
                .order(entities::id)
                .limit(i64::try_from(page.per_page()).unwrap_or(i64::MAX))
                .offset(i64::try_from(page.offset()).unwrap_or(i64::MAX))
                .load(conn)
                .map_err(from_diesel)?;
            Ok(Paged {
                items: entities_of(rows)?,
                pages: Some(page.pages_for(total.unsigned_abs())),
            })
        })
        .await
    }

    async fn create(&self, new: &[NewEntity]) -> Result<Vec<Entity>, StoreError> {
        let new = new.to_vec();
        self.write(move |conn| new.iter().map(|n| insert_entity(conn, n)).collect())
            .await
    }

    async fn delete(&self, id: EntityId) -> Result<bool, StoreError> {
        self.write(move |conn| {
            diesel::delete(entities::table.filter(entities::id.eq(id.0)))
                .execute(conn)
                .map(|n| n > 0)
                .map_err(from_diesel)
        })
        .await
    }

    async fn details(&self, list: &[Entity]) -> Result<Vec<EntityDetails>, StoreError> {
        let list = list.to_vec();
        self.run(move |conn| details(conn, &list)).await
    }
}
