//! Building blocks of the OpenAPI 3.1 document: operations, parameters,
//! bodies and answers, with schemas taken from the families' own answer
//! types (`utoipa::ToSchema`). Each family describes its paths with them
//! (`inventory/api_doc.rs`, `clouds/api_doc.rs`, `operations.rs`), and
//! `docs.rs` assembles the document.

use std::borrow::Cow;

use utoipa::ToSchema;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr, Required};

/// One documented operation.
pub(crate) struct Endpoint {
    /// Path template (`/by-name/{name}`).
    pub(crate) path: String,
    /// Method.
    pub(crate) method: HttpMethod,
    /// What it does, takes and answers.
    pub(crate) operation: Operation,
}

/// A family's part of the document: its endpoints and the schemas they name.
#[derive(Default)]
pub(crate) struct Part {
    /// The endpoints.
    pub(crate) endpoints: Vec<Endpoint>,
    /// Named schemas, by name.
    pub(crate) schemas: Vec<(String, RefOr<Schema>)>,
}

impl Part {
    /// Adds `T`'s schema (and those it names) to the part, and returns a
    /// reference to it.
    pub(crate) fn schema<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let name = T::name();
        if !self.schemas.iter().any(|(n, _)| *n == name) {
            self.schemas.push((name.to_string(), T::schema()));
            T::schemas(&mut self.schemas);
        }
        named(name)
    }

    /// Adds an endpoint.
    pub(crate) fn add(
        &mut self,
        path: impl Into<String>,
        method: HttpMethod,
        operation: Operation,
    ) {
        self.endpoints.push(Endpoint {
            path: path.into(),
            method,
            operation,
        });
    }
}

/// A reference to a named schema.
fn named(name: Cow<'_, str>) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

/// A string.
pub(crate) fn string() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).into()
}

/// `schema` or `null`.
pub(crate) fn nullable(schema: RefOr<Schema>) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(schema)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// A list of `items`.
pub(crate) fn list(items: RefOr<Schema>) -> RefOr<Schema> {
    ArrayBuilder::new().items(items).into()
}

/// An object with these string-valued (or `items`-valued) properties, the
/// required ones marked.
pub(crate) fn object(properties: &[(&str, RefOr<Schema>, bool)]) -> RefOr<Schema> {
    let mut builder = ObjectBuilder::new().schema_type(Type::Object);
    for (name, schema, required) in properties {
        builder = builder.property(*name, schema.clone());
        if *required {
            builder = builder.required(*name);
        }
    }
    builder.into()
}

/// An operation of a family (its tag), with a summary and a description.
pub(crate) fn operation(tag: &str, id: &str, summary: &str, description: &str) -> OperationBuilder {
    OperationBuilder::new()
        .tag(tag)
        .operation_id(Some(id))
        .summary(Some(summary))
        .description((!description.is_empty()).then_some(description))
}

/// A text parameter.
fn param(name: &str, place: ParameterIn, required: bool, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(place)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .description(Some(description))
        .schema(Some(string()))
        .build()
}

/// A path parameter.
pub(crate) fn path_param(name: &str, description: &str) -> Parameter {
    param(name, ParameterIn::Path, true, description)
}

/// A query parameter.
pub(crate) fn query_param(name: &str, description: &str, required: bool) -> Parameter {
    param(name, ParameterIn::Query, required, description)
}

/// A request header.
pub(crate) fn header_param(name: &str, description: &str) -> Parameter {
    param(name, ParameterIn::Header, false, description)
}

/// A request body of parameters sent as a form or as a JSON object.
pub(crate) fn params_body(schema: RefOr<Schema>, required: bool) -> RequestBody {
    RequestBodyBuilder::new()
        .required(Some(if required {
            Required::True
        } else {
            Required::False
        }))
        .content(
            "application/x-www-form-urlencoded",
            ContentBuilder::new().schema(Some(schema.clone())).build(),
        )
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .build()
}

/// An answer with a body of `content_type` following `schema`.
pub(crate) fn answer(
    description: &str,
    content_type: &str,
    schema: RefOr<Schema>,
) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        content_type,
        ContentBuilder::new().schema(Some(schema)).build(),
    )
}

/// A JSON answer.
pub(crate) fn json(description: &str, schema: RefOr<Schema>) -> ResponseBuilder {
    answer(description, "application/json", schema)
}

/// An answer without a body.
pub(crate) fn empty(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description)
}

/// Adds a response header.
pub(crate) fn with_header(
    response: ResponseBuilder,
    name: &str,
    description: &str,
) -> ResponseBuilder {
    response.header(
        name,
        HeaderBuilder::new()
            .schema(string())
            .description(Some(description))
            .build(),
    )
}

/// Finishes a response.
pub(crate) fn done(response: ResponseBuilder) -> Response {
    response.build()
}
