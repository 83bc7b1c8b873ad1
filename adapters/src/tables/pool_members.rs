//! The `pool_members` table.

use diesel::dsl::exists;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt};
use strato_domain::StoreError;
use strato_domain::entity::Entity;

use crate::connection::DbConnection;
use crate::error::from_diesel;
use crate::rows::{CHUNK, EntityRow, Fixed, MemberColumns, MemberRow};
use crate::schema::{entities, pool_members};

/// The members of the pools in an array, with whether each holds others
/// (PostgreSQL), as the text before and after the bind.
///
/// Each pool's memberships, and each member's own, are read through lateral
/// subqueries that cannot be flattened, so that the plan a connection keeps
/// probes `pool_members_pool_id_member_id_key` for each pool and each member
/// (an index-only probe: `ORDER BY` the index's columns) whatever its
/// generic estimates: with a few pools holding most entities, any id looks
/// like a big pool, and a plan that hashes or scans the whole table looks
/// cheaper. The array is read through a scalar subquery, so that no plan
/// knows its length: custom plans for one pool would look cheaper than the
/// generic plan (which assumes ten), and the connection would plan each run
/// again instead of keeping a plan.
const CONTENTS: (&str, &str) = (
    "SELECT c.id, c.pool_id, c.member_id, c.name, c.driver, h.holds IS NOT NULL \
       FROM unnest((SELECT ",
    "::int8[])) AS p(id) \
     CROSS JOIN LATERAL ( \
            SELECT m.id, m.pool_id, m.member_id, x.name, x.driver \
              FROM pool_members m JOIN entities x ON x.id = m.member_id \
             WHERE m.pool_id = p.id OFFSET 0) c \
     LEFT JOIN LATERAL ( \
            SELECT true AS holds FROM pool_members h WHERE h.pool_id = c.member_id \
             ORDER BY h.pool_id, h.member_id LIMIT 1) h ON true",
);

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
            (Side::Member, [id]) => query.filter(pool_members::member_id.eq(id)).load(conn),
            (Side::Either, [id]) => query
                .filter(
                    pool_members::pool_id
                        .eq(id)
                        .or(pool_members::member_id.eq(id)),
                )
                .load(conn),
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

/// The members of `pools`, each with whether it holds entities itself,
/// oldest membership first: one round trip on PostgreSQL, one query per
/// chunk on SQLite.
pub(crate) fn contents(
    conn: &mut DbConnection,
    pools: &[i64],
) -> Result<Vec<MemberRow>, StoreError> {
    let mut rows: Vec<MemberRow> = match conn {
        DbConnection::Pg(pg) => Fixed::<[i64], Array<BigInt>, MemberColumns>::new(CONTENTS, pools)
            .load(pg)
            .map_err(from_diesel)?,
        DbConnection::Sqlite(lite) => {
            let held = diesel::alias!(pool_members as held);
            let mut rows = Vec::new();
            for chunk in pools.chunks(CHUNK) {
                let query = pool_members::table
                    .inner_join(entities::table.on(entities::id.eq(pool_members::member_id)))
                    .select((
                        pool_members::id,
                        pool_members::pool_id,
                        (entities::id, entities::name, entities::driver),
                        exists(
                            held.filter(
                                held.field(pool_members::pool_id)
                                    .eq(pool_members::member_id),
                            ),
                        ),
                    ));
                // One id compares with `=`, so that the statement stays prepared.
                rows.extend(
                    match chunk {
                        [id] => query.filter(pool_members::pool_id.eq(id)).load(lite),
                        _ => query.filter(pool_members::pool_id.eq_any(chunk)).load(lite),
                    }
                    .map_err(from_diesel)?,
                );
            }
            rows
        }
    };
    rows.sort_by_key(|row| row.id);
    rows.dedup_by_key(|row| row.id);
    Ok(rows)
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
