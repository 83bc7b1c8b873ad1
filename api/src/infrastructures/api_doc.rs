//! The IM family's part of the OpenAPI document: its paths, the
//! representations `Accept` picks (text, `text/uri-list` or JSON), RADL
//! bodies, and errors as text, JSON or HTML.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, Required};

use super::error::ImErrorBody;
use super::reply::{
    ContmsgBody, DataBody, OwnersBody, RadlTextBody, StateBody, UriBody, UriListBody, VersionBody,
    VmRadlBody,
};
use crate::openapi::{
    Part, done, list, object, operation, path_param, query_param, string, with_header,
};

const TAG: &str = "infrastructures";

const AUTHENTICATED: &str = "Send the caller's IM credentials in `Authorization` (an IM auth \
file on one line, its lines separated by the two characters `\\n`, e.g. `type = \
InfrastructureManager; username = u; password = p`; or `Basic` credentials).";

/// A free JSON object.
fn any_object() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::Object).into()
}

/// A string that is one of `values`.
fn one_of(values: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .into()
}

/// A path parameter taking one of `values`.
fn path_choice(name: &str, description: &str, values: &[&str]) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(one_of(values)))
        .build()
}

/// A query flag.
fn flag(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(format!(
            "{description}; `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`, in any case"
        )))
        .schema(Some(string()))
        .build()
}

fn id_param() -> Parameter {
    path_param("id", "the infrastructure's id")
}

fn vm_param() -> Parameter {
    path_param("vm", "the VM's id (an integer)")
}

/// A RADL document, as RADL text or JSON RADL.
fn radl_body(required: bool) -> RequestBody {
    RequestBodyBuilder::new()
        .required(Some(if required {
            Required::True
        } else {
            Required::False
        }))
        .description(Some(
            "a RADL document: RADL text (`Content-Type` absent, `text/plain`, `text/*` or \
             `*/*`) or JSON RADL (`application/json`)",
        ))
        .content(
            "text/plain",
            ContentBuilder::new().schema(Some(string())).build(),
        )
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(list(any_object())))
                .build(),
        )
        .build()
}

/// A JSON body.
fn json_body(description: &str, schema: RefOr<Schema>) -> RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .description(Some(description))
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .build()
}

/// An answer in one of these representations.
fn answer(description: &str, contents: &[(&str, RefOr<Schema>)]) -> ResponseBuilder {
    contents.iter().fold(
        ResponseBuilder::new().description(description),
        |r, (kind, schema)| {
            r.content(
                *kind,
                ContentBuilder::new().schema(Some(schema.clone())).build(),
            )
        },
    )
}

/// URIs: `text/uri-list` by default, or JSON.
fn uris(description: &str, json: RefOr<Schema>) -> ResponseBuilder {
    answer(
        description,
        &[("text/uri-list", string()), ("application/json", json)],
    )
}

/// Text by default, or JSON.
fn text(description: &str, json: RefOr<Schema>) -> ResponseBuilder {
    answer(
        description,
        &[("text/plain", string()), ("application/json", json)],
    )
}

/// A 200 with an empty `text/plain` body.
fn nothing() -> ResponseBuilder {
    answer("done (an empty body)", &[("text/plain", string())])
}

/// An error answer: the message as text, JSON or an HTML page.
fn error(why: &str, body: &RefOr<Schema>) -> Response {
    done(answer(
        why,
        &[
            ("text/plain", string()),
            ("application/json", body.clone()),
            ("text/html", string()),
        ],
    ))
}

/// What an operation checks, for its error answers.
#[derive(Debug, Clone, Copy, Default)]
struct Checks {
    /// Credentials are required.
    auth: bool,
    /// The path names an infrastructure.
    infrastructure: bool,
    /// The path names a VM.
    vm: bool,
    /// `Accept` is negotiated.
    accept: bool,
    /// A body is read.
    body: bool,
    /// Query flags or parameters are read.
    query: bool,
}

