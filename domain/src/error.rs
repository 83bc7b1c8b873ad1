//! What the storage ports report, and the rejections of rules that storage
//! checks inside its transactions.

use crate::attribute::{AttributeKey, InvalidValue};
use crate::entity::EntityName;
use crate::pool::MembershipRule;

/// Any error, kept as the cause of a failure.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What a storage port reports.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An entity the change refers to does not exist (it may have been
    /// deleted meanwhile).
    #[error("an entity this change needs does not exist")]
    EntityGone,
    /// An entity of this name exists already.
    #[error("an entity named {0} exists already")]
    NameTaken(EntityName),
    /// A resource manager has handed this resource out already.
    #[error("resource {0} is allocated already")]
    ResourceTaken(String),
    /// A member named in a removal is not in the pool.
    #[error("a member named is not in the pool")]
    NotAMember,
    /// A rule checked inside the transaction refused the change.
    #[error(transparent)]
    Refused(#[from] Rejection),
    /// Every number under an attribute key is used.
    #[error("no attribute number is left under key {0}")]
    NumbersExhausted(AttributeKey),
    /// Another transaction wrote the same rows first; trying again may succeed.
    #[error("a concurrent change conflicted")]
    Concurrent,
    /// The database cannot be reached or failed.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// Stored data cannot be read back into the model.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Wraps any error as [`StoreError::Unavailable`].
    pub fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(err))
    }
}

impl From<InvalidValue> for StoreError {
    fn from(err: InvalidValue) -> Self {
        Self::Corrupt(err.to_string())
    }
}

/// Why a rule that storage checks with the rows locked refused a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The node is assigned to this user.
    #[error("assigned to {0}")]
    AssignedTo(String),
    /// The node is not assigned.
    #[error("not assigned")]
    NotAssigned,
    /// A pool membership rule.
    #[error(transparent)]
    Membership(#[from] MembershipRule),
}

/// An error and its causes, on one line (`error: cause: cause`).
pub fn error_text(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
