//! The IM use cases and the jobs that deploy them, over mocks of the ports.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{NaiveDateTime, TimeDelta};

use super::authorization::AuthData;
use super::*;
use crate::attribute::{AttributeRepository, MockAttributeRepository};
use crate::clock::{Clock, MockClock};
use crate::cloud::{
    CloudName, CloudProvider, Clouds, IdempotencyKey, MockCloudProvider, MockProviderFactory, Node,
    NodeId, NodeImage, NodeSize, NodeState, ProviderError, ProviderInfo,
};
use crate::entity::{Entity, EntityId, EntityRepository, MockEntityRepository};
use crate::job::{
    Job, JobId, JobState, Jobs, MockJobQueue, NewJob, RetryPolicy, Settlement, Task, WorkerId,
};
use crate::pool::MockPoolRepository;
use crate::radl::parse_text;
use crate::secret::MockSecretHasher;

/// What a mock saw, to assert on after the call.
type Seen<T> = Arc<Mutex<Option<T>>>;

const INFO: ProviderInfo = ProviderInfo {
    kind: "dummy",
    display_name: "Dummy Node Provider",
};

/// Two systems on one network, contextualisation off: VMs 0 and 1 are
/// `front`, VM 2 is `back`.
const DOC: &str = "network privada ( )
system front ( cpu.count >= 1 and memory.size >= 512m and net_interface.0.connection = 'privada' and
  disk.0.image.url = 'mock0://linux/image' and disk.0.os.name = 'linux' )
system back ( cpu.count >= 2 and memory.size >= 1024m and net_interface.0.connection = 'privada' and
  disk.0.image.url = 'mock0://linux/image' and disk.0.os.name = 'linux' )
contextualize ()
deploy front 2
deploy back 1
";

/// One VM's own RADL, as `create` stores it.
const VM_DOC: &str = "network privada ( )
system front ( cpu.count >= 1 and memory.size >= 512m and net_interface.0.connection = 'privada' and
  disk.0.image.url = 'mock0://linux/image' and disk.0.os.name = 'linux' and
  net_interface.0.dns_name = 'vnode-0' )
";

fn now() -> NaiveDateTime {
    chrono::DateTime::from_timestamp(1_800_000_000, 0)
        .unwrap()
        .naive_utc()
}

fn auth(username: &str, password: &str) -> AuthData {
    AuthData::parse(Some(&format!(
        "id = im; type = InfrastructureManager; username = {username}; password = {password}"
    )))
    .unwrap()
}

/// A stored owner; the fake hasher's hash of `secret` is `hash:<secret>`.
fn owner(username: &str, password: &str) -> Owner {
    Owner {
        id: OwnerId::random(),
        username: Some(username.to_owned()),
        lookup: format!("user:{username}"),
        secret_hash: format!("hash:{password}"),
    }
}

/// A hasher whose hash of a secret is `hash:<secret>`.
fn fake_verify(hasher: &mut MockSecretHasher) {
    hasher
        .expect_verify()
        .returning(|secret, hash| hash == format!("hash:{secret}"));
}

fn vm(inf: InfId, n: u32, state: VmState, node: Option<&str>) -> Vm {
    Vm {
        id: VmId(n),
        cloud: CloudName::DEFAULT.to_owned(),
        node: node.map(NodeId::new),
        radl: parse_text(VM_DOC).unwrap().to_text(),
        state,
        log: String::new(),
        removed: false,
        key: IdempotencyKey::new(format!("{inf}/{n}")),
        snapshots: Vec::new(),
    }
}

fn removed(mut vm: Vm) -> Vm {
    vm.removed = true;
    vm.state = VmState::Deleting;
    vm
}

/// An infrastructure as `create` stores it (contextualisation off).
fn infrastructure(id: InfId, owner: &Owner, vms: Vec<Vm>) -> Infrastructure {
    Infrastructure {
        id,
        owners: vec![owner.clone()],
        radl: parse_text(DOC).unwrap().to_text(),
        next_vm: u32::try_from(vms.len()).unwrap(),
        vms,
        contmsg: "Contextualization disabled by the RADL/TOSCA template.\n\n".to_owned(),
        contextualized: None,
        deleting: false,
        clouds: vec![CloudRef::Configured(CloudName::DEFAULT.to_owned())],
        created: now(),
    }
}

