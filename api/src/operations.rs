//! Operational endpoints: `/healthz`.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use serde_json::json;
use strato_domain::health::HealthCheck;

/// Registers the operational routes.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz));
}

/// 200 when every dependency answers, 503 otherwise.
async fn healthz(checks: web::Data<Vec<Arc<dyn HealthCheck>>>) -> HttpResponse {
    for check in checks.iter() {
        if let Err(err) = check.check().await {
            tracing::warn!(error = %err, "health check failed");
            return HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable"}));
        }
    }
    HttpResponse::Ok().json(json!({"status": "ok"}))
}
