//! Prometheus metrics (`GET /metrics`): requests by family, route template,
//! method and status with latency histograms; job queue depth by kind and
//! state, the oldest queued job's age, job outcomes and durations; provider
//! calls by cloud, operation and outcome with latency; reconciliation fixes;
//! the database pool; build info. Recorded through the `metrics` facade,
//! rendered by `metrics-exporter-prometheus`.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use strato_domain::cloud::{
    CloudName, CloudProvider, IdempotencyKey, KeyPair, NewNode, Node, NodeId, NodeImage,
    NodeLocation, NodeSize, ProviderError, ProviderInfo,
};
use strato_domain::job::{JobKind, Reconciled};

/// Latency buckets, in seconds: 100 µs to 10 s.
const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0,
];

/// The process's recorder (one per process, shared by every server in it).
pub(crate) fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), &BUCKETS)
                .ok()?
                .install_recorder();
            match recorder {
                Ok(handle) => {
                    gauge!(
                        "strato_build_info",
                        "version" => env!("CARGO_PKG_VERSION"),
                        "revision" => env!("STRATO_GIT_REVISION"),
                    )
                    .set(1.0);
                    Some(handle)
                }
                Err(err) => {
                    tracing::warn!(error = %err, "metrics are not recorded");
                    None
                }
            }
        })
        .as_ref()
}

/// One answered request.
pub(crate) fn request(
    family: &'static str,
    route: &str,
    method: &str,
    status: u16,
    took: Duration,
) {
    let labels = [
        ("family", family.to_owned()),
        ("route", route.to_owned()),
        ("method", method.to_owned()),
    ];
    counter!(
        "strato_http_requests_total",
        &[
            labels[0].clone(),
            labels[1].clone(),
            labels[2].clone(),
            ("status", status.to_string()),
        ]
    )
    .increment(1);
    histogram!("strato_http_request_duration_seconds", &labels).record(took.as_secs_f64());
}

/// One settled attempt of a job: `succeeded`, `retried` or `failed`.
pub(crate) fn job(kind: JobKind, outcome: &'static str, took: Duration) {
    counter!("strato_jobs_total", "kind" => kind.as_str(), "outcome" => outcome).increment(1);
    histogram!("strato_job_duration_seconds", "kind" => kind.as_str()).record(took.as_secs_f64());
}

/// What a reconciliation of `cloud` fixed.
pub(crate) fn reconciled(cloud: &CloudName, fixed: Reconciled) {
    for (fix, count) in [
        ("terminated", fixed.terminated),
        ("recorded", fixed.recorded),
        ("refreshed", fixed.refreshed),
    ] {
        counter!(
            "strato_reconciliation_fixes_total",
            "cloud" => cloud.to_string(),
            "fix" => fix
        )
        .increment(u64::try_from(count).unwrap_or(u64::MAX));
    }
}

/// The job queue's depth by kind and state, and its oldest queued job's age.
pub(crate) fn queue(depth: &[(JobKind, &'static str, u64)], oldest_queued: Option<Duration>) {
    for (kind, state, count) in depth {
        gauge!("strato_jobs", "kind" => kind.as_str(), "state" => *state).set(*count as f64);
    }
    gauge!("strato_jobs_oldest_queued_age_seconds")
        .set(oldest_queued.map_or(0.0, |age| age.as_secs_f64()));
}

/// The database pool: open connections, those in use, and waits so far.
pub(crate) fn pool(connections: u32, in_use: u32, waits: u64) {
    gauge!("strato_db_pool_connections").set(f64::from(connections));
    gauge!("strato_db_pool_in_use").set(f64::from(in_use));
    counter!("strato_db_pool_waits_total").absolute(waits);
}

/// A provider whose calls are counted and timed by cloud, operation and
/// outcome.
pub(crate) struct Metered {
    cloud: CloudName,
    inner: Arc<dyn CloudProvider>,
}

impl std::fmt::Debug for Metered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metered")
            .field("cloud", &self.cloud)
            .finish_non_exhaustive()
    }
}

impl Metered {
    /// Meters `inner`, the provider of `cloud`.
    pub(crate) fn wrap(cloud: CloudName, inner: Arc<dyn CloudProvider>) -> Arc<dyn CloudProvider> {
        Arc::new(Self { cloud, inner })
    }

    async fn call<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        let started = Instant::now();
        let result = work.await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(ProviderError::NotFound { .. }) => "not_found",
            Err(ProviderError::Invalid(_)) => "invalid",
            Err(ProviderError::Unsupported(_)) => "unsupported",
            Err(ProviderError::Throttled(_)) => "throttled",
            Err(ProviderError::Timeout) => "timeout",
            Err(ProviderError::Unavailable(_)) => "unavailable",
            Err(ProviderError::Failed(_)) => "failed",
        };
        let cloud = self.cloud.to_string();
        counter!(
            "strato_provider_calls_total",
            "cloud" => cloud.clone(),
            "operation" => operation,
            "outcome" => outcome
        )
        .increment(1);
        histogram!(
            "strato_provider_call_duration_seconds",
            "cloud" => cloud,
            "operation" => operation
        )
        .record(started.elapsed().as_secs_f64());
        result
    }
}

#[async_trait]
impl CloudProvider for Metered {
    fn info(&self) -> ProviderInfo {
        self.inner.info()
    }

    async fn list_nodes(&self) -> Result<Vec<Node>, ProviderError> {
        self.call("list_nodes", self.inner.list_nodes()).await
    }

    async fn list_sizes(&self) -> Result<Vec<NodeSize>, ProviderError> {
        self.call("list_sizes", self.inner.list_sizes()).await
    }

    async fn list_images(&self) -> Result<Vec<NodeImage>, ProviderError> {
        self.call("list_images", self.inner.list_images()).await
    }

    async fn list_locations(&self) -> Result<Vec<NodeLocation>, ProviderError> {
        self.call("list_locations", self.inner.list_locations())
            .await
    }

    async fn create_node(
        &self,
        node: &NewNode,
        key: &IdempotencyKey,
    ) -> Result<Node, ProviderError> {
        self.call("create_node", self.inner.create_node(node, key))
            .await
    }

    async fn destroy_node(&self, id: &NodeId) -> Result<(), ProviderError> {
        self.call("destroy_node", self.inner.destroy_node(id)).await
    }

    async fn start_node(&self, id: &NodeId) -> Result<Node, ProviderError> {
        self.call("start_node", self.inner.start_node(id)).await
    }

    async fn stop_node(&self, id: &NodeId) -> Result<Node, ProviderError> {
        self.call("stop_node", self.inner.stop_node(id)).await
    }

    async fn reboot_node(&self, id: &NodeId) -> Result<Node, ProviderError> {
        self.call("reboot_node", self.inner.reboot_node(id)).await
    }

    async fn resize_node(&self, id: &NodeId, size: &str) -> Result<Node, ProviderError> {
        self.call("resize_node", self.inner.resize_node(id, size))
            .await
    }

    async fn delete_image(&self, id: &str) -> Result<(), ProviderError> {
        self.call("delete_image", self.inner.delete_image(id)).await
    }

    async fn create_image(&self, node_id: &NodeId, name: &str) -> Result<NodeImage, ProviderError> {
        self.call("create_image", self.inner.create_image(node_id, name))
            .await
    }

    async fn import_key_pair(
        &self,
        name: &str,
        public_key: &str,
    ) -> Result<KeyPair, ProviderError> {
        self.call(
            "import_key_pair",
            self.inner.import_key_pair(name, public_key),
        )
        .await
    }
}