/// Adds the error answers an operation's checks give, then its own.
fn errors(
    op: OperationBuilder,
    body: &RefOr<Schema>,
    checks: Checks,
    own: &[(u16, &str)],
) -> OperationBuilder {
    let mut statuses: Vec<(u16, String)> = Vec::new();
    let mut add = |status: u16, why: &str| match statuses.iter_mut().find(|(s, _)| *s == status) {
        Some((_, text)) => {
            text.push_str("; ");
            text.push_str(why);
        }
        None => statuses.push((status, why.to_owned())),
    };
    if checks.query {
        add(
            400,
            "a query flag has another value, or a required parameter is missing",
        );
    }
    if checks.body {
        add(400, "Error parsing request body: the body cannot be parsed");
        add(408, "the body did not arrive in time");
        add(413, "Request body too large");
        add(415, "the body's Content-Type is not one the route reads");
    }
    if checks.auth {
        add(401, "no credentials, or invalid ones");
        add(500, "Internal server error");
    }
    if checks.infrastructure {
        add(403, "Access to this infrastructure not granted.");
        add(404, "Invalid infrastructure ID or access not granted.");
    }
    if checks.vm {
        add(404, "Invalid VM ID, or Deleted VM.");
    }
    if checks.accept {
        add(415, "Unsupported Accept Media Types");
    }
    for (status, why) in own {
        add(*status, why);
    }
    statuses.sort_by_key(|(s, _)| *s);
    statuses.into_iter().fold(op, |op, (status, why)| {
        op.response(status.to_string(), error(&why, body))
    })
}

