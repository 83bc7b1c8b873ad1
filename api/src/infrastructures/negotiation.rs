//! Content negotiation of the IM family (spec `im.md` §2): the
//! representation an `Accept` header picks for a route's answer, the format
//! of error answers, and the RADL syntax a `Content-Type` names.
//!
//! Headers are read as IM reads them: split on commas, parameters (q-values
//! included) dropped, items tried in header order.

use actix_web::HttpRequest;
use actix_web::http::header::{ACCEPT, CONTENT_TYPE, HeaderName};
use strato_domain::radl::PyList;

/// The media types a request header lists, in order: every occurrence of
/// the header split on commas, parameters dropped, items trimmed, empty
/// items skipped.
pub(super) fn media_types(req: &HttpRequest, name: &HeaderName) -> Vec<String> {
    req.headers()
        .get_all(name)
        .flat_map(|value| {
            String::from_utf8_lossy(value.as_bytes())
                .split(',')
                .map(|item| item.split(';').next().unwrap_or("").trim().to_owned())
                .filter(|item| !item.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The media types of the request's `Accept` header.
pub(super) fn accepted(req: &HttpRequest) -> Vec<String> {
    media_types(req, &ACCEPT)
}

/// The media types of the request's `Content-Type` header.
pub(super) fn content_types(req: &HttpRequest) -> Vec<String> {
    media_types(req, &CONTENT_TYPE)
}

/// What a route's answer can be (spec §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Produces {
    /// URIs: `text/uri-list` by default, or JSON.
    Uris,
    /// Text: `text/plain` by default, or JSON.
    Text,
    /// JSON only.
    Json,
}

/// The representation an answer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `application/json`.
    Json,
    /// `text/uri-list; charset=utf-8`.
    UriList,
    /// `text/plain; charset=utf-8`.
    Text,
}

impl Produces {
    /// The representation a route of this kind answers when `Accept` is
    /// missing or empty.
    fn default_format(self) -> Format {
        match self {
            Self::Uris => Format::UriList,
            Self::Text => Format::Text,
            Self::Json => Format::Json,
        }
    }

    /// The representation an `Accept` item asks for, if the route serves it.
    fn serves(self, item: &str) -> Option<Format> {
        let item = item.to_ascii_lowercase();
        match (self, item.as_str()) {
            (_, "application/json" | "application/*") | (Self::Json, "*/*") => Some(Format::Json),
            (Self::Uris, "text/uri-list" | "text/*" | "*/*") => Some(Format::UriList),
            (Self::Text, "text/plain" | "text/*" | "*/*") => Some(Format::Text),
            _ => None,
        }
    }
}

/// An `Accept` header none of whose items the route can serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unsupported Accept Media Types: {}", .0.join(","))]
pub(super) struct UnsupportedAccept(Vec<String>);

/// The representation of a route's answer: the first `Accept` item, in
/// header order, that the route serves; the route's default when `Accept`
/// lists nothing.
///
/// # Errors
/// [`UnsupportedAccept`] when no item fits.
pub(super) fn negotiate(
    accept: &[String],
    produces: Produces,
) -> Result<Format, UnsupportedAccept> {
    if accept.is_empty() {
        return Ok(produces.default_format());
    }
    accept
        .iter()
        .find_map(|item| produces.serves(item))
        .ok_or_else(|| UnsupportedAccept(accept.to_vec()))
}

/// The format of an error answer (spec §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorFormat {
    /// `{"message": …, "code": …}`.
    Json,
    /// An HTML 2.0 page.
    Html,
    /// The message as plain text.
    Text,
}

impl ErrorFormat {
    /// The format `Accept` picks: JSON if it lists `application/json`, else
    /// HTML if it lists `text/html`, else text.
    pub(super) fn of(accept: &[String]) -> Self {
        let lists = |wanted: &str| accept.iter().any(|item| item.eq_ignore_ascii_case(wanted));
        if lists("application/json") {
            Self::Json
        } else if lists("text/html") {
            Self::Html
        } else {
            Self::Text
        }
    }
}

/// How a RADL request body is written (spec §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Syntax {
    /// RADL text.
    Text,
    /// JSON RADL.
    Json,
}

/// A `Content-Type` the route does not read; `Display` is the 415 message,
/// the types printed as a Python list (`Unsupported Media Type ['text/yaml']`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unsupported Media Type {0}")]
pub(super) struct UnsupportedType(PyList);

