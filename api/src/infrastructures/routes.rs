//! The handlers of the IM family (spec `im.md` §3.1): each checks its path
//! literals and query flags, authenticates, negotiates its answer, reads
//! its body, calls one [`Infrastructures`] use case and renders the result.
//!
//! Use cases that run provider jobs run on a task of their own, so that a
//! client that hangs up does not cut a deployment short.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use strato_domain::infrastructure::{InfraError, Infrastructures, VmOperation};
use strato_domain::job::JobKind;
use tracing::Instrument;

use super::call::Call;
use super::error::ImError;
use super::negotiation::{self, ErrorFormat, Produces};
use super::reply::{self, Base};

/// A handler's answer.
type Reply = Result<HttpResponse, ImError>;

/// The service, as the app holds it.
type Service = web::Data<Infrastructures>;

/// A path parameter (always there: the route's pattern names it).
fn segment<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
    req.match_info().get(name).unwrap_or_default()
}

/// Runs a use case on a task of its own, in the request's span.
///
/// # Errors
/// The use case's error, with the route's prefix; 500 if the task panicked.
async fn detached<T: 'static>(
    call: &Call,
    kind: Option<JobKind>,
    work: impl Future<Output = Result<T, InfraError>> + 'static,
) -> Result<T, ImError> {
    let started = std::time::Instant::now();
    let result = actix_web::rt::spawn(work.instrument(tracing::Span::current()))
        .await
        .map_err(|err| ImError::internal(call.errors(), &err))?;
    if let Some(kind) = kind {
        let outcome = if result.is_ok() {
            "succeeded"
        } else {
            "failed"
        };
        crate::metrics::job(kind, outcome, started.elapsed());
    }
    result.map_err(|err| call.fail(err))
}

/// 404 for a path literal a route does not know (a property or an
/// operation), before anything else is checked.
fn refuse(req: &HttpRequest, message: &str) -> ImError {
    ImError::new(
        ErrorFormat::of(&negotiation::accepted(req)),
        StatusCode::NOT_FOUND,
        message,
    )
}

/// Any path of the family that no route has: 404 `Not Found`.
pub(super) async fn not_found(req: HttpRequest) -> Reply {
    Err(ImError::not_found(ErrorFormat::of(&negotiation::accepted(
        &req,
    ))))
}

/// A path of the family under a method it does not take: 405 with the
/// methods it takes in `Allow`.
pub(super) fn wrong_method(req: &HttpRequest, allow: &str) -> Reply {
    Err(ImError::method_not_allowed(
        ErrorFormat::of(&negotiation::accepted(req)),
        allow,
    ))
}

/// `GET /version`: strato's version (no authentication).
pub(super) async fn version(req: HttpRequest) -> Reply {
    let call = Call::new(&req, "Error getting IM version");
    let format = call.accept(Produces::Text)?;
    Ok(reply::version(format, env!("CARGO_PKG_VERSION")))
}

/// `GET /infrastructures`: the caller's infrastructures, newest first.
pub(super) async fn list(req: HttpRequest, service: Service) -> Reply {
    let call = Call::new(&req, "Error Getting Inf. List");
    let caller = call.caller(&service).await?;
    let format = call.accept(Produces::Uris)?;
    let ids = service.list(&caller).await.map_err(|e| call.fail(e))?;
    let base = Base::of(&req);
    Ok(reply::uri_list(
        format,
        ids.iter().map(|id| base.infrastructure(id)).collect(),
    ))
}

/// `POST /infrastructures`: creates an infrastructure from a RADL
/// document (`async`, `dry_run`).
pub(super) async fn create(req: HttpRequest, service: Service, payload: web::Payload) -> Reply {
    let call = Call::new(&req, "Error Creating Inf.");
    let asynchronous = call.flag("async", false)?;
    let dry_run = call.flag("dry_run", false)?;
    let caller = call.caller(&service).await?;
    let format = call.accept(if dry_run {
        Produces::Json
    } else {
        Produces::Uris
    })?;
    let radl = call.radl(payload).await?;
    if dry_run {
        let estimate = service.estimate(&caller, &radl).map_err(|e| call.fail(e))?;
        return Ok(reply::json(&estimate));
    }
    let service = service.into_inner();
    let kind = (!asynchronous).then_some(JobKind::LaunchVm);
    let id = detached(&call, kind, async move {
        service.create(&caller, radl, !asynchronous).await
    })
    .await?;
    let answer = reply::uri(format, Base::of(&req).infrastructure(&id));
    Ok(reply::with_inf_id(answer, &id.to_string()))
}

