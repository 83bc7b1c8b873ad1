//! The attribute keys and subkeys of a cloud node's inventory record: the
//! one place that names them (cloud registration writes them, expanded views
//! read the addresses).

/// Key of the attributes that tie an entity to its cloud node.
pub const CLOUD: &str = "cloud";
/// `cloud/name`: the cloud's name.
pub const NAME: &str = "name";
/// `cloud/provider`: the provider's type.
pub const PROVIDER: &str = "provider";
/// `cloud/node_id`: the provider's id of the node.
pub const NODE_ID: &str = "node_id";
/// `cloud/uuid`: the node's stable identity.
pub const UUID: &str = "uuid";
/// `cloud/state`: the node's state (`running`, `terminated`…).
pub const STATE: &str = "state";
/// `cloud/ip`, numbered: the node's addresses.
pub const ADDRESS: &str = "ip";

/// Key of the attributes that record an assignment.
pub const ASSIGNMENT: &str = "assignment";
/// `assignment/user`: who holds the node.
pub const USER: &str = "user";
/// `assignment/vm_type`: what it is used for.
pub const VM_TYPE: &str = "vm_type";
/// `assignment/assigned_at`: when it was assigned.
pub const ASSIGNED_AT: &str = "assigned_at";
/// `assignment/released_at`: when it was released.
pub const RELEASED_AT: &str = "released_at";
