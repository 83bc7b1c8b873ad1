//! The composition root: turns settings into storage, providers, domain
//! services and background workers, and builds the server from them. The
//! binary and the end-to-end tests both build strato through [`build`]; this
//! module (with its `settings`) is the only one that names the adapters and
//! the providers.

pub mod settings;

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use strato_adapters::{Argon2Hasher, Sealer, Store};
use strato_domain::Inventory;
use strato_domain::clock::SystemClock;
use strato_domain::cloud::{
    CloudName, CloudProvider, CloudSpec, Clouds, FactoryError, ProviderFactory,
};
use strato_domain::infrastructure::{Deployer, Infrastructures};
use strato_domain::job::{Jobs, RetryPolicy, WorkerId};
use strato_providers::Factory;

use crate::metrics::Metered;
use crate::operations::PoolGauge;
pub use crate::startup::Signals;
use crate::startup::{Application, Services};
use crate::workers::Workers;
use settings::{JobSettings, Settings};

/// Opens the database (migrating it), builds the clouds, the services and
/// the job workers, and binds the server.
///
/// # Errors
/// When a cloud's settings are wrong, the database cannot be opened or
/// migrated, or the address cannot be bound.
pub async fn build(settings: &Settings, signals: Signals) -> anyhow::Result<Application> {
    crate::metrics::handle();
    let providers = clouds(settings)?;
    let database = settings.database.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&database))
        .await
        .context("the database task stopped")?
        .context("cannot open the database")?;
    let store = Arc::new(store.with_sealer(sealer(settings)?));
    announce(settings, &providers, store.applied_migrations());
    let clock = Arc::new(SystemClock);
    let inventory = Inventory::new(strato_domain::inventory::Ports {
        entities: store.clone(),
        attributes: store.clone(),
        pools: store.clone(),
        resources: store.clone(),
    });
    let clouds = Clouds::new(providers, store.clone(), store.clone(), clock.clone());
    let deployer = Deployer::new(
        store.clone(),
        Arc::new(MeteredFactory),
        providers_of(&clouds),
        store.clone(),
        store.clone(),
        store.clone(),
        clock.clone(),
    );
    let jobs = Jobs::new(
        store.clone(),
        clouds.clone(),
        clock.clone(),
        retry_policy(&settings.jobs),
        worker_id(),
    )
    .with_deployer(deployer.clone());
    let mut infrastructures = Infrastructures::new(
        store.clone(),
        Arc::new(Argon2Hasher::default()),
        jobs.clone(),
        deployer,
        clock,
    );
    if !settings.infrastructures.allowed_users.is_empty() {
        infrastructures = infrastructures.with_allowed_users(
            settings
                .infrastructures
                .allowed_users
                .iter()
                .map(|u| (u.username.clone(), u.password.clone()))
                .collect(),
        );
    }
    let workers = Workers::new(
        jobs.clone(),
        &settings.jobs,
        clouds.names().cloned().collect(),
        std::time::Duration::from_secs(settings.infrastructures.refresh_seconds.max(1)),
    );
    let pool = {
        let store = store.clone();
        PoolGauge(Box::new(move || {
            let state = store.pool_state();
            (state.connections, state.in_use, state.waits)
        }))
    };
    let services = Services {
        inventory,
        clouds,
        jobs,
        infrastructures,
        health: vec![store],
        pool,
    };
    Application::build(&settings.server, services, workers, signals)
        .with_context(|| format!("cannot serve on {}", settings.server.listen))
}

/// Checks settings as `serve` would use them, short of opening the database
/// and binding the port: every cloud is built by its provider.
///
/// # Errors
/// Naming the cloud whose settings are wrong.
pub fn check(settings: &Settings) -> anyhow::Result<()> {
    clouds(settings).map(|_| ())
}

/// The start-up line: what this process runs with.
fn announce(
    settings: &Settings,
    providers: &BTreeMap<CloudName, Arc<dyn CloudProvider>>,
    migrations: &[String],
) {
    let clouds: Vec<String> = providers
        .iter()
        .map(|(name, provider)| format!("{name} ({})", provider.info().kind))
        .collect();
    let http_workers = settings
        .server
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        config = %settings
            .source()
            .map_or_else(|| "none (defaults and environment)".to_owned(), |p| p.display().to_string()),
        database = %settings::redacted_url(&settings.database.url),
        clouds = %clouds.join(", "),
        listen = %settings.server.listen,
        http_workers,
        job_workers = settings.jobs.workers,
        migrations = %if migrations.is_empty() {
            "none (up to date)".to_owned()
        } else {
            migrations.join(", ")
        },
        "strato is starting"
    );
}

