//! The `pool_members` table.

use std::collections::HashSet;

use diesel::prelude::*;
use strato_domain::StoreError;
use strato_domain::entity::Entity;

use crate::connection::DbConnection;
use crate::error::from_diesel;
use crate::rows::{CHUNK, EntityRow};
use crate::schema::{entities, pool_members};

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

/// Puts `member` into `pool`.
///
/// # Errors
/// [`StoreError::EntityGone`] when either is gone.
pub(crate) fn insert(conn: &mut DbConnection, pool: i64, member: i64) -> Result<(), StoreError> {
    diesel::insert_into(pool_members::table)
        .values((
            pool_members::pool_id.eq(pool),
            pool_members::member_id.eq(member),
        ))
        .execute(conn)
        .map(|_| ())
        .map_err(from_diesel)
}

/// Takes `member` out of `pool`; returns whether it was in.
pub(crate) fn delete(conn: &mut DbConnection, pool: i64, member: i64) -> Result<bool, StoreError> {
    diesel::delete(
        pool_members::table
            .filter(pool_members::pool_id.eq(pool))
            .filter(pool_members::member_id.eq(member)),
    )
    .execute(conn)
    .map(|n| n > 0)
    .map_err(from_diesel)
}
