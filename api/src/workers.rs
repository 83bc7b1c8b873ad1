//! The job runtime: workers that claim due jobs and run them with a
//! heartbeat, and the schedule that enqueues each cloud's reconciliation.
//! They start with the HTTP server and drain with it.

use std::sync::Arc;
use std::time::Duration;

use strato_domain::cloud::CloudName;
use strato_domain::job::{Job, JobId, Jobs, Settlement, Task};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::compose::settings::JobSettings;

/// The background workers of one process, not yet started.
#[derive(Debug)]
pub(crate) struct Workers {
    jobs: Jobs,
    count: usize,
    poll: Duration,
    reconcile_every: Duration,
    refresh_every: Duration,
    clouds: Vec<CloudName>,
}

/// Running workers, and how to stop them.
#[derive(Debug)]
pub(crate) struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// `settings.workers` workers over `jobs`, reconciling `clouds`, and
    /// refreshing the infrastructures' VM states every `refresh_every`.
    pub(crate) fn new(
        jobs: Jobs,
        settings: &JobSettings,
        clouds: Vec<CloudName>,
        refresh_every: Duration,
    ) -> Self {
        Self {
            jobs,
            count: settings.workers,
            poll: Duration::from_millis(settings.poll_ms),
            reconcile_every: Duration::from_secs(settings.reconcile_seconds),
            refresh_every,
            clouds,
        }
    }

    /// Starts the workers and the reconciliation schedule on the current
    /// runtime.
    pub(crate) fn start(self) -> Running {
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let mut tasks: Vec<JoinHandle<()>> = (0..self.count)
            .map(|_| {
                tokio::spawn(work(
                    self.jobs.clone(),
                    self.poll,
                    stopped.clone(),
                    wake.clone(),
                ))
            })
            .collect();
        tasks.push(tokio::spawn(refresh(
            self.jobs.clone(),
            self.refresh_every,
            stopped.clone(),
            wake.clone(),
        )));
        tasks.push(tokio::spawn(schedule(
            self.jobs,
            self.clouds,
            self.reconcile_every,
            stopped,
            wake,
        )));
        Running { stop, tasks }
    }
}

impl Running {
    /// Stops claiming jobs, lets running ones finish within `grace`, then
    /// cuts the rest short (their leases expire and another worker, here or
    /// on another replica, claims them again).
    pub(crate) async fn drain(self, grace: Duration) {
        let _ = self.stop.send(true);
        let aborts: Vec<_> = self.tasks.iter().map(JoinHandle::abort_handle).collect();
        let all = futures_join(self.tasks);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("jobs still running after the grace period were cut short");
            for abort in aborts {
                abort.abort();
            }
        }
    }
}

async fn futures_join(tasks: Vec<JoinHandle<()>>) {
    for task in tasks {
        let _ = task.await;
    }
}

/// One worker: claims due jobs until told to stop, waiting `poll` (or a
/// wake-up) when there are none.
async fn work(jobs: Jobs, poll: Duration, mut stopped: watch::Receiver<bool>, wake: Arc<Notify>) {
    while !*stopped.borrow() {
        match jobs.claim().await {
            Ok(Some(job)) => run(&jobs, &job).await,
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = wake.notified() => {}
                    _ = stopped.changed() => {}
                }
            }
            Err(err) => {
                tracing::warn!(error = %crate::errors::chain(&err), "cannot claim jobs");
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = stopped.changed() => {}
                }
            }
        }
    }
}

/// Runs a claimed job, renewing its lease while it runs.
async fn run(jobs: &Jobs, job: &Job) {
    let span =
        tracing::info_span!("job", id = %job.id, kind = %job.task.kind(), attempt = job.attempts);
    run_in_span(jobs, job).instrument(span).await;
}

