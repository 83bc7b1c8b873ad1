use std::net::Ipv4Addr;

/// Offset between an IPv4 address as an unsigned number and the signed value
/// the inventory stores for it (the reference API's convention).
const IP_OFFSET: i64 = 1 << 31;

/// The stored integer of an IPv4 address.
pub fn ip_to_stored(ip: Ipv4Addr) -> i64 {
    i64::from(u32::from(ip)) - IP_OFFSET
}

/// The IPv4 address of a stored integer, if it is one.
pub fn ip_from_stored(stored: i64) -> Option<Ipv4Addr> {
    stored
        .checked_add(IP_OFFSET)
        .and_then(|n| u32::try_from(n).ok())
        .map(Ipv4Addr::from)
}

/// An IPv4 network: base address and netmask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Network {
    network: u32,
    broadcast: u32,
}

impl Network {
    /// The network holding `base` under `netmask`; `None` for a mask that is
    /// not a run of ones followed by zeros.
    pub(crate) fn new(base: Ipv4Addr, netmask: Ipv4Addr) -> Option<Self> {
        let mask = u32::from(netmask);
        if mask.leading_ones() + mask.trailing_zeros() != 32 {
            return None;
        }
        let network = u32::from(base) & mask;
        Some(Self {
            network,
            broadcast: network | !mask,
        })
    }

    /// Host addresses, lowest first: the network and broadcast addresses are
    /// never handed out.
    pub(crate) fn hosts(self) -> impl Iterator<Item = Ipv4Addr> {
        (self.network.saturating_add(1)..self.broadcast).map(Ipv4Addr::from)
    }

    /// Whether `ip` is a host address of the network.
    pub(crate) fn contains_host(self, ip: Ipv4Addr) -> bool {
        let ip = u32::from(ip);
        ip > self.network && ip < self.broadcast
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_ips_use_the_reference_offset() {
        let ip = Ipv4Addr::new(192, 168, 1, 2);
        assert_eq!(ip_to_stored(ip), 1_084_752_130);
        assert_eq!(ip_from_stored(1_084_752_130), Some(ip));
        assert_eq!(ip_from_stored(i64::MAX - IP_OFFSET), None);
        assert_eq!(ip_from_stored(i64::MAX), None);
    }

    #[test]
    fn networks_skip_network_and_broadcast() {
        let net = Network::new(
            Ipv4Addr::new(10, 0, 0, 7),
            Ipv4Addr::new(255, 255, 255, 252),
        )
        .unwrap();
        let hosts: Vec<_> = net.hosts().collect();
        assert_eq!(
            hosts,
            [Ipv4Addr::new(10, 0, 0, 5), Ipv4Addr::new(10, 0, 0, 6)]
        );
        assert!(!net.contains_host(Ipv4Addr::new(10, 0, 0, 4)));
        assert!(Network::new(Ipv4Addr::new(10, 0, 0, 0), Ipv4Addr::new(255, 0, 255, 0)).is_none());
    }
}
