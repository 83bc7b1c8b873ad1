//! The `allocations` table.

use std::collections::HashMap;

use diesel::dsl::count_star;
use diesel::prelude::*;
use strato_domain::StoreError;

use crate::connection::DbConnection;
use crate::error::{from_diesel, is_unique_violation};
use crate::rows::CHUNK;
use crate::schema::allocations;

/// An allocation to record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewAllocation<'a> {
    /// The manager that hands the resource out.
    pub(crate) manager: i64,
    /// The resource.
    pub(crate) resource: &'a str,
    /// The entity that receives it.
    pub(crate) thing: i64,
    /// Key and number of the attribute recording it on `thing`, if any.
    pub(crate) attr_key: Option<&'a str>,
    /// The number of that attribute.
    pub(crate) attr_number: Option<i64>,
}

/// A recorded allocation: its id, and the key and number of the attribute
/// that records it on the receiving entity.
pub(crate) type AllocationRecord = (i64, Option<String>, Option<i64>);

/// The resources a manager has handed out.
pub(crate) fn taken(conn: &mut DbConnection, manager: i64) -> Result<Vec<String>, StoreError> {
    allocations::table
        .filter(allocations::manager_id.eq(manager))
        .select(allocations::resource)
        .load(conn)
        .map_err(from_diesel)
}

/// How many resources each of `managers` has handed out (managers without
/// any left out).
pub(crate) fn counts(
    conn: &mut DbConnection,
    managers: &[i64],
) -> Result<HashMap<i64, i64>, StoreError> {
    let mut counts = HashMap::new();
    for chunk in managers.chunks(CHUNK) {
        let rows: Vec<(i64, i64)> = allocations::table
            .filter(allocations::manager_id.eq_any(chunk))
            .group_by(allocations::manager_id)
            .select((allocations::manager_id, count_star()))
            .load(conn)
            .map_err(from_diesel)?;
        counts.extend(rows);
    }
    Ok(counts)
}

/// Records an allocation.
///
/// # Errors
/// [`StoreError::ResourceTaken`] when the manager has handed the resource
/// out already (the unique index on `(manager_id, resource)`),
/// [`StoreError::EntityGone`] when the manager or the receiver is gone.
pub(crate) fn insert(conn: &mut DbConnection, new: NewAllocation<'_>) -> Result<(), StoreError> {
    diesel::insert_into(allocations::table)
        .values((
            allocations::manager_id.eq(new.manager),
            allocations::resource.eq(new.resource),
            allocations::thing_id.eq(new.thing),
            allocations::attr_key.eq(new.attr_key),
            allocations::attr_number.eq(new.attr_number),
        ))
        .execute(conn)
        .map(|_| ())
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::ResourceTaken(new.resource.to_owned())
            } else {
                from_diesel(e)
            }
        })
}

/// What `manager` has handed out to `thing` (only `resource` when given).
pub(crate) fn held_by(
    conn: &mut DbConnection,
    manager: i64,
    thing: i64,
    resource: Option<&str>,
) -> Result<Vec<AllocationRecord>, StoreError> {
    let rows = allocations::table
        .filter(allocations::manager_id.eq(manager))
        .filter(allocations::thing_id.eq(thing))
        .select((
            allocations::id,
            allocations::attr_key,
            allocations::attr_number,
        ));
    // One statement per shape, each kept prepared.
    match resource {
        None => rows.load(conn),
        Some(resource) => rows.filter(allocations::resource.eq(resource)).load(conn),
    }
    .map_err(from_diesel)
}

/// Deletes one allocation.
pub(crate) fn delete(conn: &mut DbConnection, id: i64) -> Result<(), StoreError> {
    diesel::delete(allocations::table.filter(allocations::id.eq(id)))
        .execute(conn)
        .map(|_| ())
        .map_err(from_diesel)
}
