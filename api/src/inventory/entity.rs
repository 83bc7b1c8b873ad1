//! `/entity`: list, create, show, insert/remove and delete entities.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;
use strato_domain::Inventory;
use strato_domain::InventoryError;
use strato_domain::inventory::PoolAction;

use super::error::{ClustoError, resource};
use super::input::{Input, Mode, Presentation, driver_or, entity_name, requested_driver};
use super::render;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(&["/entity", "/entity/"]).route(web::get().to(list_all)))
        .service(
            resource(&["/entity/{driver}"])
                .route(web::get().to(list))
                .route(web::post().to(create)),
        )
        .service(
            resource(&["/entity/{driver}/{name}"])
                .route(web::get().to(show))
                .route(web::post().to(action))
                .route(web::delete().to(delete)),
        );
}

async fn list_all(
    req: HttpRequest,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let presentation = Presentation::of(&req)?;
    let found = inventory.list(&[], presentation.page).await?;
    render::list(&inventory, found, presentation).await
}

async fn list(
    req: HttpRequest,
    driver: web::Path<String>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let presentation = Presentation::of(&req)?;
    let driver = driver_or(&driver, |d| {
        ClustoError::precondition(format!("The requested driver \"{d}\" does not exist"))
    })?;
    let found = inventory.list(&[driver], presentation.page).await?;
    render::list(&inventory, found, presentation).await
}

async fn create(
    req: HttpRequest,
    driver: web::Path<String>,
    input: Input,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let presentation = Presentation::of(&req)?;
    let driver = requested_driver(&driver)?;
    let names = input.names("name")?;
    if names.is_empty() {
        return Err(ClustoError::precondition(
            "Provide at least one name to create",
        ));
    }
    let outcome = inventory.create(driver, &names).await?;
    let body = Value::Array(
        outcome
            .entities
            .iter()
            .map(|e| Value::String(e.path()))
            .collect(),
    );
    if outcome.existing.is_empty() {
        return Ok(render::reply(StatusCode::CREATED, &body, presentation));
    }
    let existing: Vec<String> = outcome.existing.iter().map(|e| e.path()).collect();
    let mut response = render::reply(StatusCode::ACCEPTED, &body, presentation);
    let warning = format!("Entity(s) {} already exist(s)", existing.join(", "));
    if let Ok(value) = HeaderValue::from_str(&warning) {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("warnings"),
            value,
        );
    }
    Ok(response)
}

async fn show(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let presentation = Presentation::of(&req)?;
    let (driver, name) = path.into_inner();
    let (name, driver) = (entity_name(&name)?, requested_driver(&driver)?);
    let mode = presentation.mode_or(Mode::Expanded);
    let value = render::named(&inventory, &name, Some(driver), mode).await?;
    Ok(render::reply(StatusCode::OK, &value, presentation))
}

async fn action(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    input: Input,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let presentation = Presentation::of(&req)?;
    let (driver, name) = path.into_inner();
    let driver = requested_driver(&driver)?;
    let action = match input.one("action") {
        Some("insert") => PoolAction::Insert,
        Some("remove") => PoolAction::Remove,
        Some(other) => {
            return Err(ClustoError::precondition(format!(
                "Unknown action \"{other}\": use insert or remove"
            )));
        }
        None => {
            return Err(ClustoError::precondition(
                "Provide an action: insert or remove",
            ));
        }
    };
    let devices = input.names("device")?;
    if devices.is_empty() {
        return Err(ClustoError::precondition("Provide at least one device"));
    }
    let details = inventory
        .pool_action(&entity_name(&name)?, driver, action, &devices)
        .await?;
    Ok(render::reply(
        StatusCode::OK,
        &render::expanded(&details),
        presentation,
    ))
}

async fn delete(
    path: web::Path<(String, String)>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let (driver, name) = path.into_inner();
    let driver = requested_driver(&driver)?;
    match inventory.delete(&entity_name(&name)?, driver).await {
        Ok(()) => Ok(HttpResponse::NoContent().finish()),
        Err(InventoryError::EntityNotFound(_)) => Ok(HttpResponse::NotFound().finish()),
        Err(other) => Err(other.into()),
    }
}
