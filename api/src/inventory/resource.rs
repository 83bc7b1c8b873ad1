//! `/resourcemanager`: list, create and show managers; allocate and release.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use strato_domain::Inventory;
use strato_domain::inventory::AllocationRequest;

use super::dto::{AllocationBody, AttributeBody, EntityBody};
use super::error::{ClustoError, resource};
use super::input::{Input, Presentation, Presented, driver, driver_or, entity_name};
use super::render;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource(&["/resourcemanager", "/resourcemanager/"]).route(web::get().to(list_all)),
    )
    .service(
        resource(&["/resourcemanager/{driver}"])
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        resource(&["/resourcemanager/{driver}/{manager}"])
            .route(web::get().to(show))
            .route(web::post().to(allocate))
            .route(web::delete().to(deallocate)),
    );
}

async fn list_all(
    presentation: Presentation,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let found = inventory.managers(None, presentation.page).await?;
    render::list(&inventory, found, presentation).await
}

async fn list(
    path: web::Path<String>,
    presentation: Presentation,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let driver = driver_or(&path, |d| {
        ClustoError::new(
            StatusCode::NOT_FOUND,
            format!("Not a valid driver \"{d}\" (driver name {d} doesn't exist.)"),
        )
    })?;
    let found = inventory.managers(Some(driver), presentation.page).await?;
    render::list(&inventory, found, presentation).await
}

async fn create(
    path: web::Path<String>,
    Presented(input, presentation): Presented<Input>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let driver = driver(&path)?;
    let name = input
        .one("name")
        .ok_or_else(|| ClustoError::precondition("Provide a name for the resource manager"))?;
    let details = inventory
        .create_manager(driver, &entity_name(name)?, &input.others(&["name"]))
        .await?;
    Ok(render::reply(
        StatusCode::CREATED,
        &EntityBody::from(&details),
        presentation,
    ))
}

async fn show(
    path: web::Path<(String, String)>,
    presentation: Presentation,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let (driver_name, name) = path.into_inner();
    let details = inventory
        .show_manager(&entity_name(&name)?, driver(&driver_name)?)
        .await?;
    Ok(render::reply(
        StatusCode::OK,
        &EntityBody::from(&details),
        presentation,
    ))
}

async fn allocate(
    path: web::Path<(String, String)>,
    Presented(input, presentation): Presented<Input>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let (driver_name, name) = path.into_inner();
    let request = match (input.one("driver"), input.one("object")) {
        (Some(new_driver), None) => AllocationRequest::Create(driver(new_driver)?),
        (None, Some(object)) => AllocationRequest::Thing(entity_name(object)?),
        _ => {
            return Err(ClustoError::precondition(
                "Provide either a driver (to create an entity) or an object (to allocate to)",
            ));
        }
    };
    let creates = matches!(request, AllocationRequest::Create(_));
    let resource = input.one("resource").map(str::to_owned);
    let allocated = inventory
        .allocate(
            &entity_name(&name)?,
            driver(&driver_name)?,
            request,
            resource,
        )
        .await?;
    let body = match (&allocated.recorded, creates) {
        (Some(attr), false) => AllocationBody::Attribute(AttributeBody::from(attr)),
        _ => AllocationBody::Thing(allocated.thing.path()),
    };
    Ok(render::reply(StatusCode::CREATED, &body, presentation))
}

async fn deallocate(
    path: web::Path<(String, String)>,
    input: Input,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let (driver_name, name) = path.into_inner();
    let object = input
        .one("object")
        .ok_or_else(|| ClustoError::precondition("Provide the object to deallocate from"))?;
    let resource = input.one("resource").map(str::to_owned);
    inventory
        .deallocate(
            &entity_name(&name)?,
            driver(&driver_name)?,
            &entity_name(object)?,
            resource,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
