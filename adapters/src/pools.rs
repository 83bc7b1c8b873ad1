//! The pool repository.

use async_trait::async_trait;
use diesel::prelude::*;
use strato_domain::StoreError;
use strato_domain::entity::{Entity, EntityId};
use strato_domain::pool::{Member, PoolRepository, check_insert};

use crate::entities::{Membership, Side, holders, lock, memberships};
use crate::error::from_diesel;
use crate::schema::pool_members;
use crate::store::Store;

#[async_trait]
impl PoolRepository for Store {
    async fn insert(&self, pool: &Entity, members: &[Entity]) -> Result<(), StoreError> {
        let (pool, members) = (pool.clone(), members.to_vec());
        self.write(move |conn| {
            let ids: Vec<i64> = members.iter().map(|m| m.id.0).collect();
            lock(conn, &ids)?;
            let current = memberships(conn, &ids, Side::Member)?;
            for member in &members {
                let parents: Vec<Entity> = current
                    .iter()
                    .filter(|m| m.member.id == member.id)
                    .map(|m| m.pool.clone())
                    .collect();
                check_insert(&pool, member, &parents)
                    .map_err(|rule| StoreError::Conflict(rule.to_string()))?;
                diesel::insert_into(pool_members::table)
                    .values((
                        pool_members::pool_id.eq(pool.id.0),
                        pool_members::member_id.eq(member.id.0),
                    ))
                    .execute(conn)
                    .map_err(from_diesel)?;
            }
            Ok(())
        })
        .await
    }

    async fn remove(&self, pool: EntityId, members: &[EntityId]) -> Result<(), StoreError> {
        let members = members.to_vec();
        self.write(move |conn| {
            for member in &members {
                let gone = diesel::delete(
                    pool_members::table
                        .filter(pool_members::pool_id.eq(pool.0))
                        .filter(pool_members::member_id.eq(member.0)),
                )
                .execute(conn)
                .map_err(from_diesel)?;
                if gone == 0 {
                    return Err(StoreError::NotFound(format!(
                        "entity {} is not a member of entity {}",
                        member.0, pool.0
                    )));
                }
            }
            Ok(())
        })
        .await
    }

    async fn parents(&self, members: &[EntityId]) -> Result<Vec<(EntityId, Entity)>, StoreError> {
        let ids: Vec<i64> = members.iter().map(|m| m.0).collect();
        self.run(move |conn| {
            Ok(memberships(conn, &ids, Side::Member)?
                .into_iter()
                .map(|Membership { pool, member, .. }| (member.id, pool))
                .collect())
        })
        .await
    }

    async fn contents(&self, pools: &[EntityId]) -> Result<Vec<Member>, StoreError> {
        let ids: Vec<i64> = pools.iter().map(|p| p.0).collect();
        self.run(move |conn| {
            let found = memberships(conn, &ids, Side::Pool)?;
            let member_ids: Vec<i64> = found.iter().map(|m| m.member.id.0).collect();
            let holding = holders(conn, &member_ids)?;
            Ok(found
                .into_iter()
                .map(|m| Member {
                    pool: m.pool.id,
                    holds_others: holding.contains(&m.member.id.0),
                    entity: m.member,
                })
                .collect())
        })
        .await
    }
}