/// The syntax of a RADL body: JSON when `Content-Type` lists
/// `application/json`; text when it is absent or lists `text/plain`,
/// `text/*` or `*/*`.
///
/// # Errors
/// [`UnsupportedType`] for any other type (TOSCA's YAML and forms included).
pub(super) fn radl_syntax(content_type: &[String]) -> Result<Syntax, UnsupportedType> {
    let lists = |wanted: &[&str]| {
        content_type
            .iter()
            .any(|item| wanted.iter().any(|w| item.eq_ignore_ascii_case(w)))
    };
    if content_type.is_empty() {
        Ok(Syntax::Text)
    } else if lists(&["application/json"]) {
        Ok(Syntax::Json)
    } else if lists(&["text/plain", "text/*", "*/*"]) {
        Ok(Syntax::Text)
    } else {
        Err(UnsupportedType(PyList(content_type.to_vec())))
    }
}

/// Checks that a JSON-only body is declared as JSON (or not declared).
///
/// # Errors
/// [`UnsupportedType`] when `Content-Type` does not list `application/json`.
pub(super) fn json_only(content_type: &[String]) -> Result<(), UnsupportedType> {
    if content_type.is_empty()
        || content_type
            .iter()
            .any(|item| item.eq_ignore_ascii_case("application/json"))
    {
        Ok(())
    } else {
        Err(UnsupportedType(PyList(content_type.to_vec())))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn items(text: &[&str]) -> Vec<String> {
        text.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn headers_are_split_on_commas_without_parameters() {
        let req = TestRequest::default()
            .insert_header((ACCEPT, "text/html;q=0.9, application/json ; q=1,,"))
            .to_http_request();
        assert_eq!(accepted(&req), items(&["text/html", "application/json"]));
        assert!(content_types(&req).is_empty());
    }

    #[test]
    fn the_first_item_the_route_serves_wins_in_header_order() {
        let uris = |a: &[&str]| negotiate(&items(a), Produces::Uris);
        assert_eq!(uris(&[]), Ok(Format::UriList));
        assert_eq!(uris(&["application/*"]), Ok(Format::Json));
        assert_eq!(uris(&["text/*", "application/json"]), Ok(Format::UriList));
        assert_eq!(uris(&["image/png", "*/*"]), Ok(Format::UriList));
        assert_eq!(
            uris(&["text/plain", "text/html"]).map_err(|e| e.to_string()),
            Err("Unsupported Accept Media Types: text/plain,text/html".to_owned())
        );
        let text = |a: &[&str]| negotiate(&items(a), Produces::Text);
        assert_eq!(text(&["TEXT/PLAIN"]), Ok(Format::Text));
        assert_eq!(text(&["application/json", "text/plain"]), Ok(Format::Json));
        assert!(text(&["text/uri-list"]).is_err());
        let json = |a: &[&str]| negotiate(&items(a), Produces::Json);
        assert_eq!(json(&[]), Ok(Format::Json));
        assert_eq!(json(&["*/*"]), Ok(Format::Json));
        assert!(json(&["text/plain"]).is_err());
        assert!(json(&["text/*"]).is_err());
    }

    #[test]
    fn errors_answer_json_then_html_then_text() {
        let of = |a: &[&str]| ErrorFormat::of(&items(a));
        assert_eq!(of(&[]), ErrorFormat::Text);
        assert_eq!(of(&["text/html", "application/json"]), ErrorFormat::Json);
        assert_eq!(of(&["text/html"]), ErrorFormat::Html);
        assert_eq!(of(&["application/*"]), ErrorFormat::Text);
    }

    #[test]
    fn radl_bodies_are_text_or_json() {
        assert_eq!(radl_syntax(&[]), Ok(Syntax::Text));
        assert_eq!(radl_syntax(&items(&["text/plain"])), Ok(Syntax::Text));
        assert_eq!(radl_syntax(&items(&["*/*"])), Ok(Syntax::Text));
        assert_eq!(radl_syntax(&items(&["Application/JSON"])), Ok(Syntax::Json));
        let refused = radl_syntax(&items(&["application/x-www-form-urlencoded"]));
        assert_eq!(
            refused.map_err(|e| e.to_string()),
            Err("Unsupported Media Type ['application/x-www-form-urlencoded']".to_owned())
        );
        assert!(radl_syntax(&items(&["text/yaml"])).is_err());
        assert_eq!(json_only(&[]), Ok(()));
        assert_eq!(json_only(&items(&["application/json"])), Ok(()));
        assert!(json_only(&items(&["text/plain"])).is_err());
    }
}
