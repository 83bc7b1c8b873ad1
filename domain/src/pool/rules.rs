use crate::driver::Driver;
use crate::entity::{Entity, EntityName};

/// A pool membership rule that an insertion would break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembershipRule {
    /// A pool cannot hold itself.
    #[error("\"{pool}\" cannot be inserted into itself")]
    IntoItself { pool: EntityName },
    /// An entity joins a pool once.
    #[error("\"{device}\" is already in \"{pool}\"")]
    AlreadyIn {
        device: EntityName,
        pool: EntityName,
    },
    /// An entity in an exclusive pool belongs to no other pool.
    #[error("\"{device}\" is in the exclusive pool \"{pool}\"")]
    HeldExclusively {
        device: EntityName,
        pool: EntityName,
    },
    /// An entity in other pools cannot join an exclusive pool.
    #[error("\"{device}\" is in other pools and cannot join the exclusive pool \"{pool}\"")]
    NotExclusive {
        device: EntityName,
        pool: EntityName,
    },
    /// An entity is in at most one unique pool.
    #[error("\"{device}\" is in the unique pool \"{pool}\" already")]
    InUniquePool {
        device: EntityName,
        pool: EntityName,
    },
}

/// Checks that `device` may join `pool`, given the pools that hold it now.
///
/// An entity joins a pool once; it cannot hold itself; an entity in an
/// `exclusive_pool` belongs to no other pool; an entity is in at most one
/// `unique_pool`.
///
/// # Errors
/// The [`MembershipRule`] the insertion would break.
pub fn check_insert(
    pool: &Entity,
    device: &Entity,
    current: &[Entity],
) -> Result<(), MembershipRule> {
    let device_name = || device.name.clone();
    if pool.id == device.id {
        return Err(MembershipRule::IntoItself {
            pool: pool.name.clone(),
        });
    }
    if current.iter().any(|p| p.id == pool.id) {
        return Err(MembershipRule::AlreadyIn {
            device: device_name(),
            pool: pool.name.clone(),
        });
    }
    if let Some(exclusive) = current.iter().find(|p| p.driver == Driver::ExclusivePool) {
        return Err(MembershipRule::HeldExclusively {
            device: device_name(),
            pool: exclusive.name.clone(),
        });
    }
    if pool.driver == Driver::ExclusivePool && !current.is_empty() {
        return Err(MembershipRule::NotExclusive {
            device: device_name(),
            pool: pool.name.clone(),
        });
    }
    if pool.driver == Driver::UniquePool
        && let Some(unique) = current.iter().find(|p| p.driver == Driver::UniquePool)
    {
        return Err(MembershipRule::InUniquePool {
            device: device_name(),
            pool: unique.name.clone(),
        });
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