async fn run_in_span(jobs: &Jobs, job: &Job) {
    let beat_every = (jobs.policy().lease / 3)
        .to_std()
        .unwrap_or(Duration::from_secs(1))
        .max(Duration::from_millis(100));
    let heartbeat = async {
        loop {
            tokio::time::sleep(beat_every).await;
            match jobs.heartbeat(job).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!("the job's lease was lost; another worker may run it"),
                Err(err) => tracing::warn!(error = %err, "cannot renew the job's lease"),
            }
        }
    };
    let started = std::time::Instant::now();
    tokio::select! {
        settled = jobs.run(job, fastrand::f64()) => match settled {
            Ok(attempt) => {
                let outcome = match attempt.settlement {
                    Settlement::Succeeded => "succeeded",
                    Settlement::RetryAt(_) => "retried",
                    Settlement::GiveUp => "failed",
                };
                crate::metrics::job(job.task.kind(), outcome, started.elapsed());
                if let (Some(fixed), Some(cloud)) = (attempt.reconciled, job.task.cloud()) {
                    crate::metrics::reconciled(cloud, fixed);
                }
                tracing::info!(settlement = ?attempt.settlement, "job attempt settled");
            }
            Err(err) => tracing::warn!(
                error = %crate::errors::chain(&err),
                "cannot record the job's outcome; it runs again when its lease expires"
            ),
        },
        () = heartbeat => {}
    }
}

/// Enqueues a reconciliation of every cloud at start-up and every `every`
/// after that. Periodic ones have an id derived from the cloud and the
/// period, so that replicas enqueue one between them.
async fn schedule(
    jobs: Jobs,
    clouds: Vec<CloudName>,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
    wake: Arc<Notify>,
) {
    let enqueue = |id: JobId, cloud: &CloudName| {
        let jobs = jobs.clone();
        let task = Task::Reconcile {
            cloud: cloud.clone(),
        };
        async move {
            if let Err(err) = jobs.enqueue(id, task).await {
                tracing::warn!(error = %err, "cannot enqueue a reconciliation");
            }
        }
    };
    for cloud in &clouds {
        enqueue(JobId::random(), cloud).await;
    }
    wake.notify_waiters();
    let mut ticks = Periods::new(every);
    while let Some(period) = ticks.next(&mut stopped).await {
        for cloud in &clouds {
            enqueue(
                JobId::derived(&format!("reconcile/{cloud}/{period}")),
                cloud,
            )
            .await;
        }
        wake.notify_waiters();
    }
}

/// Enqueues a refresh of the infrastructures' VM states every `every`,
/// with an id derived from the period so that replicas enqueue one between
/// them.
async fn refresh(
    jobs: Jobs,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
    wake: Arc<Notify>,
) {
    let mut ticks = Periods::new(every);
    while let Some(period) = ticks.next(&mut stopped).await {
        let id = JobId::derived(&format!("refresh/{period}"));
        match jobs.enqueue(id, Task::RefreshVms).await {
            Ok(_) => wake.notify_waiters(),
            Err(err) => tracing::warn!(error = %err, "cannot enqueue a refresh of VM states"),
        }
    }
}

/// The periods of a schedule: the number of the period each tick falls in
/// (the same on every replica), until the workers stop.
struct Periods {
    ticks: tokio::time::Interval,
    every: Duration,
    started: bool,
}

impl Periods {
    fn new(every: Duration) -> Self {
        Self {
            ticks: tokio::time::interval(every),
            every,
            started: false,
        }
    }

    /// Waits for the next tick (the first is one period away); `None` once
    /// the workers stop.
    async fn next(&mut self, stopped: &mut watch::Receiver<bool>) -> Option<i64> {
        if !self.started {
            self.ticks.tick().await;
            self.started = true;
        }
        tokio::select! {
            _ = self.ticks.tick() => {}
            _ = stopped.changed() => return None,
        }
        Some(
            chrono::Utc::now().timestamp()
                / i64::try_from(self.every.as_secs().max(1)).unwrap_or(i64::MAX),
        )
    }
}
