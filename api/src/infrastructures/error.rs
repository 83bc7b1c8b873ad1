//! Error answers of the IM family (spec `im.md` §2.3, §3.2): the status
//! each [`InfraError`] gets, the route's message prefix, and the body as
//! text, JSON or an HTML page, as the request's `Accept` asks.

use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, CONTENT_TYPE};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use strato_domain::infrastructure::InfraError;
use utoipa::ToSchema;

use super::negotiation::ErrorFormat;
use crate::body::BodyError;

/// The message of every 500.
const INTERNAL: &str = "Internal server error";

/// The JSON error body: `{"message": "<msg>", "code": <status>}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImErrorBody {
    /// What went wrong, with the route's prefix.
    message: String,
    /// The HTTP status.
    code: u16,
}

/// An error answer of the IM family, rendered in the format the request's
/// `Accept` picked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub(crate) struct ImError {
    status: StatusCode,
    message: String,
    format: ErrorFormat,
    allow: Option<String>,
}

impl ImError {
    /// An answer with this status and message.
    pub(super) fn new(format: ErrorFormat, status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            format,
            allow: None,
        }
    }

    /// 404 `Not Found`: no route of the family has this path.
    pub(super) fn not_found(format: ErrorFormat) -> Self {
        Self::new(format, StatusCode::NOT_FOUND, "Not Found")
    }

    /// 405 `Method Not Allowed`, with `Allow` listing the path's methods.
    pub(super) fn method_not_allowed(format: ErrorFormat, allow: &str) -> Self {
        Self {
            allow: Some(allow.to_owned()),
            ..Self::new(format, StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
        }
    }

    /// 500 `Internal server error`; the cause is logged here, once.
    pub(super) fn internal(format: ErrorFormat, cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %crate::errors::chain(cause), "infrastructures request failed");
        Self::new(format, StatusCode::INTERNAL_SERVER_ERROR, INTERNAL)
    }

    /// A use case's failure on a route whose messages start with `prefix`.
    pub(super) fn infra(format: ErrorFormat, prefix: &str, err: InfraError) -> Self {
        let status = match &err {
            InfraError::Auth(_) => StatusCode::UNAUTHORIZED,
            InfraError::NotFound
            | InfraError::InvalidVmId
            | InfraError::DeletedVm
            | InfraError::UnknownFeature { .. } => StatusCode::NOT_FOUND,
            InfraError::Forbidden => StatusCode::FORBIDDEN,
            InfraError::InvalidState => StatusCode::CONFLICT,
            InfraError::Radl(_)
            | InfraError::NoCloud
            | InfraError::NoAuthForCloud(_)
            | InfraError::BadCloud(_)
            | InfraError::LaunchFailed(_)
            | InfraError::Provider(_)
            | InfraError::Exists
            | InfraError::BadImport(_)
            | InfraError::BadOwner(_)
            | InfraError::BadVmList => StatusCode::BAD_REQUEST,
            InfraError::Store(cause) => return Self::internal(format, cause),
        };
        let prefixed = match &err {
            InfraError::Auth(auth) => auth.has_prefix(),
            // The spec gives this one without a prefix, as IM raises it
            // before the use case runs.
            InfraError::BadVmList => false,
            _ => true,
        };
        let message = if prefixed {
            format!("{prefix}: {err}")
        } else {
            err.to_string()
        };
        Self::new(format, status, message)
    }

    /// A request body that cannot be read.
    pub(super) fn body(format: ErrorFormat, err: &BodyError) -> Self {
        let message = match err {
            BodyError::TooLarge(_) => "Request body too large".to_owned(),
            BodyError::Unreadable(why) => format!("Error parsing request body: {why}"),
            other => other.to_string(),
        };
        Self::new(format, err.status(), message)
    }
}

impl ResponseError for ImError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut answer = HttpResponse::build(self.status);
        if let Some(allow) = &self.allow {
            answer.insert_header((ALLOW, allow.as_str()));
        }
        match self.format {
            ErrorFormat::Json => answer.json(ImErrorBody {
                message: self.message.clone(),
                code: self.status.as_u16(),
            }),
            ErrorFormat::Html => answer
                .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
                .body(html_page(self.status.as_u16(), &self.message)),
            ErrorFormat::Text => answer
                .insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"))
                .body(self.message.clone()),
        }
    }
}

