//! The `entities` table.

use std::collections::HashMap;

use diesel::dsl::count_star;
use diesel::prelude::*;
use strato_domain::StoreError;
use strato_domain::driver::Driver;
use strato_domain::entity::{Entity, EntityId, EntityName};
use strato_domain::page::{PageRequest, Paged};

use crate::connection::DbConnection;
use crate::error::{from_diesel, is_unique_violation};
use crate::rows::{CHUNK, EntityRow, NewEntityRow, entities_of};
use crate::schema::entities;

/// The entity with this name.
pub(crate) fn find(conn: &mut DbConnection, name: &str) -> Result<Option<Entity>, StoreError> {
    entities::table
        .filter(entities::name.eq(name))
        .select(EntityRow::as_select())
        .first(conn)
        .optional()
        .map_err(from_diesel)?
        .map(EntityRow::into_entity)
        .transpose()
}

/// Whether an entity has this name.
pub(crate) fn name_taken(conn: &mut DbConnection, name: &str) -> Result<bool, StoreError> {
    Ok(find(conn, name)?.is_some())
}

/// The entities that exist among `names`, in no particular order.
pub(crate) fn find_many(
    conn: &mut DbConnection,
    names: &[String],
) -> Result<Vec<Entity>, StoreError> {
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
}

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

/// Entities of these drivers (every driver when empty), oldest first, one
/// page of them when asked.
pub(crate) fn list(
    conn: &mut DbConnection,
    drivers: &[&'static str],
    page: Option<PageRequest>,
) -> Result<Paged<Entity>, StoreError> {
    let filtered = || {
        let mut query = entities::table.select(EntityRow::as_select()).into_boxed();
        if !drivers.is_empty() {
            query = query.filter(entities::driver.eq_any(drivers.to_vec()));
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
        total = total.filter(entities::driver.eq_any(drivers.to_vec()));
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

/// Inserts one entity (without attributes).
///
/// # Errors
/// [`StoreError::NameTaken`] when an entity has the name.
pub(crate) fn insert(
    conn: &mut DbConnection,
    name: &EntityName,
    driver: Driver,
) -> Result<Entity, StoreError> {
    diesel::insert_into(entities::table)
        .values(NewEntityRow {
            name: name.as_str(),
            driver: driver.as_str(),
        })
        .execute(conn)
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::NameTaken(name.clone())
            } else {
                from_diesel(e)
            }
        })?;
    // The transaction sees its own row.
    let id: i64 = entities::table
        .filter(entities::name.eq(name.as_str()))
        .select(entities::id)
        .first(conn)
        .map_err(from_diesel)?;
    Ok(Entity {
        id: EntityId(id),
        name: name.clone(),
        driver,
    })
}

/// Deletes an entity (its attributes, memberships and allocations go by
/// cascade). Returns whether it existed.
pub(crate) fn delete(conn: &mut DbConnection, id: i64) -> Result<bool, StoreError> {
    diesel::delete(entities::table.filter(entities::id.eq(id)))
        .execute(conn)
        .map(|n| n > 0)
        .map_err(from_diesel)
}
