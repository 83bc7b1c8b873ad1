//! The inventory family's part of the OpenAPI document.
//!
//! Wire quirks, as the reference has them: parameters come in the query
//! string or in a form (or JSON object) body on any method; answers are JSON
//! written as Python's `json.dumps(sort_keys=True, indent=4)` writes it (on
//! one line with `, ` and `: ` separators under `Clusto-Minify: true`), and
//! errors are a JSON string holding the message.

use utoipa::openapi::RefOr;
use utoipa::openapi::path::{HttpMethod, OperationBuilder};
use utoipa::openapi::schema::Schema;

use super::dto::{AllocationBody, AttributeBody, ClassList, EntityBody, EntityView, MetaBody};
use crate::openapi::{
    Part, answer, done, empty, header_param, json, list, nullable, object, operation, params_body,
    path_param, query_param, string, with_header,
};

const TAG: &str = "inventory";

/// Adds the `Clusto-*` presentation headers.
fn presented(op: OperationBuilder) -> OperationBuilder {
    op.parameter(header_param(
        "Clusto-Mode",
        "`compact` (paths) or `expanded` (whole entities)",
    ))
    .parameter(header_param("Clusto-Page", "page to answer, from 1 (0: all)"))
    .parameter(header_param("Clusto-Per-Page", "entities per page (default 50)"))
    .parameter(header_param(
        "Clusto-Minify",
        "`true`: JSON on one line instead of indented",
    ))
    .response(
        "400",
        done(json("a `Clusto-*` header or a parameter's value is unusable (a JSON string with the message)", string())),
    )
}

/// Adds the error answers an inventory operation may give.
fn errors(mut op: OperationBuilder, statuses: &[(u16, &str)]) -> OperationBuilder {
    if !statuses.iter().any(|(s, _)| *s == 400) {
        op = op.response(
            "400",
            done(json("a parameter, header or body is unusable", string())),
        );
    }
    for (status, why) in statuses {
        op = op.response(
            status.to_string(),
            done(json(
                &format!("{why} (a JSON string with the message)"),
                string(),
            )),
        );
    }
    for (status, why) in [
        (405, "the path exists under other methods"),
        (408, "the body did not arrive in time"),
        (412, "a name or parameter is unusable"),
        (413, "the body is too large"),
        (415, "the body is neither a form nor JSON"),
        (503, "the database is unavailable"),
    ] {
        if !statuses.iter().any(|(s, _)| *s == status) {
            op = op.response(status.to_string(), done(json(why, string())));
        }
    }
    op
}

/// A list answer with its paging headers.
fn paged(description: &str, items: RefOr<Schema>) -> utoipa::openapi::response::Response {
    let response = json(description, list(items));
    let response = with_header(
        response,
        "Clusto-Pages",
        "how many pages there are (when paged)",
    );
    let response = with_header(response, "Clusto-Page", "the page answered (when paged)");
    done(with_header(
        response,
        "Clusto-Per-Page",
        "entities per page (when paged)",
    ))
}

/// A body of the named text parameters.
fn params(names: &[(&str, bool)]) -> RefOr<Schema> {
    let properties: Vec<(&str, RefOr<Schema>, bool)> =
        names.iter().map(|(n, r)| (*n, string(), *r)).collect();
    object(&properties)
}