/// Runs the migrations alone.
///
/// # Errors
/// When the database cannot be opened or a migration fails.
pub fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let store = Store::open(&settings.database).context("migration failed")?;
    tracing::info!(applied = ?store.applied_migrations(), "migrations");
    Ok(())
}

/// The providers of the configured clouds, built by the provider factory.
fn clouds(settings: &Settings) -> anyhow::Result<BTreeMap<CloudName, Arc<dyn CloudProvider>>> {
    let mut providers = BTreeMap::new();
    for (name, cloud) in settings.clouds() {
        let cloud_name =
            CloudName::parse(&name).with_context(|| format!("bad setting clouds.{name}"))?;
        let spec = CloudSpec {
            kind: cloud.kind.clone(),
            settings: cloud.options.clone().into_iter().collect(),
        };
        let provider = Factory
            .build(&spec)
            .with_context(|| format!("bad setting clouds.{name}"))?;
        providers.insert(cloud_name.clone(), Metered::wrap(cloud_name, provider));
    }
    Ok(providers)
}

/// Builds the clouds requests describe, counted like configured ones.
#[derive(Debug, Clone, Copy)]
struct MeteredFactory;

impl ProviderFactory for MeteredFactory {
    fn build(&self, spec: &CloudSpec) -> Result<Arc<dyn CloudProvider>, FactoryError> {
        let provider = Factory.build(spec)?;
        let name = CloudName::parse(&spec.kind).unwrap_or_else(|_| CloudName::default_cloud());
        Ok(Metered::wrap(name, provider))
    }
}

/// The configured clouds' providers, as the cloud service holds them.
fn providers_of(clouds: &Clouds) -> BTreeMap<CloudName, Arc<dyn CloudProvider>> {
    clouds
        .names()
        .filter_map(|name| {
            clouds
                .provider(name)
                .ok()
                .map(|p| (name.clone(), p.clone()))
        })
        .collect()
}

/// The key that encrypts the cloud credentials requests describe: from
/// `infrastructures.key` or `key_file`; on SQLite without either, the file
/// `<database>.key`, created on first start.
///
/// # Errors
/// When the key cannot be read or created.
fn sealer(settings: &Settings) -> anyhow::Result<Sealer> {
    let own = &settings.infrastructures;
    if let Some(key) = &own.key {
        return Sealer::from_hex(key).context("bad setting infrastructures.key");
    }
    if let Some(file) = &own.key_file {
        return Sealer::from_key_file(file)
            .with_context(|| format!("bad setting infrastructures.key_file ({})", file.display()));
    }
    let Some(path) = settings::sqlite_file(&settings.database.url) else {
        anyhow::bail!(
            "infrastructures.key or infrastructures.key_file is required with this database"
        );
    };
    let file = std::path::PathBuf::from(format!("{}.key", path.display()));
    if file.exists() {
        return Sealer::from_key_file(&file)
            .with_context(|| format!("cannot read the key file {}", file.display()));
    }
    let sealer = Sealer::create_key_file(&file)
        .with_context(|| format!("cannot create the key file {}", file.display()))?;
    tracing::info!(
        file = %file.display(),
        "created the key that encrypts cloud credentials (mode 0600); keep it with the database"
    );
    Ok(sealer)
}

fn retry_policy(settings: &JobSettings) -> RetryPolicy {
    let millis = |ms: u64| chrono::TimeDelta::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX));
    RetryPolicy {
        max_attempts: settings.max_attempts,
        backoff: millis(settings.backoff_ms),
        max_backoff: millis(settings.max_backoff_seconds.saturating_mul(1000)),
        lease: millis(settings.lease_seconds.saturating_mul(1000)),
    }
}

/// This process's name as a job owner: host, process id and a random part,
/// so that a restarted process never takes over its predecessor's leases.
fn worker_id() -> WorkerId {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "strato".to_owned());
    WorkerId::new(format!(
        "{host}/{}/{:08x}",
        std::process::id(),
        fastrand::u32(..)
    ))
}
