//! The cloud API (`reference/orchestrator-api-v1.txt`): nodes, images and
//! sizes of a cloud; start, stop, assign and release nodes, under
//! `/api/v1`, with the `status: ok` / `status: error` envelope.

mod envelope;
mod params;
mod render;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use strato_domain::cloud::{CloudError, Clouds, NewNode, NodeRef};

pub use envelope::CloudApiError;
use envelope::ok;
use params::Params;

/// Registers the cloud routes, each with and without a cloud name; any
/// other path under `/api/v1` is a wrong path, answered as the reference does.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let both = |path: &str| [format!("/{path}"), format!("/{path}/{{cloud}}")];
    cfg.service(
        web::scope("/api/v1")
            .service(web::resource(both("nodes")).route(web::get().to(nodes)))
            .service(web::resource(both("images")).route(web::get().to(images)))
            .service(web::resource(both("sizes")).route(web::get().to(sizes)))
            .service(web::resource(both("locations")).route(web::get().to(locations)))
            .service(web::resource(both("vm/start")).route(web::post().to(start)))
            .service(web::resource(both("vm/stop")).route(web::put().to(stop)))
            .service(web::resource(both("vm/action/assign")).route(web::put().to(assign)))
            .service(web::resource(both("vm/action/release")).route(web::put().to(release)))
            .default_service(web::to(wrong_path)),
    );
}

/// Any other path under `/api/v1`: the reference's answer to a wrong path.
async fn wrong_path() -> Reply {
    Err(CloudError::UnknownCloud(String::new()).into())
}

/// `…{/cloud}`: the cloud a request names, if any.
#[derive(Debug, Deserialize)]
struct CloudPath {
    #[serde(default)]
    cloud: Option<String>,
}

type Reply = Result<HttpResponse, CloudApiError>;

async fn nodes(path: web::Path<CloudPath>, clouds: web::Data<Clouds>) -> Reply {
    let (info, items) = clouds.nodes(path.cloud.as_deref()).await?;
    Ok(ok([(
        "nodes",
        items.iter().map(|item| render::node(info, item)).collect(),
    )]))
}

async fn images(path: web::Path<CloudPath>, clouds: web::Data<Clouds>) -> Reply {
    let (info, items) = clouds.images(path.cloud.as_deref()).await?;
    Ok(ok([(
        "images",
        items.iter().map(|item| render::image(info, item)).collect(),
    )]))
}

async fn sizes(path: web::Path<CloudPath>, clouds: web::Data<Clouds>) -> Reply {
    let (info, items) = clouds.sizes(path.cloud.as_deref()).await?;
    Ok(ok([(
        "flavors",
        items.iter().map(|item| render::size(info, item)).collect(),
    )]))
}

async fn locations(path: web::Path<CloudPath>, clouds: web::Data<Clouds>) -> Reply {
    let (info, items) = clouds.locations(path.cloud.as_deref()).await?;
    Ok(ok([(
        "locations",
        items
            .iter()
            .map(|item| render::location(info, item))
            .collect(),
    )]))
}

async fn start(path: web::Path<CloudPath>, params: Params, clouds: web::Data<Clouds>) -> Reply {
    let new = NewNode {
        name: params.required("name")?,
        image: params.required("image")?,
        size: params.required("size")?,
        location: params.text("location")?,
        key_name: params.text("keyname")?,
        metadata: params.object("metadata")?,
    };
    let (info, node) = clouds.start(path.cloud.as_deref(), &new).await?;
    Ok(ok([("nodes", render::node(info, &node))]))
}

async fn stop(path: web::Path<CloudPath>, params: Params, clouds: web::Data<Clouds>) -> Reply {
    let node = params.required("node")?;
    clouds.stop(path.cloud.as_deref(), &node).await?;
    Ok(ok([("result", json!(format!("Node {node} deleted")))]))
}

/// The node a request names: `node` (its id) or `hostname`.
fn node_ref(params: &Params) -> Result<NodeRef, CloudApiError> {
    match (params.text("node")?, params.text("hostname")?) {
        (Some(id), _) => Ok(NodeRef::Id(id)),
        (None, Some(name)) => Ok(NodeRef::Hostname(name)),
        (None, None) => Err(CloudApiError::bad_request(
            "Missing parameter: node or hostname",
        )),
    }
}

/// The reference's documentation answer for `emulate=True`, on a cloud
/// that exists: neither the cloud nor the inventory is touched.
fn emulated(clouds: &Clouds, cloud: Option<&str>, node: &NodeRef) -> Reply {
    clouds.info(cloud)?;
    Ok(ok([
        ("id", json!(42)),
        ("id_vm", json!(format!("-{node}-"))),
        ("result", json!(format!("Node -{node}- assigned"))),
    ]))
}

fn assignment_reply(entity_id: i64, node_id: &str, done: &str) -> HttpResponse {
    ok([
        ("id", json!(entity_id)),
        ("id_vm", json!(node_id)),
        ("result", json!(format!("Node {node_id} {done}"))),
    ])
}

async fn assign(path: web::Path<CloudPath>, params: Params, clouds: web::Data<Clouds>) -> Reply {
    let cloud = path.cloud.as_deref();
    let node = node_ref(&params)?;
    if params.flag("emulate")? {
        return emulated(&clouds, cloud, &node);
    }
    let (user, vm_type) = (params.required("user")?, params.required("vm_type")?);
    let done = clouds.assign(cloud, &node, &user, &vm_type).await?;
    Ok(assignment_reply(
        done.entity.id.0,
        &done.node_id,
        "assigned",
    ))
}

async fn release(path: web::Path<CloudPath>, params: Params, clouds: web::Data<Clouds>) -> Reply {
    let cloud = path.cloud.as_deref();
    let node = node_ref(&params)?;
    if params.flag("emulate")? {
        return emulated(&clouds, cloud, &node);
    }
    let done = clouds.release(cloud, &node).await?;
    Ok(assignment_reply(
        done.entity.id.0,
        &done.node_id,
        "released",
    ))
}

/// A JSON object from key/value pairs.
fn object<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
