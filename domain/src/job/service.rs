use std::sync::Arc;

use super::model::{Job, JobId, JobStats, Lease, NewJob, Task, WorkerId};
use super::policy::{RetryPolicy, Settlement};
use super::ports::JobQueue;
use crate::clock::Clock;
use crate::cloud::reconcile::{Fix, plan};
use crate::cloud::{CloudError, CloudName, Clouds, NewNode, Node, NodeId, ProviderInfo};
use crate::error::{StoreError, error_text};
use crate::infrastructure::Deployer;

/// What one reconciliation of a cloud fixed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Records of nodes the provider no longer has, marked terminated.
    pub terminated: usize,
    /// Nodes strato created but had not recorded, now recorded.
    pub recorded: usize,
    /// Records brought up to date.
    pub refreshed: usize,
}

/// One attempt of a job, settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// What becomes of the job.
    pub settlement: Settlement,
    /// What a reconciliation fixed, when the job was one and it succeeded.
    pub reconciled: Option<Reconciled>,
}

/// What a job's run gives back.
#[derive(Debug, Default)]
struct Done {
    reconciled: Option<Reconciled>,
    answer: Option<String>,
}

/// The jobs service: runs provider operations as durable jobs, either at
/// once for a request that waits (stored claimed, run in the request) or
/// later by a worker, and settles each attempt by the retry policy.
#[derive(Clone)]
pub struct Jobs {
    queue: Arc<dyn JobQueue>,
    clouds: Clouds,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    owner: WorkerId,
    deployer: Option<Deployer>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("owner", &self.owner)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Jobs {
    /// The service over a queue, running jobs on `clouds` as `owner`.
    pub fn new(
        queue: Arc<dyn JobQueue>,
        clouds: Clouds,
        clock: Arc<dyn Clock>,
        policy: RetryPolicy,
        owner: WorkerId,
    ) -> Self {
        Self {
            queue,
            clouds,
            clock,
            policy,
            owner,
            deployer: None,
        }
    }

    /// The service, running the jobs of infrastructures with `deployer` too.
    #[must_use]
    pub fn with_deployer(mut self, deployer: Deployer) -> Self {
        self.deployer = Some(deployer);
        self
    }

    /// A job due now, for any worker, to store beside a change.
    pub fn queued(&self, task: Task) -> NewJob {
        NewJob {
            id: JobId::random(),
            task,
            max_attempts: self.policy.max_attempts,
            run_after: self.clock.now(),
            claimed: None,
        }
    }

    /// A job claimed by this process, to store beside a change and then
    /// run at once with [`Jobs::run_claimed`].
    pub fn claimed(&self, task: Task) -> NewJob {
        NewJob {
            claimed: Some(self.lease()),
            ..self.queued(task)
        }
    }

    /// Runs a job stored by [`Jobs::claimed`] as its only attempt and
    /// settles it: a request's outcome is final. Returns what the job
    /// answers (a snapshot's image id).
    ///
    /// # Errors
    /// The job's failure.
    pub async fn run_claimed(&self, job: &NewJob) -> Result<Option<String>, CloudError> {
        let now = self.clock.now();
        let running = Job {
            id: job.id,
            task: job.task.clone(),
            state: super::JobState::Running,
            attempts: job.max_attempts,
            max_attempts: job.max_attempts,
            run_after: now,
            lease: job.claimed.clone(),
            last_error: None,
            created: now,
            updated: now,
        };
        let result = self.execute(&running).await.map(|done| done.answer);
        self.settle_now(&running, result.as_ref().err()).await;
        result
    }

    /// The retry policy.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    fn lease(&self) -> Lease {
        Lease {
            owner: self.owner.clone(),
            expires: self.clock.now() + self.policy.lease,
        }
    }

    /// Stores a job due now for any worker. Returns false when a job with
    /// this id exists already.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when storage fails.
    pub async fn enqueue(&self, id: JobId, task: Task) -> Result<bool, StoreError> {
        let job = NewJob {
            id,
            task,
            max_attempts: self.policy.max_attempts,
            run_after: self.clock.now(),
            claimed: None,
        };
        self.queue.enqueue(&job).await
    }

