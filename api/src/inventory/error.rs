//! Errors of the inventory API: a status and a message, rendered as a JSON
//! string, as the reference does.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use strato_domain::{InventoryError, StoreError};

use super::json;

/// An error answer of the inventory API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub(crate) struct ClustoError {
    /// HTTP status.
    pub(crate) status: StatusCode,
    /// The message sent as the body.
    pub(crate) message: String,
}

impl ClustoError {
    /// An error with this status and message.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 412: a required parameter is missing or unusable.
    pub(crate) fn precondition(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, message)
    }

    /// 400: a value cannot be read.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

/// A route resource whose other methods answer 405 in the inventory's
/// error format.
pub(super) fn resource(paths: &[&str]) -> actix_web::Resource {
    actix_web::web::resource(paths.to_vec()).default_service(actix_web::web::to(wrong_method))
}

async fn wrong_method(req: actix_web::HttpRequest) -> Result<HttpResponse, ClustoError> {
    Err(ClustoError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method {} is not allowed on {}", req.method(), req.path()),
    ))
}

impl ResponseError for ClustoError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .content_type("application/json")
            .body(json::to_text(&self.message, false))
    }
}

impl From<InventoryError> for ClustoError {
    fn from(err: InventoryError) -> Self {
        use InventoryError as E;
        let status = match &err {
            E::EntityNotFound(_) | E::NotAllocated { .. } => StatusCode::NOT_FOUND,
            E::DriverMismatch { .. }
            | E::NotAResourceManager(_)
            | E::AlreadyExists { .. }
            | E::Membership(_)
            | E::ResourceTaken { .. }
            | E::Exhausted(_) => StatusCode::CONFLICT,
            E::WrongDriver { .. } | E::InvalidName(_) | E::InvalidKey(_) => {
                StatusCode::PRECONDITION_FAILED
            }
            E::InvalidValue(_) | E::InvalidProperty(_) | E::InvalidResource(_) => {
                StatusCode::BAD_REQUEST
            }
            E::Store(store) => store_status(store),
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
            E::AlreadyExists { driver, name } => format!("Entity /{driver}/{name} already exists"),
            E::InvalidName(e) => format!("Invalid name \"{}\": {}", e.name, e.reason),
            E::InvalidKey(e) => format!("Invalid attribute key \"{}\"", e.0),
            E::InvalidValue(e) => e.to_string(),
            E::Membership(why) | E::InvalidProperty(why) | E::InvalidResource(why) => why,
            E::ResourceTaken { manager, resource } => {
                format!(
                    "Resource \"{resource}\" of {} is already allocated",
                    manager.path()
                )
            }
            E::Exhausted(manager) => format!("{} has no free resource left", manager.path()),
            E::NotAllocated { manager, thing } => {
                format!(
                    "{} has nothing allocated to {}",
                    manager.path(),
                    thing.path()
                )
            }
            E::Store(err) => store_message(err),
        };
        Self { status, message }
    }
}

fn store_status(err: &StoreError) -> StatusCode {
    match err {
        StoreError::NameTaken(_)
        | StoreError::ResourceTaken(_)
        | StoreError::Refused(_)
        | StoreError::NumbersExhausted(_)
        | StoreError::Concurrent => StatusCode::CONFLICT,
        StoreError::EntityGone | StoreError::NotAMember => StatusCode::NOT_FOUND,
        StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        StoreError::Corrupt(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn store_message(err: StoreError) -> String {
    match err {
        StoreError::NameTaken(name) => format!("An entity named \"{name}\" exists already"),
        StoreError::ResourceTaken(resource) => {
            format!("Resource \"{resource}\" is already allocated")
        }
        StoreError::Refused(rule) => rule.to_string(),
        StoreError::NumbersExhausted(key) => format!(
            "Every attribute number under key \"{key}\" is in use: no number=true attribute can be added"
        ),
        StoreError::Concurrent => {
            "A concurrent change conflicted with this request; try again".into()
        }
        StoreError::EntityGone | StoreError::NotAMember => {
            "An entity this request needs was deleted meanwhile".into()
        }
        err @ (StoreError::Unavailable(_) | StoreError::Corrupt(_)) => {
            tracing::error!(error = ?err, cause = %crate::errors::chain(&err), "storage failure");
            match err {
                StoreError::Unavailable(_) => "The database is unavailable".into(),
                _ => "Internal server error".into(),
            }
        }
    }
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
