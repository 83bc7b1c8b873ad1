use super::authorization::AuthError;
use crate::cloud::CloudError;
use crate::error::StoreError;
use crate::radl::RadlError;

/// Why an infrastructure use case failed. `Display` gives the reason
/// without the route's message prefix, which the API adds.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    /// The caller is not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// No such infrastructure (or it was destroyed or exported away).
    #[error("Invalid infrastructure ID or access not granted.")]
    NotFound,
    /// The caller does not own the infrastructure.
    #[error("Access to this infrastructure not granted.")]
    Forbidden,
    /// The VM id was never allocated.
    #[error("Invalid VM ID")]
    InvalidVmId,
    /// The VM was removed.
    #[error("Deleted VM.")]
    DeletedVm,
    /// The VM has no such feature.
    #[error("Incorrect property {feature} for VM ID {vm}")]
    UnknownFeature {
        /// The feature asked for.
        feature: String,
        /// The VM.
        vm: u32,
    },
    /// The RADL document is invalid.
    #[error(transparent)]
    Radl(#[from] RadlError),
    /// No cloud could take the VMs.
    #[error("No cloud provider available")]
    NoCloud,
    /// A `deploy` names a cloud nobody described.
    #[error("No auth data for cloud with ID: {0}")]
    NoAuthForCloud(String),
    /// A described cloud cannot be built.
    #[error("{0}")]
    BadCloud(String),
    /// Every VM of the request failed to launch.
    #[error("{0}")]
    LaunchFailed(String),
    /// The provider failed or lacks the operation.
    #[error("{0}")]
    Provider(String),
    /// An imported infrastructure's id is taken.
    #[error("Trying to add an existing infrastructure ID.")]
    Exists,
    /// An import document cannot be read.
    #[error("Error importing the infrastructure, incorrect data: {0}")]
    BadImport(String),
    /// The infrastructure cannot do this now (VMs are being added).
    #[error("Invalid State to perform this operation.")]
    InvalidState,
    /// A new owner's data is invalid.
    #[error("Invalid new infrastructure data provided: {0}")]
    BadOwner(String),
    /// A `vm_list` is not a comma-separated list of integers.
    #[error("Incorrect vm_list format.")]
    BadVmList,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CloudError> for InfraError {
    fn from(err: CloudError) -> Self {
        match err {
            CloudError::Store(err) => Self::Store(err),
            other => Self::Provider(crate::error::error_text(&other)),
        }
    }
}
