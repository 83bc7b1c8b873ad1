//! The whole API's OpenAPI 3.1 document at `GET /openapi.json`, assembled
//! from each family's part, and its browsable page at `GET /docs` (Swagger
//! UI, its assets compiled in, so it works with no internet access).

use std::collections::BTreeMap;

use actix_web::web;
use utoipa::openapi::path::{PathItemBuilder, PathsBuilder};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa_swagger_ui::SwaggerUi;

use crate::openapi::{Endpoint, Part};

const DESCRIPTION: &str = "One service for the inventory (the Clusto API server's API: \
entities, attributes, pools, resource managers) and the clouds that host it (the \
libcloud-based orchestrator's `/api/v1`), plus operational endpoints.\n\n\
Wire quirks kept from the reference APIs: the inventory takes its parameters from the \
query string or from a form (or JSON object) body on any method, writes JSON as \
Python's `json.dumps(sort_keys=True, indent=4)` does (one line with `, ` and `: ` \
under `Clusto-Minify: true`) and answers errors as a JSON string; documentation \
pages answer HTML or `text/plain`; the cloud API wraps answers in `\"status\": \"ok\"` \
and errors in `\"status\": \"error\"` with the status code and its descriptions, and \
answers an unknown cloud or path with the reference's 500 `Cloud not valid or wrong path`; \
the infrastructures family (`/infrastructures`, `/version`) follows the Infrastructure \
Manager's REST API: IM credentials in `Authorization`, RADL bodies, answers as text, \
`text/uri-list` or JSON as `Accept` asks, errors as text, JSON or HTML. \
Every answer carries an `x-request-id` header.";

/// The document, naming the configured `clouds`.
pub(crate) fn document(clouds: &[String]) -> OpenApi {
    let parts = [
        crate::inventory::api_doc(),
        crate::clouds::api_doc(clouds),
        crate::infrastructures::api_doc(),
        crate::operations::api_doc(),
    ];
    let mut items: BTreeMap<String, Vec<Endpoint>> = BTreeMap::new();
    let mut components = ComponentsBuilder::new();
    for Part { endpoints, schemas } in parts {
        for endpoint in endpoints {
            items
                .entry(endpoint.path.clone())
                .or_default()
                .push(endpoint);
        }
        for (name, schema) in schemas {
            components = components.schema(name, schema);
        }
    }
    let mut paths = PathsBuilder::new();
    for (path, endpoints) in items {
        let item = endpoints
            .into_iter()
            .fold(PathItemBuilder::new(), |item, e| {
                item.operation(e.method, e.operation)
            })
            .build();
        paths = paths.path(path, item);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("strato")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION)),
        )
        .paths(paths)
        .components(Some(components.build()))
        .tags(Some(
            [
                (
                    "inventory",
                    "Entities, attributes, pools, resource managers, queries",
                ),
                (
                    "clouds",
                    "Clouds: nodes, images, sizes; start, stop, assign, release",
                ),
                (
                    "infrastructures",
                    "IM-compatible infrastructures: VMs described in RADL, their states and operations",
                ),
                ("operations", "Probes, metrics and this document"),
            ]
            .map(|(name, description)| {
                TagBuilder::new()
                    .name(name)
                    .description(Some(description))
                    .build()
            }),
        ))
        .build()
}

/// Registers `/openapi.json` and `/docs`.
pub(crate) fn routes(cfg: &mut web::ServiceConfig, document: &OpenApi) {
    cfg.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", document.clone()))
        .route(
            "/docs",
            web::get().to(|| async {
                actix_web::HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/docs/"))
                    .finish()
            }),
        );
}
