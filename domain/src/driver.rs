//! The closed registry of entity drivers and the types they belong to.

use std::fmt;

/// What family an entity belongs to (`server`, `pool`, `resourcemanager`…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DriverType {
    Appliance,
    Cage,
    ClustoMeta,
    ConsoleServer,
    Datacenter,
    Generic,
    Location,
    NetworkSwitch,
    Pool,
    PowerStrip,
    Rack,
    ResourceManager,
    Server,
    Zone,
}

impl DriverType {
    /// The type's name as the inventory API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Appliance => "appliance",
            Self::Cage => "cage",
            Self::ClustoMeta => "clustometa",
            Self::ConsoleServer => "consoleserver",
            Self::Datacenter => "datacenter",
            Self::Generic => "generic",
            Self::Location => "location",
            Self::NetworkSwitch => "networkswitch",
            Self::Pool => "pool",
            Self::PowerStrip => "powerstrip",
            Self::Rack => "rack",
            Self::ResourceManager => "resourcemanager",
            Self::Server => "server",
            Self::Zone => "zone",
        }
    }

    /// Parses a type name; `None` when no driver has that type.
    pub fn parse(name: &str) -> Option<Self> {
        Driver::ALL
            .iter()
            .map(|d| d.driver_type())
            .find(|t| t.as_str() == name)
    }
}

impl fmt::Display for DriverType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of an entity. The set is closed: `/driverlist` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Driver {
    Entity,
    Device,
    Location,
    ClustoMeta,
    Pool,
    ExclusivePool,
    UniquePool,
    BasicAppliance,
    BasicCage,
    BasicConsoleServer,
    BasicDatacenter,
    BasicNetworkSwitch,
    BasicPowerStrip,
    BasicRack,
    BasicServer,
    BasicVirtualServer,
    BasicZone,
    ResourceManager,
    SimpleNameManager,
    SimpleEntityNameManager,
    IpManager,
}

/// A driver name that is not in the registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown driver {0:?}")]
pub struct UnknownDriver(pub String);

impl Driver {
    /// Every driver, in registration order: for each type, the last one listed
    /// is the type's representative in `/typelist`.
    pub const ALL: [Driver; 21] = [
        Self::Entity,
        Self::Device,
        Self::Location,
        Self::ClustoMeta,
        Self::Pool,
        Self::ExclusivePool,
        Self::UniquePool,
        Self::BasicAppliance,
        Self::BasicCage,
        Self::BasicConsoleServer,
        Self::BasicDatacenter,
        Self::BasicNetworkSwitch,
        Self::BasicPowerStrip,
        Self::BasicRack,
        Self::BasicServer,
        Self::BasicVirtualServer,
        Self::BasicZone,
        Self::ResourceManager,
        Self::SimpleNameManager,
        Self::SimpleEntityNameManager,
        Self::IpManager,
    ];