fn node(id: &str) -> Node {
    Node {
        id: NodeId::new(id),
        name: format!("dummy-{id}"),
        state: NodeState::Running,
        public_ips: vec!["127.0.0.3".to_owned()],
        private_ips: vec![],
        uuid: format!("uuid-{id}"),
        extra: Default::default(),
        idempotency_key: None,
    }
}

fn launch_job(inf: InfId, vm: u32, attempts: u32) -> Job {
    Job {
        id: JobId::random(),
        task: Task::LaunchVm { inf, vm: VmId(vm) },
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
    repo: MockInfrastructureRepository,
    hasher: MockSecretHasher,
    queue: MockJobQueue,
    /// The configured cloud `default`.
    provider: MockCloudProvider,
    factory: MockProviderFactory,
    entities: MockEntityRepository,
    attributes: MockAttributeRepository,
    pools: MockPoolRepository,
}

impl Fixture {
    /// The service and the jobs service (running infrastructure jobs), over
    /// one repository.
    fn build(mut self) -> (Infrastructures, Jobs) {
        self.provider.expect_info().return_const(INFO);
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        let clock: Arc<dyn Clock> = Arc::new(clock);
        let repo: Arc<dyn InfrastructureRepository> = Arc::new(self.repo);
        let entities: Arc<dyn EntityRepository> = Arc::new(self.entities);
        let attributes: Arc<dyn AttributeRepository> = Arc::new(self.attributes);
        let configured = BTreeMap::from([(
            CloudName::default_cloud(),
            Arc::new(self.provider) as Arc<dyn CloudProvider>,
        )]);
        let deployer = Deployer::new(
            repo.clone(),
            Arc::new(self.factory),
            configured,
            entities.clone(),
            attributes.clone(),
            Arc::new(self.pools),
            clock.clone(),
        );
        let clouds = Clouds::new(BTreeMap::new(), entities, attributes, clock.clone());
        let policy = RetryPolicy {
            max_attempts: 3,
            backoff: TimeDelta::seconds(1),
            max_backoff: TimeDelta::seconds(60),
            lease: TimeDelta::seconds(30),
        };
        let jobs = Jobs::new(
            Arc::new(self.queue),
            clouds,
            clock.clone(),
            policy,
            WorkerId::new("w1"),
        )
        .with_deployer(deployer.clone());
        let infrastructures =
            Infrastructures::new(repo, Arc::new(self.hasher), jobs.clone(), deployer, clock);
        (infrastructures, jobs)
    }

    /// The repository knows these owners and these infrastructures.
    fn stores(&mut self, owners: Vec<Owner>, infs: Vec<Infrastructure>) {
        self.repo.expect_owners().returning(move |lookup| {
            Ok(owners
                .iter()
                .filter(|o| o.lookup == lookup)
                .cloned()
                .collect())
        });
        self.repo
            .expect_find()
            .returning(move |id| Ok(infs.iter().find(|i| i.id == id).cloned()));
    }

    /// A provider with one size and one image, where nothing is recorded yet.
    fn launchable(&mut self) {
        self.provider.expect_list_sizes().returning(|| {
            Ok(vec![NodeSize {
                id: "small".into(),
                name: "small".into(),
                ram: 2048,
                disk: 10,
                cpu: 2,
                bandwidth: None,
                price: None,
            }])
        });
        self.provider.expect_list_images().returning(|| {
            Ok(vec![NodeImage {
                id: "image".into(),
                name: "linux".into(),
                extra: Default::default(),
            }])
        });
        self.entities.expect_find().returning(|_| Ok(None));
        self.entities.expect_create().returning(|new| {
            Ok(vec![Entity {
                id: EntityId(7),
                name: new[0].name.clone(),
                driver: new[0].driver,
            }])
        });
        self.pools.expect_insert().returning(|_, _| Ok(()));
    }
}

// 1. Ownership (spec §1.3).

#[tokio::test]
async fn owners_reach_their_infrastructure_and_everyone_else_is_refused() {
    let mut f = Fixture::default();
    let alice = owner("alice", "pa55");
    let id = InfId::random();
    let inf = infrastructure(id, &alice, vec![vm(id, 0, VmState::Configured, Some("n0"))]);
    f.stores(vec![alice.clone()], vec![inf.clone()]);
    fake_verify(&mut f.hasher);
    f.hasher.expect_hash().never();
    f.repo.expect_add_owner().never();
    let (infs, _) = f.build();

    let owner = infs.authenticate(&auth("alice", "pa55")).await.unwrap();
    assert_eq!(owner.username(), Some("alice"));
    assert_eq!(infs.get(&owner, &id.to_string()).await.unwrap(), inf);
    assert_eq!(
        infs.state(&owner, &id.to_string()).await.unwrap(),
        States {
            state: VmState::Configured,
            vms: vec![(VmId(0), VmState::Configured)],
        }
    );

    let bob = infs.authenticate(&auth("bob", "pa55")).await.unwrap();
    let err = infs.get(&bob, &id.to_string()).await.unwrap_err();
    assert!(matches!(err, InfraError::Forbidden), "{err:?}");
    let err = infs.state(&bob, &id.to_string()).await.unwrap_err();
    assert!(matches!(err, InfraError::Forbidden), "{err:?}");

    // The same username with another password is another user.
    let mallory = infs.authenticate(&auth("alice", "guess")).await.unwrap();
    let err = infs.get(&mallory, &id.to_string()).await.unwrap_err();
    assert!(matches!(err, InfraError::Forbidden), "{err:?}");

    for unknown in [
        InfId::random().to_string(),
        "nope".to_owned(),
        id.to_string().to_uppercase(),
    ] {
        let err = infs.get(&owner, &unknown).await.unwrap_err();
        assert!(matches!(err, InfraError::NotFound), "{unknown}: {err:?}");
    }
}

#[tokio::test]
async fn unknown_credentials_list_nothing_and_write_nothing() {
    let mut f = Fixture::default();
    let alice = owner("alice", "pa55");
    let id = InfId::random();
    f.stores(vec![alice.clone()], vec![]);
    fake_verify(&mut f.hasher);
    let alice_id = alice.id;
    f.repo
        .expect_list()
        .withf(move |owner| *owner == alice_id)
        .times(1)
        .returning(move |_| Ok(vec![id]));
    f.hasher.expect_hash().never();
    f.repo.expect_add_owner().never();
    f.repo.expect_create().never();
    f.repo.expect_apply().never();
    let (infs, _) = f.build();

    let stranger = infs.authenticate(&auth("carol", "pa55")).await.unwrap();
    assert_eq!(infs.list(&stranger).await.unwrap(), vec![]);
    let impostor = infs.authenticate(&auth("alice", "guess")).await.unwrap();
    assert_eq!(infs.list(&impostor).await.unwrap(), vec![]);
    let alice = infs.authenticate(&auth("alice", "pa55")).await.unwrap();
    assert_eq!(infs.list(&alice).await.unwrap(), vec![id]);
}

#[tokio::test]
async fn verified_credentials_are_not_verified_again() {
    let mut f = Fixture::default();
    let alice = owner("alice", "pa55");
    let id = InfId::random();
    let inf = infrastructure(id, &alice, vec![]);
    let stored = vec![alice.clone()];
    f.repo
        .expect_owners()
        .withf(|lookup| lookup == "user:alice")
        .times(1)
        .returning(move |_| Ok(stored.clone()));
    f.hasher
        .expect_verify()
        .withf(|secret, hash| secret == "pa55" && hash == "hash:pa55")
        .times(1)
        .returning(|_, _| true);
    f.repo
        .expect_find()
        .times(2)
        .returning(move |_| Ok(Some(inf.clone())));
    let (infs, _) = f.build();

    let first = infs.authenticate(&auth("alice", "pa55")).await.unwrap();
    let second = infs.authenticate(&auth("alice", "pa55")).await.unwrap();
    assert_eq!(infs.get(&first, &id.to_string()).await.unwrap().id, id);
    assert_eq!(infs.get(&second, &id.to_string()).await.unwrap().id, id);
}

/// A repository that keeps owners and infrastructures in memory.
fn in_memory(f: &mut Fixture) {
    let owners: Arc<Mutex<Vec<Owner>>> = Arc::default();
    let infs: Arc<Mutex<Vec<Infrastructure>>> = Arc::default();
    let read = owners.clone();
    f.repo.expect_owners().returning(move |lookup| {
        Ok(read
            .lock()
            .unwrap()
            .iter()
            .filter(|o| o.lookup == lookup)
            .cloned()
            .collect())
    });
    f.repo.expect_add_owner().returning(move |owner| {
        owners.lock().unwrap().push(owner.clone());
        Ok(())
    });
    let write = infs.clone();
    f.repo.expect_create().returning(move |inf, _| {
        write.lock().unwrap().push(inf.clone());
        Ok(())
    });
    f.repo
        .expect_find()
        .returning(move |id| Ok(infs.lock().unwrap().iter().find(|i| i.id == id).cloned()));
    f.hasher
        .expect_hash()
        .returning(|secret| format!("hash:{secret}"));
    fake_verify(&mut f.hasher);
}

#[tokio::test]
async fn new_credentials_used_by_two_requests_at_once_own_both_infrastructures() {
    let mut f = Fixture::default();
    in_memory(&mut f);
    let (infs, _) = f.build();
    // Two requests of a new user authenticate before either has created.
    let first = infs.authenticate(&auth("carol", "pa55")).await.unwrap();
    let second = infs.authenticate(&auth("carol", "pa55")).await.unwrap();
    let a = infs
        .create(&first, parse_text(DOC).unwrap(), false)
        .await
        .unwrap();
    let b = infs
        .create(&second, parse_text(DOC).unwrap(), false)
        .await
        .unwrap();

    let later = infs.authenticate(&auth("carol", "pa55")).await.unwrap();
    for (which, id) in [("first", a), ("second", b)] {
        let got = infs.get(&later, &id.to_string()).await;
        assert!(got.is_ok(), "the {which} request's infrastructure: {got:?}");
    }
}

// 2. Creating (spec §3.3, §4).

#[tokio::test]
async fn an_async_create_stores_the_owner_the_vms_and_one_queued_launch_per_vm() {
    let mut f = Fixture::default();
    f.stores(vec![], vec![]);
    f.hasher
        .expect_hash()
        .withf(|secret| secret == "pa55")
        .times(1)
        .returning(|secret| format!("hash:{secret}"));
    let enrolled: Seen<Owner> = Arc::default();
    let seen = enrolled.clone();
    f.repo.expect_add_owner().times(1).returning(move |owner| {
        *seen.lock().unwrap() = Some(owner.clone());
        Ok(())
    });
    let created: Seen<(Infrastructure, Vec<NewJob>)> = Arc::default();
    let seen = created.clone();
    f.repo.expect_create().times(1).returning(move |inf, jobs| {
        *seen.lock().unwrap() = Some((inf.clone(), jobs.to_vec()));
        Ok(())
    });
    f.repo.expect_apply().never();
    f.queue.expect_enqueue().never();
    f.provider.expect_create_node().never();
    let (infs, _) = f.build();

    let caller = infs.authenticate(&auth("alice", "pa55")).await.unwrap();
    let id = infs
        .create(&caller, parse_text(DOC).unwrap(), false)
        .await
        .unwrap();

    let enrolled = enrolled.lock().unwrap().clone().unwrap();
    assert_eq!(enrolled.username.as_deref(), Some("alice"));
    assert_eq!(enrolled.lookup, "user:alice");
    assert_eq!(enrolled.secret_hash, "hash:pa55");
    let (inf, jobs) = created.lock().unwrap().clone().unwrap();
    assert_eq!(inf.id, id);
    assert_eq!(inf.owners, vec![enrolled]);
    assert_eq!(inf.next_vm, 3);
    assert_eq!(inf.created, now());
    assert_eq!(inf.clouds, vec![CloudRef::Configured("default".to_owned())]);
    assert!(!inf.deleting);
    assert_eq!(
        inf.contmsg,
        "Contextualization disabled by the RADL/TOSCA template.\n\n"
    );
    let systems: Vec<String> = inf
        .vms
        .iter()
        .map(|vm| parse_text(&vm.radl).unwrap().systems[0].id.clone())
        .collect();
    assert_eq!(systems, ["front", "front", "back"]);
    for (n, vm) in inf.vms.iter().enumerate() {
        assert_eq!(vm.id, VmId(u32::try_from(n).unwrap()));
        assert_eq!(vm.state, VmState::Pending);
        assert_eq!(vm.node, None);
        assert!(!vm.removed);
        assert_eq!(vm.cloud, "default");
        assert_eq!(vm.key.as_str(), format!("{id}/{n}"));
    }
    let tasks: Vec<Task> = jobs.iter().map(|job| job.task.clone()).collect();
    assert_eq!(
        tasks,
        (0..3)
            .map(|n| Task::LaunchVm {
                inf: id,
                vm: VmId(n)
            })
            .collect::<Vec<_>>()
    );
    for job in &jobs {
        assert_eq!(job.claimed, None, "queued for any worker, not claimed");
        assert_eq!(job.run_after, now());
        assert_eq!(job.max_attempts, 3);
    }

    // Not launched yet: nothing shows, the infrastructure is pending.
    let mut f = Fixture::default();
    f.stores(vec![inf.owners[0].clone()], vec![inf]);
    fake_verify(&mut f.hasher);
    let (infs, _) = f.build();
    let caller = infs.authenticate(&auth("alice", "pa55")).await.unwrap();
    assert_eq!(
        infs.state(&caller, &id.to_string()).await.unwrap(),
        States {
            state: VmState::Pending,
            vms: vec![],
        }
    );
}

#[tokio::test]
async fn a_deploy_to_an_unknown_cloud_stores_nothing() {
    let mut f = Fixture::default();
    f.stores(vec![], vec![]);
    f.hasher.expect_hash().times(0);
    f.repo.expect_add_owner().times(0);
    f.repo.expect_create().times(0);
    f.queue.expect_enqueue().times(0);
    let (infs, _) = f.build();
    let caller = infs.authenticate(&auth("alice", "pa55")).await.unwrap();
    let radl = DOC.replace("deploy back 1", "deploy back 1 nowhere");

    let err = infs
        .create(&caller, parse_text(&radl).unwrap(), false)
        .await
        .unwrap_err();

    assert!(
        matches!(&err, InfraError::NoAuthForCloud(cloud) if cloud == "nowhere"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "No auth data for cloud with ID: nowhere");
}

// 3. Launching, once, with retries (what `LaunchVm` jobs do).

#[tokio::test]
async fn a_launch_creates_the_node_with_the_vm_s_key_and_stores_it_up() {
    let mut f = Fixture::default();
    let alice = owner("alice", "pa55");
    let id = InfId::random();
    let inf = infrastructure(id, &alice, vec![vm(id, 0, VmState::Pending, None)]);
    f.stores(vec![], vec![inf]);
    f.launchable();
    let key = format!("{id}/0");
    f.provider
        .expect_create_node()
        .withf(move |new, k| k.as_str() == key && new.size == "small" && new.image == "image")
        .times(1)
        .returning(|_, _| Ok(node("n0")));
    let saved: Arc<Mutex<Vec<Change>>> = Arc::default();
    let seen = saved.clone();
    f.repo
        .expect_apply()
        .withf(move |at, _, jobs| *at == id && jobs.is_empty())
        .times(1)
        .returning(move |_, change, _| {
            seen.lock().unwrap().push(change.clone());
            Ok(true)
        });
    f.queue
        .expect_finish()
        .times(1)
        .returning(|_, _, _| Ok(true));
    f.queue.expect_fail().never();
    let (_, jobs) = f.build();

    let attempt = jobs.run(&launch_job(id, 0, 1), 0.0).await.unwrap();

    assert_eq!(attempt.settlement, Settlement::Succeeded);
    let saved = saved.lock().unwrap();
    let vm = &saved[0].vms[0];
    assert_eq!(vm.id, VmId(0));
    assert_eq!(vm.node, Some(NodeId::new("n0")));
    // Contextualisation is off: up means configured.
    assert_eq!(vm.state, VmState::Configured);
    assert_eq!(vm.key.as_str(), format!("{id}/0"));
    let system = &parse_text(&vm.radl).unwrap().systems[0];
    assert_eq!(
        system.feature("net_interface.0.ip"),
        Some(serde_json::json!("127.0.0.3"))
    );
}

#[tokio::test]
async fn a_launch_that_may_pass_is_retried_and_writes_nothing() {
    let mut f = Fixture::default();
    let alice = owner("alice", "pa55");
    let id = InfId::random();
    let inf = infrastructure(id, &alice, vec![vm(id, 0, VmState::Pending, None)]);
    f.stores(vec![], vec![inf]);
    f.launchable();
    let key = format!("{id}/0");
    f.provider
        .expect_create_node()
        .withf(move |_, k| k.as_str() == key)
        .times(1)
        .returning(|_, _| Err(ProviderError::Timeout));
    f.repo.expect_apply().times(0);
    f.queue
        .expect_fail()
        .withf(|_, _, _, error, retry| {
            retry.is_some() && error.contains("the provider did not answer in time")
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    f.queue.expect_finish().never();
    let (_, jobs) = f.build();

    let attempt = jobs.run(&launch_job(id, 0, 1), 0.0).await.unwrap();

    assert!(
        matches!(attempt.settlement, Settlement::RetryAt(at) if at > now()),
        "{attempt:?}"
    );
}

#[tokio::test]
async fn the_last_launch_attempt_leaves_the_vm_failed_with_the_provider_s_message() {
    let mut f = Fixture::default();
    let alice = owner("alice", "pa55");
    let id = InfId::random();
    let inf = infrastructure(id, &alice, vec![vm(id, 0, VmState::Pending, None)]);
    f.stores(vec![], vec![inf]);
    f.launchable();
    f.provider
        .expect_create_node()
        .times(1)
        .returning(|_, _| Err(ProviderError::Timeout));
    let saved: Arc<Mutex<Vec<Change>>> = Arc::default();
    let seen = saved.clone();
    f.repo
        .expect_apply()
        .times(1)
        .returning(move |_, change, _| {
            seen.lock().unwrap().push(change.clone());
            Ok(true)
        });
    // The job did its work: the VM's failure is the outcome.
    f.queue
        .expect_finish()
        .times(1)
        .returning(|_, _, _| Ok(true));
    f.queue.expect_fail().never();
    let (_, jobs) = f.build();

    let attempt = jobs.run(&launch_job(id, 0, 3), 0.0).await.unwrap();

    assert_eq!(attempt.settlement, Settlement::Succeeded);
    let saved = saved.lock().unwrap();
    let vm = &saved[0].vms[0];
    assert_eq!(vm.state, VmState::Failed);
    assert_eq!(vm.node, None);
    assert!(
        vm.log.contains("the provider did not answer in time"),
        "{:?}",
        vm.log
    );
}

#[tokio::test]
async fn a_vm_launched_already_removed_or_being_destroyed_is_not_launched_again() {
    let id = InfId::random();
    let alice = owner("alice", "pa55");
    let mut deleting = infrastructure(id, &alice, vec![vm(id, 0, VmState::Pending, None)]);
    deleting.deleting = true;
    for inf in [
        infrastructure(id, &alice, vec![vm(id, 0, VmState::Running, Some("n0"))]),
        infrastructure(id, &alice, vec![vm(id, 0, VmState::Failed, None)]),
        infrastructure(id, &alice, vec![removed(vm(id, 0, VmState::Pending, None))]),
        deleting,
    ] {
        let mut f = Fixture::default();
        f.stores(vec![], vec![inf]);
        f.provider.expect_create_node().times(0);
        f.provider.expect_list_sizes().times(0);
        f.repo.expect_apply().times(0);
        f.queue
            .expect_finish()
            .times(1)
            .returning(|_, _, _| Ok(true));
        let (_, jobs) = f.build();

        let attempt = jobs.run(&launch_job(id, 0, 2), 0.0).await.unwrap();

        assert_eq!(attempt.settlement, Settlement::Succeeded);
    }
}

// 4. State aggregation (spec §5).

#[tokio::test]
async fn vms_not_launched_yet_are_hidden_but_keep_the_state_pending() {
    let mut f = Fixture::default();
    let alice = owner("alice", "pa55");
    let (mixed, starting, waiting) = (InfId::random(), InfId::random(), InfId::random());
    let infs = vec![
        infrastructure(
            mixed,
            &alice,
            vec![
                vm(mixed, 0, VmState::Pending, None),
                vm(mixed, 1, VmState::Failed, None),
                vm(mixed, 2, VmState::Configured, Some("n2")),
                removed(vm(mixed, 3, VmState::Configured, Some("n3"))),
            ],
        ),
        // Spec §5.3: VM 0 up, VM 1 not yet launched.
        infrastructure(
            starting,
            &alice,
            vec![
                vm(starting, 0, VmState::Running, Some("n0")),
                vm(starting, 1, VmState::Pending, None),
            ],
        ),
        infrastructure(
            waiting,
            &alice,
            vec![
                vm(waiting, 0, VmState::Pending, None),
                vm(waiting, 1, VmState::Pending, None),
            ],
        ),
    ];
    f.stores(vec![alice.clone()], infs);
    fake_verify(&mut f.hasher);
    let (infs, _) = f.build();
    let caller = infs.authenticate(&auth("alice", "pa55")).await.unwrap();

    assert_eq!(
        infs.state(&caller, &mixed.to_string()).await.unwrap(),
        States {
            state: VmState::Failed,
            vms: vec![(VmId(1), VmState::Failed), (VmId(2), VmState::Configured)],
        }
    );
    assert_eq!(
        infs.vms(&caller, &mixed.to_string()).await.unwrap(),
        vec![VmId(1), VmId(2)]
    );
    assert_eq!(
        infs.state(&caller, &starting.to_string()).await.unwrap(),
        // The VM still waiting for its launch is not listed, but keeps the
        // infrastructure pending.
        States {
            state: VmState::Pending,
            vms: vec![(VmId(0), VmState::Running)],
        }
    );
    assert_eq!(
        infs.state(&caller, &waiting.to_string()).await.unwrap(),
        States {
            state: VmState::Pending,
            vms: vec![],
        }
    );
}

#[tokio::test]
async fn an_infrastructure_whose_vms_were_all_removed_is_unknown() {
    // Spec §5.2: "`unknown` e.g. after every VM was removed".
    let mut f = Fixture::default();
    let alice = owner("alice", "pa55");
    let id = InfId::random();
    let inf = infrastructure(
        id,
        &alice,
        vec![
            removed(vm(id, 0, VmState::Configured, Some("n0"))),
            removed(vm(id, 1, VmState::Configured, Some("n1"))),
        ],
    );
    f.stores(vec![alice.clone()], vec![inf]);
    fake_verify(&mut f.hasher);
    let (infs, _) = f.build();
    let caller = infs.authenticate(&auth("alice", "pa55")).await.unwrap();

    assert_eq!(
        infs.state(&caller, &id.to_string()).await.unwrap(),
        States {
            state: VmState::Unknown,
            vms: vec![],
        }
    );
}

// 5. Removing VMs (spec §3.3, §4).

fn removable(id: InfId, alice: &Owner) -> Infrastructure {
    infrastructure(
        id,
        alice,
        vec![
            vm(id, 0, VmState::Configured, Some("n0")),
            removed(vm(id, 1, VmState::Configured, Some("n1"))),
            vm(id, 2, VmState::Configured, Some("n2")),
            vm(id, 3, VmState::Failed, None),
        ],
    )
}

#[tokio::test]
async fn one_bad_id_in_a_removal_list_removes_nothing() {
    let mut f = Fixture::default();
    let alice = owner("alice", "pa55");
    let id = InfId::random();
    f.stores(vec![alice.clone()], vec![removable(id, &alice)]);
    fake_verify(&mut f.hasher);
    f.repo.expect_apply().times(0);
    f.provider.expect_destroy_node().times(0);
    let (infs, _) = f.build();
    let caller = infs.authenticate(&auth("alice", "pa55")).await.unwrap();

    for (list, expected) in [
        ("0,7", "Invalid VM ID"),
        ("0, 1", "Deleted VM."),
        ("2,x", "Invalid VM ID"),
        ("1", "Deleted VM."),
        ("4", "Invalid VM ID"),
    ] {
        let err = infs
            .remove_vms(&caller, &id.to_string(), list)
            .await
            .unwrap_err();
        assert!(
            matches!(err, InfraError::InvalidVmId | InfraError::DeletedVm),
            "{list}: {err:?}"
        );
        assert_eq!(err.to_string(), expected, "{list}");
    }
}

#[tokio::test]
async fn unlaunched_vms_are_removed_at_once_and_launched_ones_once_destroyed() {
    let mut f = Fixture::default();
    let alice = owner("alice", "pa55");
    let id = InfId::random();
    f.stores(vec![alice.clone()], vec![removable(id, &alice)]);
    fake_verify(&mut f.hasher);
    let marked: Seen<(Change, Vec<NewJob>)> = Arc::default();
    let seen = marked.clone();
    f.repo
        .expect_apply()
        .withf(|_, _, jobs| !jobs.is_empty())
        .times(1)
        .returning(move |_, change, jobs| {
            *seen.lock().unwrap() = Some((change.clone(), jobs.to_vec()));
            Ok(true)
        });
    // The destroy job stores the VM it destroyed.
    f.repo
        .expect_apply()
        .withf(|_, change, jobs| {
            jobs.is_empty()
                && change.vms.len() == 1
                && change.vms[0].id == VmId(0)
                && change.vms[0].removed
                && change.vms[0].state == VmState::Deleting
        })
        .times(1)
        .returning(|_, _, _| Ok(true));
    f.provider
        .expect_destroy_node()
        .withf(|node| node.as_str() == "n0")
        .times(1)
        .returning(|_| Ok(()));
    f.entities.expect_find().returning(|_| Ok(None));
    f.queue
        .expect_finish()
        .times(1)
        .returning(|_, _, _| Ok(true));
    f.queue.expect_fail().never();
    let (infs, _) = f.build();
    let caller = infs.authenticate(&auth("alice", "pa55")).await.unwrap();

    infs.remove_vms(&caller, &id.to_string(), "3, 0")
        .await
        .unwrap();

    let (change, jobs) = marked.lock().unwrap().clone().unwrap();
    let vms: Vec<(VmId, bool, VmState)> = change
        .vms
        .iter()
        .map(|vm| (vm.id, vm.removed, vm.state))
        .collect();
    assert_eq!(
        vms,
        [
            (VmId(3), true, VmState::Deleting),
            (VmId(0), false, VmState::Deleting)
        ]
    );
    // Only the launched VM has a node to destroy, in a job this request runs.
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0].task,
        Task::OperateVm {
            inf: id,
            vm: VmId(0),
            operation: VmOperation::Destroy,
        }
    );
    assert!(jobs[0].claimed.is_some());
}

#[tokio::test]
async fn a_status_unreadable_for_two_minutes_turns_unknown() {
    let id = InfId::random();
    let alice = owner("alice", "pa55");
    let inf = infrastructure(id, &alice, vec![vm(id, 0, VmState::Configured, Some("n0"))]);
    let mut repo = MockInfrastructureRepository::new();
    repo.expect_active().returning(move || Ok(vec![id]));
    repo.expect_find().returning(move |_| Ok(Some(inf.clone())));
    repo.expect_set_vm_state()
        .withf(move |i, vm, from, to| {
            *i == id && *vm == VmId(0) && *from == VmState::Configured && *to == VmState::Unknown
        })
        .times(1)
        .returning(|_, _, _, _| Ok(true));
    let mut provider = MockCloudProvider::new();
    provider.expect_info().return_const(INFO);
    provider
        .expect_list_nodes()
        .returning(|| Err(ProviderError::Timeout));
    let offset = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let mut clock = MockClock::new();
    let elapsed = offset.clone();
    clock.expect_now().returning(move || {
        now() + TimeDelta::seconds(elapsed.load(std::sync::atomic::Ordering::SeqCst))
    });
    let deployer = Deployer::new(
        Arc::new(repo),
        Arc::new(MockProviderFactory::new()),
        BTreeMap::from([(
            CloudName::default_cloud(),
            Arc::new(provider) as Arc<dyn CloudProvider>,
        )]),
        Arc::new(MockEntityRepository::new()),
        Arc::new(MockAttributeRepository::new()),
        Arc::new(MockPoolRepository::new()),
        Arc::new(clock),
    );

    // The first failed read is noted; a minute on, the VM keeps its state.
    assert_eq!(deployer.refresh().await.unwrap(), 0);
    offset.store(60, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(deployer.refresh().await.unwrap(), 0);
    // Past two minutes, it is unknown.
    offset.store(121, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(deployer.refresh().await.unwrap(), 1);
}
