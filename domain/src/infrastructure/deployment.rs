//! What the jobs of infrastructures do: launch, operate on and destroy VMs
//! through the clouds, keep their inventory records, and refresh their
//! states from the providers.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::document::{contextualisation, disabled_for_all, stored};
use super::model::{Change, CloudRef, InfId, Infrastructure, Vm, VmId, VmOperation, VmState};
use super::ports::InfrastructureRepository;
use chrono::NaiveDateTime;

use crate::attribute::AttributeRepository;
use crate::clock::Clock;
use crate::cloud::registration;
use crate::cloud::{
    CloudError, CloudName, CloudProvider, CloudSpec, NewNode, Node, NodeState, ProviderError,
    ProviderFactory, ProviderInfo,
};
use crate::driver::Driver;
use crate::entity::{EntityName, EntityRepository, NewEntity};
use crate::error::{StoreError, error_text};
use crate::pool::PoolRepository;
use crate::radl::{Radl, Value};

/// Described clouds kept built at most (beyond, the cache starts over).
const CACHED_CLOUDS: usize = 1024;

/// How long a VM's status may stay unreadable before it is `unknown`.
const UNREADABLE_FOR: chrono::TimeDelta = chrono::TimeDelta::seconds(120);

/// Runs the provider side of infrastructures: each method is one job's
/// work, safe to run again (a launch reuses the VM's idempotency key, a
/// destroy of a node already gone counts as done).
#[derive(Clone)]
pub struct Deployer {
    repo: Arc<dyn InfrastructureRepository>,
    factory: Arc<dyn ProviderFactory>,
    configured: BTreeMap<CloudName, Arc<dyn CloudProvider>>,
    described: Arc<Mutex<HashMap<String, Arc<dyn CloudProvider>>>>,
    entities: Arc<dyn EntityRepository>,
    attributes: Arc<dyn AttributeRepository>,
    pools: Arc<dyn PoolRepository>,
    clock: Arc<dyn Clock>,
    /// Since when each infrastructure's cloud could not be read (in this
    /// process).
    unreadable: Arc<Mutex<HashMap<String, NaiveDateTime>>>,
}

