use crate::error::StoreError;

/// What a provider reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The node, image, size or location does not exist.
    #[error("{kind} {id} not found")]
    NotFound {
        /// What was looked for (`node`, `image`…).
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The provider does not offer the operation.
    #[error("the provider does not support {0}")]
    Unsupported(&'static str),
    /// The provider failed.
    #[error("provider failure: {0}")]
    Failure(String),
    /// The provider did not answer in time.
    #[error("the provider did not answer in time")]
    Timeout,
}

/// Why a cloud use case failed.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// No cloud of this name is configured.
    #[error("cloud {0:?} is not configured")]
    UnknownCloud(String),
    /// A request parameter is missing or malformed.
    #[error("{0}")]
    InvalidParameter(String),
    /// The cloud has no such node.
    #[error("node {0} not found")]
    NodeNotFound(String),
    /// The node is assigned already.
    #[error("node {node} is already assigned to {user}")]
    AlreadyAssigned { node: String, user: String },
    /// The node is not assigned.
    #[error("node {0} is not assigned")]
    NotAssigned(String),
    /// The provider failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The inventory failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
