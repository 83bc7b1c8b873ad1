use crate::driver::Driver;
use crate::entity::Entity;
use crate::error::InventoryError;

/// Checks that `device` may join `pool`, given the pools that hold it now.
///
/// An entity joins a pool once; it cannot hold itself; an entity in an
/// `exclusive_pool` belongs to no other pool; an entity is in at most one
/// `unique_pool`.
///
/// # Errors
/// [`InventoryError::Membership`] naming the broken rule.
pub fn check_insert(
    pool: &Entity,
    device: &Entity,
    current: &[Entity],
) -> Result<(), InventoryError> {
    let broken = |why: String| Err(InventoryError::Membership(why));
    if pool.id == device.id {
        return broken(format!("\"{}\" cannot be inserted into itself", pool.name));
    }
    if current.iter().any(|p| p.id == pool.id) {
        return broken(format!(
            "\"{}\" is already in \"{}\"",
            device.name, pool.name
        ));
    }
    if let Some(exclusive) = current.iter().find(|p| p.driver == Driver::ExclusivePool) {
        return broken(format!(
            "\"{}\" is in the exclusive pool \"{}\"",
            device.name, exclusive.name
        ));
    }
    if pool.driver == Driver::ExclusivePool && !current.is_empty() {
        return broken(format!(
            "\"{}\" is in other pools and cannot join the exclusive pool \"{}\"",
            device.name, pool.name
        ));
    }
    if pool.driver == Driver::UniquePool
        && let Some(unique) = current.iter().find(|p| p.driver == Driver::UniquePool)
    {
        return broken(format!(
            "\"{}\" is in the unique pool \"{}\" already",
            device.name, unique.name
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::{EntityId, EntityName};

    fn entity(id: i64, driver: Driver) -> Entity {
        Entity {
            id: EntityId(id),
            name: EntityName::parse(&format!("e{id}")).unwrap(),
            driver,
        }
    }

    #[test]
    fn pools_take_each_member_once() {
        let pool = entity(1, Driver::Pool);
        let server = entity(2, Driver::BasicServer);
        assert!(check_insert(&pool, &server, &[]).is_ok());
        assert!(check_insert(&pool, &server, std::slice::from_ref(&pool)).is_err());
        assert!(check_insert(&pool, &pool, &[]).is_err());
    }

    #[test]
    fn exclusive_and_unique_pools_keep_their_rules() {
        let server = entity(2, Driver::BasicServer);
        let exclusive = entity(3, Driver::ExclusivePool);
        let unique_a = entity(4, Driver::UniquePool);
        let unique_b = entity(5, Driver::UniquePool);
        let plain = entity(6, Driver::Pool);
        assert!(check_insert(&plain, &server, std::slice::from_ref(&exclusive)).is_err());
        assert!(check_insert(&exclusive, &server, std::slice::from_ref(&plain)).is_err());
        assert!(check_insert(&unique_b, &server, std::slice::from_ref(&unique_a)).is_err());
        assert!(check_insert(&plain, &server, &[unique_a]).is_ok());
    }
}
