use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

use super::authorization::{AuthData, AuthError, Credentials};
use super::deployment::Deployer;
use super::document::{contextualisation, stored};
use super::error::InfraError;
use super::model::{
    Change, CloudRef, InfId, Infrastructure, Owner, OwnerId, Vm, VmId, VmOperation, VmState,
};
use super::ports::InfrastructureRepository;
use super::state::aggregate;
use crate::clock::Clock;
use crate::cloud::{CloudError, CloudSpec, IdempotencyKey};
use crate::job::{Jobs, NewJob, Task};
use crate::radl::{Radl, Value};
use crate::secret::SecretHasher;

/// Verified credentials kept at most (beyond, the cache starts over).
const CACHED_OWNERS: usize = 10_000;

/// The version of the export document.
const EXPORT_VERSION: u64 = 1;

/// Who calls: the owner their credentials name (stored or not yet), and
/// the clouds their request describes.
#[derive(Clone)]
pub struct Caller {
    owner: Owner,
    known: bool,
    credentials: Credentials,
    clouds: Vec<CloudRef>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("owner", &self.owner)
            .field("clouds", &self.clouds)
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// The caller's username, if a password names them.
    pub fn username(&self) -> Option<&str> {
        self.owner.username.as_deref()
    }
}

/// An infrastructure's state and its VMs' states, by ascending VM id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct States {
    /// The folded state.
    pub state: VmState,
    /// Each visible VM's state.
    pub vms: Vec<(VmId, VmState)>,
}

/// The infrastructures service: every use case of the IM family, with
/// ownership decided here.
#[derive(Clone)]
pub struct Infrastructures {
    repo: Arc<dyn InfrastructureRepository>,
    hasher: Arc<dyn SecretHasher>,
    jobs: Jobs,
    deployer: Deployer,
    clock: Arc<dyn Clock>,
    allowed: Option<Vec<(String, String)>>,
    verified: Arc<Mutex<HashMap<[u8; 32], Owner>>>,
}

impl std::fmt::Debug for Infrastructures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Infrastructures")
            .field("deployer", &self.deployer)
            .finish_non_exhaustive()
    }
}

/// A VM id from a path segment.
fn vm_id(text: &str) -> Result<VmId, InfraError> {
    text.parse::<u32>()
        .map(VmId)
        .map_err(|_| InfraError::InvalidVmId)
}

/// Whether a VM shows in lists and states: launched, or failed trying.
fn visible(vm: &Vm) -> bool {
    !vm.removed && (vm.node.is_some() || vm.state != VmState::Pending)
}

fn digest(credentials: &Credentials) -> [u8; 32] {
    let mut hash = Sha256::new();
    match credentials {
        Credentials::Password { username, password } => {
            hash.update(b"user\0");
            hash.update(username.as_bytes());
            hash.update(b"\0");
            hash.update(password.as_bytes());
        }
        Credentials::Token(token) => {
            hash.update(b"token\0");
            hash.update(token.as_bytes());
        }
    }
    hash.finalize().into()
}

fn lookup(credentials: &Credentials) -> String {
    match credentials {
        Credentials::Password { username, .. } => format!("user:{username}"),
        Credentials::Token(token) => {
            let digest = Sha256::digest(token.as_bytes());
            let prefix: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
            format!("token:{prefix}")
        }
    }
}

