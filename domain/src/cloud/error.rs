use crate::error::{Cause, StoreError};

/// What a provider reports.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The node, image, size or location does not exist.
    #[error("{kind} {id} not found")]
    NotFound {
        /// What was looked for (`node`, `image`…).
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The provider refused the request as malformed.
    #[error("the provider refused the request: {0}")]
    Invalid(String),
    /// The provider does not offer the operation.
    #[error("the provider does not support {0}")]
    Unsupported(&'static str),
    /// The provider asks its clients to slow down.
    #[error("the provider is throttling requests")]
    Throttled(#[source] Cause),
    /// The provider did not answer in time.
    #[error("the provider did not answer in time")]
    Timeout,
    /// The provider failed in a way a retry may not see again (a 5xx, a
    /// dropped connection).
    #[error("the provider is unavailable")]
    Unavailable(#[source] Cause),
    /// The provider failed for good.
    #[error("the provider failed")]
    Failed(#[source] Cause),
}

impl ProviderError {
    /// Whether trying again later may succeed: timeouts, throttling and
    /// unavailability may pass; missing things, refusals and unsupported
    /// operations will not.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Throttled(_) | Self::Timeout | Self::Unavailable(_)
        )
    }

    /// [`ProviderError::Unavailable`] with this cause.
    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        Self::Unavailable(cause.into())
    }

    /// [`ProviderError::Failed`] with this cause.
    pub fn failed(cause: impl Into<Cause>) -> Self {
        Self::Failed(cause.into())
    }
}

/// Why a cloud could not be built from its spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactoryError {
    /// No provider has this type.
    #[error("unknown cloud type {kind:?} (known: {})", known.join(", "))]
    UnknownType {
        /// The type asked for.
        kind: String,
        /// The types there are.
        known: Vec<&'static str>,
    },
    /// A setting is missing or malformed.
    #[error("setting {setting}: {reason}")]
    BadSetting {
        /// The setting's name (empty when the settings as a whole are wrong).
        setting: String,
        /// What is wrong with it.
        reason: String,
    },
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
    /// No inventory name is free for the node.
    #[error("no inventory name is free for node {0}")]
    NoFreeName(String),
    /// The provider failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The inventory failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CloudError {
    /// Whether running the same work again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Provider(err) => err.is_transient(),
            Self::Store(err) => matches!(err, StoreError::Unavailable(_) | StoreError::Concurrent),
            _ => false,
        }
    }
}