/// `PUT /infrastructures`: imports an exported infrastructure.
pub(super) async fn import(req: HttpRequest, service: Service, payload: web::Payload) -> Reply {
    let call = Call::new(&req, "Error Importing Inf.");
    let caller = call.caller(&service).await?;
    let format = call.accept(Produces::Uris)?;
    let data = call.json_text(payload).await?;
    let id = service
        .import(&caller, &data)
        .await
        .map_err(|e| call.fail(e))?;
    Ok(reply::uri(format, Base::of(&req).infrastructure(&id)))
}

/// `GET /infrastructures/{id}`: the URIs of its VMs.
pub(super) async fn vms(req: HttpRequest, service: Service) -> Reply {
    let call = Call::new(&req, "Error Getting Inf. info");
    let id = segment(&req, "id");
    let caller = call.caller(&service).await?;
    let format = call.accept(Produces::Uris)?;
    let vms = service.vms(&caller, id).await.map_err(|e| call.fail(e))?;
    let base = Base::of(&req);
    Ok(reply::uri_list(
        format,
        vms.into_iter().map(|vm| base.vm(id, vm)).collect(),
    ))
}

/// `POST /infrastructures/{id}`: adds the VMs of a RADL document
/// (`context`).
pub(super) async fn add(req: HttpRequest, service: Service, payload: web::Payload) -> Reply {
    let call = Call::new(&req, "Error Adding resources");
    let id = segment(&req, "id").to_owned();
    let context = call.flag("context", true)?;
    let caller = call.caller(&service).await?;
    let format = call.accept(Produces::Uris)?;
    let radl = call.radl(payload).await?;
    let service = service.into_inner();
    let new = {
        let id = id.clone();
        detached(&call, Some(JobKind::LaunchVm), async move {
            service.add(&caller, &id, radl, true).await
        })
        .await?
    };
    let base = Base::of(&req);
    let answer = reply::uri_list(format, new.into_iter().map(|vm| base.vm(&id, vm)).collect());
    // The use case succeeded, so the path names the infrastructure by its id.
    Ok(if context {
        reply::with_inf_id(answer, &id)
    } else {
        answer
    })
}

/// `DELETE /infrastructures/{id}`: destroys it (`force`, `async`).
pub(super) async fn destroy(req: HttpRequest, service: Service) -> Reply {
    let call = Call::new(&req, "Error Destroying Inf");
    let id = segment(&req, "id").to_owned();
    let force = call.flag("force", false)?;
    let asynchronous = call.flag("async", false)?;
    let caller = call.caller(&service).await?;
    let service = service.into_inner();
    let kind = (!asynchronous).then_some(JobKind::DestroyInfrastructure);
    detached(&call, kind, async move {
        service.destroy(&caller, &id, force, !asynchronous).await
    })
    .await?;
    Ok(reply::empty())
}

/// The properties `GET /infrastructures/{id}/{property}` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Property {
    State,
    Radl,
    Contmsg,
    Authorization,
    Data,
    Outputs,
    Tosca,
}

impl Property {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "state" => Self::State,
            "radl" => Self::Radl,
            "contmsg" => Self::Contmsg,
            "authorization" => Self::Authorization,
            "data" => Self::Data,
            "outputs" => Self::Outputs,
            "tosca" => Self::Tosca,
            _ => return None,
        })
    }

    fn produces(self) -> Produces {
        match self {
            Self::State | Self::Data | Self::Outputs | Self::Tosca => Produces::Json,
            Self::Radl | Self::Contmsg | Self::Authorization => Produces::Text,
        }
    }
}

/// `GET /infrastructures/{id}/authorization`: the owners' usernames.
pub(super) async fn owners(req: HttpRequest, service: Service) -> Reply {
    infrastructure_property(req, service, Property::Authorization).await
}

/// `GET /infrastructures/{id}/{property}`: `state`, `radl`, `contmsg`
/// (`headeronly`), `data` (`delete`); `outputs` and `tosca` exist only
/// for TOSCA documents, which strato does not take.
pub(super) async fn property(req: HttpRequest, service: Service) -> Reply {
    let Some(property) = Property::parse(segment(&req, "property")) else {
        return Err(refuse(&req, "Incorrect infrastructure property"));
    };
    infrastructure_property(req, service, property).await
}

