//! Infrastructures: sets of VMs described in RADL, deployed on the clouds
//! through durable jobs, owned by the IM credentials that created them.

pub mod authorization;
mod deployment;
mod document;
mod error;
mod model;
mod ports;
mod service;
mod state;
#[cfg(test)]
mod tests;

pub use deployment::Deployer;
pub use error::InfraError;
pub use model::{
    Change, CloudRef, InfId, Infrastructure, Owner, OwnerId, Vm, VmId, VmOperation, VmState,
};
pub use ports::InfrastructureRepository;
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockInfrastructureRepository;
pub use service::{Caller, Infrastructures, States};
pub use state::aggregate;
