//! Queries: `/by-name`, `/by-names`, `/by-attr`, `/from-pools`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use strato_domain::Inventory;
use strato_domain::attribute::{AttributeKey, AttributeQuery};
use strato_domain::driver::DriverType;
use strato_domain::inventory::PoolQuery;

use super::dto::EntityView;
use super::error::{ClustoError, resource};
use super::input::{Input, Mode, Presented, boolean, driver, entity_name};
use super::render;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(&["/by-name/{name}"]).route(web::get().to(by_name)))
        .service(resource(&["/by-names"]).route(web::get().to(by_names)))
        .service(resource(&["/by-attr"]).route(web::get().to(by_attr)))
        .service(resource(&["/from-pools"]).route(web::get().to(from_pools)));
}

async fn by_name(
    path: web::Path<String>,
    Presented(input, presentation): Presented<Input>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let name = entity_name(&path)?;
    let driver = input.one("driver").map(driver).transpose()?;
    let mode = presentation.mode_or(Mode::Expanded);
    let view = render::named(&inventory, &name, driver, mode).await?;
    Ok(render::reply(StatusCode::OK, &view, presentation))
}

async fn by_names(
    Presented(input, presentation): Presented<Input>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let names = input.some_names("name", "Provide at least one name to get data from")?;
    let found = inventory.by_names(&names).await?;
    let present: Vec<_> = found.iter().flatten().cloned().collect();
    let mut rendered = render::entities(&inventory, &present, presentation.mode_or(Mode::Compact))
        .await?
        .into_iter();
    // Absent names answer `null`.
    let body: Vec<Option<EntityView>> = found
        .iter()
        .map(|e| e.as_ref().and_then(|_| rendered.next()))
        .collect();
    let status = match present.len() {
        0 => StatusCode::NOT_FOUND,
        n if n < found.len() => StatusCode::PARTIAL_CONTENT,
        _ => StatusCode::OK,
    };
    Ok(render::reply(status, &body, presentation))
}

async fn by_attr(
    Presented(input, presentation): Presented<Input>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let key = input
        .one("key")
        .ok_or_else(|| ClustoError::precondition("Provide a key to use get_by_attr"))?;
    let key_of = |text: &str| {
        AttributeKey::parse(text)
            .map_err(|_| ClustoError::precondition(format!("Invalid attribute key \"{text}\"")))
    };
    let query = AttributeQuery {
        key: key_of(key)?,
        subkey: input.one("subkey").map(key_of).transpose()?,
        value: input.one("value").map(str::to_owned),
    };
    let found = inventory.by_attr(&query, presentation.page).await?;
    render::list(&inventory, found, presentation).await
}

async fn from_pools(
    Presented(input, presentation): Presented<Input>,
    inventory: web::Data<Inventory>,
) -> Result<HttpResponse, ClustoError> {
    let pools = input.some_names("pool", "Provide at least one pool to get data from")?;
    let types = input
        .all("type")
        .into_iter()
        .map(|t| {
            DriverType::parse(t).ok_or_else(|| {
                ClustoError::precondition(format!("The type \"{t}\" is not a valid type"))
            })
        })
        .collect::<Result<_, _>>()?;
    let query = PoolQuery {
        pools,
        drivers: input
            .all("driver")
            .into_iter()
            .map(driver)
            .collect::<Result<_, _>>()?,
        types,
        children: input
            .one("children")
            .map_or(Ok(true), |c| boolean("children", c))?,
    };
    let found = inventory.from_pools(&query, presentation.page).await?;
    render::list(&inventory, found, presentation).await
}
