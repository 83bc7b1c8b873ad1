//! The server's own endpoints: `/`, `/__doc__`, `/__version__`, `/__meta__`,
//! `/driverlist`, `/typelist`, `/favicon.ico`.

use actix_web::http::StatusCode;
use actix_web::http::header::ACCEPT;
use actix_web::{HttpRequest, HttpResponse, web};

use super::docs;
use super::dto::{ClassList, MetaBody};
use super::error::resource;
use super::input::Presentation;
use super::render;

/// The version `/__version__` reports.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource(&["/"])
            .route(web::get().to(documentation))
            .route(web::head().to(version)),
    )
    .service(
        resource(&[
            "/__doc__",
            "/entity/__doc__",
            "/attribute/__doc__",
            "/resourcemanager/__doc__",
        ])
        .route(web::get().to(documentation)),
    )
    .service(resource(&["/__version__"]).route(web::get().to(version)))
    .service(resource(&["/__meta__"]).route(web::get().to(meta)))
    .service(resource(&["/driverlist"]).route(web::get().to(driver_list)))
    .service(resource(&["/typelist"]).route(web::get().to(type_list)))
    .service(resource(&["/favicon.ico"]).route(web::get().to(favicon)));
}

/// HTML documentation, or plain text when the client accepts only that.
async fn documentation(req: HttpRequest) -> HttpResponse {
    let part = req
        .path()
        .strip_suffix("/__doc__")
        .and_then(|p| p.strip_prefix('/'))
        .filter(|p| !p.is_empty());
    let wants_text = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|m| m.trim().starts_with("text/plain")) && !v.contains("text/html")
        });
    if wants_text {
        HttpResponse::Ok()
            .insert_header(("Content-Type", "text/plain"))
            .body(docs::text(part))
    } else {
        HttpResponse::Ok()
            .insert_header(("Content-Type", "text/html; charset=UTF-8"))
            .body(docs::html(part))
    }
}

async fn version(presentation: Presentation) -> HttpResponse {
    render::reply(StatusCode::OK, &VERSION, presentation)
}

async fn meta(presentation: Presentation) -> HttpResponse {
    render::reply(StatusCode::OK, &MetaBody::new(VERSION), presentation)
}

async fn driver_list(presentation: Presentation) -> HttpResponse {
    render::reply(StatusCode::OK, &ClassList::drivers(), presentation)
}

async fn type_list(presentation: Presentation) -> HttpResponse {
    render::reply(StatusCode::OK, &ClassList::types(), presentation)
}

/// Tells browsers to stop asking for an icon.
async fn favicon() -> HttpResponse {
    HttpResponse::Gone()
        .insert_header(("Content-Type", "text/html; charset=UTF-8"))
        .finish()
}