    /// Stores a job claimed by this process, to run at once.
    async fn begin(&self, task: Task) -> Result<Job, StoreError> {
        let now = self.clock.now();
        let job = NewJob {
            id: JobId::random(),
            task,
            max_attempts: self.policy.max_attempts,
            run_after: now,
            claimed: Some(self.lease()),
        };
        self.queue.enqueue(&job).await?;
        Ok(Job {
            id: job.id,
            task: job.task,
            state: super::JobState::Running,
            attempts: 1,
            max_attempts: job.max_attempts,
            run_after: now,
            lease: job.claimed,
            last_error: None,
            created: now,
            updated: now,
        })
    }

    /// Creates a node and records it, as a job the request runs at once:
    /// the job (whose id is the node's idempotency key) is stored before the
    /// provider is called, so that a crash part-way is finished by a worker
    /// without a second node. The request's outcome is the job's: a failure
    /// is not retried behind the caller's back.
    ///
    /// # Errors
    /// As [`Clouds::create_and_record`].
    pub async fn start_node(
        &self,
        cloud: &CloudName,
        node: NewNode,
    ) -> Result<(ProviderInfo, Node), CloudError> {
        self.clouds.check_start(cloud, &node)?;
        let job = self
            .begin(Task::StartNode {
                cloud: cloud.clone(),
                node: node.clone(),
            })
            .await?;
        let result = self
            .clouds
            .create_and_record(cloud, &node, &job.id.idempotency_key())
            .await;
        self.settle_now(&job, result.as_ref().err()).await;
        result
    }

    /// Destroys a node and marks its record, as a job the request runs at
    /// once (see [`Jobs::start_node`]).
    ///
    /// # Errors
    /// As [`Clouds::destroy_and_mark`].
    pub async fn stop_node(&self, cloud: &CloudName, node: NodeId) -> Result<(), CloudError> {
        self.clouds.info(cloud)?;
        let job = self
            .begin(Task::StopNode {
                cloud: cloud.clone(),
                node: node.clone(),
            })
            .await?;
        let result = self.clouds.destroy_and_mark(cloud, &node, false).await;
        self.settle_now(&job, result.as_ref().err()).await;
        result
    }

    /// Settles a job a request ran: succeeded, or given up. When that cannot
    /// be written the job stays running until its lease expires, and a
    /// worker runs it again (idempotently) then.
    async fn settle_now(&self, job: &Job, error: Option<&CloudError>) {
        let now = self.clock.now();
        let written = match error {
            None => self.queue.finish(job.id, &self.owner, now).await,
            Some(err) => {
                self.queue
                    .fail(job.id, &self.owner, now, &error_text(err), None)
                    .await
            }
        };
        if let Err(err) = written {
            tracing::warn!(job = %job.id, error = %err, "could not settle a job; a worker will run it again");
        }
    }

    /// The queue at a glance, and how long its oldest queued job has waited.
    ///
    /// # Errors
    /// [`StoreError`] when storage fails.
    pub async fn stats(&self) -> Result<(JobStats, Option<chrono::TimeDelta>), StoreError> {
        let stats = self.queue.stats().await?;
        let waited = stats.oldest_queued.map(|at| self.clock.now() - at);
        Ok((stats, waited))
    }

    /// Claims the next due job for this process, if any. Jobs whose lease
    /// expired once too often (their process kept dying) are given up.
    ///
    /// # Errors
    /// [`StoreError`] when storage fails.
    pub async fn claim(&self) -> Result<Option<Job>, StoreError> {
        loop {
            let Some(job) = self.queue.claim(&self.lease(), self.clock.now()).await? else {
                return Ok(None);
            };
            if job.attempts <= job.max_attempts {
                return Ok(Some(job));
            }
            let error = "given up: its worker stopped before it finished, too many times";
            self.queue
                .fail(job.id, &self.owner, self.clock.now(), error, None)
                .await?;
        }
    }

    /// Extends this process's lease on a running job. Returns false when it
    /// lost the job (its lease expired and another worker claimed it).
    ///
    /// # Errors
    /// [`StoreError`] when storage fails.
    pub async fn heartbeat(&self, job: &Job) -> Result<bool, StoreError> {
        self.queue.heartbeat(job.id, &self.lease()).await
    }