async fn infrastructure_property(req: HttpRequest, service: Service, property: Property) -> Reply {
    let call = Call::new(&req, "Error Getting Inf. prop");
    let id = segment(&req, "id");
    let header_only = match property {
        Property::Contmsg => call.flag("headeronly", false)?,
        _ => false,
    };
    let delete = match property {
        Property::Data => call.flag("delete", false)?,
        _ => false,
    };
    let caller = call.caller(&service).await?;
    let format = call.accept(property.produces())?;
    let fail = |e| call.fail(e);
    Ok(match property {
        Property::State => {
            let states = service.state(&caller, id).await.map_err(fail)?;
            reply::state(states.state, states.vms)
        }
        Property::Radl => {
            let radl = service.radl(&caller, id).await.map_err(fail)?;
            reply::radl_text(format, radl.to_text())
        }
        Property::Contmsg => {
            let log = service
                .contmsg(&caller, id, header_only)
                .await
                .map_err(fail)?;
            reply::contmsg(format, log)
        }
        Property::Authorization => {
            let usernames = service.owners(&caller, id).await.map_err(fail)?;
            reply::owners(format, usernames)
        }
        Property::Data => {
            let document = service.export(&caller, id, delete).await.map_err(fail)?;
            reply::data(document)
        }
        Property::Outputs | Property::Tosca => {
            service.get(&caller, id).await.map_err(fail)?;
            let name = if property == Property::Outputs {
                "outputs"
            } else {
                "tosca"
            };
            return Err(call.reject(
                StatusCode::FORBIDDEN,
                format!("'{name}' infrastructure property is not valid in this infrastructure"),
            ));
        }
    })
}

/// `POST /infrastructures/{id}/authorization`: adds an owner
/// (`overwrite`).
pub(super) async fn add_owner(req: HttpRequest, service: Service, payload: web::Payload) -> Reply {
    let call = Call::new(&req, "Error modifying infrastructure owner");
    let id = segment(&req, "id");
    let overwrite = call.flag("overwrite", false)?;
    let caller = call.caller(&service).await?;
    let text = call.json_text(payload).await?;
    let data: serde_json::Value = serde_json::from_str(&text).map_err(|err| {
        call.reject(
            StatusCode::BAD_REQUEST,
            format!("Error parsing auth data: {err}"),
        )
    })?;
    service
        .add_owner(&caller, id, &data, overwrite)
        .await
        .map_err(|e| call.fail(e))?;
    Ok(reply::empty())
}

/// `PUT /infrastructures/{id}/{operation}`: `stop`, `start`,
/// `reconfigure`.
pub(super) async fn operate(req: HttpRequest, service: Service, payload: web::Payload) -> Reply {
    let operation = match segment(&req, "property") {
        "stop" => VmOperation::Stop,
        "start" => VmOperation::Start,
        "reconfigure" => return reconfigure(req, service, payload).await,
        _ => {
            return Err(refuse(&req, "Operation not found"));
        }
    };
    let call = Call::new(&req, format!("Error in {} operation", operation.name()));
    let id = segment(&req, "id").to_owned();
    let caller = call.caller(&service).await?;
    let service = service.into_inner();
    detached(&call, Some(JobKind::OperateVm), async move {
        service.stop_or_start(&caller, &id, operation).await
    })
    .await?;
    Ok(reply::empty())
}

/// `PUT /infrastructures/{id}/reconfigure` (`vm_list`, optional RADL).
async fn reconfigure(req: HttpRequest, service: Service, payload: web::Payload) -> Reply {
    let call = Call::new(&req, "Error reconfiguring infrastructure");
    let id = segment(&req, "id");
    let caller = call.caller(&service).await?;
    let radl = call.optional_radl(payload).await?;
    let inf = service
        .reconfigure(&caller, id, radl, call.param("vm_list"))
        .await
        .map_err(|e| call.fail(e))?;
    Ok(reply::with_inf_id(reply::empty(), &inf.to_string()))
}

