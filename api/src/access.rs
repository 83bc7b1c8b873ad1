//! What every request goes through first: its request id (kept from
//! `x-request-id` when sane, else a new one; sent back on every answer), a
//! tracing span that carries the id into every log line of the request and
//! of the job it runs, one access line at INFO, and the HTTP metrics.

use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

/// The request id header.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id a request goes by: the client's when it is 1 to 128 visible
/// characters of `[A-Za-z0-9._:-]`, else a new UUID.
fn request_id(given: Option<&HeaderValue>) -> String {
    given
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 128
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// The API family a route belongs to, for the metrics.
fn family(route: &str) -> &'static str {
    if route.starts_with("/api/v1") {
        "clouds"
    } else if route.starts_with("/infrastructures") || route == "/version" {
        "infrastructures"
    } else if matches!(route, "/healthz" | "/livez" | "/readyz" | "/metrics") {
        "operations"
    } else if route == "unmatched" {
        "none"
    } else {
        "inventory"
    }
}

/// The middleware.
pub(crate) async fn access(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(req.headers().get(&REQUEST_ID));
    let method = req.method().to_string();
    let span = tracing::info_span!("request", request_id = %id);
    // Handlers' and extractors' errors arrive here as answers already; an
    // error here comes from a middleware and goes on as it is. (The request
    // must not be cloned before routing: routing needs it unshared.)
    let mut res = next.call(req).instrument(span.clone()).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    let bytes = match res.response().body().size() {
        BodySize::Sized(n) => n,
        BodySize::None | BodySize::Stream => 0,
    };
    let family = family(&route);
    crate::metrics::request(family, &route, &method, status, elapsed);
    span.in_scope(|| {
        tracing::info!(
            method,
            route,
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            bytes,
            "request"
        );
    });
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_request_ids_are_kept_and_others_replaced() {
        let kept = HeaderValue::from_static("req-42.a:b_c");
        assert_eq!(request_id(Some(&kept)), "req-42.a:b_c");
        for bad in ["", "has space", "semi;colon"] {
            let value = HeaderValue::from_str(bad).unwrap();
            assert_eq!(request_id(Some(&value)).len(), 36, "{bad:?}");
        }
        let long = HeaderValue::from_str(&"a".repeat(129)).unwrap();
        assert_eq!(request_id(Some(&long)).len(), 36);
        assert_eq!(request_id(None).len(), 36);
    }

    #[test]
    fn routes_belong_to_families() {
        assert_eq!(family("/api/v1/nodes/{cloud}"), "clouds");
        assert_eq!(family("/by-name/{name}"), "inventory");
        assert_eq!(family("/metrics"), "operations");
        assert_eq!(family("unmatched"), "none");
    }
}
