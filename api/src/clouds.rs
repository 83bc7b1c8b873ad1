//! The cloud API (`reference/orchestrator-api-v1.txt`): nodes, images and
//! sizes of a cloud; start, stop, assign and release nodes, under
//! `/api/v1`, with the `status: ok` / `status: error` envelope. Starts and
//! stops run as durable jobs that the request waits for.

mod api_doc;
mod dto;
mod envelope;
mod params;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use strato_domain::cloud::{Catalogue, CloudError, CloudName, Clouds, NewNode, NodeId, NodeRef};
use strato_domain::job::{JobKind, Jobs};
use tracing::Instrument;

pub(crate) use api_doc::part as api_doc;
use dto::{AssignmentBody, ListingBody, NodeBody, ResultBody, StartedBody};
pub(crate) use envelope::CloudApiError;
use envelope::ok;
use params::Params;

/// Registers the cloud routes, each with and without a cloud name; any
/// other path under `/api/v1` is a wrong path, answered as the reference
/// does, and a wrong method gets 405 in the envelope.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let both = |path: &str| [format!("/{path}"), format!("/{path}/{{cloud}}")];
    let listing = |what: Catalogue| {
        web::get().to(
            move |path: web::Path<CloudPath>, clouds: web::Data<Clouds>| list(path, clouds, what),
        )
    };
    let resource = |path: &str| web::resource(both(path)).default_service(web::to(wrong_method));
    cfg.service(
        web::scope("/api/v1")
            .service(resource("nodes").route(listing(Catalogue::Nodes)))
            .service(resource("images").route(listing(Catalogue::Images)))
            .service(resource("sizes").route(listing(Catalogue::Sizes)))
            .service(resource("locations").route(listing(Catalogue::Locations)))
            .service(resource("vm/start").route(web::post().to(start)))
            .service(resource("vm/stop").route(web::put().to(stop)))
            .service(resource("vm/action/assign").route(web::put().to(assign)))
            .service(resource("vm/action/release").route(web::put().to(release)))
            .default_service(web::to(wrong_path)),
    );
}

/// Any other path under `/api/v1`: the reference's answer to a wrong path.
async fn wrong_path() -> Reply {
    Err(CloudError::UnknownCloud(String::new()).into())
}

/// A known path under another method.
async fn wrong_method(req: HttpRequest) -> Reply {
    Err(CloudApiError::method_not_allowed(
        req.method().as_str(),
        req.path(),
    ))
}

/// `…{/cloud}`: the cloud a request names, if any.
#[derive(Debug, Deserialize)]
struct CloudPath {
    #[serde(default)]
    cloud: Option<String>,
}

impl CloudPath {
    /// The cloud named, or `default`; a name that cannot be a cloud's is
    /// an unknown cloud.
    fn cloud(&self) -> Result<CloudName, CloudError> {
        match &self.cloud {
            None => Ok(CloudName::default_cloud()),
            Some(name) => {
                CloudName::parse(name).map_err(|_| CloudError::UnknownCloud(name.clone()))
            }
        }
    }
}

type Reply = Result<HttpResponse, CloudApiError>;

async fn list(path: web::Path<CloudPath>, clouds: web::Data<Clouds>, what: Catalogue) -> Reply {
    let (info, listing) = clouds.list(&path.cloud()?, what).await?;
    Ok(ok(ListingBody::new(info, listing)))
}

/// Runs a job-backed use case on its own task (in the request's span), so
/// that a client that hangs up does not cut the job short; counts the job's
/// outcome.
async fn detached<T: 'static>(
    kind: JobKind,
    work: impl Future<Output = Result<T, CloudError>> + 'static,
) -> Result<T, CloudApiError> {
    let started = std::time::Instant::now();
    let result = actix_web::rt::spawn(work.instrument(tracing::Span::current()))
        .await
        .map_err(|_| CloudApiError::internal())?;
    let outcome = if result.is_ok() {
        "succeeded"
    } else {
        "failed"
    };
    crate::metrics::job(kind, outcome, started.elapsed());
    result.map_err(CloudApiError::from)
}

async fn start(path: web::Path<CloudPath>, params: Params, jobs: web::Data<Jobs>) -> Reply {
    let cloud = path.cloud()?;
    let new = NewNode {
        name: params.required("name")?,
        image: params.required("image")?,
        size: params.required("size")?,
        location: params.text("location")?,
        key_name: params.text("keyname")?,
        metadata: params.object("metadata")?,
    };
    let jobs = jobs.into_inner();
    let (info, node) = detached(JobKind::StartNode, async move {
        jobs.start_node(&cloud, new).await
    })
    .await?;
    Ok(ok(StartedBody {
        nodes: NodeBody::new(info, node),
    }))
}

async fn stop(path: web::Path<CloudPath>, params: Params, jobs: web::Data<Jobs>) -> Reply {
    let cloud = path.cloud()?;
    let node = NodeId::new(params.required("node")?);
    let result = format!("Node {node} deleted");
    let jobs = jobs.into_inner();
    detached(JobKind::StopNode, async move {
        jobs.stop_node(&cloud, node).await
    })
    .await?;
    Ok(ok(ResultBody { result }))
}

/// The node a request names: `node` (its id) or `hostname`.
fn node_ref(params: &Params) -> Result<NodeRef, CloudApiError> {
    match (params.text("node")?, params.text("hostname")?) {
        (Some(id), _) => Ok(NodeRef::Id(NodeId::new(id))),
        (None, Some(name)) => Ok(NodeRef::Hostname(name)),
        (None, None) => Err(CloudApiError::bad_request(
            "Missing parameter: node or hostname",
        )),
    }
}

/// The reference's documentation answer for `emulate=True`, on a cloud
/// that exists: neither the cloud nor the inventory is touched.
fn emulated(clouds: &Clouds, cloud: &CloudName, node: &NodeRef) -> Reply {
    clouds.info(cloud)?;
    Ok(ok(AssignmentBody {
        id: 42,
        id_vm: format!("-{node}-"),
        result: format!("Node -{node}- assigned"),
    }))
}

/// Which of the two assignment use cases a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Assignment {
    Assign,
    Release,
}

async fn assign(path: web::Path<CloudPath>, params: Params, clouds: web::Data<Clouds>) -> Reply {
    assignment(path, params, clouds, Assignment::Assign).await
}

async fn release(path: web::Path<CloudPath>, params: Params, clouds: web::Data<Clouds>) -> Reply {
    assignment(path, params, clouds, Assignment::Release).await
}

async fn assignment(
    path: web::Path<CloudPath>,
    params: Params,
    clouds: web::Data<Clouds>,
    what: Assignment,
) -> Reply {
    let cloud = path.cloud()?;
    let node = node_ref(&params)?;
    if params.flag("emulate")? {
        return emulated(&clouds, &cloud, &node);
    }
    let (done, verb) = match what {
        Assignment::Assign => {
            let (user, vm_type) = (params.required("user")?, params.required("vm_type")?);
            (
                clouds.assign(&cloud, &node, &user, &vm_type).await?,
                "assigned",
            )
        }
        Assignment::Release => (clouds.release(&cloud, &node).await?, "released"),
    };
    Ok(ok(AssignmentBody {
        id: done.entity.id.0,
        id_vm: done.node_id.to_string(),
        result: format!("Node {} {verb}", done.node_id),
    }))
}
