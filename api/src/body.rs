//! Request bodies, read the same way by every API family: capped at
//! `server.max_body_bytes`, then parsed as a form or as JSON by content type.
//! Each family renders [`BodyError`] in its own error format.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{FromRequest, HttpRequest, web};
use serde_json::Value;

/// Largest request body accepted, in bytes (from `server.max_body_bytes`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit(pub(crate) usize);

/// How long a client may take to send its body (from
/// `server.body_timeout_seconds`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyTimeout(pub(crate) std::time::Duration);

/// A parsed request body.
#[derive(Debug)]
pub(crate) enum Body {
    /// No body.
    Empty,
    /// `application/x-www-form-urlencoded` (or no content type).
    Form(Vec<(String, String)>),
    /// `application/json`.
    Json(Value),
}

/// Why a body cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    #[error("Request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("The request body did not arrive within {0} seconds")]
    TimedOut(u64),
    #[error("Cannot read the request body: {0}")]
    Unreadable(String),
    #[error("Malformed JSON body: {0}")]
    MalformedJson(String),
    #[error("Malformed form body: not UTF-8")]
    MalformedForm,
    #[error("Unsupported content type \"{0}\": send a form or JSON")]
    UnsupportedType(String),
}

impl BodyError {
    /// The HTTP status that fits.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unreadable(_) | Self::MalformedJson(_) | Self::MalformedForm => {
                StatusCode::BAD_REQUEST
            }
        }
    }
}

/// The query string's parameters, in order.
pub(crate) fn query(req: &HttpRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

/// Reads the body's bytes within the server's size cap and read timeout.
pub(crate) async fn bytes(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<web::Bytes, BodyError> {
    let limit = req.app_data::<BodyLimit>().map_or(1 << 20, |l| l.0);
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge(limit));
    }
    let timeout = req
        .app_data::<BodyTimeout>()
        .map_or(std::time::Duration::from_secs(30), |t| t.0);
    tokio::time::timeout(timeout, payload.to_bytes_limited(limit))
        .await
        .map_err(|_| BodyError::TimedOut(timeout.as_secs()))?
        .map_err(|_| BodyError::TooLarge(limit))?
        .map_err(|e| BodyError::Unreadable(e.to_string()))
}

/// Reads and parses the body, refusing it past the limit.
pub(crate) async fn read(req: &HttpRequest, payload: &mut Payload) -> Result<Body, BodyError> {
    let payload = web::Payload::from_request(req, payload)
        .await
        .map_err(|e| BodyError::Unreadable(e.to_string()))?;
    let bytes = bytes(req, payload).await?;
    if bytes.is_empty() {
        return Ok(Body::Empty);
    }
    let media = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match media.as_str() {
        "application/json" => serde_json::from_slice(&bytes)
            .map(Body::Json)
            .map_err(|e| BodyError::MalformedJson(e.to_string())),
        "application/x-www-form-urlencoded" | "" => {
            std::str::from_utf8(&bytes).map_err(|_| BodyError::MalformedForm)?;
            Ok(Body::Form(
                form_urlencoded::parse(&bytes).into_owned().collect(),
            ))
        }
        other => Err(BodyError::UnsupportedType(other.to_owned())),
    }
}