    /// Runs a claimed job and settles it by the retry policy (`jitter`, 0 to
    /// 1, spreads the backoff).
    ///
    /// # Errors
    /// [`StoreError`] when the outcome cannot be written; the job then runs
    /// again once its lease expires.
    pub async fn run(&self, job: &Job, jitter: f64) -> Result<Attempt, StoreError> {
        let outcome = self.execute(job).await;
        let reconciled = outcome.as_ref().ok().and_then(|done| done.reconciled);
        let outcome = outcome.map(|_| ());
        let now = self.clock.now();
        let settlement = match &outcome {
            Ok(()) => Settlement::Succeeded,
            Err(err) => self
                .policy
                .after_failure(job, err.is_transient(), now, jitter),
        };
        match (&outcome, settlement) {
            (Ok(()), _) | (_, Settlement::Succeeded) => {
                self.queue.finish(job.id, &self.owner, now).await?;
            }
            (Err(err), Settlement::RetryAt(at)) => {
                self.queue
                    .fail(job.id, &self.owner, now, &error_text(err), Some(at))
                    .await?;
            }
            (Err(err), Settlement::GiveUp) => {
                self.queue
                    .fail(job.id, &self.owner, now, &error_text(err), None)
                    .await?;
            }
        }
        Ok(Attempt {
            settlement,
            reconciled,
        })
    }

    fn deployer(&self) -> Result<&Deployer, CloudError> {
        self.deployer.as_ref().ok_or_else(|| {
            CloudError::InvalidParameter("this process runs no infrastructure jobs".to_owned())
        })
    }

    async fn execute(&self, job: &Job) -> Result<Done, CloudError> {
        let retry = job.attempts > 1;
        let last = job.attempts >= job.max_attempts;
        match &job.task {
            Task::StartNode { cloud, node } => self
                .clouds
                .create_and_record(cloud, node, &job.id.idempotency_key())
                .await
                .map(|_| Done::default()),
            Task::StopNode { cloud, node } => self
                .clouds
                .destroy_and_mark(cloud, node, retry)
                .await
                .map(|()| Done::default()),
            Task::LaunchVm { inf, vm } => self
                .deployer()?
                .launch(*inf, *vm, last)
                .await
                .map(|()| Done::default()),
            Task::OperateVm { inf, vm, operation } => self
                .deployer()?
                .operate(*inf, *vm, operation)
                .await
                .map(|answer| Done {
                    answer,
                    ..Done::default()
                }),
            Task::DestroyInfrastructure { inf, force } => self
                .deployer()?
                .destroy(*inf, *force)
                .await
                .map(|()| Done::default()),
            Task::RefreshVms => {
                let changed = self.deployer()?.refresh().await?;
                if changed > 0 {
                    tracing::debug!(changed, "VM states refreshed");
                }
                Ok(Done::default())
            }
            Task::Reconcile { cloud } => {
                let fixed = self.reconcile(cloud).await?;
                if fixed != Reconciled::default() {
                    tracing::info!(
                        %cloud,
                        terminated = fixed.terminated,
                        recorded = fixed.recorded,
                        refreshed = fixed.refreshed,
                        "reconciliation fixed the inventory"
                    );
                }
                Ok(Done {
                    reconciled: Some(fixed),
                    ..Done::default()
                })
            }
        }
    }

