//! Builds the HTTP server from settings and services.

use std::io;
use std::net::TcpListener;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use strato_domain::Inventory;
use strato_domain::cloud::Clouds;
use strato_domain::infrastructure::Infrastructures;
use strato_domain::job::Jobs;

use crate::access::access;
use crate::body::{BodyLimit, BodyTimeout};
use crate::compose::settings::ServerSettings;
use crate::inventory::{self, ClustoError};
use crate::operations::{self, Checks, PoolGauge, Readiness};
use crate::workers::Workers;

/// The domain services the HTTP layer calls.
pub(crate) struct Services {
    /// Inventory use cases.
    pub inventory: Inventory,
    /// Cloud use cases.
    pub clouds: Clouds,
    /// Provider operations as durable jobs.
    pub jobs: Jobs,
    /// The IM infrastructures family.
    pub infrastructures: Infrastructures,
    /// What `/healthz` and `/readyz` check.
    pub health: Checks,
    /// The database pool's gauge, for `/metrics`.
    pub pool: PoolGauge,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

/// Whether the server reacts to SIGTERM and SIGINT itself (the binary) or
/// only to its handle (tests that run several servers in one process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signals {
    /// Drain on SIGTERM or SIGINT.
    Handle,
    /// Leave signals alone.
    Ignore,
}

/// A bound, not yet running, HTTP server with its job workers.
pub struct Application {
    server: Server,
    port: u16,
    workers: Workers,
    signals: Signals,
    grace: Duration,
    drain_delay: Duration,
    readiness: web::Data<Readiness>,
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
    pub(crate) fn build(
        settings: &ServerSettings,
        services: Services,
        workers: Workers,
        signals: Signals,
    ) -> io::Result<Self> {
        let headers = response_headers(settings)?;
        let listener = TcpListener::bind(settings.listen)?;
        let port = listener.local_addr()?.port();
        let limit = settings.max_body_bytes;
        let body_timeout = BodyTimeout(Duration::from_secs(settings.body_timeout_seconds.max(1)));
        let grace = Duration::from_secs(settings.shutdown_grace_seconds);
        let inventory = web::Data::new(services.inventory);
        let infrastructures = web::Data::new(services.infrastructures);
        let cloud_names: Vec<String> = services.clouds.names().map(ToString::to_string).collect();
        let clouds = web::Data::new(services.clouds);
        let jobs = web::Data::new(services.jobs);
        let health = web::Data::new(services.health);
        let pool = web::Data::new(services.pool);
        let readiness = web::Data::new(Readiness::default());
        let ready = readiness.clone();
        let drain_delay = Duration::from_secs(settings.drain_delay_seconds);
        let document = crate::docs::document(&cloud_names);
        let mut server = HttpServer::new(move || {
            let defaults = headers
                .iter()
                .fold(DefaultHeaders::new(), |d, h| d.add(h.clone()));
            App::new()
                .wrap(from_fn(answer_options))
                .wrap(defaults)
                .wrap(from_fn(access))
                .app_data(inventory.clone())
                .app_data(clouds.clone())
                .app_data(jobs.clone())
                .app_data(infrastructures.clone())
                .app_data(health.clone())
                .app_data(pool.clone())
                .app_data(ready.clone())
                .app_data(BodyLimit(limit))
                .app_data(body_timeout)
                .app_data(web::PayloadConfig::new(limit))
                .configure(operations::routes)
                .configure(inventory::routes)
                .configure(crate::clouds::routes)
                .configure(crate::infrastructures::routes)
                .configure(|cfg| crate::docs::routes(cfg, &document))
                .default_service(web::to(not_found))
        })
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(grace.as_secs());
        if let Some(workers) = settings.workers {
            server = server.workers(workers.max(1));
        }
        Ok(Self {
            server: server.run(),
            port,
            workers,
            signals,
            grace,
            drain_delay,
            readiness,
        })
    }

    /// The port the server listens on (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves, and runs the job workers, until the server is stopped: by its
    /// handle, or (with [`Signals::Handle`]) by SIGTERM or SIGINT, which both
    /// drain: no new connections, in-flight requests and running jobs get
    /// the grace period to finish, then the process returns.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> io::Result<()> {
        let running = self.workers.start();
        let handle = self.server.handle();
        if self.signals == Signals::Handle {
            let (readiness, delay) = (self.readiness.clone(), self.drain_delay);
            actix_web::rt::spawn(async move {
                stop_signal().await;
                readiness.drain();
                tracing::info!(
                    delay_seconds = delay.as_secs(),
                    "stopping: /readyz answers 503; then draining requests and jobs"
                );
                tokio::time::sleep(delay).await;
                handle.stop(true).await;
            });
        }
        let served = self.server.await;
        running.drain(self.grace).await;
        served
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

/// Waits for SIGTERM or SIGINT (Ctrl-C).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
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
                HeaderName::try_from(name.replace('_', "-")).map_err(|_| invalid("name"))?,
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