/// `GET /infrastructures/{id}/vms/{vm}`: the VM's RADL.
pub(super) async fn vm_info(req: HttpRequest, service: Service) -> Reply {
    let call = Call::new(&req, "Error Getting VM. info");
    let (id, vm) = (segment(&req, "id"), segment(&req, "vm"));
    let caller = call.caller(&service).await?;
    let format = call.accept(Produces::Text)?;
    let radl = service
        .vm_info(&caller, id, vm)
        .await
        .map_err(|e| call.fail(e))?;
    Ok(reply::vm_radl(format, &radl))
}

/// `GET /infrastructures/{id}/vms/{vm}/{feature}`: one feature of the VM.
pub(super) async fn vm_feature(req: HttpRequest, service: Service) -> Reply {
    let call = Call::new(&req, "Error Getting VM. property");
    let (id, vm) = (segment(&req, "id"), segment(&req, "vm"));
    let feature = segment(&req, "property");
    let caller = call.caller(&service).await?;
    let format = call.accept(Produces::Text)?;
    let value = service
        .vm_feature(&caller, id, vm, feature)
        .await
        .map_err(|e| call.fail(e))?;
    Ok(reply::feature(format, feature, value))
}

/// `PUT /infrastructures/{id}/vms/{vm}`: applies the features of a RADL
/// `system` and answers the VM's new RADL.
pub(super) async fn alter(req: HttpRequest, service: Service, payload: web::Payload) -> Reply {
    let call = Call::new(&req, "Error modifying resources");
    let (id, vm) = (
        segment(&req, "id").to_owned(),
        segment(&req, "vm").to_owned(),
    );
    let caller = call.caller(&service).await?;
    let format = call.accept(Produces::Text)?;
    let radl = call.radl(payload).await?;
    let service = service.into_inner();
    let altered = detached(&call, Some(JobKind::OperateVm), async move {
        service.alter(&caller, &id, &vm, radl).await
    })
    .await?;
    Ok(reply::vm_radl(format, &altered))
}

/// `PUT /infrastructures/{id}/vms/{vm}/{operation}`: `start`, `stop`,
/// `reboot`.
pub(super) async fn operate_vm(req: HttpRequest, service: Service) -> Reply {
    let operation = match segment(&req, "property") {
        "start" => VmOperation::Start,
        "stop" => VmOperation::Stop,
        "reboot" => VmOperation::Reboot,
        _ => {
            return Err(refuse(&req, "Operation not found"));
        }
    };
    let call = Call::new(&req, format!("Error in {} op in VM", operation.name()));
    let (id, vm) = (
        segment(&req, "id").to_owned(),
        segment(&req, "vm").to_owned(),
    );
    let caller = call.caller(&service).await?;
    let service = service.into_inner();
    detached(&call, Some(JobKind::OperateVm), async move {
        service.operate_vm(&caller, &id, &vm, operation).await
    })
    .await?;
    Ok(reply::empty())
}

/// `DELETE /infrastructures/{id}/vms/{vm}[,{vm}…]`: removes VMs
/// (`context`).
pub(super) async fn remove_vms(req: HttpRequest, service: Service) -> Reply {
    let call = Call::new(&req, "Error Removing resources");
    let (id, list) = (
        segment(&req, "id").to_owned(),
        segment(&req, "vm").to_owned(),
    );
    // Checked as the spec asks; contextualisation does not run on this
    // server, so there is nothing to skip.
    call.flag("context", true)?;
    let caller = call.caller(&service).await?;
    let service = service.into_inner();
    detached(&call, Some(JobKind::OperateVm), async move {
        service.remove_vms(&caller, &id, &list).await
    })
    .await?;
    Ok(reply::empty())
}

/// `PUT /infrastructures/{id}/vms/{vm}/disks/{disk}/snapshot`: makes an
/// image of the disk (`image_name`, `auto_delete`); answers its URL.
pub(super) async fn snapshot(req: HttpRequest, service: Service) -> Reply {
    let call = Call::new(&req, "Error creating snapshot");
    let id = segment(&req, "id").to_owned();
    let (vm, disk) = (
        segment(&req, "vm").to_owned(),
        segment(&req, "disk").to_owned(),
    );
    let image_name = call.required("image_name")?.to_owned();
    let auto_delete = call.flag("auto_delete", false)?;
    let caller = call.caller(&service).await?;
    let service = service.into_inner();
    let url = detached(&call, Some(JobKind::OperateVm), async move {
        service
            .snapshot(&caller, &id, &vm, &disk, &image_name, auto_delete)
            .await
    })
    .await?;
    Ok(reply::plain(url))
}
