//! The cloud API's envelope: `{"status": "ok", …}` answers, and
//! `{"status": "error", "message", "status_code", "status_short_message",
//! "status_long_message"}` errors.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use strato_domain::StoreError;
use strato_domain::cloud::{CloudError, ProviderError};

use super::dto::{ErrorBody, Ok};
use crate::body::BodyError;

/// A successful answer: the body's members, and `"status": "ok"`.
pub(super) fn ok(body: impl Serialize) -> HttpResponse {
    HttpResponse::Ok().json(Ok::new(body))
}

/// An error answer of the cloud API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub(crate) struct CloudApiError {
    status: StatusCode,
    message: String,
}

impl CloudApiError {
    /// 400: a parameter is missing or malformed.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

/// The short and long descriptions the reference server gives each status.
fn descriptions(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("Bad Request", "Bad request syntax or unsupported method"),
        404 => ("Not Found", "Nothing matches the given URI"),
        405 => (
            "Method Not Allowed",
            "Specified method is invalid for this resource",
        ),
        408 => ("Request Timeout", "Request timed out; try again later"),
        409 => ("Conflict", "Request conflict."),
        413 => ("Request Entity Too Large", "Entity is too large."),
        415 => (
            "Unsupported Media Type",
            "Entity body in unsupported format.",
        ),
        501 => ("Not Implemented", "Server does not support this operation"),
        502 => (
            "Bad Gateway",
            "Invalid responses from another server/proxy.",
        ),
        503 => (
            "Service Unavailable",
            "The server cannot process the request due to a high load",
        ),
        504 => (
            "Gateway Timeout",
            "The gateway server did not receive a timely response",
        ),
        _ => ("Internal Server Error", "Server got itself in trouble"),
    }
}

impl ResponseError for CloudApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let (short, long) = descriptions(self.status);
        HttpResponse::build(self.status).json(ErrorBody {
            message: self.message.clone(),
            status: "error",
            status_code: self.status.as_u16(),
            status_long_message: long,
            status_short_message: short,
        })
    }
}

impl From<BodyError> for CloudApiError {
    fn from(err: BodyError) -> Self {
        Self {
            status: err.status(),
            message: err.to_string(),
        }
    }
}

impl CloudApiError {
    /// 500: something went wrong that the log tells about.
    pub(super) fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "Internal server error".to_owned(),
        }
    }

    /// 405: the path exists under another method.
    pub(super) fn method_not_allowed(method: &str, path: &str) -> Self {
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            message: format!("Method {method} is not allowed on {path}"),
        }
    }
}

impl From<CloudError> for CloudApiError {
    fn from(err: CloudError) -> Self {
        let (status, message) = match err {
            CloudError::UnknownCloud(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Cloud not valid or wrong path".to_owned(),
            ),
            CloudError::InvalidParameter(why) => (StatusCode::BAD_REQUEST, why),
            CloudError::NodeNotFound(node) => {
                (StatusCode::NOT_FOUND, format!("Node {node} not found"))
            }
            CloudError::AlreadyAssigned { node, user } => (
                StatusCode::CONFLICT,
                format!("Node {node} is already assigned to {user}"),
            ),
            CloudError::NotAssigned(node) => {
                (StatusCode::CONFLICT, format!("Node {node} is not assigned"))
            }
            CloudError::NoFreeName(node) => (
                StatusCode::CONFLICT,
                format!("No inventory name is free for node {node}"),
            ),
            CloudError::Provider(err) => {
                let status = match &err {
                    ProviderError::NotFound { .. } => StatusCode::NOT_FOUND,
                    ProviderError::Invalid(_) => StatusCode::BAD_REQUEST,
                    ProviderError::Unsupported(_) => StatusCode::NOT_IMPLEMENTED,
                    ProviderError::Throttled(_) => StatusCode::SERVICE_UNAVAILABLE,
                    ProviderError::Unavailable(_) | ProviderError::Failed(_) => {
                        StatusCode::BAD_GATEWAY
                    }
                    ProviderError::Timeout => StatusCode::GATEWAY_TIMEOUT,
                };
                let message = match &err {
                    ProviderError::NotFound { kind, id } => format!("The cloud has no {kind} {id}"),
                    ProviderError::Invalid(why) => format!("The cloud refused the request: {why}"),
                    ProviderError::Unsupported(what) => {
                        format!("The cloud does not support {what}")
                    }
                    ProviderError::Throttled(_) => {
                        "The cloud provider is throttling requests; try again later".to_owned()
                    }
                    ProviderError::Unavailable(_) | ProviderError::Failed(_) => {
                        tracing::error!(error = %crate::errors::chain(&err), "cloud provider failed");
                        "The cloud provider failed".to_owned()
                    }
                    ProviderError::Timeout => {
                        "The cloud provider did not answer in time".to_owned()
                    }
                };
                (status, message)
            }
            CloudError::Store(err) => match err {
                StoreError::Concurrent => (
                    StatusCode::CONFLICT,
                    "A concurrent change conflicted with this request; try again".to_owned(),
                ),
                StoreError::Unavailable(_) => {
                    tracing::error!(error = %crate::errors::chain(&err), "storage failure");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The database is unavailable".to_owned(),
                    )
                }
                _ => {
                    tracing::error!(error = %crate::errors::chain(&err), "storage failure");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal server error".to_owned(),
                    )
                }
            },
        };
        Self { status, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_clouds_answer_as_documented() {
        let err = CloudApiError::from(CloudError::UnknownCloud("wrong_driver".into()));
        assert_eq!(err.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(err.message, "Cloud not valid or wrong path");
        assert_eq!(
            descriptions(err.status),
            ("Internal Server Error", "Server got itself in trouble")
        );
    }

    #[test]
    fn provider_errors_map_to_gateway_statuses() {
        let status = |e: ProviderError| CloudApiError::from(CloudError::Provider(e)).status;
        assert_eq!(
            status(ProviderError::Unsupported("images")),
            StatusCode::NOT_IMPLEMENTED
        );
        assert_eq!(
            status(ProviderError::unavailable("x")),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(status(ProviderError::Timeout), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(
            status(ProviderError::NotFound {
                kind: "image",
                id: "9".into()
            }),
            StatusCode::NOT_FOUND
        );
    }
}