/// IM's HTML error page, the message escaped.
fn html_page(code: u16, message: &str) -> String {
    format!(
        "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n\
         <html>\n    <head>\n        <title>Error {code}.</title>\n    </head>\n    \
         <body>\n        <h1>Code: {code}.</h1>\n        <h1>Message: {}</h1>\n    \
         </body>\n</html>\n",
        escape_html(message)
    )
}

/// `text` with `&`, `<`, `>`, `"` and `'` escaped.
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use strato_domain::StoreError;
    use strato_domain::infrastructure::authorization::AuthError;

    use super::*;

    fn rendered(err: &ImError) -> (u16, String, String) {
        let answer = err.error_response();
        let content_type = answer
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = answer.into_body().try_into_bytes().unwrap();
        (
            err.status.as_u16(),
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[test]
    fn use_case_errors_get_their_status_and_the_route_prefix() {
        let text = |err| {
            rendered(&ImError::infra(
                ErrorFormat::Text,
                "Error Getting VM. info",
                err,
            ))
        };
        assert_eq!(
            text(InfraError::InvalidVmId),
            (
                404,
                "text/plain; charset=utf-8".to_owned(),
                "Error Getting VM. info: Invalid VM ID".to_owned()
            )
        );
        assert_eq!(text(InfraError::Forbidden).0, 403);
        assert_eq!(text(InfraError::InvalidState).0, 409);
        assert_eq!(text(InfraError::NoCloud).0, 400);
        assert_eq!(
            text(InfraError::UnknownFeature {
                feature: "command".into(),
                vm: 1
            })
            .2,
            "Error Getting VM. info: Incorrect property command for VM ID 1"
        );
        assert_eq!(text(InfraError::BadVmList).2, "Incorrect vm_list format.");
    }

    #[test]
    fn a_missing_header_has_no_prefix_and_other_auth_errors_have_one() {
        let auth = |err| {
            ImError::infra(
                ErrorFormat::Text,
                "Error Creating Inf.",
                InfraError::Auth(err),
            )
        };
        assert_eq!(
            auth(AuthError::Missing).message,
            "No authentication data provided"
        );
        assert_eq!(auth(AuthError::Missing).status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            auth(AuthError::NoCredentials).message,
            "Error Creating Inf.: No credentials provided for the InfrastructureManager."
        );
    }

    #[test]
    fn storage_failures_answer_a_generic_500() {
        let err = ImError::infra(
            ErrorFormat::Text,
            "Error Getting Inf. List",
            InfraError::Store(StoreError::Concurrent),
        );
        assert_eq!(err.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(err.message, "Internal server error");
    }

    #[test]
    fn errors_render_as_json_html_or_text() {
        let err = ImError::infra(
            ErrorFormat::Json,
            "Error Getting VM. info",
            InfraError::InvalidVmId,
        );
        let (_, content_type, body) = rendered(&err);
        assert_eq!(content_type, "application/json");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"message": "Error Getting VM. info: Invalid VM ID", "code": 404})
        );
        let html = ImError::new(ErrorFormat::Html, StatusCode::BAD_REQUEST, "a <b> & 'c'");
        let (_, content_type, body) = rendered(&html);
        assert_eq!(content_type, "text/html; charset=utf-8");
        assert!(body.starts_with("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">"));
        assert!(body.contains("<title>Error 400.</title>"));
        assert!(body.contains("<h1>Code: 400.</h1>"));
        assert!(body.contains("<h1>Message: a &lt;b&gt; &amp; &#x27;c&#x27;</h1>"));
    }

    #[test]
    fn wrong_methods_list_the_allowed_ones() {
        let answer = ImError::method_not_allowed(ErrorFormat::Text, "GET, POST").error_response();
        assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(answer.headers().get(ALLOW).unwrap(), "GET, POST");
    }

    #[test]
    fn bodies_too_large_answer_413_in_the_family_words() {
        let err = ImError::body(ErrorFormat::Text, &BodyError::TooLarge(10));
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(err.message, "Request body too large");
    }
}
