//! One request to the IM family, as its handler sees it: the route's
//! message prefix, the error format `Accept` picks, the query flags, the
//! caller, the answer's representation and the request body, each read in
//! that order so that authentication comes before the body (spec `im.md`
//! §1.2, §2).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use strato_domain::infrastructure::{Caller, InfraError, Infrastructures};
use strato_domain::radl::{self, Radl};

use super::auth;
use super::error::ImError;
use super::negotiation::{self, ErrorFormat, Format, Produces, Syntax};

/// The words a query flag takes (spec §2.4), in any case.
fn parse_flag(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A request on one route of the family.
#[derive(Debug)]
pub(super) struct Call {
    req: HttpRequest,
    prefix: String,
    errors: ErrorFormat,
    query: Vec<(String, String)>,
}

impl Call {
    /// A request on a route whose messages start with `prefix`.
    pub(super) fn new(req: &HttpRequest, prefix: impl Into<String>) -> Self {
        Self {
            req: req.clone(),
            prefix: prefix.into(),
            errors: ErrorFormat::of(&negotiation::accepted(req)),
            query: crate::body::query(req),
        }
    }

    /// The request's error format.
    pub(super) fn errors(&self) -> ErrorFormat {
        self.errors
    }

    /// A use case's failure, with the route's prefix.
    pub(super) fn fail(&self, err: InfraError) -> ImError {
        ImError::infra(self.errors, &self.prefix, err)
    }

    /// An answer of this status and message, without prefix.
    pub(super) fn reject(&self, status: StatusCode, message: impl Into<String>) -> ImError {
        ImError::new(self.errors, status, message)
    }

    /// A query parameter (its first occurrence), if given.
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A query parameter that must be given.
    ///
    /// # Errors
    /// 400 `Missing query parameter '<name>'`.
    pub(super) fn required(&self, name: &str) -> Result<&str, ImError> {
        self.param(name).ok_or_else(|| {
            self.reject(
                StatusCode::BAD_REQUEST,
                format!("Missing query parameter '{name}'"),
            )
        })
    }

    /// A query flag, `default` when absent.
    ///
    /// # Errors
    /// 400 `Invalid value for query parameter '<name>': <value>`.
    pub(super) fn flag(&self, name: &str, default: bool) -> Result<bool, ImError> {
        match self.param(name) {
            None => Ok(default),
            Some(value) => parse_flag(value).ok_or_else(|| {
                self.reject(
                    StatusCode::BAD_REQUEST,
                    format!("Invalid value for query parameter '{name}': {value}"),
                )
            }),
        }
    }

    /// Who calls, from the `Authorization` header.
    ///
    /// # Errors
    /// 401 with the route's prefix (none for a missing header).
    pub(super) async fn caller(&self, service: &Infrastructures) -> Result<Caller, ImError> {
        auth::caller(&self.req, service)
            .await
            .map_err(|err| self.fail(err))
    }

    /// The representation of the answer.
    ///
    /// # Errors
    /// 415 `Unsupported Accept Media Types: …`.
    pub(super) fn accept(&self, produces: Produces) -> Result<Format, ImError> {
        negotiation::negotiate(&negotiation::accepted(&self.req), produces)
            .map_err(|err| self.reject(StatusCode::UNSUPPORTED_MEDIA_TYPE, err.to_string()))
    }

    /// A RADL document in the body, text or JSON by `Content-Type`.
    ///
    /// # Errors
    /// 415 for another `Content-Type`; 413, 408 or 400 when the body cannot
    /// be read; 400 `Error parsing request body: <reason>`.
    pub(super) async fn radl(&self, payload: web::Payload) -> Result<Radl, ImError> {
        let syntax = negotiation::radl_syntax(&negotiation::content_types(&self.req))
            .map_err(|err| self.reject(StatusCode::UNSUPPORTED_MEDIA_TYPE, err.to_string()))?;
        let text = self.text(payload).await?;
        self.parse_radl(syntax, &text)
    }

    /// A RADL document in the body, if there is a body.
    ///
    /// # Errors
    /// As [`Call::radl`]; `Content-Type` is only checked when there is a
    /// body.
    pub(super) async fn optional_radl(
        &self,
        payload: web::Payload,
    ) -> Result<Option<Radl>, ImError> {
        let text = self.text(payload).await?;
        if text.is_empty() {
            return Ok(None);
        }
        let syntax = negotiation::radl_syntax(&negotiation::content_types(&self.req))
            .map_err(|err| self.reject(StatusCode::UNSUPPORTED_MEDIA_TYPE, err.to_string()))?;
        self.parse_radl(syntax, &text).map(Some)
    }

    /// The body of a JSON-only route, as text.
    ///
    /// # Errors
    /// 415 when `Content-Type` is given and is not JSON; as
    /// [`Call::radl`] when the body cannot be read.
    pub(super) async fn json_text(&self, payload: web::Payload) -> Result<String, ImError> {
        negotiation::json_only(&negotiation::content_types(&self.req))
            .map_err(|err| self.reject(StatusCode::UNSUPPORTED_MEDIA_TYPE, err.to_string()))?;
        self.text(payload).await
    }

    fn parse_radl(&self, syntax: Syntax, text: &str) -> Result<Radl, ImError> {
        match syntax {
            Syntax::Text => radl::parse_text(text),
            Syntax::Json => radl::parse_json(text),
        }
        .map_err(|err| self.unparseable(&err))
    }

    /// 400 `Error parsing request body: <reason>`.
    fn unparseable(&self, reason: &dyn std::fmt::Display) -> ImError {
        self.reject(
            StatusCode::BAD_REQUEST,
            format!("Error parsing request body: {reason}"),
        )
    }

    /// The body as UTF-8 text, read within the server's size cap and
    /// timeout.
    async fn text(&self, payload: web::Payload) -> Result<String, ImError> {
        let bytes = crate::body::bytes(&self.req, payload)
            .await
            .map_err(|err| ImError::body(self.errors, &err))?;
        String::from_utf8(bytes.to_vec()).map_err(|err| self.unparseable(&err))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn call(query: &str) -> Call {
        let req = TestRequest::with_uri(&format!("/infrastructures?{query}")).to_http_request();
        Call::new(&req, "Error Creating Inf.")
    }

    #[test]
    fn flags_take_the_spec_words_in_any_case() {
        for (text, value) in [("1", true), ("TRUE", true), ("Yes", true), ("on", true)] {
            assert_eq!(
                call(&format!("async={text}")).flag("async", false),
                Ok(value)
            );
        }
        for text in ["0", "False", "NO", "off"] {
            assert_eq!(
                call(&format!("async={text}")).flag("async", true),
                Ok(false)
            );
        }
        assert_eq!(call("").flag("context", true), Ok(true));
        assert_eq!(call("filter=x").flag("dry_run", false), Ok(false));
    }

    #[test]
    fn other_flag_values_and_missing_parameters_are_refused() {
        let err = call("async=maybe").flag("async", false).unwrap_err();
        assert_eq!(
            err,
            ImError::new(
                ErrorFormat::Text,
                StatusCode::BAD_REQUEST,
                "Invalid value for query parameter 'async': maybe"
            )
        );
        let err = call("auto_delete=1").required("image_name").unwrap_err();
        assert_eq!(
            err,
            ImError::new(
                ErrorFormat::Text,
                StatusCode::BAD_REQUEST,
                "Missing query parameter 'image_name'"
            )
        );
        assert_eq!(call("image_name=a%20b").required("image_name"), Ok("a b"));
    }
}
