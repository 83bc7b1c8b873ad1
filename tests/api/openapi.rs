//! The OpenAPI document and the routes agree: every route the sources
//! register has a path in the document, every documented operation answers
//! (no unknown-path answer, no 405), and the methods a documented path does
//! not list answer 405.

use std::collections::BTreeSet;
use std::path::Path;

use crate::helpers::{Db, spawn_app};

const METHODS: [&str; 4] = ["get", "post", "put", "delete"];

/// The path templates the API's sources register.
fn registered_paths() -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src");
    let mut paths = BTreeSet::new();
    let mut files = vec![src];
    while let Some(entry) = files.pop() {
        if entry.is_dir() {
            files.extend(
                std::fs::read_dir(&entry)
                    .unwrap()
                    .map(|e| e.unwrap().path()),
            );
            continue;
        }
        let text = std::fs::read_to_string(&entry).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
        let cloud_api = entry.ends_with("clouds.rs");
        for line in code.lines().map(str::trim) {
            let registers = line.contains("resource(")
                || line.contains(".route(")
                || line.contains("SwaggerUi::new(")
                || line.contains(".url(");
            let in_list = line.starts_with('"') && line.ends_with("\",") && line.contains('/');
            if !(registers || in_list) || line.starts_with("//") {
                continue;
            }
            for literal in line.split('"').skip(1).step_by(2) {
                if literal.starts_with('/') {
                    paths.insert(literal.replace("{_:.*}", "{path}"));
                } else if cloud_api && line.contains("resource(\"") {
                    paths.insert(format!("/api/v1/{literal}"));
                    paths.insert(format!("/api/v1/{literal}/{{cloud}}"));
                }
            }
        }
    }
    paths
}

/// A path with sample values for its parameters.
fn sample(path: &str) -> String {
    path.replace("{cloud}", "default")
        .replace("{driver}", "basicserver")
        .replace("{manager}", "nomanager")
        .replace("{name}", "noentity")
        .replace("{key}", "k")
        .replace("{subkey}", "s")
        .replace("{number}", "0")
        .replace("{path}", "index.html")
}

/// Whether an answer is the one for a path no route has.
fn unrouted(path: &str, status: u16, body: &str) -> bool {
    if path.starts_with("/api/v1") {
        status == 500 && body.contains("Cloud not valid or wrong path")
    } else {
        status == 404 && body.contains("Not found: /")
    }
}

#[tokio::test]
async fn the_document_and_the_routes_agree() {
    let app = spawn_app(Db::Sqlite).await;
    let reply = app.get("/openapi.json").await;
    assert_eq!(reply.status, 200);
    let document = reply.json();
    assert_eq!(document["openapi"], "3.1.0");
    let documented: BTreeSet<String> = document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();

    let registered = registered_paths();
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes without a path in the document: {undocumented:?}"
    );
    let unregistered: Vec<_> = documented.difference(&registered).collect();
    assert!(
        unregistered.is_empty(),
        "documented paths no route registers: {unregistered:?}"
    );

    let mut wrong = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let url = sample(path);
        for method in METHODS {
            let reply = app.request(&method.to_uppercase(), &url).await;
            if item.get(method).is_some() {
                if reply.status == 405 || unrouted(path, reply.status, &reply.body) {
                    wrong.push(format!(
                        "documented {method} {path} answers {} {}",
                        reply.status, reply.body
                    ));
                }
                let statuses = item[method]["responses"].as_object().unwrap();
                // The client follows redirects: a documented redirect is
                // answered by its target.
                let redirects = statuses.keys().any(|s| s.starts_with('3'));
                if !(statuses.contains_key(&reply.status.to_string()) || redirects) {
                    wrong.push(format!(
                        "{method} {path} answered {} which the document does not list: {}",
                        reply.status, reply.body
                    ));
                }
            } else if !path.starts_with("/docs") && path != "/openapi.json" && reply.status != 405 {
                wrong.push(format!(
                    "undocumented {method} {path} answered {}: {}",
                    reply.status, reply.body
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    app.stop().await;
}

#[tokio::test]
async fn every_schema_the_document_names_is_in_it_and_the_page_is_served() {
    let app = spawn_app(Db::Sqlite).await;
    let document = app.get("/openapi.json").await.json();
    let text = document.to_string();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            schemas.contains_key(name),
            "{name} is named but not defined"
        );
    }
    for family in ["inventory", "clouds", "operations"] {
        assert!(
            document["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == family),
            "{family}"
        );
    }
    let page = app.get("/docs/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.body.contains("swagger"), "{}", page.body);
    let home = app.get_with("/", &[], &[("Accept", "text/html")]).await;
    assert!(
        home.body.contains("/docs"),
        "/ does not link to /docs: {}",
        home.body
    );
    app.stop().await;
}
