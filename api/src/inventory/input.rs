//! Request input of the inventory API: parameters from the query string and
//! the form or JSON body, and the `Clusto-*` presentation headers.

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde_json::Value;
use strato_domain::entity::EntityName;
use strato_domain::page::PageRequest;

use super::error::ClustoError;
use crate::body::{self, Body, BodyError};

/// A request's parameters: query string first, then the form body; or a
/// JSON body.
#[derive(Debug, Default)]
pub(crate) struct Input {
    params: Vec<(String, String)>,
    /// The JSON body, when the request sent one.
    pub(crate) json: Option<Value>,
}

impl Input {
    /// Every value of a parameter, in order.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A parameter's value (the last, when repeated).
    pub(crate) fn one(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parameters other than `skip`, in order.
    pub(crate) fn others(&self, skip: &[&str]) -> Vec<(String, String)> {
        self.params
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .cloned()
            .collect()
    }

    /// Every value of a parameter, as entity names.
    pub(crate) fn names(&self, name: &str) -> Result<Vec<EntityName>, ClustoError> {
        self.all(name).into_iter().map(entity_name).collect()
    }

    /// Every value of a parameter, as entity names, of which there must be
    /// one at least: none is a 412 with the `missing` message.
    pub(crate) fn some_names(
        &self,
        name: &str,
        missing: &str,
    ) -> Result<Vec<EntityName>, ClustoError> {
        let names = self.names(name)?;
        if names.is_empty() {
            return Err(ClustoError::precondition(missing));
        }
        Ok(names)
    }

    async fn read(req: HttpRequest, mut payload: Payload) -> Result<Self, ClustoError> {
        let mut params = body::query(&req);
        let failed = |e: BodyError| ClustoError::new(e.status(), e.to_string());
        match body::read(&req, &mut payload).await.map_err(failed)? {
            Body::Empty => Ok(Self { params, json: None }),
            Body::Form(form) => {
                params.extend(form);
                Ok(Self { params, json: None })
            }
            Body::Json(json) => Ok(Self {
                params,
                json: Some(json),
            }),
        }
    }
}

impl FromRequest for Input {
    type Error = ClustoError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ClustoError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        Box::pin(Self::read(req.clone(), payload.take()))
    }
}

/// Parses an entity name from a path or parameter.
pub(crate) fn entity_name(text: &str) -> Result<EntityName, ClustoError> {
    EntityName::parse(text).map_err(|e| {
        ClustoError::precondition(format!("Invalid name \"{}\": {}", e.name, e.reason))
    })
}

/// Compact (`/driver/name`) or expanded (an object) entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Compact,
    Expanded,
}

/// How to present an answer, from the `Clusto-*` request headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Presentation {
    mode: Option<Mode>,
    /// One-line JSON.
    pub(crate) minify: bool,
    /// The page asked for (`Clusto-Page` not 0).
    pub(crate) page: Option<PageRequest>,
}

impl Presentation {
    /// Reads the headers.
    fn of(req: &HttpRequest) -> Result<Self, ClustoError> {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let mode = match header("Clusto-Mode")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => None,
            Some("compact") => Some(Mode::Compact),
            Some("expanded") => Some(Mode::Expanded),
            Some(other) => {
                return Err(ClustoError::bad_request(format!(
                    "Invalid Clusto-Mode \"{other}\": use compact or expanded"
                )));
            }
        };
        let minify = header("Clusto-Minify").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let page = python_int(header("Clusto-Page").unwrap_or("0"))?;
        let per_page = python_int(header("Clusto-Per-Page").unwrap_or("50"))?;
        let page = match page {
            0 => None,
            _ => Some(
                u64::try_from(page)
                    .ok()
                    .zip(u64::try_from(per_page).ok())
                    .and_then(|(p, per)| PageRequest::new(p, per).ok())
                    .ok_or_else(|| {
                        ClustoError::bad_request("Clusto-Page and Clusto-Per-Page must be positive")
                    })?,
            ),
        };
        Ok(Self { mode, minify, page })
    }

    /// The mode asked for, or the endpoint's default.
    pub(crate) fn mode_or(self, default: Mode) -> Mode {
        self.mode.unwrap_or(default)
    }
}

impl FromRequest for Presentation {
    type Error = ClustoError;
    type Future = Ready<Result<Self, ClustoError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::of(req))
    }
}

/// Another extractor's value (the request's [`Input`]), then the
/// [`Presentation`], read in that order.
///
/// actix-web polls a handler's extractors together and answers the first
/// error that is ready, so a `Presentation` beside an `Input` still reading
/// its body would answer a bad header before a bad body; this keeps the
/// body's error first.
#[derive(Debug)]
pub(crate) struct Presented<T>(pub(crate) T, pub(crate) Presentation);

impl<T> FromRequest for Presented<T>
where
    T: FromRequest<Error = ClustoError> + 'static,
    T::Future: 'static,
{
    type Error = ClustoError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ClustoError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = T::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let value = value.await?;
            Ok(Self(value, Presentation::of(&req)?))
        })
    }
}

/// Reads an integer as Python's `int()` does, with its error message.
pub(crate) fn python_int(text: &str) -> Result<i64, ClustoError> {
    text.trim().parse().map_err(|_| {
        ClustoError::bad_request(format!("invalid literal for int() with base 10: '{text}'"))
    })
}

/// Reads a boolean parameter (`true`/`false`, `1`/`0`, `yes`/`no`).
pub(crate) fn boolean(name: &str, text: &str) -> Result<bool, ClustoError> {
    strato_domain::attribute::parse_bool(text).ok_or_else(|| {
        ClustoError::precondition(format!(
            "Parameter \"{name}\" must be true or false, not \"{text}\""
        ))
    })
}

/// Parses a driver name; an unknown one is answered with `error(name)`, as
/// each endpoint words it.
pub(crate) fn driver_or(
    text: &str,
    error: impl FnOnce(&str) -> ClustoError,
) -> Result<strato_domain::driver::Driver, ClustoError> {
    strato_domain::driver::Driver::parse(text).map_err(|_| error(text))
}

/// Parses a driver name; an unknown one is a 412 with the common message.
pub(crate) fn driver(text: &str) -> Result<strato_domain::driver::Driver, ClustoError> {
    driver_or(text, |d| {
        ClustoError::precondition(format!("The driver \"{d}\" is not a valid driver"))
    })
}

/// Parses a driver name of a path that creates, shows or deletes entities.
pub(crate) fn requested_driver(text: &str) -> Result<strato_domain::driver::Driver, ClustoError> {
    driver_or(text, |d| {
        ClustoError::precondition(format!("Requested driver \"{d}\" does not exist"))
    })
}