    /// Parses a driver name as the API spells it.
    ///
    /// # Errors
    /// [`UnknownDriver`] when the name is not registered.
    pub fn parse(name: &str) -> Result<Self, UnknownDriver> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == name)
            .ok_or_else(|| UnknownDriver(name.to_owned()))
    }

    /// The driver's name.
    pub fn as_str(self) -> &'static str {
        self.describe().0
    }

    /// The type the driver belongs to.
    pub fn driver_type(self) -> DriverType {
        self.describe().1
    }

    /// The qualified class path the reference API reports for the driver.
    pub fn class_path(self) -> &'static str {
        self.describe().2
    }

    /// Whether entities of this driver allocate resources.
    pub fn is_resource_manager(self) -> bool {
        self.driver_type() == DriverType::ResourceManager
    }

    /// Whether the expanded view of this driver's entities lists IP addresses.
    pub fn has_ips(self) -> bool {
        matches!(
            self,
            Self::BasicAppliance
                | Self::BasicConsoleServer
                | Self::BasicNetworkSwitch
                | Self::BasicPowerStrip
                | Self::BasicServer
                | Self::BasicVirtualServer
        )
    }

    fn describe(self) -> (&'static str, DriverType, &'static str) {
        use DriverType as T;
        match self {
            Self::Entity => ("entity", T::Generic, "clusto.drivers.base.driver.Driver"),
            Self::Device => ("device", T::Generic, "clusto.drivers.base.device.Device"),
            Self::Location => (
                "location",
                T::Location,
                "clusto.drivers.base.location.Location",
            ),
            Self::ClustoMeta => (
                "clustometa",
                T::ClustoMeta,
                "clusto.drivers.base.clustometa.ClustoMeta",
            ),
            Self::Pool => ("pool", T::Pool, "clusto.drivers.categories.pool.Pool"),
            Self::ExclusivePool => (
                "exclusive_pool",
                T::Pool,
                "clusto.drivers.categories.pool.ExclusivePool",
            ),
            Self::UniquePool => (
                "unique_pool",
                T::Pool,
                "clusto.drivers.categories.pool.UniquePool",
            ),
            Self::BasicAppliance => (
                "basicappliance",
                T::Appliance,
                "clusto.drivers.devices.appliance.basicappliance.BasicAppliance",
            ),
            Self::BasicCage => (
                "basiccage",
                T::Cage,
                "clusto.drivers.locations.datacenters.basiccage.BasicCage",
            ),
            Self::BasicConsoleServer => (
                "basicconsoleserver",
                T::ConsoleServer,
                "clusto.drivers.devices.consoleservers.basicconsoleserver.BasicConsoleServer",
            ),
            Self::BasicDatacenter => (
                "basicdatacenter",
                T::Datacenter,
                "clusto.drivers.locations.datacenters.basicdatacenter.BasicDatacenter",
            ),
            Self::BasicNetworkSwitch => (
                "basicnetworkswitch",
                T::NetworkSwitch,
                "clusto.drivers.devices.networkswitches.basicnetworkswitch.BasicNetworkSwitch",
            ),
            Self::BasicPowerStrip => (
                "basicpowerstrip",
                T::PowerStrip,
                "clusto.drivers.devices.powerstrips.basicpowerstrip.BasicPowerStrip",
            ),
            Self::BasicRack => (
                "basicrack",
                T::Rack,
                "clusto.drivers.locations.racks.basicrack.BasicRack",
            ),
            Self::BasicServer => (
                "basicserver",
                T::Server,
                "clusto.drivers.devices.servers.basicserver.BasicServer",
            ),
            Self::BasicVirtualServer => (
                "basicvirtualserver",
                T::Server,
                "clusto.drivers.devices.servers.basicserver.BasicVirtualServer",
            ),
            Self::BasicZone => (
                "basiczone",
                T::Zone,
                "clusto.drivers.locations.zones.basiczone.BasicZone",
            ),
            Self::ResourceManager => (
                "resourcemanager",
                T::ResourceManager,
                "clusto.drivers.base.resourcemanager.ResourceManager",
            ),
            Self::SimpleNameManager => (
                "simplenamemanager",
                T::ResourceManager,
                "clusto.drivers.resourcemanagers.simplenamemanager.SimpleNameManager",
            ),
            Self::SimpleEntityNameManager => (
                "simpleentitynamemanager",
                T::ResourceManager,
                "clusto.drivers.resourcemanagers.simplenamemanager.SimpleEntityNameManager",
            ),
            Self::IpManager => (
                "ipmanager",
                T::ResourceManager,
                "clusto.drivers.resourcemanagers.ipmanager.IPManager",
            ),
        }
    }

    /// `(type, class path)` pairs: for each type, the class of the last driver
    /// registered with it, sorted by type name.
    pub fn type_list() -> Vec<(DriverType, &'static str)> {
        let mut by_type = std::collections::BTreeMap::new();
        for driver in Self::ALL {
            by_type.insert(
                driver.driver_type().as_str(),
                (driver.driver_type(), driver.class_path()),
            );
        }
        by_type.into_values().collect()
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_driver_parses_back_from_its_name() {
        for driver in Driver::ALL {
            assert_eq!(Driver::parse(driver.as_str()), Ok(driver));
        }
        assert_eq!(
            Driver::parse("nondriver"),
            Err(UnknownDriver("nondriver".into()))
        );
    }

    #[test]
    fn type_list_names_the_last_registered_driver_of_each_type() {
        let list = Driver::type_list();
        let find = |t: DriverType| list.iter().find(|(ty, _)| *ty == t).map(|(_, c)| *c);
        assert_eq!(list.len(), 14);
        assert_eq!(
            find(DriverType::Pool),
            Some("clusto.drivers.categories.pool.UniquePool")
        );
        assert_eq!(
            find(DriverType::Server),
            Some("clusto.drivers.devices.servers.basicserver.BasicVirtualServer")
        );
        assert_eq!(
            find(DriverType::ResourceManager),
            Some("clusto.drivers.resourcemanagers.ipmanager.IPManager")
        );
        assert_eq!(
            find(DriverType::Generic),
            Some("clusto.drivers.base.device.Device")
        );
    }

    #[test]
    fn types_parse_by_name() {
        assert_eq!(DriverType::parse("server"), Some(DriverType::Server));
        assert_eq!(DriverType::parse("nope"), None);
    }
}
