//! Errors of the inventory API: a status and a message, rendered as a JSON
//! string, as the reference does.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use strato_domain::{InventoryError, StoreError};

use super::json;

/// An error answer of the inventory API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ClustoError {
    /// HTTP status.
    pub status: StatusCode,
    /// The message sent as the body.
    pub message: String,
}

impl ClustoError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 412: a required parameter is missing or unusable.
    pub fn precondition(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, message)
    }

    /// 400: a value cannot be read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl ResponseError for ClustoError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .content_type("application/json")
            .body(json::to_text(
                &serde_json::Value::String(self.message.clone()),
                false,
            ))
    }
}

impl From<InventoryError> for ClustoError {
    fn from(err: InventoryError) -> Self {
        use InventoryError as E;
        let status = match &err {
            E::EntityNotFound(_) | E::NotAllocated { .. } => StatusCode::NOT_FOUND,
            E::DriverMismatch { .. }
            | E::NotAResourceManager(_)
            | E::AlreadyExists(_)
            | E::Membership(_)
            | E::ResourceTaken { .. }
            | E::Exhausted(_) => StatusCode::CONFLICT,
            E::WrongDriver { .. } | E::InvalidName(_) | E::InvalidKey(_) => {
                StatusCode::PRECONDITION_FAILED
            }
            E::InvalidValue(_) | E::InvalidProperty(_) | E::InvalidResource(_) => {
                StatusCode::BAD_REQUEST
            }
            E::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            E::Store(StoreError::NotFound(_)) => StatusCode::NOT_FOUND,
            E::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            E::Store(StoreError::Corrupt(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match err {
            E::EntityNotFound(name) => {
                format!("Object \"{name}\" not found ({name} does not exist.)")
            }
            E::DriverMismatch { name, expected } => {
                format!("The driver for object \"{name}\" is not \"{expected}\"")
            }
            E::NotAResourceManager(name) => {
                format!("The object \"{name}\" is not a resource manager")
            }
            E::WrongDriver { driver, reason } => {
                format!("The driver \"{driver}\" cannot be used here: {reason}")
            }
            E::AlreadyExists(path) => format!("Entity {path} already exists"),
            E::InvalidName(e) => format!("Invalid name \"{}\": {}", e.name, e.reason),
            E::InvalidKey(e) => format!("Invalid attribute key \"{}\"", e.0),
            E::InvalidValue(e) => e.to_string(),
            E::Membership(why) | E::InvalidProperty(why) | E::InvalidResource(why) => why,
            E::ResourceTaken { manager, resource } => {
                format!("Resource \"{resource}\" of {manager} is already allocated")
            }
            E::Exhausted(manager) => format!("{manager} has no free resource left"),
            E::NotAllocated { manager, thing } => {
                format!("{manager} has nothing allocated to {thing}")
            }
            E::Store(StoreError::Conflict(_)) => {
                "A concurrent change conflicted with this request; try again".into()
            }
            E::Store(StoreError::NotFound(_)) => {
                "An entity this request needs was deleted meanwhile".into()
            }
            E::Store(err) => {
                tracing::error!(error = ?err, cause = %error_chain(&err), "storage failure");
                match err {
                    StoreError::Unavailable(_) => "The database is unavailable".into(),
                    _ => "Internal server error".into(),
                }
            }
        };
        Self { status, message }
    }
}

/// The error and its sources, on one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use strato_domain::driver::Driver;

    use super::*;

    #[test]
    fn reference_messages_are_kept() {
        let err = ClustoError::from(InventoryError::EntityNotFound("nonserver".into()));
        assert_eq!(err.status, StatusCode::NOT_FOUND);
        assert_eq!(
            err.message,
            "Object \"nonserver\" not found (nonserver does not exist.)"
        );
        let err = ClustoError::from(InventoryError::DriverMismatch {
            name: "testserver1".into(),
            expected: Driver::Pool,
        });
        assert_eq!(err.status, StatusCode::CONFLICT);
        assert_eq!(
            err.message,
            "The driver for object \"testserver1\" is not \"pool\""
        );
    }

    #[test]
    fn storage_failures_hide_their_cause() {
        let io = std::io::Error::other("password=secret");
        let err = ClustoError::from(InventoryError::Store(StoreError::unavailable(io)));
        assert_eq!(err.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!err.message.contains("secret"));
    }
}