impl Infrastructures {
    /// The service over its storage, running provider work as jobs.
    pub fn new(
        repo: Arc<dyn InfrastructureRepository>,
        hasher: Arc<dyn SecretHasher>,
        jobs: Jobs,
        deployer: Deployer,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repo,
            hasher,
            jobs,
            deployer,
            clock,
            allowed: None,
            verified: Arc::default(),
        }
    }

    /// Only these username and password pairs may log in.
    #[must_use]
    pub fn with_allowed_users(mut self, users: Vec<(String, String)>) -> Self {
        self.allowed = Some(users);
        self
    }

    /// Who the `Authorization` header names: the owner of its credentials
    /// (checked against the stored hashes, remembered once verified), and
    /// the clouds it describes.
    ///
    /// # Errors
    /// [`InfraError::Auth`] when the header carries no valid credentials.
    pub async fn authenticate(&self, auth: &AuthData) -> Result<Caller, InfraError> {
        let credentials = auth.credentials()?;
        if let (Some(allowed), Credentials::Password { username, password }) =
            (&self.allowed, &credentials)
            && !allowed.iter().any(|(u, p)| u == username && p == password)
        {
            return Err(AuthError::Invalid.into());
        }
        if self.allowed.is_some() && matches!(credentials, Credentials::Token(_)) {
            return Err(AuthError::Invalid.into());
        }
        let clouds = auth
            .clouds()
            .into_iter()
            .filter_map(|line| {
                let id = line.id()?.to_owned();
                let kind = line.kind()?.to_owned();
                let settings = line
                    .items()
                    .iter()
                    .filter(|(k, _)| k != "id" && k != "type")
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect();
                Some(CloudRef::Described {
                    id,
                    spec: CloudSpec { kind, settings },
                })
            })
            .collect();
        self.resolve(credentials, clouds).await
    }

    /// The caller these credentials name: a remembered owner, a stored one
    /// whose hash they verify against, or a new owner not stored yet.
    async fn resolve(
        &self,
        credentials: Credentials,
        clouds: Vec<CloudRef>,
    ) -> Result<Caller, InfraError> {
        let cached = self.cache().get(&digest(&credentials)).cloned();
        let (owner, known) = match cached {
            Some(owner) => (owner, true),
            None => self.find_owner(&credentials).await?,
        };
        Ok(Caller {
            owner,
            known,
            credentials,
            clouds,
        })
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Owner>> {
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remember(&self, key: [u8; 32], owner: &Owner) {
        let mut cache = self.cache();
        if cache.len() >= CACHED_OWNERS {
            cache.clear();
        }
        cache.insert(key, owner.clone());
    }

    async fn find_owner(&self, credentials: &Credentials) -> Result<(Owner, bool), InfraError> {
        let lookup = lookup(credentials);
        for owner in self.repo.owners(&lookup).await? {
            if self
                .hasher
                .verify(credentials.secret(), &owner.secret_hash)
                .await
            {
                self.remember(digest(credentials), &owner);
                return Ok((owner, true));
            }
        }
        let owner = Owner {
            id: OwnerId::random(),
            username: credentials.username().map(str::to_owned),
            lookup,
            secret_hash: String::new(),
        };
        Ok((owner, false))
    }

    /// Stores the caller as an owner when they are new. Credentials seen
    /// for the first time by two requests at once are looked up again
    /// first, so that they name one owner.
    async fn enrol(&self, caller: &Caller) -> Result<Owner, InfraError> {
        if caller.known {
            return Ok(caller.owner.clone());
        }
        let again = self.resolve(caller.credentials.clone(), Vec::new()).await?;
        if again.known {
            return Ok(again.owner);
        }
        let mut owner = caller.owner.clone();
        owner.secret_hash = self.hasher.hash(caller.credentials.secret()).await;
        self.repo.add_owner(&owner).await?;
        self.remember(digest(&caller.credentials), &owner);
        Ok(owner)
    }

    /// An infrastructure the caller owns.
    ///
    /// # Errors
    /// [`InfraError::NotFound`], [`InfraError::Forbidden`].
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<Infrastructure, InfraError> {
        let id = InfId::parse(id).ok_or(InfraError::NotFound)?;
        let inf = self.repo.find(id).await?.ok_or(InfraError::NotFound)?;
        if !inf.owned_by(caller.owner.id) {
            return Err(InfraError::Forbidden);
        }
        Ok(inf)
    }

    /// The caller's infrastructures, newest first.
    ///
    /// # Errors
    /// [`InfraError::Store`].
    pub async fn list(&self, caller: &Caller) -> Result<Vec<InfId>, InfraError> {
        if !caller.known {
            return Ok(Vec::new());
        }
        Ok(self.repo.list(caller.owner.id).await?)
    }

    /// The cloud each `deploy` of the document goes to: its own cloud id,
    /// else the caller's first described cloud, else the default
    /// configured cloud.
    fn clouds_of(&self, caller: &Caller, radl: &Radl) -> Result<Vec<CloudRef>, InfraError> {
        let mut used: Vec<CloudRef> = Vec::new();
        for deploy in &radl.deploys {
            let cloud = self.cloud_for(caller, deploy.cloud.as_deref())?;
            if !used.iter().any(|c| c.id() == cloud.id()) {
                used.push(cloud);
            }
        }
        Ok(used)
    }

    fn cloud_for(&self, caller: &Caller, wanted: Option<&str>) -> Result<CloudRef, InfraError> {
        match wanted {
            Some(id) => {
                if let Some(described) = caller.clouds.iter().find(|c| c.id() == id) {
                    Ok(described.clone())
                } else if self.deployer.is_configured(id) {
                    Ok(CloudRef::Configured(id.to_owned()))
                } else {
                    Err(InfraError::NoAuthForCloud(id.to_owned()))
                }
            }
            None => caller
                .clouds
                .first()
                .cloned()
                .or_else(|| {
                    self.deployer
                        .configured_names()
                        .into_iter()
                        .next()
                        .map(CloudRef::Configured)
                })
                .ok_or(InfraError::NoCloud),
        }
    }

    /// Checks that every described cloud can be built.
    fn check_clouds(&self, clouds: &[CloudRef]) -> Result<(), InfraError> {
        for cloud in clouds {
            if let CloudRef::Described { spec, .. } = cloud {
                self.deployer.build(spec).map_err(InfraError::BadCloud)?;
            }
        }
        Ok(())
    }

    /// The VMs a document's `deploy` sentences make, numbered from `next`.
    fn new_vms(
        &self,
        id: InfId,
        caller: &Caller,
        radl: &Radl,
        next: u32,
    ) -> Result<Vec<Vm>, InfraError> {
        let mut vms = Vec::new();
        let mut number = next;
        for deploy in &radl.deploys {
            let cloud = self.cloud_for(caller, deploy.cloud.as_deref())?;
            let Some(system) = radl.system(&deploy.system) else {
                continue;
            };
            for _ in 0..deploy.count {
                let vm = VmId(number);
                number += 1;
                let mut system = system.clone();
                let name = system
                    .feature("net_interface.0.dns_name")
                    .and_then(|v| v.as_str().map(|s| s.replace("#N#", &vm.to_string())))
                    .unwrap_or_else(|| format!("vnode-{vm}"));
                system.set("net_interface.0.dns_name", Value::Text(name.clone()));
                system.set("net_interface.0.dns.0.name", Value::Text(name));
                let networks = radl
                    .networks
                    .iter()
                    .filter(|n| {
                        system.feature_names().iter().any(|f| {
                            f.starts_with("net_interface.")
                                && f.ends_with(".connection")
                                && system
                                    .feature(f)
                                    .and_then(|v| v.as_str().map(str::to_owned))
                                    == Some(n.id.clone())
                        })
                    })
                    .cloned()
                    .collect();
                let own = Radl {
                    networks,
                    systems: vec![system],
                    ..Radl::default()
                };
                vms.push(Vm {
                    id: vm,
                    cloud: cloud.id().to_owned(),
                    node: None,
                    radl: own.to_text(),
                    state: VmState::Pending,
                    log: String::new(),
                    removed: false,
                    key: IdempotencyKey::new(format!("{id}/{vm}")),
                    snapshots: Vec::new(),
                });
            }
        }
        Ok(vms)
    }

    /// What a dry run of the document would ask of each cloud.
    ///
    /// # Errors
    /// RADL and cloud errors as [`Infrastructures::create`].
    pub fn estimate(&self, caller: &Caller, radl: &Radl) -> Result<serde_json::Value, InfraError> {
        radl.check()?;
        let mut answer = serde_json::Map::new();
        for deploy in &radl.deploys {
            let cloud = self.cloud_for(caller, deploy.cloud.as_deref())?;
            let (kind, endpoint) = match &cloud {
                CloudRef::Described { spec, .. } => (
                    spec.kind.clone(),
                    spec.settings
                        .get("host")
                        .and_then(|h| h.as_str())
                        .unwrap_or("")
                        .to_owned(),
                ),
                CloudRef::Configured(name) => (
                    self.deployer.configured_kind(name).unwrap_or_default(),
                    String::new(),
                ),
            };
            let entry = answer.entry(cloud.id().to_owned()).or_insert_with(|| {
                serde_json::json!({
                    "cloudType": kind, "cloudEndpoint": endpoint,
                    "compute": [], "storage": []
                })
            });
            let Some(system) = radl.system(&deploy.system) else {
                continue;
            };
            let number = |name: &str| system.feature(name).and_then(|v| v.as_f64());
            let outbound = system.feature_names().iter().any(|f| {
                f.starts_with("net_interface.") && f.ends_with(".connection") && {
                    let net = system
                        .feature(f)
                        .and_then(|v| v.as_str().map(str::to_owned));
                    net.and_then(|n| radl.network(&n).and_then(|a| a.feature("outbound")))
                        .and_then(|v| v.as_str().map(|s| s.eq_ignore_ascii_case("yes")))
                        == Some(true)
                }
            });
            for _ in 0..deploy.count {
                let mut compute = serde_json::Map::new();
                compute.insert("cpuCores".into(), int(number("cpu.count").unwrap_or(1.0)));
                compute.insert(
                    "memoryInMegabytes".into(),
                    int(number("memory.size").map_or(512.0, |m| m / 1_000_000.0)),
                );
                if let Some(disk) = number("disk.0.size") {
                    compute.insert("diskSizeInGigabytes".into(), int(disk / 1e9));
                }
                if outbound {
                    compute.insert("publicIP".into(), 1.into());
                }
                if let Some(gpu) = number("gpu.count") {
                    compute.insert("GPU".into(), int(gpu));
                }
                if let Some(list) = entry["compute"].as_array_mut() {
                    list.push(compute.into());
                }
                for k in 1.. {
                    let Some(size) = number(&format!("disk.{k}.size")) else {
                        break;
                    };
                    let mut storage = serde_json::Map::new();
                    storage.insert("sizeInGigabytes".into(), int(size / 1e9));
                    if let Some(kind) = system.feature(&format!("disk.{k}.type")) {
                        storage.insert("type".into(), kind);
                    }
                    if let Some(list) = entry["storage"].as_array_mut() {
                        list.push(storage.into());
                    }
                }
            }
        }
        Ok(answer.into())
    }

    /// Creates an infrastructure and launches its VMs. With `wait`, answers
    /// once every launch is over (and fails, keeping nothing, when they all
    /// failed); otherwise at once, the launches left to the job workers.
    ///
    /// # Errors
    /// [`InfraError::Radl`], [`InfraError::NoCloud`],
    /// [`InfraError::NoAuthForCloud`], [`InfraError::BadCloud`],
    /// [`InfraError::LaunchFailed`], [`InfraError::Store`].
    pub async fn create(
        &self,
        caller: &Caller,
        radl: Radl,
        wait: bool,
    ) -> Result<InfId, InfraError> {
        radl.check()?;
        let clouds = self.clouds_of(caller, &radl)?;
        self.check_clouds(&clouds)?;
        let id = InfId::random();
        let vms = self.new_vms(id, caller, &radl, 0)?;
        let deployed = !vms.is_empty();
        let owner = self.enrol(caller).await?;
        let ctxt_off = radl
            .deploys
            .iter()
            .all(|d| !contextualisation(&radl, Some(&d.system)));
        let (contmsg, contextualized) = if !deployed {
            (
                "Infrastructure without any deploy. Exiting.".to_owned(),
                Some(false),
            )
        } else if ctxt_off {
            (
                "Contextualization disabled by the RADL/TOSCA template.\n\n".to_owned(),
                None,
            )
        } else {
            (
                "Contextualization Error: contextualization is not supported by this server."
                    .to_owned(),
                None,
            )
        };
        let inf = Infrastructure {
            id,
            owners: vec![owner],
            radl: radl.to_text(),
            next_vm: u32::try_from(vms.len()).unwrap_or(u32::MAX),
            vms,
            contmsg,
            contextualized,
            deleting: false,
            clouds,
            created: self.clock.now(),
        };
        let jobs = self.launches(&inf.id, &inf.vms, wait);
        self.repo.create(&inf, &jobs).await?;
        if wait {
            let failures = self.run(&jobs).await?;
            let launched = self.repo.find(id).await?.ok_or(InfraError::NotFound)?;
            let failed: Vec<&Vm> = launched
                .live_vms()
                .filter(|vm| vm.state == VmState::Failed)
                .collect();
            if deployed && failed.len() == launched.live_vms().count() {
                let errors: Vec<String> = failed
                    .iter()
                    .map(|vm| vm.log.trim().to_owned())
                    .chain(failures)
                    .collect();
                self.repo.forget(id).await?;
                return Err(InfraError::LaunchFailed(errors.join("\n")));
            }
        }
        Ok(id)
    }

    fn launches(&self, id: &InfId, vms: &[Vm], wait: bool) -> Vec<NewJob> {
        vms.iter()
            .map(|vm| {
                let task = Task::LaunchVm {
                    inf: *id,
                    vm: vm.id,
                };
                if wait {
                    self.jobs.claimed(task)
                } else {
                    self.jobs.queued(task)
                }
            })
            .collect()
    }

    /// Runs claimed jobs side by side; returns their failures' texts.
    async fn run(&self, jobs: &[NewJob]) -> Result<Vec<String>, InfraError> {
        let mut failures = Vec::new();
        for result in self.run_all(jobs).await {
            match result {
                Ok(_) => {}
                Err(CloudError::Store(err)) => return Err(err.into()),
                Err(err) => failures.push(crate::error::error_text(&err)),
            }
        }
        Ok(failures)
    }

    /// Runs claimed jobs side by side; returns each one's outcome.
    async fn run_all(&self, jobs: &[NewJob]) -> Vec<Result<Option<String>, CloudError>> {
        futures_util::future::join_all(jobs.iter().map(|job| self.jobs.run_claimed(job))).await
    }

    /// The VMs of an infrastructure that show: launched (or failed), not
    /// removed, by ascending id.
    ///
    /// # Errors
    /// As [`Infrastructures::get`].
    pub async fn vms(&self, caller: &Caller, id: &str) -> Result<Vec<VmId>, InfraError> {
        let inf = self.get(caller, id).await?;
        Ok(inf
            .vms
            .iter()
            .filter(|vm| visible(vm))
            .map(|vm| vm.id)
            .collect())
    }

    /// The infrastructure's state and its VMs' states.
    ///
    /// # Errors
    /// As [`Infrastructures::get`].
    pub async fn state(&self, caller: &Caller, id: &str) -> Result<States, InfraError> {
        let inf = self.get(caller, id).await?;
        let vms: Vec<(VmId, VmState)> = inf
            .vms
            .iter()
            .filter(|vm| visible(vm))
            .map(|vm| (vm.id, vm.state))
            .collect();
        // VMs still waiting for their launch are not listed, but count as
        // pending: the infrastructure is not `configured` before they are.
        let states: Vec<VmState> = inf.live_vms().map(|vm| vm.state).collect();
        // Once every VM allocated is past its launch, contextualisation
        // (which this server does not run) is over.
        let launched = inf.next_vm > 0
            && !inf
                .live_vms()
                .any(|vm| vm.state == VmState::Pending && vm.node.is_none());
        let contextualized = inf.contextualized.or(launched.then_some(true));
        Ok(States {
            state: aggregate(&states, contextualized, inf.deleting),
            vms,
        })
    }

    /// The infrastructure's RADL document.
    ///
    /// # Errors
    /// As [`Infrastructures::get`].
    pub async fn radl(&self, caller: &Caller, id: &str) -> Result<Radl, InfraError> {
        let inf = self.get(caller, id).await?;
        Ok(stored(&inf.radl)?)
    }

    /// The contextualisation log, then (unless `header_only`) each VM's log.
    ///
    /// # Errors
    /// As [`Infrastructures::get`].
    pub async fn contmsg(
        &self,
        caller: &Caller,
        id: &str,
        header_only: bool,
    ) -> Result<String, InfraError> {
        let inf = self.get(caller, id).await?;
        let mut log = inf.contmsg.clone();
        if !header_only {
            for vm in inf.live_vms().filter(|vm| !vm.log.is_empty()) {
                log.push_str(&format!("VM {}:\n{}\n{}\n", vm.id, vm.log, "*".repeat(75)));
            }
        }
        Ok(log)
    }

    /// The usernames of the owners, in the order they were added.
    ///
    /// # Errors
    /// As [`Infrastructures::get`].
    pub async fn owners(&self, caller: &Caller, id: &str) -> Result<Vec<String>, InfraError> {
        let inf = self.get(caller, id).await?;
        Ok(inf
            .owners
            .iter()
            .filter_map(|o| o.username.clone())
            .collect())
    }

    /// Adds an owner, or with `overwrite` makes it the only one.
    ///
    /// # Errors
    /// As [`Infrastructures::get`]; [`InfraError::BadOwner`].
    pub async fn add_owner(
        &self,
        caller: &Caller,
        id: &str,
        data: &serde_json::Value,
        overwrite: bool,
    ) -> Result<(), InfraError> {
        let inf = self.get(caller, id).await?;
        let object = data
            .as_object()
            .ok_or_else(|| InfraError::BadOwner("a JSON object is expected".to_owned()))?;
        let text = |key: &str| object.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        if let Some(kind) = text("type")
            && kind != "InfrastructureManager"
        {
            return Err(InfraError::BadOwner(format!(
                "type {kind} is not InfrastructureManager"
            )));
        }
        let credentials = match (text("username"), text("password"), text("token")) {
            (Some(username), Some(password), _) => Credentials::Password { username, password },
            (Some(_), None, _) => {
                return Err(InfraError::BadOwner(
                    "a username needs a password".to_owned(),
                ));
            }
            (None, _, Some(token)) => Credentials::Token(token),
            (None, _, None) => {
                return Err(InfraError::BadOwner("no username nor token".to_owned()));
            }
        };
        let new = self
            .enrol(&self.resolve(credentials, Vec::new()).await?)
            .await?;
        let owners = if overwrite {
            vec![new]
        } else if inf.owned_by(new.id) {
            return Ok(());
        } else {
            let mut owners = inf.owners.clone();
            owners.push(new);
            owners
        };
        let change = Change {
            owners: Some(owners),
            ..Change::default()
        };
        self.repo.apply(inf.id, &change, &[]).await?;
        Ok(())
    }

    /// The export document (a JSON text); with `delete`, the infrastructure
    /// is forgotten here, its VMs untouched.
    ///
    /// # Errors
    /// As [`Infrastructures::get`].
    pub async fn export(
        &self,
        caller: &Caller,
        id: &str,
        delete: bool,
    ) -> Result<String, InfraError> {
        let inf = self.get(caller, id).await?;
        let vms: Vec<serde_json::Value> = inf
            .vms
            .iter()
            .map(|vm| {
                serde_json::json!({
                    "id": vm.id.0, "cloud": vm.cloud,
                    "node": vm.node.as_ref().map(|n| n.as_str().to_owned()),
                    "radl": vm.radl, "state": vm.state.as_str(), "log": vm.log,
                    "removed": vm.removed, "key": vm.key.as_str(),
                })
            })
            .collect();
        let clouds: Vec<serde_json::Value> = inf
            .clouds
            .iter()
            .map(|c| match c {
                CloudRef::Configured(name) => serde_json::json!({"id": name, "configured": true}),
                CloudRef::Described { id, spec } => {
                    serde_json::json!({"id": id, "type": spec.kind})
                }
            })
            .collect();
        let document = serde_json::json!({
            "strato_export": EXPORT_VERSION,
            "id": inf.id.to_string(),
            "radl": inf.radl,
            "contmsg": inf.contmsg,
            "contextualized": inf.contextualized,
            "next_vm": inf.next_vm,
            "created": inf.created.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
            "clouds": clouds,
            "vms": vms,
        });
        if delete {
            self.repo.forget(inf.id).await?;
        }
        Ok(document.to_string())
    }

    /// Imports an export document; the caller becomes its only owner and
    /// its described clouds are taken from the caller's header by id.
    ///
    /// # Errors
    /// [`InfraError::BadImport`], [`InfraError::Exists`], [`InfraError::Store`].
    pub async fn import(&self, caller: &Caller, data: &str) -> Result<InfId, InfraError> {
        let bad = |reason: &str| InfraError::BadImport(reason.to_owned());
        let doc: serde_json::Value =
            serde_json::from_str(data).map_err(|e| InfraError::BadImport(e.to_string()))?;
        if doc["strato_export"].as_u64() != Some(EXPORT_VERSION) {
            return Err(bad("not a strato export document of version 1"));
        }
        let id = doc["id"]
            .as_str()
            .and_then(InfId::parse)
            .ok_or_else(|| bad("'id' is not an infrastructure id"))?;
        let text = |v: &serde_json::Value, key: &str| -> Result<String, InfraError> {
            v[key]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| InfraError::BadImport(format!("'{key}' is missing")))
        };
        let radl = text(&doc, "radl")?;
        stored(&radl).map_err(|e| InfraError::BadImport(crate::error::error_text(&e)))?;
        let mut clouds = Vec::new();
        for cloud in doc["clouds"]
            .as_array()
            .ok_or_else(|| bad("'clouds' is missing"))?
        {
            let cloud_id = text(cloud, "id")?;
            let resolved = caller
                .clouds
                .iter()
                .find(|c| c.id() == cloud_id)
                .cloned()
                .unwrap_or(CloudRef::Configured(cloud_id));
            clouds.push(resolved);
        }
        let mut vms = Vec::new();
        for vm in doc["vms"]
            .as_array()
            .ok_or_else(|| bad("'vms' is missing"))?
        {
            let number = vm["id"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad("a VM id is not a number"))?;
            let radl = text(vm, "radl")?;
            stored(&radl).map_err(|e| InfraError::BadImport(crate::error::error_text(&e)))?;
            vms.push(Vm {
                id: VmId(number),
                cloud: text(vm, "cloud")?,
                node: vm["node"].as_str().map(crate::cloud::NodeId::new),
                radl,
                state: VmState::parse(&text(vm, "state")?)
                    .ok_or_else(|| bad("a VM state is unknown"))?,
                log: text(vm, "log")?,
                removed: vm["removed"].as_bool().unwrap_or(false),
                key: IdempotencyKey::new(text(vm, "key")?),
                snapshots: Vec::new(),
            });
        }
        let created = doc["created"]
            .as_str()
            .and_then(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").ok())
            .unwrap_or_else(|| self.clock.now());
        let owner = self.enrol(caller).await?;
        let inf = Infrastructure {
            id,
            owners: vec![owner],
            radl,
            next_vm: doc["next_vm"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad("'next_vm' is missing"))?,
            vms,
            contmsg: text(&doc, "contmsg")?,
            contextualized: doc["contextualized"].as_bool(),
            deleting: false,
            clouds,
            created,
        };
        match self.repo.create(&inf, &[]).await {
            Ok(()) => Ok(id),
            Err(crate::error::StoreError::Concurrent) => Err(InfraError::Exists),
            Err(err) => Err(err.into()),
        }
    }

    /// Adds the document's new VMs (its networks and systems join the
    /// stored RADL). Returns the new VMs' ids in `deploy` order.
    ///
    /// # Errors
    /// As [`Infrastructures::get`]; [`InfraError::Radl`],
    /// [`InfraError::LaunchFailed`] when every new VM failed.
    pub async fn add(
        &self,
        caller: &Caller,
        id: &str,
        radl: Radl,
        wait: bool,
    ) -> Result<Vec<VmId>, InfraError> {
        let inf = self.get(caller, id).await?;
        let mut document = stored(&inf.radl)?;
        radl.check_with(&document)?;
        let mut merged = document.clone();
        merged.merge(radl.clone());
        let mut wanted = radl.clone();
        for sentence in &mut wanted.systems {
            if sentence.reference
                && let Some(full) = document.system(&sentence.id)
            {
                *sentence = full.clone();
            }
        }
        for network in &document.networks {
            if wanted.network(&network.id).is_none_or(|n| n.reference) {
                wanted.networks.retain(|n| n.id != network.id);
                wanted.networks.push(network.clone());
            }
        }
        wanted.configures = merged.configures.clone();
        wanted.contextualize = merged.contextualize.clone();
        let new_clouds = self.clouds_of(caller, &wanted)?;
        self.check_clouds(&new_clouds)?;
        let vms = self.new_vms(inf.id, caller, &wanted, inf.next_vm)?;
        let ids: Vec<VmId> = vms.iter().map(|vm| vm.id).collect();
        let mut clouds = inf.clouds.clone();
        for cloud in new_clouds {
            clouds.retain(|c| c.id() != cloud.id());
            clouds.push(cloud);
        }
        document.merge(radl);
        let jobs = self.launches(&inf.id, &vms, wait);
        let change = Change {
            radl: Some(document.to_text()),
            next_vm: Some(inf.next_vm + u32::try_from(vms.len()).unwrap_or(u32::MAX)),
            clouds: Some(clouds),
            vms,
            ..Change::default()
        };
        if !self.repo.apply(inf.id, &change, &jobs).await? {
            return Err(InfraError::NotFound);
        }
        if wait && !ids.is_empty() {
            let failures = self.run(&jobs).await?;
            let after = self.repo.find(inf.id).await?.ok_or(InfraError::NotFound)?;
            let failed: Vec<String> = ids
                .iter()
                .filter_map(|vm| after.vm(*vm))
                .filter(|vm| vm.state == VmState::Failed)
                .map(|vm| vm.log.trim().to_owned())
                .collect();
            if failed.len() == ids.len() {
                let errors: Vec<String> = failed.into_iter().chain(failures).collect();
                return Err(InfraError::LaunchFailed(format!(
                    "Error adding VMs: {}",
                    errors.join("\n")
                )));
            }
        }
        Ok(ids)
    }

    /// Runs an operation on VMs as jobs and waits for them.
    async fn operate(
        &self,
        inf: &Infrastructure,
        vms: &[VmId],
        operation: &VmOperation,
    ) -> Result<Vec<Option<String>>, InfraError> {
        self.operate_with(inf, vms, operation, &Change::default())
            .await
    }

    /// Runs an operation on VMs as jobs stored with `change`, and waits for
    /// them.
    async fn operate_with(
        &self,
        inf: &Infrastructure,
        vms: &[VmId],
        operation: &VmOperation,
        change: &Change,
    ) -> Result<Vec<Option<String>>, InfraError> {
        let jobs: Vec<NewJob> = vms
            .iter()
            .map(|vm| {
                self.jobs.claimed(Task::OperateVm {
                    inf: inf.id,
                    vm: *vm,
                    operation: operation.clone(),
                })
            })
            .collect();
        if !self.repo.apply(inf.id, change, &jobs).await? {
            return Err(InfraError::NotFound);
        }
        self.run_all(&jobs)
            .await
            .into_iter()
            .map(|r| r.map_err(InfraError::from))
            .collect()
    }

    /// Stops or starts every launched VM.
    ///
    /// # Errors
    /// As [`Infrastructures::get`]; [`InfraError::Provider`].
    pub async fn stop_or_start(
        &self,
        caller: &Caller,
        id: &str,
        operation: VmOperation,
    ) -> Result<(), InfraError> {
        let inf = self.get(caller, id).await?;
        let vms: Vec<VmId> = inf
            .live_vms()
            .filter(|vm| vm.node.is_some())
            .map(|vm| vm.id)
            .collect();
        self.operate(&inf, &vms, &operation).await?;
        Ok(())
    }

    /// Replaces the stored `configure` and `contextualize` sentences (and
    /// adds new credentials or applications to systems); contextualisation
    /// itself does not run on this server, so VMs stay as they are.
    ///
    /// # Errors
    /// As [`Infrastructures::get`]; [`InfraError::BadVmList`],
    /// [`InfraError::Radl`].
    pub async fn reconfigure(
        &self,
        caller: &Caller,
        id: &str,
        radl: Option<Radl>,
        vm_list: Option<&str>,
    ) -> Result<InfId, InfraError> {
        let inf = self.get(caller, id).await?;
        if let Some(list) = vm_list.filter(|l| !l.trim().is_empty()) {
            for item in list.split(',') {
                let vm = item
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| InfraError::BadVmList)?;
                if inf.vm(VmId(vm)).is_none_or(|v| v.removed) {
                    return Err(InfraError::BadVmList);
                }
            }
        }
        if let Some(radl) = radl {
            let mut document = stored(&inf.radl)?;
            radl.check_with(&document)?;
            document.replace_configuration(radl);
            let change = Change {
                radl: Some(document.to_text()),
                ..Change::default()
            };
            self.repo.apply(inf.id, &change, &[]).await?;
        }
        Ok(inf.id)
    }

    /// Destroys an infrastructure: marks it being destroyed, then destroys
    /// its VMs (with `wait`, before answering) and forgets it.
    ///
    /// # Errors
    /// As [`Infrastructures::get`]; [`InfraError::InvalidState`] while VMs
    /// are being added; [`InfraError::Provider`] (without `force`).
    pub async fn destroy(
        &self,
        caller: &Caller,
        id: &str,
        force: bool,
        wait: bool,
    ) -> Result<(), InfraError> {
        let inf = self.get(caller, id).await?;
        if inf
            .live_vms()
            .any(|vm| vm.state == VmState::Pending && vm.node.is_none())
            && !force
        {
            return Err(InfraError::InvalidState);
        }
        let task = Task::DestroyInfrastructure { inf: inf.id, force };
        let job = if wait {
            self.jobs.claimed(task)
        } else {
            self.jobs.queued(task)
        };
        let change = Change {
            deleting: Some(true),
            ..Change::default()
        };
        if !self
            .repo
            .apply(inf.id, &change, std::slice::from_ref(&job))
            .await?
        {
            return Err(InfraError::NotFound);
        }
        if wait {
            self.jobs.run_claimed(&job).await?;
        }
        Ok(())
    }

    fn live_vm<'a>(&self, inf: &'a Infrastructure, vm: &str) -> Result<&'a Vm, InfraError> {
        let id = vm_id(vm)?;
        let found = inf.vm(id).ok_or(InfraError::InvalidVmId)?;
        if found.removed {
            return Err(InfraError::DeletedVm);
        }
        Ok(found)
    }

    /// A VM's RADL: the networks it is attached to and its system, with its
    /// current state.
    ///
    /// # Errors
    /// As [`Infrastructures::get`]; [`InfraError::InvalidVmId`],
    /// [`InfraError::DeletedVm`].
    pub async fn vm_info(&self, caller: &Caller, id: &str, vm: &str) -> Result<Radl, InfraError> {
        let inf = self.get(caller, id).await?;
        let vm = self.live_vm(&inf, vm)?;
        Ok(vm_radl(vm)?)
    }

    /// One feature of a VM's system (`contmsg` is its log).
    ///
    /// # Errors
    /// As [`Infrastructures::vm_info`]; [`InfraError::UnknownFeature`].
    pub async fn vm_feature(
        &self,
        caller: &Caller,
        id: &str,
        vm: &str,
        feature: &str,
    ) -> Result<serde_json::Value, InfraError> {
        let inf = self.get(caller, id).await?;
        let vm = self.live_vm(&inf, vm)?;
        if feature == "contmsg" {
            return Ok(vm.log.clone().into());
        }
        let radl = vm_radl(vm)?;
        radl.systems
            .first()
            .and_then(|s| s.feature(feature))
            .ok_or_else(|| InfraError::UnknownFeature {
                feature: feature.to_owned(),
                vm: vm.id.0,
            })
    }

    /// Applies the features of the document's first system to a VM and
    /// answers its new RADL.
    ///
    /// # Errors
    /// As [`Infrastructures::vm_info`]; [`InfraError::Provider`].
    pub async fn alter(
        &self,
        caller: &Caller,
        id: &str,
        vm: &str,
        radl: Radl,
    ) -> Result<Radl, InfraError> {
        let inf = self.get(caller, id).await?;
        let target = self.live_vm(&inf, vm)?.id;
        let Some(system) = radl.systems.first() else {
            return Err(InfraError::Provider("the RADL has no system".to_owned()));
        };
        let wanted = Radl {
            systems: vec![system.clone()],
            ..Radl::default()
        };
        self.operate(
            &inf,
            &[target],
            &VmOperation::Alter {
                radl: wanted.to_text(),
            },
        )
        .await?;
        let after = self.repo.find(inf.id).await?.ok_or(InfraError::NotFound)?;
        let vm = after.vm(target).ok_or(InfraError::InvalidVmId)?;
        Ok(vm_radl(vm)?)
    }

    /// Starts, stops or reboots one VM.
    ///
    /// # Errors
    /// As [`Infrastructures::vm_info`]; [`InfraError::Provider`].
    pub async fn operate_vm(
        &self,
        caller: &Caller,
        id: &str,
        vm: &str,
        operation: VmOperation,
    ) -> Result<(), InfraError> {
        let inf = self.get(caller, id).await?;
        let target = self.live_vm(&inf, vm)?.id;
        self.operate(&inf, &[target], &operation).await?;
        Ok(())
    }

    /// Removes VMs (a comma-separated list, all resolved before anything
    /// changes) and destroys their nodes.
    ///
    /// # Errors
    /// As [`Infrastructures::vm_info`] for any id of the list;
    /// [`InfraError::Provider`].
    pub async fn remove_vms(
        &self,
        caller: &Caller,
        id: &str,
        list: &str,
    ) -> Result<(), InfraError> {
        let inf = self.get(caller, id).await?;
        let mut targets: Vec<Vm> = Vec::new();
        for item in list.split(',') {
            let vm = self.live_vm(&inf, item.trim())?;
            if !targets.iter().any(|t| t.id == vm.id) {
                targets.push(vm.clone());
            }
        }
        // A VM with a node is removed once its node is destroyed (so that a
        // failed destroy can be tried again); one without is removed now.
        let mut removed = Vec::new();
        let mut launched = Vec::new();
        for mut vm in targets {
            if vm.node.is_some() {
                launched.push(vm.id);
            } else {
                vm.removed = true;
            }
            vm.state = VmState::Deleting;
            removed.push(vm);
        }
        let change = Change {
            vms: removed,
            ..Change::default()
        };
        self.operate_with(&inf, &launched, &VmOperation::Destroy, &change)
            .await?;
        Ok(())
    }

    /// Makes an image of a VM's disk; answers its URL.
    ///
    /// # Errors
    /// As [`Infrastructures::vm_info`]; [`InfraError::Provider`].
    pub async fn snapshot(
        &self,
        caller: &Caller,
        id: &str,
        vm: &str,
        disk: &str,
        image_name: &str,
        auto_delete: bool,
    ) -> Result<String, InfraError> {
        let inf = self.get(caller, id).await?;
        let target = self.live_vm(&inf, vm)?;
        let disk: u32 = disk
            .parse()
            .map_err(|_| InfraError::Provider(format!("invalid disk number {disk}")))?;
        let operation = VmOperation::Snapshot {
            disk,
            image_name: image_name.to_owned(),
            auto_delete,
        };
        let answers = self.operate(&inf, &[target.id], &operation).await?;
        let image = answers.into_iter().flatten().next().unwrap_or_default();
        let scheme = match inf.cloud(&target.cloud) {
            Some(CloudRef::Described { spec, .. }) => spec.kind.to_ascii_lowercase(),
            _ => "dummy".to_owned(),
        };
        Ok(format!("{scheme}://{}/{image}", target.cloud))
    }
}

/// A VM's RADL as clients see it: its stored RADL with its state.
fn vm_radl(vm: &Vm) -> Result<Radl, CloudError> {
    let mut radl = stored(&vm.radl)?;
    if let Some(system) = radl.systems.first_mut() {
        system.set("state", Value::Text(vm.state.as_str().to_owned()));
    }
    Ok(radl)
}

/// A whole number as an integer, else as a float.
fn int(value: f64) -> serde_json::Value {
    if value.fract() == 0.0 && value.abs() < 9e15 {
        #[allow(clippy::cast_possible_truncation)]
        serde_json::Value::from(value as i64)
    } else {
        serde_json::Value::from(value)
    }
}