    /// Brings a cloud's inventory records in step with its nodes: records
    /// of vanished nodes are terminated, nodes strato created (their
    /// idempotency key names one of its start jobs) but never recorded are
    /// recorded, stale records are refreshed.
    ///
    /// # Errors
    /// [`CloudError`] when the provider or storage fails.
    pub async fn reconcile(&self, cloud: &CloudName) -> Result<Reconciled, CloudError> {
        let survey = self.clouds.survey(cloud).await?;
        let mut ours = Vec::new();
        for node in &survey.nodes {
            let recorded = survey
                .records
                .iter()
                .any(|r| r.uuid.as_deref() == Some(node.uuid.as_str()));
            let Some(key) = node.idempotency_key.as_ref().filter(|_| !recorded) else {
                continue;
            };
            let Some(id) = JobId::parse(key.as_str()) else {
                continue;
            };
            let started_here = self.queue.get(id).await?.is_some_and(
                |job| matches!(&job.task, Task::StartNode { cloud: c, .. } if c == cloud),
            );
            if started_here {
                ours.push(key.clone());
            }
        }
        let fixes = plan(&survey.records, &survey.nodes, &|key| ours.contains(key));
        let mut fixed = Reconciled::default();
        for fix in &fixes {
            self.clouds.fix(cloud, fix).await?;
            match fix {
                Fix::Terminate(_) => fixed.terminated += 1,
                Fix::Record(_) => fixed.recorded += 1,
                Fix::Refresh(..) => fixed.refreshed += 1,
            }
        }
        Ok(fixed)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use chrono::{NaiveDateTime, TimeDelta};

    use super::*;
    use crate::attribute::{Attribute, AttributeKey, AttributeValue, MockAttributeRepository};
    use crate::clock::MockClock;
    use crate::cloud::{IdempotencyKey, MockCloudProvider, NodeState, ProviderError};
    use crate::driver::Driver;
    use crate::entity::{Entity, EntityId, EntityName, MockEntityRepository};
    use crate::job::{JobState, MockJobQueue};
    use crate::page::Paged;

    const INFO: ProviderInfo = ProviderInfo {
        kind: "dummy",
        display_name: "Dummy Node Provider",
    };

    fn now() -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc()
    }

    fn cloud() -> CloudName {
        CloudName::parse("lab").unwrap()
    }

    fn node(n: u32, key: Option<&str>) -> Node {
        Node {
            id: NodeId::new(n.to_string()),
            name: format!("dummy-{n}"),
            state: NodeState::Running,
            public_ips: vec![format!("127.0.0.{n}")],
            private_ips: vec![],
            uuid: format!("uuid-{n}"),
            extra: Default::default(),
            idempotency_key: key.map(IdempotencyKey::new),
        }
    }

    fn new_node() -> NewNode {
        NewNode {
            name: "web".into(),
            size: "1".into(),
            image: "1".into(),
            location: None,
            key_name: None,
            metadata: Default::default(),
        }
    }

    fn vm(id: i64, name: &str) -> Entity {
        Entity {
            id: EntityId(id),
            name: EntityName::parse(name).unwrap(),
            driver: Driver::BasicVirtualServer,
        }
    }

    fn text(key: &str, subkey: &str, value: &str) -> Attribute {
        Attribute {
            key: AttributeKey::parse(key).unwrap(),
            subkey: Some(AttributeKey::parse(subkey).unwrap()),
            number: None,
            value: AttributeValue::String(value.into()),
        }
    }

    fn stored(task: Task, attempts: u32) -> Job {
        Job {
            id: JobId::random(),
            task,
            state: JobState::Running,
            attempts,
            max_attempts: 3,
            run_after: now(),
            lease: None,
            last_error: None,
            created: now(),
            updated: now(),
        }
    }

    #[derive(Default)]
    struct Fixture {
        queue: MockJobQueue,
        provider: MockCloudProvider,
        entities: MockEntityRepository,
        attributes: MockAttributeRepository,
    }

    impl Fixture {
        fn build(mut self) -> Jobs {
            self.provider.expect_info().return_const(INFO);
            let mut clock = MockClock::new();
            clock.expect_now().returning(now);
            let clock = Arc::new(clock);
            let providers = BTreeMap::from([(
                cloud(),
                Arc::new(self.provider) as Arc<dyn crate::cloud::CloudProvider>,
            )]);
            let clouds = Clouds::new(
                providers,
                Arc::new(self.entities),
                Arc::new(self.attributes),
                clock.clone(),
            );
            let policy = RetryPolicy {
                max_attempts: 3,
                backoff: TimeDelta::seconds(1),
                max_backoff: TimeDelta::seconds(60),
                lease: TimeDelta::seconds(30),
            };
            Jobs::new(
                Arc::new(self.queue),
                clouds,
                clock,
                policy,
                WorkerId::new("w1"),
            )
        }
    }

    /// Nothing recorded yet: names are free and creation succeeds.
    fn records_nothing(f: &mut Fixture) {
        f.attributes
            .expect_find_entities()
            .returning(|_, _| Ok(Paged::all(vec![])));
        f.entities.expect_find().returning(|_| Ok(None));
        f.entities
            .expect_create()
            .returning(|new| Ok(vec![vm(7, new[0].name.as_str())]));
    }

