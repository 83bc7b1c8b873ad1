//! `/attribute`: query, add, set and delete an entity's attributes.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;
use strato_domain::Inventory;
use strato_domain::attribute::{
    Attribute, AttributeFilter, AttributeKey, Datatype, ExactSlot, NumberSpec, RawValue,
};
use strato_domain::inventory::AttributeInput;

use super::dto::AttributeBody;
use super::error::{ClustoError, resource};
use super::input::{Input, Presentation, Presented, driver, entity_name, python_int};
use super::render;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    for path in [
        "/attribute/{name}",
        "/attribute/{name}/{key}",
        "/attribute/{name}/{key}/{subkey}",
        "/attribute/{name}/{key}/{subkey}/{number}",
    ] {
        cfg.service(
            resource(&[path])
                .route(web::get().to(query))
                .route(web::post().to(add))
                .route(web::put().to(set))
                .route(web::delete().to(delete)),
        );
    }
}

/// `/attribute/NAME[/KEY[/SUBKEY[/NUMBER]]]`.
#[derive(Debug, Deserialize)]
struct AttributePath {
    name: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    subkey: Option<String>,
    #[serde(default)]
    number: Option<String>,
}

fn key(text: &str) -> Result<AttributeKey, ClustoError> {
    AttributeKey::parse(text)
        .map_err(|_| ClustoError::precondition(format!("Invalid attribute key \"{text}\"")))
}

fn datatype(text: Option<&str>) -> Result<Option<Datatype>, ClustoError> {
    text.map(|t| Datatype::parse(t).map_err(|e| ClustoError::bad_request(e.to_string())))
        .transpose()
}

impl AttributePath {
    /// The path's selection, completed by parameters where the path stops.
    fn filter(&self, input: &Input) -> Result<AttributeFilter, ClustoError> {
        let pick = |from_path: &Option<String>, param: &str| {
            from_path
                .clone()
                .or_else(|| input.one(param).map(str::to_owned))
        };
        Ok(AttributeFilter {
            key: pick(&self.key, "key").as_deref().map(key).transpose()?,
            subkey: pick(&self.subkey, "subkey")
                .as_deref()
                .map(key)
                .transpose()?,
            number: pick(&self.number, "number")
                .as_deref()
                .map(python_int)
                .transpose()?,
        })
    }
}

/// An answer listing an entity's attributes.
fn attributes_reply(
    status: StatusCode,
    attrs: &[Attribute],
    presentation: Presentation,
) -> HttpResponse {
    let body: Vec<AttributeBody> = attrs.iter().map(AttributeBody::from).collect();
    render::reply(status, &body, presentation)
}

async fn query(
    path: web::Path<AttributePath>,
    Presented(input, presentation): Presented<Input>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let filter = path.filter(&input)?;
    let driver = input.one("driver").map(driver).transpose()?;
    let attrs = inventory
        .attributes(&entity_name(&path.name)?, driver, &filter)
        .await?;
    Ok(attributes_reply(StatusCode::OK, &attrs, presentation))
}

/// Reads one attribute to add from form parameters or a JSON object.
fn input_of(get: &dyn Fn(&str) -> Option<Value>) -> Result<AttributeInput, ClustoError> {
    let text = |name: &str| -> Result<Option<String>, ClustoError> {
        match get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) if name == "number" => Ok(Some(other.to_string())),
            Some(_) => Err(ClustoError::bad_request(format!(
                "Parameter \"{name}\" must be a string"
            ))),
        }
    };
    let (Some(key_text), Some(value)) = (text("key")?, get("value").filter(|v| !v.is_null()))
    else {
        return Err(ClustoError::precondition(
            "Provide a key and a value for each attribute",
        ));
    };
    let number = match text("number")?.as_deref() {
        None => NumberSpec::None,
        Some(n) if n.eq_ignore_ascii_case("true") => NumberSpec::Next,
        Some(n) => NumberSpec::Exact(python_int(n)?),
    };
    Ok(AttributeInput {
        key: key(&key_text)?,
        subkey: text("subkey")?.as_deref().map(key).transpose()?,
        number,
        datatype: datatype(text("datatype")?.as_deref())?,
        mask: text("mask")?,
        value: match value {
            Value::String(s) => RawValue::Text(s),
            other => RawValue::Json(other),
        },
    })
}

async fn add(
    path: web::Path<AttributePath>,
    Presented(input, presentation): Presented<Input>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let inputs = match &input.json {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::Object(object) => input_of(&|name| object.get(name).cloned()),
                _ => Err(ClustoError::bad_request(
                    "Each attribute must be a JSON object",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(Value::Object(object)) => vec![input_of(&|name| object.get(name).cloned())?],
        Some(_) => {
            return Err(ClustoError::bad_request(
                "Send an attribute object or a list of them",
            ));
        }
        None => {
            let from_path = |name: &str| match name {
                "key" => path.key.clone(),
                "subkey" => path.subkey.clone(),
                "number" => path.number.clone(),
                _ => None,
            };
            vec![input_of(&|name| {
                from_path(name)
                    .or_else(|| input.one(name).map(str::to_owned))
                    .map(Value::String)
            })?]
        }
    };
    if inputs.is_empty() {
        return Err(ClustoError::precondition("Provide at least one attribute"));
    }
    let attrs = inventory
        .add_attributes(&entity_name(&path.name)?, &inputs)
        .await?;
    Ok(attributes_reply(StatusCode::CREATED, &attrs, presentation))
}

async fn set(
    path: web::Path<AttributePath>,
    Presented(input, presentation): Presented<Input>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let filter = path.filter(&input)?;
    let Some(key) = filter.key else {
        return Err(ClustoError::precondition("Provide a key to set"));
    };
    let value = match input.one("value") {
        Some(text) => RawValue::Text(text.to_owned()),
        None => return Err(ClustoError::precondition("Provide a value to set")),
    };
    let slot = ExactSlot {
        key,
        subkey: filter.subkey,
        number: filter.number,
    };
    let attrs = inventory
        .set_attribute(
            &entity_name(&path.name)?,
            &slot,
            datatype(input.one("datatype"))?,
            input.one("mask").map(str::to_owned),
            value,
        )
        .await?;
    Ok(attributes_reply(StatusCode::OK, &attrs, presentation))
}

async fn delete(
    path: web::Path<AttributePath>,
    Presented(input, presentation): Presented<Input>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let filter = path.filter(&input)?;
    if filter.key.is_none() {
        return Err(ClustoError::precondition(
            "Provide the key of the attributes to delete",
        ));
    }
    let attrs = inventory
        .delete_attributes(&entity_name(&path.name)?, &filter)
        .await?;
    Ok(attributes_reply(StatusCode::OK, &attrs, presentation))
}
