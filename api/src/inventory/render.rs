//! The inventory API's JSON shapes and responses.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value, json};
use strato_domain::Inventory;
use strato_domain::attribute::{Attribute, AttributeValue};
use strato_domain::driver::Driver;
use strato_domain::entity::{Entity, EntityDetails, EntityName};
use strato_domain::page::Paged;

use super::error::ClustoError;
use super::input::{Mode, Presentation};
use super::json;

/// An attribute as `{datatype, key, number, subkey, value}`.
pub(crate) fn attribute(attr: &Attribute) -> Value {
    let value = match &attr.value {
        AttributeValue::String(s) => Value::String(s.clone()),
        AttributeValue::Int(i) => json!(i),
        AttributeValue::Bool(b) => json!(b),
        AttributeValue::Json(v) => v.clone(),
        AttributeValue::Datetime(_) | AttributeValue::Relation(_) => {
            Value::String(attr.value.to_stored().text)
        }
    };
    json!({
        "datatype": attr.value.datatype().as_str(),
        "key": attr.key.as_str(),
        "number": attr.number,
        "subkey": attr.subkey.as_ref().map(|s| s.as_str()),
        "value": value,
    })
}

/// A list of attributes.
pub(crate) fn attributes(attrs: &[Attribute]) -> Value {
    Value::Array(attrs.iter().map(attribute).collect())
}

/// An entity's expanded view.
pub(crate) fn expanded(details: &EntityDetails) -> Value {
    let paths =
        |list: &[Entity]| Value::Array(list.iter().map(|e| Value::String(e.path())).collect());
    let mut object = Map::new();
    object.insert("attrs".into(), attributes(&details.attributes));
    object.insert("contents".into(), paths(&details.contents));
    object.insert("driver".into(), details.entity.driver.as_str().into());
    object.insert("name".into(), details.entity.name.as_str().into());
    object.insert("parents".into(), paths(&details.parents));
    object.insert(
        "type".into(),
        details.entity.driver.driver_type().as_str().into(),
    );
    if let Some(ips) = details.ips() {
        object.insert("ips".into(), ips.into());
    }
    if let Some(count) = details.allocations {
        object.insert("count".into(), count.into());
    }
    Value::Object(object)
}

/// Entities in the mode asked for, in order.
pub(crate) async fn entities(
    inventory: &Inventory,
    list: &[Entity],
    mode: Mode,
) -> Result<Vec<Value>, ClustoError> {
    Ok(match mode {
        Mode::Compact => list.iter().map(|e| Value::String(e.path())).collect(),
        Mode::Expanded => inventory
            .details(list)
            .await?
            .iter()
            .map(expanded)
            .collect(),
    })
}

/// The named entity in the mode asked for, checking its driver when given.
pub(crate) async fn named(
    inventory: &Inventory,
    name: &EntityName,
    driver: Option<Driver>,
    mode: Mode,
) -> Result<Value, ClustoError> {
    Ok(match mode {
        Mode::Compact => Value::String(inventory.get(name, driver).await?.path()),
        Mode::Expanded => expanded(&inventory.show(name, driver).await?),
    })
}

/// A JSON answer, formatted as the request asked.
pub(crate) fn reply(status: StatusCode, value: &Value, presentation: Presentation) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(json::to_text(value, presentation.minify))
}

/// A list answer with its paging headers.
pub(crate) async fn list(
    inventory: &Inventory,
    found: Paged<Entity>,
    presentation: Presentation,
) -> Result<HttpResponse, ClustoError> {
    let items = entities(inventory, &found.items, presentation.mode_or(Mode::Compact)).await?;
    let mut response = reply(StatusCode::OK, &Value::Array(items), presentation);
    if let (Some(pages), Some(page)) = (found.pages, presentation.page) {
        let headers = response.headers_mut();
        for (name, value) in [
            ("clusto-pages", pages),
            ("clusto-page", page.page()),
            ("clusto-per-page", page.per_page()),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
    Ok(response)
}
