//! The cloud family's part of the OpenAPI document: every path with and
//! without a cloud name, parameters in a JSON object (or form) body, the
//! `status: ok` / `status: error` envelope.

use utoipa::openapi::RefOr;
use utoipa::openapi::path::{HttpMethod, OperationBuilder};
use utoipa::openapi::schema::{AllOfBuilder, Schema};

use super::dto::{
    AssignmentBody, ErrorBody, ImageBody, LocationBody, NodeBody, ResultBody, SizeBody, StartedBody,
};
use crate::openapi::{Part, done, json, list, object, operation, params_body, string};

const TAG: &str = "clouds";

/// The `{cloud}` path parameter: one of the configured clouds.
fn cloud_param(clouds: &[String]) -> utoipa::openapi::path::Parameter {
    let schema = utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(clouds.iter().cloned()));
    utoipa::openapi::path::ParameterBuilder::new()
        .name("cloud")
        .parameter_in(utoipa::openapi::path::ParameterIn::Path)
        .required(utoipa::openapi::Required::True)
        .description(Some(
            "a configured cloud's name (any other answers the reference's 500)",
        ))
        .schema(Some(schema))
        .build()
}

/// `{"status": "ok"}`.
fn ok_status() -> RefOr<Schema> {
    object(&[("status", string(), true)])
}

/// `schema`'s members and `"status": "ok"`.
fn ok(schema: RefOr<Schema>) -> RefOr<Schema> {
    AllOfBuilder::new().item(schema).item(ok_status()).into()
}

/// The envelope's error answers.
fn errors(
    op: OperationBuilder,
    error: &RefOr<Schema>,
    statuses: &[(u16, &str)],
) -> OperationBuilder {
    let mut op = op;
    for (status, why) in statuses.iter().chain(&[
        (405, "the path exists under other methods"),
        (500, "Cloud not valid or wrong path: no such cloud"),
        (503, "the database is unavailable"),
    ]) {
        op = op.response(status.to_string(), done(json(why, error.clone())));
    }
    op
}

/// The cloud API's endpoints, on the configured `clouds`.
pub(crate) fn part(clouds: &[String]) -> Part {
    let mut part = Part::default();
    let error = part.schema::<ErrorBody>();
    let node = part.schema::<NodeBody>();
    let image = part.schema::<ImageBody>();
    let size = part.schema::<SizeBody>();
    let location = part.schema::<LocationBody>();
    let started = part.schema::<StartedBody>();
    let result = part.schema::<ResultBody>();
    let assignment = part.schema::<AssignmentBody>();
    let provider_errors: &[(u16, &str)] = &[
        (501, "the provider lacks the operation"),
        (502, "the provider failed"),
        (504, "the provider did not answer in time"),
    ];

    for (base, with_cloud) in [("", false), ("/{cloud}", true)] {
        let cloud = |op: OperationBuilder| {
            if with_cloud {
                op.parameter(cloud_param(clouds))
            } else {
                op
            }
        };
        let id = |name: &str| {
            if with_cloud {
                format!("{name}_of_cloud")
            } else {
                name.to_owned()
            }
        };
        for (path, member, items, what) in [
            ("nodes", "nodes", node.clone(), "The cloud's nodes"),
            (
                "images",
                "images",
                image.clone(),
                "The images nodes start from",
            ),
            (
                "sizes",
                "flavors",
                size.clone(),
                "The sizes nodes can have (as flavors)",
            ),
            (
                "locations",
                "locations",
                location.clone(),
                "Where nodes can run",
            ),
        ] {
            part.add(
                format!("/api/v1/{path}{base}"),
                HttpMethod::Get,
                errors(
                    cloud(operation(
                        TAG,
                        &id(path),
                        what,
                        "On the cloud named, or on `default`.",
                    ))
                    .response(
                        "200",
                        done(json(
                            "the listing",
                            ok(object(&[(member, list(items), true)])),
                        )),
                    ),
                    &error,
                    provider_errors,
                )
                .build(),
            );
        }
        part.add(
            format!("/api/v1/vm/start{base}"),
            HttpMethod::Post,
            errors(
                cloud(operation(TAG, &id("start"), "Create a node", "Runs as a durable job the request waits for; the node is recorded in the inventory as a `basicvirtualserver`."))
                    .request_body(Some(params_body(
                        object(&[
                            ("name", string(), true),
                            ("image", string(), true),
                            ("size", string(), true),
                            ("location", string(), false),
                            ("keyname", string(), false),
                        ]),
                        true,
                    )))
                    .response("200", done(json("the node", ok(started.clone())))),
                &error,
                &[(400, "a parameter is missing or malformed"), (404, "no such image, size or location"), (408, "the body did not arrive in time"), (413, "the body is too large"), (415, "the body is neither JSON nor a form"), (501, "the provider lacks the operation"), (502, "the provider failed"), (504, "the provider did not answer in time")],
            )
            .build(),
        );
        part.add(
            format!("/api/v1/vm/stop{base}"),
            HttpMethod::Put,
            errors(
                cloud(operation(TAG, &id("stop"), "Destroy a node", "Runs as a durable job the request waits for; its record is marked terminated and released."))
                    .request_body(Some(params_body(object(&[("node", string(), true)]), true)))
                    .response("200", done(json("done", ok(result.clone())))),
                &error,
                &[(400, "a parameter is missing or malformed"), (404, "no such node"), (501, "the provider lacks the operation"), (502, "the provider failed"), (504, "the provider did not answer in time")],
            )
            .build(),
        );
        for (verb, summary) in [
            ("assign", "Assign a node to a user and an application"),
            ("release", "Release an assigned node"),
        ] {
            let mut fields = vec![
                ("node", string(), false),
                ("hostname", string(), false),
                ("emulate", string(), false),
            ];
            if verb == "assign" {
                fields.push(("user", string(), true));
                fields.push(("vm_type", string(), true));
            }
            part.add(
                format!("/api/v1/vm/action/{verb}{base}"),
                HttpMethod::Put,
                errors(
                    cloud(operation(TAG, &id(verb), summary, "The node is named by `node` (its id) or `hostname`; `emulate=True` answers the reference's documentation example and changes nothing."))
                        .request_body(Some(params_body(object(&fields), true)))
                        .response("200", done(json("done", ok(assignment.clone())))),
                    &error,
                    &[(400, "a parameter is missing or malformed"), (404, "no such node"), (409, "assigned already (assign) or not assigned (release)"), (502, "the provider failed")],
                )
                .build(),
            );
        }
    }
    part
}
