//! Operational endpoints: `/livez` (the process answers), `/readyz` (the
//! database answers with its migrations applied, and the server is not
//! draining), `/healthz` (the database answers), `/metrics` (Prometheus).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::{HttpResponse, web};
use serde::Serialize;
use strato_domain::health::HealthCheck;
use strato_domain::job::{JobKind, JobState, Jobs};
use utoipa::ToSchema;
use utoipa::openapi::path::HttpMethod;

use crate::openapi::{Part, answer, done, empty, json, object, operation, path_param, string};

/// Whether the server still takes new work: false from the stop signal on,
/// so that load balancers stop sending before the listener closes.
#[derive(Debug, Default)]
pub(crate) struct Readiness {
    draining: AtomicBool,
}

impl Readiness {
    /// From now on `/readyz` answers 503.
    pub(crate) fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

/// What the probes check.
pub(crate) type Checks = Vec<Arc<dyn HealthCheck>>;

/// The probes' answer.
#[derive(Debug, Serialize, ToSchema)]
struct Status {
    status: &'static str,
}

/// The operational endpoints' part of the OpenAPI document.
pub(crate) fn api_doc() -> Part {
    let mut part = Part::default();
    let status = part.schema::<Status>();
    let probe = |id: &str, summary: &str, description: &str, fails: Option<&str>| {
        let mut op = operation("operations", id, summary, description)
            .response("200", done(json("ok", status.clone())));
        if let Some(why) = fails {
            op = op.response("503", done(json(why, status.clone())));
        }
        op.build()
    };
    part.add(
        "/livez",
        HttpMethod::Get,
        probe("livez", "The process answers", "", None),
    );
    part.add(
        "/readyz",
        HttpMethod::Get,
        probe(
            "readyz",
            "Ready for traffic",
            "The database answers with its migrations applied, and the server is not draining.",
            Some("not ready: the database does not answer, or the server is draining"),
        ),
    );
    part.add(
        "/healthz",
        HttpMethod::Get,
        probe(
            "healthz",
            "The database answers",
            "",
            Some("the database does not answer"),
        ),
    );
    part.add(
        "/metrics",
        HttpMethod::Get,
        operation(
            "operations",
            "metrics",
            "Prometheus metrics",
            "The Prometheus text format (0.0.4).",
        )
        .response("200", done(answer("the metrics", "text/plain", string())))
        .build(),
    );
    part.add(
        "/openapi.json",
        HttpMethod::Get,
        operation("operations", "openapi", "This document", "")
            .response("200", done(json("the OpenAPI 3.1 document", object(&[]))))
            .build(),
    );
    part.add(
        "/docs",
        HttpMethod::Get,
        operation(
            "operations",
            "docs",
            "The browsable API page",
            "Redirects to `/docs/`.",
        )
        .response("308", done(empty("to /docs/")))
        .build(),
    );
    part.add(
        "/docs/{path}",
        HttpMethod::Get,
        operation(
            "operations",
            "docs_page",
            "The browsable API page and its assets",
            "Swagger UI, compiled in.",
        )
        .parameter(path_param("path", "the page (empty) or one of its assets"))
        .response(
            "200",
            done(answer("the page or asset", "text/html", string())),
        )
        .response("404", done(empty("no such asset")))
        .build(),
    );
    part
}

/// Registers the operational routes.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| {
        web::resource(path).default_service(web::to(|| async {
            HttpResponse::MethodNotAllowed().finish()
        }))
    };
    cfg.service(resource("/livez").route(web::get().to(livez)))
        .service(resource("/readyz").route(web::get().to(readyz)))
        .service(resource("/healthz").route(web::get().to(healthz)))
        .service(resource("/metrics").route(web::get().to(metrics)));
}

fn reply(ok: bool) -> HttpResponse {
    if ok {
        HttpResponse::Ok().json(Status { status: "ok" })
    } else {
        HttpResponse::ServiceUnavailable().json(Status {
            status: "unavailable",
        })
    }
}

/// Whether every dependency answers.
async fn all_answer(checks: &Checks) -> bool {
    for check in checks {
        if let Err(err) = check.check().await {
            tracing::warn!(error = %crate::errors::chain(&err), "health check failed");
            return false;
        }
    }
    true
}

/// 200 while the process answers.
async fn livez() -> HttpResponse {
    reply(true)
}

/// 200 when every dependency answers and the server is not draining.
async fn readyz(checks: web::Data<Checks>, readiness: web::Data<Readiness>) -> HttpResponse {
    reply(!readiness.is_draining() && all_answer(&checks).await)
}

/// 200 when every dependency answers, 503 otherwise.
async fn healthz(checks: web::Data<Checks>) -> HttpResponse {
    reply(all_answer(&checks).await)
}

/// The Prometheus text format, with the queue and pool gauges read now.
async fn metrics(jobs: web::Data<Jobs>, pool: web::Data<PoolGauge>) -> HttpResponse {
    match jobs.stats().await {
        Ok((stats, waited)) => {
            let mut depth = Vec::new();
            for kind in JobKind::ALL {
                for state in [JobState::Queued, JobState::Running] {
                    let count = stats
                        .counts
                        .iter()
                        .find(|(k, s, _)| *k == kind && *s == state)
                        .map_or(0, |(_, _, count)| *count);
                    depth.push((kind, state.as_str(), count));
                }
            }
            crate::metrics::queue(&depth, waited.and_then(|w| w.to_std().ok()));
        }
        Err(err) => {
            tracing::warn!(error = %crate::errors::chain(&err), "cannot read the job queue")
        }
    }
    let (connections, in_use, waits) = (pool.0)();
    crate::metrics::pool(connections, in_use, waits);
    match crate::metrics::handle() {
        Some(handle) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(handle.render()),
        None => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// Reads the database pool: connections open, in use, and waits so far.
pub(crate) struct PoolGauge(pub(crate) Box<dyn Fn() -> (u32, u32, u64) + Send + Sync>);

impl std::fmt::Debug for PoolGauge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PoolGauge")
    }
}
