//! Builds the HTTP server from settings and services.

use std::io;
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use strato_domain::Inventory;
use strato_domain::cloud::Clouds;
use strato_domain::health::HealthCheck;
use tracing_actix_web::TracingLogger;

use crate::body::BodyLimit;
use crate::inventory::{self, ClustoError};
use crate::operations;
use crate::settings::ServerSettings;

/// The domain services the HTTP layer calls.
#[derive(Clone)]
pub struct Services {
    /// Inventory use cases.
    pub inventory: Inventory,
    /// Cloud use cases.
    pub clouds: Clouds,
    /// What `/healthz` checks.
    pub health: Vec<Arc<dyn HealthCheck>>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

/// A bound, not yet running, HTTP server.
pub struct Application {
    server: Server,
    port: u16,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Binds `settings.listen` and builds the server.
    ///
    /// # Errors
    /// When the address cannot be bound or a configured response header is
    /// not a valid header.
    pub fn build(settings: &ServerSettings, services: Services) -> io::Result<Self> {
        let headers = response_headers(settings)?;
        let listener = TcpListener::bind(settings.listen)?;
        let port = listener.local_addr()?.port();
        let limit = settings.max_body_bytes;
        let inventory = web::Data::new(services.inventory);
        let clouds = web::Data::new(services.clouds);
        let health = web::Data::new(services.health);
        let mut server = HttpServer::new(move || {
            let defaults = headers
                .iter()
                .fold(DefaultHeaders::new(), |d, h| d.add(h.clone()));
            App::new()
                .wrap(from_fn(answer_options))
                .wrap(defaults)
                .wrap(TracingLogger::default())
                .app_data(inventory.clone())
                .app_data(clouds.clone())
                .app_data(health.clone())
                .app_data(BodyLimit(limit))
                .app_data(web::PayloadConfig::new(limit))
                .configure(operations::routes)
                .configure(inventory::routes)
                .configure(crate::clouds::routes)
                .default_service(web::to(not_found))
        })
        .listen(listener)?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers.max(1));
        }
        Ok(Self {
            server: server.run(),
            port,
        })
    }

    /// The port the server listens on (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server is stopped (SIGINT/SIGTERM, or its handle).
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> io::Result<()> {
        self.server.await
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

fn response_headers(settings: &ServerSettings) -> io::Result<Vec<(HeaderName, HeaderValue)>> {
    settings
        .response_headers
        .iter()
        .map(|(name, value)| {
            let invalid = |what: &str| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "bad setting server.response_headers: invalid header {what} in {name:?}"
                    ),
                )
            };
            Ok((
                HeaderName::try_from(name.as_str()).map_err(|_| invalid("name"))?,
                HeaderValue::try_from(value.as_str()).map_err(|_| invalid("value"))?,
            ))
        })
        .collect()
}

/// Answers OPTIONS on any path with 204 and no body.
async fn answer_options(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::OPTIONS {
        return Ok(req
            .into_response(HttpResponse::NoContent().finish())
            .map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ClustoError> {
    Err(ClustoError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        format!("Not found: {}", req.path()),
    ))
}
