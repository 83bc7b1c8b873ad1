//! `/entity`: list, create, show, insert/remove and delete entities.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, web};
use strato_domain::Inventory;
use strato_domain::InventoryError;
use strato_domain::entity::Entity;
use strato_domain::inventory::PoolAction;

use super::dto::EntityBody;
use super::error::{ClustoError, resource};
use super::input::{
    Input, Mode, Presentation, Presented, driver_or, entity_name, requested_driver,
};
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
    presentation: Presentation,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let found = inventory.list(&[], presentation.page).await?;
    render::list(&inventory, found, presentation).await
}

async fn list(
    driver: web::Path<String>,
    presentation: Presentation,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let driver = driver_or(&driver, |d| {
        ClustoError::precondition(format!("The requested driver \"{d}\" does not exist"))
    })?;
    let found = inventory.list(&[driver], presentation.page).await?;
    render::list(&inventory, found, presentation).await
}

async fn create(
    driver: web::Path<String>,
    Presented(input, presentation): Presented<Input>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let driver = requested_driver(&driver)?;
    let names = input.some_names("name", "Provide at least one name to create")?;
    let outcome = inventory.create(driver, &names).await?;
    let body: Vec<String> = outcome.entities.iter().map(Entity::path).collect();
    if outcome.existing.is_empty() {
        return Ok(render::reply(StatusCode::CREATED, &body, presentation));
    }
    let existing: Vec<String> = outcome.existing.iter().map(Entity::path).collect();
    let mut response = render::reply(StatusCode::ACCEPTED, &body, presentation);
    let warning = format!("Entity(s) {} already exist(s)", existing.join(", "));
    if let Ok(value) = HeaderValue::from_str(&warning) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("warnings"), value);
    }
    Ok(response)
}

async fn show(
    path: web::Path<(String, String)>,
    presentation: Presentation,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let (driver, name) = path.into_inner();
    let (name, driver) = (entity_name(&name)?, requested_driver(&driver)?);
    let mode = presentation.mode_or(Mode::Expanded);
    let view = render::named(&inventory, &name, Some(driver), mode).await?;
    Ok(render::reply(StatusCode::OK, &view, presentation))
}

async fn action(
    path: web::Path<(String, String)>,
    Presented(input, presentation): Presented<Input>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
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
    let devices = input.some_names("device", "Provide at least one device")?;
    let details = inventory
        .pool_action(&entity_name(&name)?, driver, action, &devices)
        .await?;
    Ok(render::reply(
        StatusCode::OK,
        &EntityBody::from(&details),
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