/// The IM family's endpoints.
pub(crate) fn part() -> Part {
    let mut part = Part::default();
    let err = part.schema::<ImErrorBody>();
    let uri = part.schema::<UriBody>();
    let uri_list = part.schema::<UriListBody>();
    let state = part.schema::<StateBody>();
    let data = part.schema::<DataBody>();
    let owners = part.schema::<OwnersBody>();
    let radl_text = part.schema::<RadlTextBody>();
    let vm_radl = part.schema::<VmRadlBody>();
    let contmsg = part.schema::<ContmsgBody>();
    let version = part.schema::<VersionBody>();
    let all = Checks {
        auth: true,
        infrastructure: true,
        accept: true,
        ..Checks::default()
    };
    let inf_id = |r: ResponseBuilder| with_header(r, "InfID", "the infrastructure's id");
    let op = |id: &str, summary: &str, description: &str| {
        let text = if description.is_empty() {
            AUTHENTICATED.to_owned()
        } else {
            format!("{description}\n\n{AUTHENTICATED}")
        };
        operation(TAG, id, summary, &text)
    };

    part.add(
        "/version",
        HttpMethod::Get,
        operation(
            TAG,
            "im_version",
            "strato's version",
            "No credentials needed.",
        )
        .response("200", done(text("the version", version)))
        .response("415", error("Unsupported Accept Media Types", &err))
        .build(),
    );
    part.add(
        "/infrastructures",
        HttpMethod::Get,
        errors(
            op(
                "im_list",
                "The caller's infrastructures",
                "Their URIs, newest first.",
            )
            .parameter(query_param("filter", "ignored", false))
            .response("200", done(uris("the URIs", uri_list.clone()))),
            &err,
            Checks {
                infrastructure: false,
                ..all
            },
            &[],
        )
        .build(),
    );
    part.add(
        "/infrastructures",
        HttpMethod::Post,
        errors(
            op(
                "im_create",
                "Create an infrastructure",
                "Launches the VMs of the RADL document's `deploy` sentences and answers once \
                 they are launched, or at once with `async`; `dry_run` launches nothing and \
                 answers what each cloud would be asked for.",
            )
            .parameter(flag("async", "answer right after validation (default 0)"))
            .parameter(flag("dry_run", "estimate only (default 0)"))
            .request_body(Some(radl_body(true)))
            .response(
                "200",
                done(inf_id(answer(
                    "the new infrastructure's URI (or, with `dry_run`, the estimate)",
                    &[
                        ("text/uri-list", string()),
                        ("application/json", uri.clone()),
                    ],
                ))),
            ),
            &err,
            Checks {
                infrastructure: false,
                body: true,
                query: true,
                ..all
            },
            &[(
                400,
                "the RADL is invalid, no cloud can take the VMs, or every VM failed",
            )],
        )
        .build(),
    );
    part.add(
        "/infrastructures",
        HttpMethod::Put,
        errors(
            op(
                "im_import",
                "Import an infrastructure",
                "The body is the `data` string an export answered; the caller becomes its only owner.",
            )
            .request_body(Some(json_body("the export document", any_object())))
            .response("200", done(uris("the infrastructure's URI", uri.clone()))),
            &err,
            Checks {
                infrastructure: false,
                body: true,
                ..all
            },
            &[(400, "the id is taken, or the document is not an export")],
        )
        .build(),
    );
    part.add(
        "/infrastructures/{id}",
        HttpMethod::Get,
        errors(
            op(
                "im_vms",
                "The infrastructure's VMs",
                "Their URIs, by ascending id.",
            )
            .parameter(id_param())
            .response("200", done(uris("the VMs' URIs", uri_list.clone()))),
            &err,
            all,
            &[],
        )
        .build(),
    );
    part.add(
        "/infrastructures/{id}",
        HttpMethod::Post,
        errors(
            op(
                "im_add",
                "Add VMs",
                "The document may refer to stored systems and networks; answers the new VMs' URIs in `deploy` order.",
            )
            .parameter(id_param())
            .parameter(flag("context", "contextualise again (default 1)"))
            .request_body(Some(radl_body(true)))
            .response("200", done(inf_id(uris("the new VMs' URIs", uri_list.clone())))),
            &err,
            Checks {
                body: true,
                query: true,
                ..all
            },
            &[(400, "Error Adding resources: the RADL is invalid, or every new VM failed")],
        )
        .build(),
    );
    part.add(
        "/infrastructures/{id}",
        HttpMethod::Delete,
        errors(
            op(
                "im_destroy",
                "Destroy the infrastructure",
                "Destroys its VMs, then forgets it.",
            )
            .parameter(id_param())
            .parameter(flag(
                "force",
                "forget it even if a VM cannot be destroyed (default 0)",
            ))
            .parameter(flag("async", "answer at once (default 0)"))
            .response("200", done(nothing())),
            &err,
            Checks {
                accept: false,
                query: true,
                ..all
            },
            &[
                (400, "the provider failed"),
                (
                    409,
                    "Error Destroying Inf: Invalid State to perform this operation.",
                ),
            ],
        )
        .build(),
    );
    part.add(
        "/infrastructures/{id}/authorization",
        HttpMethod::Get,
        errors(
            op(
                "im_owners",
                "The owners",
                "Usernames in the order they were added, one per line.",
            )
            .parameter(id_param())
            .response("200", done(text("the usernames", owners))),
            &err,
            all,
            &[],
        )
        .build(),
    );
    part.add(
        "/infrastructures/{id}/authorization",
        HttpMethod::Post,
        errors(
            op(
                "im_add_owner",
                "Add an owner",
                "`overwrite` makes the new owner the only one.",
            )
            .parameter(id_param())
            .parameter(flag("overwrite", "replace every owner (default 0)"))
            .request_body(Some(json_body(
                "the new owner's credentials",
                object(&[
                    ("type", string(), false),
                    ("username", string(), false),
                    ("password", string(), false),
                    ("token", string(), false),
                ]),
            )))
            .response("200", done(nothing())),
            &err,
            Checks {
                accept: false,
                body: true,
                query: true,
                ..all
            },
            &[(400, "Error parsing auth data, or invalid new owner data")],
        )
        .build(),
    );
    part.add(
        "/infrastructures/{id}/authorization",
        HttpMethod::Put,
        operation(TAG, "im_operate_authorization", "Not an operation", "")
            .parameter(id_param())
            .response("404", error("Operation not found", &err))
            .build(),
    );
    part.add(
        "/infrastructures/{id}/{property}",
        HttpMethod::Get,
        errors(
            op(
                "im_property",
                "A property of the infrastructure",
                "`state` and `data` answer JSON only; `radl` and `contmsg` text or JSON; \
                 `outputs` and `tosca` exist only for TOSCA documents (403).",
            )
            .parameter(id_param())
            .parameter(path_choice(
                "property",
                "the property",
                &["state", "radl", "contmsg", "data", "outputs", "tosca"],
            ))
            .parameter(flag("headeronly", "`contmsg`: the infrastructure's log only (default 0)"))
            .parameter(flag("delete", "`data`: forget the infrastructure here (default 0)"))
            .response(
                "200",
                done(answer(
                    "the property",
                    &[
                        ("text/plain", string()),
                        (
                            "application/json",
                            utoipa::openapi::schema::OneOfBuilder::new()
                                .item(state)
                                .item(data)
                                .item(radl_text)
                                .item(contmsg)
                                .into(),
                        ),
                    ],
                )),
            ),
            &err,
            Checks { query: true, ..all },
            &[
                (403, "'outputs' (or 'tosca') infrastructure property is not valid in this infrastructure"),
                (404, "Incorrect infrastructure property"),
            ],
        )
        .build(),
    );
    part.add(
        "/infrastructures/{id}/{property}",
        HttpMethod::Put,
        errors(
            op(
                "im_operate",
                "Stop, start or reconfigure the infrastructure",
                "`reconfigure` takes an optional RADL body (its `configure` and `contextualize` \
                 sentences replace the stored ones) and `vm_list`, and answers `InfID`.",
            )
            .parameter(id_param())
            .parameter(path_choice(
                "property",
                "the operation",
                &["stop", "start", "reconfigure"],
            ))
            .parameter(query_param(
                "vm_list",
                "`reconfigure`: comma-separated VM ids",
                false,
            ))
            .request_body(Some(radl_body(false)))
            .response("200", done(inf_id(nothing()))),
            &err,
            Checks {
                accept: false,
                body: true,
                ..all
            },
            &[
                (400, "the provider failed, or Incorrect vm_list format."),
                (404, "Operation not found"),
            ],
        )
        .build(),
    );
    let vm = Checks { vm: true, ..all };
    part.add(
        "/infrastructures/{id}/vms/{vm}",
        HttpMethod::Get,
        errors(
            op(
                "im_vm_info",
                "A VM's RADL",
                "Its networks and its system, with what the provider reported.",
            )
            .parameter(id_param())
            .parameter(vm_param())
            .response("200", done(text("the VM's RADL", vm_radl.clone()))),
            &err,
            vm,
            &[],
        )
        .build(),
    );
    part.add(
        "/infrastructures/{id}/vms/{vm}",
        HttpMethod::Put,
        errors(
            op(
                "im_alter",
                "Alter a VM",
                "Applies the features of the body's first `system`; answers the VM's new RADL.",
            )
            .parameter(id_param())
            .parameter(vm_param())
            .request_body(Some(radl_body(true)))
            .response("200", done(text("the VM's new RADL", vm_radl))),
            &err,
            Checks { body: true, ..vm },
            &[(400, "Error modifying resources: the provider failed")],
        )
        .build(),
    );
    part.add(
        "/infrastructures/{id}/vms/{vm}",
        HttpMethod::Delete,
        errors(
            op(
                "im_remove_vms",
                "Remove VMs",
                "`{vm}` may be a comma-separated list; one bad id removes nothing.",
            )
            .parameter(id_param())
            .parameter(path_param("vm", "a VM id, or comma-separated VM ids"))
            .parameter(flag(
                "context",
                "contextualise the other VMs again (default 1)",
            ))
            .response("200", done(nothing())),
            &err,
            Checks {
                accept: false,
                query: true,
                ..vm
            },
            &[(400, "the provider failed")],
        )
        .build(),
    );
    part.add(
        "/infrastructures/{id}/vms/{vm}/{property}",
        HttpMethod::Get,
        errors(
            op(
                "im_vm_feature",
                "A feature of a VM",
                "Any feature of the VM's system (`state`, `cpu.count`, `net_interface.0.ip`…), or \
                 `contmsg`, its log; numbers in base units.",
            )
            .parameter(id_param())
            .parameter(vm_param())
            .parameter(path_param("property", "the feature"))
            .response("200", done(text("the value", any_object()))),
            &err,
            vm,
            &[(404, "Incorrect property <feature> for VM ID <n>")],
        )
        .build(),
    );
    part.add(
        "/infrastructures/{id}/vms/{vm}/{property}",
        HttpMethod::Put,
        errors(
            op("im_operate_vm", "Start, stop or reboot a VM", "")
                .parameter(id_param())
                .parameter(vm_param())
                .parameter(path_choice(
                    "property",
                    "the operation",
                    &["start", "stop", "reboot"],
                ))
                .response("200", done(nothing())),
            &err,
            Checks {
                accept: false,
                ..vm
            },
            &[(400, "the provider failed"), (404, "Operation not found")],
        )
        .build(),
    );
    part.add(
        "/infrastructures/{id}/vms/{vm}/disks/{disk}/snapshot",
        HttpMethod::Put,
        errors(
            op(
                "im_snapshot",
                "Snapshot a VM's disk",
                "Answers the new image's URL as text.",
            )
            .parameter(id_param())
            .parameter(vm_param())
            .parameter(path_param("disk", "the disk's number"))
            .parameter(query_param("image_name", "the new image's name", true))
            .parameter(flag(
                "auto_delete",
                "delete the image with the infrastructure (default 0)",
            ))
            .response(
                "200",
                done(answer("the image's URL", &[("text/plain", string())])),
            ),
            &err,
            Checks {
                accept: false,
                query: true,
                ..vm
            },
            &[(400, "the provider failed")],
        )
        .build(),
    );
    part
}
