use std::collections::{BTreeMap, HashSet};

use super::Inventory;
use crate::attribute::AttributeQuery;
use crate::driver::{Driver, DriverType};
use crate::entity::{Entity, EntityId, EntityName};
use crate::inventory::InventoryError;
use crate::page::{PageRequest, Paged};
use crate::pool::Member;

/// Finds the entities held by every one of several pools (`/from-pools`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolQuery {
    /// Pools whose contents are intersected.
    pub pools: Vec<EntityName>,
    /// Keep only these drivers (any when empty).
    pub drivers: Vec<Driver>,
    /// Keep only these types (any when empty).
    pub types: Vec<DriverType>,
    /// Whether members of members count, all the way down.
    pub children: bool,
}

impl Inventory {
    /// Entities holding a matching attribute, oldest first.
    ///
    /// # Errors
    /// [`InventoryError::Store`] when storage fails.
    pub async fn by_attr(
        &self,
        query: &AttributeQuery,
        page: Option<PageRequest>,
    ) -> Result<Paged<Entity>, InventoryError> {
        // No stored value holds a NUL character (values refuse it), and
        // databases differ in what they make of one in a query.
        if query.value.as_deref().is_some_and(|v| v.contains('\0')) {
            return Ok(Paged::from_list(Vec::new(), page));
        }
        Ok(self.ports.attributes.find_entities(query, page).await?)
    }

    /// Entities in every pool of the query, oldest first.
    ///
    /// # Errors
    /// [`InventoryError::EntityNotFound`] for a missing pool.
    pub async fn from_pools(
        &self,
        query: &PoolQuery,
        page: Option<PageRequest>,
    ) -> Result<Paged<Entity>, InventoryError> {
        let mut common: Option<BTreeMap<EntityId, Entity>> = None;
        for name in &query.pools {
            let pool = self.get(name, None).await?;
            let members = self.members(pool.id, query.children).await?;
            common = Some(match common {
                None => members,
                Some(mut so_far) => {
                    so_far.retain(|id, _| members.contains_key(id));
                    so_far
                }
            });
            if common.as_ref().is_some_and(BTreeMap::is_empty) {
                break;
            }
        }
        let entities: Vec<Entity> = common
            .unwrap_or_default()
            .into_values()
            .filter(|e| query.drivers.is_empty() || query.drivers.contains(&e.driver))
            .filter(|e| query.types.is_empty() || query.types.contains(&e.driver.driver_type()))
            .collect();
        Ok(Paged::from_list(entities, page))
    }

    /// Members of a pool, and with `children` their members too, by id.
    async fn members(
        &self,
        pool: EntityId,
        children: bool,
    ) -> Result<BTreeMap<EntityId, Entity>, InventoryError> {
        let mut found = BTreeMap::new();
        let mut seen = HashSet::from([pool]);
        let mut frontier = vec![pool];
        while !frontier.is_empty() {
            let level = self.ports.pools.contents(&frontier).await?;
            frontier = Vec::new();
            for Member {
                entity,
                holds_others,
                ..
            } in level
            {
                // Only members that hold others are worth a look further down.
                if holds_others && seen.insert(entity.id) {
                    frontier.push(entity.id);
                }
                found.insert(entity.id, entity);
            }
            if !children {
                break;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::test_support::{Mocks, entity, name};

    fn query(pools: &[&str], children: bool) -> PoolQuery {
        PoolQuery {
            pools: pools.iter().map(|p| name(p)).collect(),
            drivers: vec![],
            types: vec![],
            children,
        }
    }

    fn fixture() -> Mocks {
        // multipool holds s1, s2 and the pool "inner", which holds s3.
        let mut mocks = Mocks::default();
        mocks.entities.expect_find().returning(|n| {
            Ok(Some(match n.as_str() {
                "multipool" => entity(1, "multipool", Driver::Pool),
                "singlepool" => entity(2, "singlepool", Driver::Pool),
                _ => entity(9, n.as_str(), Driver::Pool),
            }))
        });
        mocks.pools.expect_contents().returning(|pools| {
            let member = |pool: &EntityId, entity: Entity| Member {
                pool: *pool,
                holds_others: entity.driver == Driver::Pool,
                entity,
            };
            let mut rows = Vec::new();
            for pool in pools {
                match pool.0 {
                    1 => rows.extend([
                        member(pool, entity(3, "s1", Driver::BasicServer)),
                        member(pool, entity(4, "s2", Driver::BasicServer)),
                        member(pool, entity(5, "inner", Driver::Pool)),
                    ]),
                    2 => rows.push(member(pool, entity(3, "s1", Driver::BasicServer))),
                    5 => rows.push(member(pool, entity(6, "s3", Driver::BasicVirtualServer))),
                    _ => {}
                }
            }
            Ok(rows)
        });
        mocks
    }

    #[tokio::test]
    async fn from_pools_intersects_and_recurses() {
        let inventory = fixture().build();
        let both = inventory
            .from_pools(&query(&["singlepool", "multipool"], true), None)
            .await
            .unwrap();
        assert_eq!(
            both.items.iter().map(Entity::path).collect::<Vec<_>>(),
            ["/basicserver/s1"]
        );
        let deep = inventory
            .from_pools(&query(&["multipool"], true), None)
            .await
            .unwrap();
        assert_eq!(deep.items.len(), 4);
        let shallow = inventory
            .from_pools(&query(&["multipool"], false), None)
            .await
            .unwrap();
        assert_eq!(shallow.items.len(), 3);
    }

    #[tokio::test]
    async fn from_pools_filters_by_type_and_pages() {
        let inventory = fixture().build();
        let mut q = query(&["multipool"], true);
        q.types = vec![DriverType::Server];
        let page = PageRequest::new(1, 2).unwrap();
        let servers = inventory.from_pools(&q, Some(page)).await.unwrap();
        assert_eq!(servers.pages, Some(2));
        assert_eq!(
            servers.items.iter().map(Entity::path).collect::<Vec<_>>(),
            ["/basicserver/s1", "/basicserver/s2"]
        );
    }
}
