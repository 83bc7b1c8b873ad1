//! The `entities` table.

use std::collections::HashMap;
use std::sync::LazyLock;

use diesel::dsl::count_star;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use strato_domain::StoreError;
use strato_domain::driver::Driver;
use strato_domain::entity::{Entity, EntityId, EntityName};
use strato_domain::page::{PageRequest, Paged};

use crate::connection::DbConnection;
use crate::error::{from_diesel, is_unique_violation};
use crate::rows::{
    CHUNK, EntityRow, ExpandedColumns, ExpandedRow, Fixed, NewEntityRow, entities_of,
};
use crate::schema::entities;

/// The expanded view's statement (PostgreSQL) for the entities `e` that a
/// query selects, given as the text before and after its bind.
///
/// One row per part, its kind ([`ExpandedRow`]) first: the entity, each
/// attribute with the entity its relation names, each member, each pool
/// holding it, and for resource managers their allocation count when they
/// have any. Each part is read through a lateral subquery that cannot be
/// flattened (`OFFSET 0`), so that the plan a connection keeps for the
/// statement probes the indexes of each entity's rows (`attributes_entity`,
/// the `pool_members` indexes on each side) whatever its generic estimates
/// (a few pools holding most entities make every id look like a big pool).
/// Only managers' allocations are counted: with a few managers holding
/// every allocation, a count looks like a scan of the table for any id.
fn expanded(before: &str, after: &str) -> (String, String) {
    let managers: Vec<String> = Driver::ALL
        .into_iter()
        .filter(|d| d.is_resource_manager())
        .map(|d| format!("'{}'", d.as_str().replace('\'', "''")))
        .collect();
    let managers = managers.join(", ");
    (
        format!("WITH e AS MATERIALIZED ({before}"),
        format!(
            "{after}) \
             SELECT 0, e.id, e.id, e.id, e.name, e.driver, NULL::text, NULL::text, NULL::int8, \
                    NULL::text, NULL::text \
               FROM e \
             UNION ALL \
             SELECT 1, e.id, a.id, a.rel_id, a.rel_name, a.rel_driver, a.key, a.subkey, \
                    a.number, a.datatype, a.value \
               FROM e CROSS JOIN LATERAL ( \
                    SELECT a.id, a.key, a.subkey, a.number, a.datatype, a.value, \
                           r.id AS rel_id, r.name AS rel_name, r.driver AS rel_driver \
                      FROM attributes a LEFT JOIN entities r ON r.id = a.relation_id \
                     WHERE a.entity_id = e.id OFFSET 0) a \
             UNION ALL \
             SELECT 2, e.id, m.id, m.x_id, m.name, m.driver, NULL, NULL, NULL, NULL, NULL \
               FROM e CROSS JOIN LATERAL ( \
                    SELECT m.id, x.id AS x_id, x.name, x.driver \
                      FROM pool_members m JOIN entities x ON x.id = m.member_id \
                     WHERE m.pool_id = e.id OFFSET 0) m \
             UNION ALL \
             SELECT 3, e.id, m.id, m.x_id, m.name, m.driver, NULL, NULL, NULL, NULL, NULL \
               FROM e CROSS JOIN LATERAL ( \
                    SELECT m.id, x.id AS x_id, x.name, x.driver \
                      FROM pool_members m JOIN entities x ON x.id = m.pool_id \
                     WHERE m.member_id = e.id OFFSET 0) m \
             UNION ALL \
             SELECT 4, e.id, c.n, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
               FROM e CROSS JOIN LATERAL ( \
                    SELECT count(*) AS n FROM allocations a WHERE a.manager_id = e.id \
                    HAVING count(*) > 0) c \
              WHERE e.driver IN ({managers})"
        ),
    )
}

/// The expanded view's statements, built once: their texts never change.
struct Expanded {
    /// For the entity with a name.
    by_name: (String, String),
    /// For the entities with ids in an array (each id once). The array is
    /// read through a scalar subquery, so that no plan knows its length:
    /// custom plans for one id would look cheaper than the generic plan
    /// (which assumes ten), and the connection would plan each run again
    /// instead of keeping a plan.
    by_ids: (String, String),
}

static EXPANDED: LazyLock<Expanded> = LazyLock::new(|| Expanded {
    by_name: expanded("SELECT id, name, driver FROM entities WHERE name = ", ""),
    by_ids: expanded(
        "SELECT x.id, x.name, x.driver FROM unnest((SELECT ",
        "::int8[])) AS p(id) JOIN entities x ON x.id = p.id",
    ),
});

/// The text of a statement built once.
fn text(statement: &'static (String, String)) -> (&'static str, &'static str) {
    (&statement.0, &statement.1)
}

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

/// The rows of the expanded view of the entity with this name (none when
/// there is none), in one round trip (PostgreSQL).
pub(crate) fn expanded_by_name(
    pg: &mut PgConnection,
    name: &str,
) -> Result<Vec<ExpandedRow>, StoreError> {
    Fixed::<str, Text, ExpandedColumns>::new(text(&EXPANDED.by_name), name)
        .load(pg)
        .map_err(from_diesel)
}

/// The rows of the expanded views of the entities with these ids, in one
/// round trip (PostgreSQL).
pub(crate) fn expanded_by_ids(
    pg: &mut PgConnection,
    ids: &[i64],
) -> Result<Vec<ExpandedRow>, StoreError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    Fixed::<[i64], Array<BigInt>, ExpandedColumns>::new(text(&EXPANDED.by_ids), &ids)
        .load(pg)
        .map_err(from_diesel)
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
