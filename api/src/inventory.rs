//! The inventory API (`reference/clusto-apiserver.txt`): entities, attributes,
//! resource managers and queries, with the `Clusto-*` headers and the
//! reference's JSON shapes and error strings.

mod api_doc;
mod attribute;
mod docs;
mod dto;
mod entity;
mod error;
mod input;
mod json;
mod meta;
mod query;
mod render;
mod resource;

use actix_web::web;

pub(crate) use api_doc::part as api_doc;
pub(crate) use error::ClustoError;

/// Registers the inventory routes.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    meta::routes(cfg);
    query::routes(cfg);
    entity::routes(cfg);
    attribute::routes(cfg);
    resource::routes(cfg);
}