impl std::fmt::Debug for Deployer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployer")
            .field("configured", &self.configured.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A cloud ready for use: its provider and what it reports itself as.
struct Cloud {
    name: CloudName,
    kind: String,
    provider: Arc<dyn CloudProvider>,
}

impl Deployer {
    /// The deployer over the configured clouds, building described clouds
    /// with `factory`, recording VMs through the inventory ports, timing
    /// unreadable statuses with `clock`.
    pub fn new(
        repo: Arc<dyn InfrastructureRepository>,
        factory: Arc<dyn ProviderFactory>,
        configured: BTreeMap<CloudName, Arc<dyn CloudProvider>>,
        entities: Arc<dyn EntityRepository>,
        attributes: Arc<dyn AttributeRepository>,
        pools: Arc<dyn PoolRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repo,
            factory,
            configured,
            described: Arc::default(),
            entities,
            attributes,
            pools,
            clock,
            unreadable: Arc::default(),
        }
    }

    /// Whether a cloud of this name is configured.
    pub fn is_configured(&self, name: &str) -> bool {
        CloudName::parse(name).is_ok_and(|name| self.configured.contains_key(&name))
    }

    /// The provider type of a configured cloud, as VM info reports it.
    pub fn configured_kind(&self, name: &str) -> Option<String> {
        let name = CloudName::parse(name).ok()?;
        self.configured.get(&name).map(|p| display_kind(p.info()))
    }

    /// The configured clouds' names, the default first.
    pub fn configured_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.configured.keys().map(|n| n.to_string()).collect();
        if let Some(at) = names.iter().position(|n| n == CloudName::DEFAULT) {
            let default = names.remove(at);
            names.insert(0, default);
        }
        names
    }

    /// Builds (or finds built) the provider of a described cloud.
    ///
    /// # Errors
    /// The factory's refusal, as text.
    pub fn build(&self, spec: &CloudSpec) -> Result<Arc<dyn CloudProvider>, String> {
        let key = format!(
            "{}\u{0}{}",
            spec.kind,
            serde_json::Value::Object(spec.settings.clone())
        );
        let mut cache = self
            .described
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(provider) = cache.get(&key) {
            return Ok(provider.clone());
        }
        let lowered = CloudSpec {
            kind: spec.kind.to_ascii_lowercase(),
            settings: spec.settings.clone(),
        };
        let provider = self.factory.build(&lowered).map_err(|e| e.to_string())?;
        if cache.len() >= CACHED_CLOUDS {
            cache.clear();
        }
        cache.insert(key, provider.clone());
        Ok(provider)
    }

    fn cloud(&self, inf: &Infrastructure, id: &str) -> Result<Cloud, CloudError> {
        let name = CloudName::parse(id).map_err(|e| CloudError::InvalidParameter(e.to_string()))?;
        match inf.cloud(id) {
            Some(CloudRef::Described { spec, .. }) => Ok(Cloud {
                provider: self.build(spec).map_err(CloudError::InvalidParameter)?,
                kind: spec.kind.clone(),
                name,
            }),
            _ => {
                let provider = self
                    .configured
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| CloudError::UnknownCloud(id.to_owned()))?;
                Ok(Cloud {
                    kind: display_kind(provider.info()),
                    provider,
                    name,
                })
            }
        }
    }

    async fn load(&self, id: InfId) -> Result<Option<Infrastructure>, CloudError> {
        Ok(self.repo.find(id).await?)
    }

    async fn save_vm(&self, id: InfId, vm: Vm) -> Result<(), CloudError> {
        let change = Change {
            vms: vec![vm],
            ..Change::default()
        };
        self.repo.apply(id, &change, &[]).await?;
        Ok(())
    }

    /// Launches a VM with its idempotency key and records it. A provider
    /// failure that will not pass (or on the `last` attempt) leaves the VM
    /// `failed` with the provider's message in its log and is no error.
    ///
    /// # Errors
    /// Storage failures, and provider failures that may pass while
    /// attempts remain.
    pub async fn launch(&self, id: InfId, vm_id: VmId, last: bool) -> Result<(), CloudError> {
        let Some(inf) = self.load(id).await? else {
            return Ok(());
        };
        let Some(vm) = inf.vm(vm_id).cloned() else {
            return Ok(());
        };
        if vm.removed || inf.deleting || vm.state != VmState::Pending {
            return Ok(());
        }
        match self.create(&inf, &vm).await {
            Ok((cloud, node)) => {
                self.record(&inf, &vm, &cloud, &node).await?;
                let mut vm = vm;
                describe(&mut vm, &cloud.kind, &node);
                vm.node = Some(node.id.clone());
                if node.state == NodeState::Error {
                    vm.state = VmState::Failed;
                    self.save_vm(id, vm).await
                } else if contextualised(&inf, &vm) {
                    vm.state = VmState::Running;
                    self.save_vm(id, vm.clone()).await?;
                    vm.state = VmState::Unconfigured;
                    vm.log = "Contextualization Error: contextualization is not supported by \
                              this server.\n"
                        .to_owned();
                    self.save_vm(id, vm).await
                } else {
                    vm.state = up_state(&inf, &vm);
                    if stored(&inf.radl).is_ok_and(|radl| !disabled_for_all(&radl)) {
                        vm.log = "Contextualization disabled".to_owned();
                    }
                    self.save_vm(id, vm).await
                }
            }
            Err(err) if err.is_transient() && !last => Err(err),
            Err(err) => {
                let mut vm = vm;
                vm.state = VmState::Failed;
                vm.log = format!("Error launching the VM: {}\n", error_text(&err));
                self.save_vm(id, vm).await
            }
        }
    }

    async fn create(&self, inf: &Infrastructure, vm: &Vm) -> Result<(Cloud, Node), CloudError> {
        let cloud = self.cloud(inf, &vm.cloud)?;
        let radl = stored(&vm.radl)?;
        let system = radl.systems.first();
        let size = self.size_for(&cloud, system).await?;
        let url = system
            .and_then(|s| s.feature("disk.0.image.url"))
            .map(|v| match v {
                serde_json::Value::Array(items) => items
                    .first()
                    .and_then(|i| i.as_str())
                    .unwrap_or("")
                    .to_owned(),
                other => other.as_str().unwrap_or("").to_owned(),
            })
            .unwrap_or_default();
        let image = self.image(&cloud, &url).await?;
        let new = NewNode {
            name: dns_name(&radl, vm.id),
            size,
            image,
            location: None,
            key_name: None,
            metadata: BTreeMap::new(),
        };
        let node = cloud.provider.create_node(&new, &vm.key).await?;
        Ok((cloud, node))
    }

    /// The smallest size of the cloud with the CPUs and memory the system
    /// asks for (`cpu.count`, `memory.size`: their lower bounds).
    ///
    /// # Errors
    /// [`CloudError::InvalidParameter`] when no size fits.
    async fn size_for(
        &self,
        cloud: &Cloud,
        system: Option<&crate::radl::Aspect>,
    ) -> Result<String, CloudError> {
        let number = |name: &str| {
            system
                .and_then(|s| s.feature(name))
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0)
        };
        let (cpus, memory) = (number("cpu.count"), number("memory.size") / 1_048_576.0);
        let sizes = cloud.provider.list_sizes().await?;
        // A size that does not say how many CPUs it has is judged by its
        // memory alone.
        sizes
            .iter()
            .filter(|s| (s.cpu == 0 || f64::from(s.cpu) >= cpus) && (s.ram as f64) >= memory)
            .min_by_key(|s| (s.ram, s.cpu))
            .map(|s| s.id.clone())
            .ok_or_else(|| {
                CloudError::InvalidParameter(format!(
                    "no size of cloud {} has {cpus} CPUs and {memory} MiB of memory",
                    cloud.name
                ))
            })
    }

    /// The provider's image an image URL names: by id or name, or the id
    /// after the URL's last `/`; the dummy cloud runs any other URL on its
    /// first image.
    async fn image(&self, cloud: &Cloud, url: &str) -> Result<String, CloudError> {
        let images = cloud.provider.list_images().await?;
        let tail = url.rsplit('/').next().unwrap_or(url);
        if let Some(image) = images
            .iter()
            .find(|i| i.id == url || i.name == url || i.id == tail)
        {
            return Ok(image.id.clone());
        }
        match images.first() {
            Some(first) if cloud.provider.info().kind == "dummy" => Ok(first.id.clone()),
            _ => Err(ProviderError::NotFound {
                kind: "image",
                id: url.to_owned(),
            }
            .into()),
        }
    }

    /// Records a VM's node as a `basicvirtualserver` entity in the pool of
    /// its infrastructure (created or brought up to date).
    async fn record(
        &self,
        inf: &Infrastructure,
        vm: &Vm,
        cloud: &Cloud,
        node: &Node,
    ) -> Result<(), CloudError> {
        let name = entity_name(inf.id, vm.id)?;
        let info = cloud.provider.info();
        let new = NewEntity {
            name,
            driver: Driver::BasicVirtualServer,
            attributes: registration::attributes(&cloud.name, info, node),
        };
        let (entity, created) = self.find_or_create(new).await?;
        if !created {
            self.attributes
                .apply(entity.id, &registration::refresh(node))
                .await?;
        }
        let name = EntityName::parse(&inf.id.to_string())
            .map_err(|e| CloudError::InvalidParameter(e.to_string()))?;
        let (pool, _) = self
            .find_or_create(NewEntity::new(name, Driver::Pool))
            .await?;
        match self
            .pools
            .insert(&pool, std::slice::from_ref(&entity))
            .await
        {
            Ok(()) | Err(StoreError::ResourceTaken(_)) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// The entity of the new one's name, created when missing (by this call
    /// or, when two race, by the other); says whether this call created it.
    async fn find_or_create(
        &self,
        new: NewEntity,
    ) -> Result<(crate::entity::Entity, bool), CloudError> {
        if let Some(found) = self.entities.find(&new.name).await? {
            return Ok((found, false));
        }
        match self.entities.create(std::slice::from_ref(&new)).await {
            Ok(mut created) => Ok((created.pop().ok_or(StoreError::EntityGone)?, true)),
            Err(StoreError::NameTaken(_)) => {
                let found = self.entities.find(&new.name).await?;
                Ok((found.ok_or(StoreError::EntityGone)?, false))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Marks a VM's inventory record terminated (its history stays).
    async fn terminate_record(&self, id: InfId, vm: VmId) -> Result<(), CloudError> {
        let name = entity_name(id, vm)?;
        if let Some(entity) = self.entities.find(&name).await? {
            self.attributes
                .apply(entity.id, &registration::destroyed(None))
                .await?;
        }
        Ok(())
    }

    /// Runs an operation on a launched VM and stores its outcome.
    ///
    /// # Errors
    /// The provider's failure (the VM is left as it was), storage failures.
    pub async fn operate(
        &self,
        id: InfId,
        vm_id: VmId,
        operation: &VmOperation,
    ) -> Result<Option<String>, CloudError> {
        let Some(inf) = self.load(id).await? else {
            return Ok(None);
        };
        let Some(mut vm) = inf.vm(vm_id).cloned() else {
            return Ok(None);
        };
        let Some(node) = vm.node.clone() else {
            if matches!(operation, VmOperation::Destroy) {
                return Ok(None);
            }
            return Err(CloudError::InvalidParameter(format!(
                "VM {vm_id} has no node at its cloud"
            )));
        };
        let cloud = self.cloud(&inf, &vm.cloud)?;
        let mut answer = None;
        match operation {
            VmOperation::Destroy => {
                match cloud.provider.destroy_node(&node).await {
                    Ok(()) | Err(ProviderError::NotFound { .. }) => {}
                    Err(err) => return Err(err.into()),
                }
                self.terminate_record(id, vm_id).await?;
                vm.state = VmState::Deleting;
                vm.removed = true;
            }
            VmOperation::Start => {
                cloud.provider.start_node(&node).await?;
                vm.state = up_state(&inf, &vm);
            }
            VmOperation::Stop => {
                cloud.provider.stop_node(&node).await?;
                vm.state = VmState::Stopped;
            }
            VmOperation::Reboot => {
                cloud.provider.reboot_node(&node).await?;
                vm.state = up_state(&inf, &vm);
            }
            VmOperation::Alter { radl } => {
                let wanted = stored(radl)?;
                let mut current = stored(&vm.radl)?;
                if let (Some(system), Some(target)) =
                    (wanted.systems.first(), current.systems.first_mut())
                {
                    for name in system.feature_names() {
                        target.remove(&name);
                    }
                    target.features.extend_from(&system.features);
                }
                let size = self.size_for(&cloud, current.systems.first()).await?;
                cloud.provider.resize_node(&node, &size).await?;
                vm.radl = current.to_text();
            }
            VmOperation::Snapshot {
                image_name,
                auto_delete,
                ..
            } => {
                let image = cloud.provider.create_image(&node, image_name).await?;
                if *auto_delete {
                    vm.snapshots.push(image.id.clone());
                }
                answer = Some(image.id);
            }
        }
        self.save_vm(id, vm).await?;
        Ok(answer)
    }

    /// Destroys the VMs of an infrastructure being destroyed, then forgets
    /// it. Without `force`, a VM that cannot be destroyed stops it: the
    /// infrastructure stays, no longer being destroyed.
    ///
    /// # Errors
    /// The first provider failure (without `force`), storage failures.
    pub async fn destroy(&self, id: InfId, force: bool) -> Result<(), CloudError> {
        let Some(inf) = self.load(id).await? else {
            return Ok(());
        };
        for vm in inf.live_vms() {
            if vm.node.is_none() {
                continue;
            }
            match self.operate(id, vm.id, &VmOperation::Destroy).await {
                Ok(_) => {}
                Err(err) if force => {
                    tracing::warn!(
                        infrastructure = %id, vm = %vm.id, node = ?vm.node, error = %error_text(&err),
                        "a node of a destroyed infrastructure was left behind"
                    );
                }
                Err(err) if err.is_transient() => return Err(err),
                Err(err) => {
                    let change = Change {
                        deleting: Some(false),
                        ..Change::default()
                    };
                    self.repo.apply(id, &change, &[]).await?;
                    return Err(err);
                }
            }
        }
        for vm in &inf.vms {
            let Ok(cloud) = self.cloud(&inf, &vm.cloud) else {
                continue;
            };
            for image in &vm.snapshots {
                match cloud.provider.delete_image(image).await {
                    Ok(()) | Err(ProviderError::NotFound { .. }) => {}
                    Err(err) => tracing::warn!(
                        infrastructure = %id, vm = %vm.id, image = %image, error = %error_text(&err),
                        "an image made with auto_delete was left behind"
                    ),
                }
            }
        }
        self.repo.forget(id).await?;
        Ok(())
    }

    /// Reads the provider status of every active infrastructure's VMs and
    /// stores the states that changed.
    ///
    /// # Errors
    /// Storage failures; a cloud that cannot be read is skipped (its VMs
    /// keep their state).
    pub async fn refresh(&self) -> Result<usize, CloudError> {
        let mut changed = 0;
        let mut listed: HashMap<String, Option<Vec<Node>>> = HashMap::new();
        for id in self.repo.active().await? {
            let Some(inf) = self.load(id).await? else {
                continue;
            };
            for vm in inf.live_vms() {
                let Some(node_id) = &vm.node else { continue };
                let Ok(cloud) = self.cloud(&inf, &vm.cloud) else {
                    continue;
                };
                // One listing per cloud and pass, however many
                // infrastructures use it.
                let key = match inf.cloud(&vm.cloud) {
                    Some(CloudRef::Described { spec, .. }) => format!(
                        "described/{}/{}",
                        spec.kind,
                        serde_json::Value::Object(spec.settings.clone())
                    ),
                    _ => format!("configured/{}", vm.cloud),
                };
                if !listed.contains_key(&key) {
                    let nodes = cloud.provider.list_nodes().await.ok();
                    self.note_readable(&key, nodes.is_some());
                    listed.insert(key.clone(), nodes);
                }
                let state = match listed.get(&key) {
                    Some(Some(nodes)) => {
                        let node = nodes.iter().find(|n| n.id == *node_id);
                        refreshed_state(&inf, vm, node.map(|n| n.state))
                    }
                    _ if self.unreadable_too_long(&key) && vm.state != VmState::Pending => {
                        VmState::Unknown
                    }
                    _ => continue,
                };
                if state != vm.state && self.repo.set_vm_state(id, vm.id, vm.state, state).await? {
                    changed += 1;
                }
            }
        }
        Ok(changed)
    }
}

impl Deployer {
    fn unreadable(&self) -> std::sync::MutexGuard<'_, HashMap<String, NaiveDateTime>> {
        self.unreadable
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records whether a cloud could be read now.
    fn note_readable(&self, key: &str, readable: bool) {
        if readable {
            self.unreadable().remove(key);
        } else {
            let now = self.clock.now();
            self.unreadable().entry(key.to_owned()).or_insert(now);
        }
    }

    /// Whether a cloud has been unreadable for longer than a VM's status
    /// may be.
    fn unreadable_too_long(&self, key: &str) -> bool {
        let now = self.clock.now();
        self.unreadable()
            .get(key)
            .is_some_and(|since| now - *since > UNREADABLE_FOR)
    }
}

/// The provider type as VM info reports it (`Dummy` for `dummy`).
fn display_kind(info: ProviderInfo) -> String {
    let mut chars = info.kind.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The inventory name of a VM's node.
fn entity_name(id: InfId, vm: VmId) -> Result<EntityName, CloudError> {
    EntityName::parse(&format!("{id}-vm{vm}"))
        .map_err(|e| CloudError::InvalidParameter(e.to_string()))
}

/// The VM's host name: `net_interface.0.dns_name` with `#N#` replaced by
/// its id, else `vnode-<id>`.
fn dns_name(radl: &Radl, vm: VmId) -> String {
    radl.systems
        .first()
        .and_then(|s| s.feature("net_interface.0.dns_name"))
        .and_then(|v| v.as_str().map(|s| s.replace("#N#", &vm.to_string())))
        .unwrap_or_else(|| format!("vnode-{vm}"))
}

/// Whether the VM's infrastructure asks for contextualisation of its system.
fn contextualised(inf: &Infrastructure, vm: &Vm) -> bool {
    let Ok(radl) = stored(&inf.radl) else {
        return false;
    };
    let system = stored(&vm.radl)
        .ok()
        .and_then(|r| r.systems.first().map(|s| s.id.clone()));
    contextualisation(&radl, system.as_deref())
}

/// The state of a VM the provider reports up.
fn up_state(inf: &Infrastructure, vm: &Vm) -> VmState {
    if contextualised(inf, vm) {
        VmState::Unconfigured
    } else {
        VmState::Configured
    }
}

/// A VM's state after a status read (`None`: the node is gone).
fn refreshed_state(inf: &Infrastructure, vm: &Vm, node: Option<NodeState>) -> VmState {
    match node {
        None | Some(NodeState::Terminated) => VmState::Off,
        Some(NodeState::Error) => VmState::Failed,
        Some(NodeState::Stopped | NodeState::Suspended | NodeState::Paused) => {
            if vm.state == VmState::Stopped {
                VmState::Stopped
            } else {
                VmState::Off
            }
        }
        Some(NodeState::Running) => match vm.state {
            VmState::Running | VmState::Configured | VmState::Unconfigured => vm.state,
            _ => up_state(inf, vm),
        },
        Some(NodeState::Pending | NodeState::Rebooting | NodeState::Unknown) => vm.state,
    }
}

/// Adds what the provider reported to a VM's system: its type, addresses,
/// login credentials and a new password.
fn describe(vm: &mut Vm, kind: &str, node: &Node) {
    let Ok(mut radl) = stored(&vm.radl) else {
        return;
    };
    if let Some(system) = radl.systems.first_mut() {
        system.set("provider.type", Value::Text(kind.to_owned()));
        for (k, ip) in node.public_ips.iter().chain(&node.private_ips).enumerate() {
            system.set(&format!("net_interface.{k}.ip"), Value::Text(ip.clone()));
        }
        let extra = |key: &str| {
            node.extra
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let dummy = kind.eq_ignore_ascii_case("dummy");
        let username = extra("username").or_else(|| dummy.then(|| "username".to_owned()));
        let password = extra("password").or_else(|| dummy.then(|| "password".to_owned()));
        if let Some(username) = username {
            system.set("disk.0.os.credentials.username", Value::Text(username));
        }
        if let Some(password) = password {
            system.set("disk.0.os.credentials.password", Value::Text(password));
            if system
                .feature("disk.0.os.credentials.new.password")
                .is_none()
            {
                let new: String = std::iter::repeat_with(fastrand::alphanumeric)
                    .take(8)
                    .collect();
                system.set("disk.0.os.credentials.new.password", Value::Text(new));
            }
        }
        if let Some(key) = extra("private_key") {
            system.set("disk.0.os.credentials.private_key", Value::Text(key));
        }
    }
    vm.radl = radl.to_text();
}
