//! The pool repository.

use async_trait::async_trait;
use strato_domain::StoreError;
use strato_domain::entity::{Entity, EntityId};
use strato_domain::error::Rejection;
use strato_domain::pool::{Member, PoolRepository, check_insert};

use crate::store::Store;
use crate::tables::entities;
use crate::tables::pool_members::{self, Membership, Side};

#[async_trait]
impl PoolRepository for Store {
    async fn insert(&self, pool: &Entity, members: &[Entity]) -> Result<(), StoreError> {
        let (pool, members) = (pool.clone(), members.to_vec());
        self.write(move |conn| {
            let ids: Vec<i64> = members.iter().map(|m| m.id.0).collect();
            entities::lock(conn, &ids)?;
            let current = pool_members::memberships(conn, &ids, Side::Member)?;
            for member in &members {
                let parents: Vec<Entity> = current
                    .iter()
                    .filter(|m| m.member.id == member.id)
                    .map(|m| m.pool.clone())
                    .collect();
                check_insert(&pool, member, &parents)
                    .map_err(|rule| StoreError::Refused(Rejection::Membership(rule)))?;
                pool_members::insert(conn, pool.id.0, member.id.0)?;
            }
            Ok(())
        })
        .await
    }

    async fn remove(&self, pool: EntityId, members: &[EntityId]) -> Result<(), StoreError> {
        let members = members.to_vec();
        self.write(move |conn| {
            for member in &members {
                if !pool_members::delete(conn, pool.0, member.0)? {
                    return Err(StoreError::NotAMember);
                }
            }
            Ok(())
        })
        .await
    }

    async fn parents(&self, members: &[EntityId]) -> Result<Vec<(EntityId, Entity)>, StoreError> {
        let ids: Vec<i64> = members.iter().map(|m| m.0).collect();
        self.run(move |conn| {
            Ok(pool_members::memberships(conn, &ids, Side::Member)?
                .into_iter()
                .map(|Membership { pool, member }| (member.id, pool))
                .collect())
        })
        .await
    }

    async fn contents(&self, pools: &[EntityId]) -> Result<Vec<Member>, StoreError> {
        let ids: Vec<i64> = pools.iter().map(|p| p.0).collect();
        self.run(move |conn| {
            pool_members::contents(conn, &ids)?
                .into_iter()
                .map(|row| {
                    Ok(Member {
                        pool: EntityId(row.pool_id),
                        holds_others: row.holds_others,
                        entity: row.member.into_entity()?,
                    })
                })
                .collect()
        })
        .await
    }
}
