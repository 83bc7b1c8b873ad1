//! Parameters of the cloud API: a JSON object body (or a form).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde_json::{Map, Value};
use strato_domain::attribute::parse_bool;

use super::envelope::CloudApiError;
use crate::body::{self, Body};

/// The request's parameters, by name.
#[derive(Debug, Default)]
pub(super) struct Params(Map<String, Value>);

impl Params {
    /// A text parameter; numbers are taken as their text.
    pub(super) fn text(&self, name: &str) -> Result<Option<String>, CloudApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(CloudApiError::bad_request(format!(
                "Parameter {name} must be a string"
            ))),
        }
    }

    /// A text parameter that must be there.
    pub(super) fn required(&self, name: &str) -> Result<String, CloudApiError> {
        self.text(name)?
            .ok_or_else(|| CloudApiError::bad_request(format!("Missing parameter: {name}")))
    }

    /// An optional JSON object parameter.
    pub(super) fn object(&self, name: &str) -> Result<BTreeMap<String, Value>, CloudApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(BTreeMap::new()),
            Some(Value::Object(map)) => Ok(map.clone().into_iter().collect()),
            Some(_) => Err(CloudApiError::bad_request(format!(
                "Parameter {name} must be an object"
            ))),
        }
    }

    /// A boolean parameter (`True`, `true`, `1`…), false when absent.
    pub(super) fn flag(&self, name: &str) -> Result<bool, CloudApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => {
                let text = other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_owned);
                parse_bool(&text).ok_or_else(|| {
                    CloudApiError::bad_request(format!("Parameter {name} must be true or false"))
                })
            }
        }
    }

    async fn read(req: HttpRequest, mut payload: Payload) -> Result<Self, CloudApiError> {
        let mut params: Map<String, Value> = body::query(&req)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        match body::read(&req, &mut payload).await? {
            Body::Empty => {}
            Body::Form(form) => params.extend(form.into_iter().map(|(k, v)| (k, Value::String(v)))),
            Body::Json(Value::Object(object)) => params.extend(object),
            Body::Json(_) => {
                return Err(CloudApiError::bad_request("The body must be a JSON object"));
            }
        }
        Ok(Self(params))
    }
}

impl FromRequest for Params {
    type Error = CloudApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, CloudApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        Box::pin(Self::read(req.clone(), payload.take()))
    }
}