/// The inventory's endpoints.
pub(crate) fn part() -> Part {
    let mut part = Part::default();
    let entity = part.schema::<EntityView>();
    let expanded = part.schema::<EntityBody>();
    let attribute = part.schema::<AttributeBody>();
    let allocation = part.schema::<AllocationBody>();
    let meta = part.schema::<MetaBody>();
    let classes = part.schema::<ClassList>();
    let html = |d: &str| {
        done(
            answer(d, "text/html", string()).content(
                "text/plain",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(string()))
                    .build(),
            ),
        )
    };

    // Meta.
    part.add(
        "/",
        HttpMethod::Get,
        operation(
            TAG,
            "documentation",
            "The API's documentation",
            "HTML, or plain text when the client accepts only `text/plain`.",
        )
        .response("200", html("the documentation"))
        .build(),
    );
    part.add(
        "/",
        HttpMethod::Head,
        operation(TAG, "head", "The server answers", "")
            .response("200", done(empty("the server answers")))
            .build(),
    );
    for (path, id) in [
        ("/__doc__", "doc"),
        ("/entity/__doc__", "entity_doc"),
        ("/attribute/__doc__", "attribute_doc"),
        ("/resourcemanager/__doc__", "resourcemanager_doc"),
    ] {
        part.add(
            path,
            HttpMethod::Get,
            operation(
                TAG,
                id,
                "Documentation of a part of the API",
                "HTML, or plain text when the client accepts only `text/plain`.",
            )
            .response("200", html("the documentation"))
            .build(),
        );
    }
    part.add(
        "/__version__",
        HttpMethod::Get,
        errors(
            presented(operation(
                TAG,
                "version",
                "strato's version",
                "A JSON string.",
            ))
            .response("200", done(json("the version", string()))),
            &[],
        )
        .build(),
    );
    part.add(
        "/__meta__",
        HttpMethod::Get,
        errors(
            presented(operation(
                TAG,
                "meta",
                "The server and its applications",
                "",
            ))
            .response("200", done(json("the server's description", meta))),
            &[],
        )
        .build(),
    );
    part.add(
        "/driverlist",
        HttpMethod::Get,
        errors(
            presented(operation(
                TAG,
                "driverlist",
                "Every driver and its type",
                "",
            ))
            .response("200", done(json("driver → type", classes.clone()))),
            &[],
        )
        .build(),
    );
    part.add(
        "/typelist",
        HttpMethod::Get,
        errors(
            presented(operation(TAG, "typelist", "Every type and its driver", ""))
                .response("200", done(json("type → driver", classes))),
            &[],
        )
        .build(),
    );
    part.add(
        "/favicon.ico",
        HttpMethod::Get,
        operation(TAG, "favicon", "No icon", "")
            .response("410", done(empty("there is no icon")))
            .build(),
    );

    // Queries.
    part.add(
        "/by-name/{name}",
        HttpMethod::Get,
        errors(
            presented(operation(
                TAG,
                "by_name",
                "One entity by name",
                "Expanded unless `Clusto-Mode: compact`.",
            ))
            .parameter(path_param("name", "the entity's name"))
            .parameter(query_param(
                "driver",
                "refuse the entity unless it has this driver",
                false,
            ))
            .response("200", done(json("the entity", entity.clone()))),
            &[
                (404, "no such entity"),
                (409, "the entity has another driver"),
                (412, "a parameter is unusable"),
            ],
        )
        .build(),
    );
    part.add(
        "/by-names",
        HttpMethod::Get,
        errors(
            presented(operation(
                TAG,
                "by_names",
                "Several entities by name",
                "In the order asked; `null` for a missing one.",
            ))
            .parameter(query_param(
                "name",
                "an entity's name (repeat for more)",
                true,
            ))
            .response(
                "200",
                done(json("every entity", list(nullable(entity.clone())))),
            )
            .response(
                "206",
                done(json(
                    "some are missing (null)",
                    list(nullable(entity.clone())),
                )),
            )
            .response(
                "404",
                done(json(
                    "none exists (every item null)",
                    list(nullable(entity.clone())),
                )),
            ),
            &[(412, "no name given")],
        )
        .build(),
    );
    part.add(
        "/by-attr",
        HttpMethod::Get,
        errors(
            presented(operation(
                TAG,
                "by_attr",
                "Entities holding a matching attribute",
                "",
            ))
            .parameter(query_param("key", "attribute key", true))
            .parameter(query_param("subkey", "attribute subkey", false))
            .parameter(query_param(
                "value",
                "attribute value (its stored text)",
                false,
            ))
            .response("200", paged("the entities, oldest first", entity.clone())),
            &[
                (400, "a header is unusable"),
                (412, "a parameter is unusable"),
            ],
        )
        .build(),
    );
    part.add(
        "/from-pools",
        HttpMethod::Get,
        errors(
            presented(operation(
                TAG,
                "from_pools",
                "Entities in every pool given",
                "",
            ))
            .parameter(query_param("pool", "a pool's name (repeat for more)", true))
            .parameter(query_param(
                "driver",
                "only entities of this driver (repeatable)",
                false,
            ))
            .parameter(query_param(
                "type",
                "only entities of this type (repeatable)",
                false,
            ))
            .parameter(query_param(
                "children",
                "`true`: members of members too",
                false,
            ))
            .response("200", paged("the entities", entity.clone())),
            &[
                (404, "a pool does not exist"),
                (412, "a parameter is unusable"),
            ],
        )
        .build(),
    );

    // Entities.
    for path in ["/entity", "/entity/"] {
        part.add(
            path,
            HttpMethod::Get,
            errors(
                presented(operation(
                    TAG,
                    if path == "/entity" {
                        "entities"
                    } else {
                        "entities_slash"
                    },
                    "Every entity",
                    "",
                ))
                .response("200", paged("the entities, oldest first", entity.clone())),
                &[(400, "a header is unusable")],
            )
            .build(),
        );
    }
    part.add(
        "/entity/{driver}",
        HttpMethod::Get,
        errors(
            presented(operation(
                TAG,
                "entities_of_driver",
                "Entities of a driver",
                "",
            ))
            .parameter(path_param("driver", "a driver's name"))
            .response("200", paged("the entities, oldest first", entity.clone())),
            &[(412, "no such driver")],
        )
        .build(),
    );
    part.add(
        "/entity/{driver}",
        HttpMethod::Post,
        errors(
            presented(operation(
                TAG,
                "create_entities",
                "Create entities",
                "Names that exist already are answered with 202 and named in `Warnings`.",
            ))
            .parameter(path_param("driver", "a driver's name"))
            .request_body(Some(params_body(params(&[("name", true)]), true)))
            .response("201", done(json("the entities' paths", list(string()))))
            .response(
                "202",
                done(with_header(
                    json("the entities' paths; some existed already", list(string())),
                    "Warnings",
                    "which entities existed already",
                )),
            ),
            &[(412, "no such driver, or no name")],
        )
        .build(),
    );
    part.add(
        "/entity/{driver}/{name}",
        HttpMethod::Get,
        errors(
            presented(operation(TAG, "entity", "One entity", ""))
                .parameter(path_param("driver", "its driver"))
                .parameter(path_param("name", "its name"))
                .response("200", done(json("the entity", entity.clone()))),
            &[(404, "no such entity"), (409, "it has another driver")],
        )
        .build(),
    );
    part.add(
        "/entity/{driver}/{name}",
        HttpMethod::Post,
        errors(
            presented(operation(
                TAG,
                "entity_action",
                "Insert devices into, or remove them from, an entity",
                "",
            ))
            .parameter(path_param("driver", "its driver"))
            .parameter(path_param("name", "its name"))
            .request_body(Some(params_body(
                params(&[("action", true), ("device", true)]),
                true,
            )))
            .response("200", done(json("the entity, expanded", expanded.clone()))),
            &[
                (404, "no such entity or device"),
                (409, "a membership rule refuses it"),
                (412, "a parameter is unusable"),
            ],
        )
        .build(),
    );
    part.add(
        "/entity/{driver}/{name}",
        HttpMethod::Delete,
        errors(
            operation(
                TAG,
                "delete_entity",
                "Delete an entity",
                "With its attributes, memberships and allocations.",
            )
            .parameter(path_param("driver", "its driver"))
            .parameter(path_param("name", "its name"))
            .response("204", done(empty("deleted")))
            .response("404", done(empty("no such entity"))),
            &[(409, "it has another driver")],
        )
        .build(),
    );

    // Attributes.
    let attributes = list(attribute.clone());
    for (path, keys) in [
        ("/attribute/{name}", 0),
        ("/attribute/{name}/{key}", 1),
        ("/attribute/{name}/{key}/{subkey}", 2),
        ("/attribute/{name}/{key}/{subkey}/{number}", 3),
    ] {
        let slot = |op: OperationBuilder| {
            let mut op = op.parameter(path_param("name", "the entity's name"));
            for (i, (param, what)) in [
                ("key", "attribute key"),
                ("subkey", "attribute subkey"),
                ("number", "attribute number"),
            ]
            .into_iter()
            .enumerate()
            {
                if i < keys {
                    op = op.parameter(path_param(param, what));
                }
            }
            op
        };
        let id = |verb: &str| format!("{verb}_attribute_{keys}");
        part.add(
            path,
            HttpMethod::Get,
            errors(
                presented(slot(operation(
                    TAG,
                    &id("get"),
                    "The entity's matching attributes",
                    "",
                )))
                .parameter(query_param(
                    "driver",
                    "refuse the entity unless it has this driver",
                    false,
                ))
                .response("200", done(json("the attributes", attributes.clone()))),
                &[
                    (404, "no such entity"),
                    (409, "it has another driver"),
                    (412, "a parameter is unusable"),
                ],
            )
            .build(),
        );
        part.add(
            path,
            HttpMethod::Post,
            errors(
                presented(slot(operation(TAG, &id("add"), "Add attributes", "One attribute from the parameters (`key`, `value`, `subkey`, `number` (an integer, or `true` for the next free one), `datatype`, `mask`), or a JSON object or list of them.")))
                    .request_body(Some(params_body(
                        params(&[("key", false), ("value", false), ("subkey", false), ("number", false), ("datatype", false), ("mask", false)]),
                        true,
                    )))
                    .response("201", done(json("the entity's attributes", attributes.clone()))),
                &[(400, "a value does not fit its datatype"), (404, "no such entity"), (409, "no number is left under the key"), (412, "a parameter is unusable")],
            )
            .build(),
        );
        part.add(
            path,
            HttpMethod::Put,
            errors(
                presented(slot(operation(
                    TAG,
                    &id("set"),
                    "Set an attribute",
                    "Replaces what holds the slot, or adds it.",
                )))
                .request_body(Some(params_body(
                    params(&[("value", true), ("datatype", false), ("mask", false)]),
                    true,
                )))
                .response(
                    "200",
                    done(json("the entity's attributes", attributes.clone())),
                ),
                &[
                    (400, "a value does not fit its datatype"),
                    (404, "no such entity"),
                    (412, "a parameter is unusable"),
                ],
            )
            .build(),
        );
        part.add(
            path,
            HttpMethod::Delete,
            errors(
                presented(slot(operation(
                    TAG,
                    &id("delete"),
                    "Delete the matching attributes",
                    "",
                )))
                .response(
                    "200",
                    done(json("the entity's attributes", attributes.clone())),
                ),
                &[(404, "no such entity"), (412, "a parameter is unusable")],
            )
            .build(),
        );
    }

    // Resource managers.
    for path in ["/resourcemanager", "/resourcemanager/"] {
        part.add(
            path,
            HttpMethod::Get,
            errors(
                presented(operation(
                    TAG,
                    if path == "/resourcemanager" {
                        "managers"
                    } else {
                        "managers_slash"
                    },
                    "Every resource manager",
                    "",
                ))
                .response("200", paged("the managers", entity.clone())),
                &[(400, "a header is unusable")],
            )
            .build(),
        );
    }
    part.add(
        "/resourcemanager/{driver}",
        HttpMethod::Get,
        errors(
            presented(operation(
                TAG,
                "managers_of_driver",
                "Resource managers of a driver",
                "",
            ))
            .parameter(path_param("driver", "a resource manager driver"))
            .response("200", paged("the managers", entity.clone())),
            &[
                (404, "no such driver"),
                (412, "not a resource manager driver"),
            ],
        )
        .build(),
    );
    part.add(
        "/resourcemanager/{driver}",
        HttpMethod::Post,
        errors(
            presented(operation(TAG, "create_manager", "Create a resource manager", "Other parameters are its properties (simplenamemanager: basename, digits, next, leadingZeros; ipmanager: baseip, netmask, gateway)."))
                .parameter(path_param("driver", "a resource manager driver"))
                .request_body(Some(params_body(params(&[("name", true)]), true)))
                .response("201", done(json("the manager, expanded", expanded.clone()))),
            &[(400, "a property is unusable"), (409, "it exists already"), (412, "no such driver or no name")],
        )
        .build(),
    );
    part.add(
        "/resourcemanager/{driver}/{manager}",
        HttpMethod::Get,
        errors(
            presented(operation(
                TAG,
                "manager",
                "One resource manager, with its allocation count",
                "",
            ))
            .parameter(path_param("driver", "its driver"))
            .parameter(path_param("manager", "its name"))
            .response("200", done(json("the manager", expanded))),
            &[
                (404, "no such manager"),
                (409, "not a resource manager, or another driver"),
            ],
        )
        .build(),
    );
    part.add(
        "/resourcemanager/{driver}/{manager}",
        HttpMethod::Post,
        errors(
            presented(operation(
                TAG,
                "allocate",
                "Allocate the next (or the given) resource",
                "To an existing `object`, or (entity name managers) to a new entity of `driver`.",
            ))
            .parameter(path_param("driver", "its driver"))
            .parameter(path_param("manager", "its name"))
            .request_body(Some(params_body(
                params(&[("object", false), ("driver", false), ("resource", false)]),
                true,
            )))
            .response(
                "201",
                done(json(
                    "the recording attribute, or the new entity's path",
                    allocation,
                )),
            ),
            &[
                (400, "the resource is unusable"),
                (404, "no such manager or object"),
                (409, "taken, or nothing left"),
                (412, "a parameter is unusable"),
            ],
        )
        .build(),
    );
    part.add(
        "/resourcemanager/{driver}/{manager}",
        HttpMethod::Delete,
        errors(
            operation(
                TAG,
                "deallocate",
                "Release what a manager allocated to an object",
                "",
            )
            .parameter(path_param("driver", "its driver"))
            .parameter(path_param("manager", "its name"))
            .request_body(Some(params_body(
                params(&[("object", true), ("resource", false)]),
                true,
            )))
            .response("204", done(empty("released"))),
            &[
                (404, "no such manager or object, or nothing allocated"),
                (412, "a parameter is unusable"),
            ],
        )
        .build(),
    );
    part
}