    #[tokio::test]
    async fn a_start_stores_its_job_before_the_provider_is_called_and_uses_its_id_as_key() {
        let mut f = Fixture::default();
        let stored_id = Arc::new(Mutex::new(None));
        let seen = stored_id.clone();
        f.queue.expect_enqueue().returning(move |job| {
            assert_eq!(job.claimed.as_ref().unwrap().owner, WorkerId::new("w1"));
            *seen.lock().unwrap() = Some(job.id);
            Ok(true)
        });
        let keyed = stored_id.clone();
        f.provider.expect_create_node().returning(move |_, key| {
            let id = keyed.lock().unwrap().expect("the job is stored first");
            assert_eq!(key, &id.idempotency_key());
            Ok(node(3, Some(key.as_str())))
        });
        records_nothing(&mut f);
        f.queue
            .expect_finish()
            .times(1)
            .returning(|_, _, _| Ok(true));
        f.queue.expect_fail().never();
        let (_, started) = f.build().start_node(&cloud(), new_node()).await.unwrap();
        assert_eq!(started.name, "dummy-3");
    }

    #[tokio::test]
    async fn a_failed_start_is_given_up_not_retried_behind_the_caller() {
        let mut f = Fixture::default();
        f.queue.expect_enqueue().returning(|_| Ok(true));
        f.provider
            .expect_create_node()
            .returning(|_, _| Err(ProviderError::unavailable("down")));
        f.queue
            .expect_fail()
            .withf(|_, _, _, error, retry| retry.is_none() && error.contains("down"))
            .times(1)
            .returning(|_, _, _, _, _| Ok(true));
        let err = f
            .build()
            .start_node(&cloud(), new_node())
            .await
            .unwrap_err();
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn bad_parameters_store_no_job() {
        let mut f = Fixture::default();
        f.queue.expect_enqueue().never();
        let mut bad = new_node();
        bad.name = "a\0b".into();
        let err = f.build().start_node(&cloud(), bad).await.unwrap_err();
        assert!(matches!(err, CloudError::InvalidParameter(_)));
    }

    #[tokio::test]
    async fn a_rerun_start_finds_the_first_try_s_node_and_records_it_once() {
        let mut f = Fixture::default();
        let job = stored(
            Task::StartNode {
                cloud: cloud(),
                node: new_node(),
            },
            2,
        );
        let key = job.id.idempotency_key();
        f.provider
            .expect_create_node()
            .withf(move |_, k| *k == key)
            .times(1)
            .returning(|_, key| Ok(node(3, Some(key.as_str()))));
        // The first try recorded it already: the record is refreshed, not duplicated.
        f.attributes
            .expect_find_entities()
            .returning(|_, _| Ok(Paged::all(vec![vm(7, "dummy-3")])));
        f.attributes
            .expect_list()
            .returning(|_| Ok(vec![text("cloud", "name", "lab")]));
        f.attributes
            .expect_apply()
            .times(1)
            .returning(|_, _| Ok(()));
        f.entities.expect_create().never();
        f.queue
            .expect_finish()
            .times(1)
            .returning(|_, _, _| Ok(true));
        let settled = f.build().run(&job, 0.5).await.unwrap();
        assert_eq!(settled.settlement, Settlement::Succeeded);
    }

    #[tokio::test]
    async fn transient_failures_are_retried_with_backoff_and_others_given_up() {
        for (error, attempts, expected) in [
            (
                ProviderError::Timeout,
                1,
                Settlement::RetryAt(now() + TimeDelta::seconds(1)),
            ),
            (ProviderError::Timeout, 3, Settlement::GiveUp),
            (ProviderError::Unsupported("stop"), 1, Settlement::GiveUp),
        ] {
            let mut f = Fixture::default();
            let error = Mutex::new(Some(error));
            f.provider
                .expect_destroy_node()
                .returning(move |_| Err(error.lock().unwrap().take().unwrap()));
            let retry_at = match expected {
                Settlement::RetryAt(at) => Some(at),
                _ => None,
            };
            f.queue
                .expect_fail()
                .withf(move |_, owner, _, _, retry| owner.as_str() == "w1" && *retry == retry_at)
                .times(1)
                .returning(|_, _, _, _, _| Ok(true));
            let job = stored(
                Task::StopNode {
                    cloud: cloud(),
                    node: NodeId::new("3"),
                },
                attempts,
            );
            assert_eq!(f.build().run(&job, 1.0).await.unwrap().settlement, expected);
        }
    }

    #[tokio::test]
    async fn a_rerun_stop_takes_a_vanished_node_as_destroyed_and_marks_its_record() {
        let mut f = Fixture::default();
        f.provider.expect_destroy_node().returning(|id| {
            Err(ProviderError::NotFound {
                kind: "node",
                id: id.to_string(),
            })
        });
        f.attributes
            .expect_find_entities()
            .returning(|_, _| Ok(Paged::all(vec![vm(7, "dummy-3")])));
        f.attributes
            .expect_list()
            .returning(|_| Ok(vec![text("cloud", "name", "lab")]));
        f.attributes
            .expect_apply()
            .withf(|id, changes| {
                *id == EntityId(7)
                    && changes.set[0].1 == AttributeValue::String("terminated".into())
            })
            .times(1)
            .returning(|_, _| Ok(()));
        f.queue
            .expect_finish()
            .times(1)
            .returning(|_, _, _| Ok(true));
        let job = stored(
            Task::StopNode {
                cloud: cloud(),
                node: NodeId::new("3"),
            },
            2,
        );
        assert_eq!(
            f.build().run(&job, 0.0).await.unwrap().settlement,
            Settlement::Succeeded
        );
    }

    #[tokio::test]
    async fn jobs_whose_workers_died_too_often_are_given_up_at_claim() {
        let mut f = Fixture::default();
        let worn = stored(Task::Reconcile { cloud: cloud() }, 4);
        let worn_id = worn.id;
        let fresh = stored(Task::Reconcile { cloud: cloud() }, 2);
        let fresh_id = fresh.id;
        let queue = Mutex::new(vec![fresh, worn]);
        f.queue.expect_claim().returning(move |lease, _| {
            assert_eq!(lease.expires, now() + TimeDelta::seconds(30));
            Ok(queue.lock().unwrap().pop())
        });
        f.queue
            .expect_fail()
            .withf(move |id, _, _, _, retry| *id == worn_id && retry.is_none())
            .times(1)
            .returning(|_, _, _, _, _| Ok(true));
        let claimed = f.build().claim().await.unwrap().unwrap();
        assert_eq!(claimed.id, fresh_id);
    }

    #[tokio::test]
    async fn reconciliation_records_its_own_nodes_and_terminates_vanished_ones() {
        let mut f = Fixture::default();
        let ours = JobId::random();
        let ours_key = ours.to_string();
        let listed = vec![
            node(1, None),
            node(5, Some(&ours_key)),
            node(6, Some("not-a-job")),
        ];
        f.provider
            .expect_list_nodes()
            .returning(move || Ok(listed.clone()));
        // One record, of node 4, which the provider no longer has.
        f.attributes.expect_find_entities().returning(|query, _| {
            let subkey = query.subkey.as_ref().map(AttributeKey::as_str);
            Ok(Paged::all(match subkey {
                Some("name") => vec![vm(4, "dummy-4")],
                _ => vec![],
            }))
        });
        f.attributes.expect_list().returning(|_| {
            Ok(vec![
                text("cloud", "name", "lab"),
                text("cloud", "uuid", "uuid-4"),
                text("cloud", "state", "running"),
            ])
        });
        f.queue.expect_get().returning(move |id| {
            Ok((id == ours).then(|| {
                stored(
                    Task::StartNode {
                        cloud: cloud(),
                        node: new_node(),
                    },
                    1,
                )
            }))
        });
        f.attributes
            .expect_apply()
            .times(1)
            .returning(|_, _| Ok(()));
        f.entities.expect_find().returning(|_| Ok(None));
        f.entities
            .expect_create()
            .withf(|new| new[0].name.as_str() == "dummy-5")
            .times(1)
            .returning(|_| Ok(vec![vm(9, "dummy-5")]));
        let fixed = f.build().reconcile(&cloud()).await.unwrap();
        assert_eq!(
            fixed,
            Reconciled {
                terminated: 1,
                recorded: 1,
                refreshed: 0
            }
        );
    }
}
