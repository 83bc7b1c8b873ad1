//! The inventory API's responses: answer types written as the reference
//! writes JSON, with its status and paging headers.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use serde::Serialize;
use strato_domain::Inventory;
use strato_domain::driver::Driver;
use strato_domain::entity::{Entity, EntityName};
use strato_domain::page::Paged;

use super::dto::{EntityBody, EntityView};
use super::error::ClustoError;
use super::input::{Mode, Presentation};
use super::json;

/// Entities in the mode asked for, in order.
pub(crate) async fn entities(
    inventory: &Inventory,
    list: &[Entity],
    mode: Mode,
) -> Result<Vec<EntityView>, ClustoError> {
    Ok(match mode {
        Mode::Compact => list.iter().map(|e| EntityView::Compact(e.path())).collect(),
        Mode::Expanded => inventory
            .details(list)
            .await?
            .iter()
            .map(|details| EntityView::Expanded(EntityBody::from(details)))
            .collect(),
    })
}

/// The named entity in the mode asked for, checking its driver when given.
pub(crate) async fn named(
    inventory: &Inventory,
    name: &EntityName,
    driver: Option<Driver>,
    mode: Mode,
) -> Result<EntityView, ClustoError> {
    Ok(match mode {
        Mode::Compact => EntityView::Compact(inventory.get(name, driver).await?.path()),
        Mode::Expanded => {
            EntityView::Expanded(EntityBody::from(&inventory.show(name, driver).await?))
        }
    })
}

/// A JSON answer, formatted as the request asked.
pub(crate) fn reply(
    status: StatusCode,
    body: &impl Serialize,
    presentation: Presentation,
) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(json::to_text(body, presentation.minify))
}

/// A list answer with its paging headers.
pub(crate) async fn list(
    inventory: &Inventory,
    found: Paged<Entity>,
    presentation: Presentation,
) -> Result<HttpResponse, ClustoError> {
    let items = entities(inventory, &found.items, presentation.mode_or(Mode::Compact)).await?;
    let mut response = reply(StatusCode::OK, &items, presentation);
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
