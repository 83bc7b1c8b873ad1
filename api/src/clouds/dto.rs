//! The cloud API's answers, as the reference shows them: serde types whose
//! fields are in the order the reference's sorted keys give.

use serde::Serialize;
use strato_domain::cloud::{Listing, Node, NodeImage, NodeLocation, NodeSize, ProviderInfo};
use utoipa::ToSchema;

/// `{…members, "status": "ok"}`.
#[derive(Debug, Serialize)]
pub(super) struct Ok<T> {
    #[serde(flatten)]
    pub(super) body: T,
    pub(super) status: &'static str,
}

impl<T> Ok<T> {
    pub(super) fn new(body: T) -> Self {
        Self { body, status: "ok" }
    }
}

/// A node.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct NodeBody {
    cloud_type: &'static str,
    #[schema(value_type = Object)]
    extra: serde_json::Map<String, serde_json::Value>,
    id: String,
    name: String,
    private_ips: Vec<String>,
    provider: &'static str,
    public_ips: Vec<String>,
    state: u8,
    uuid: String,
}

impl NodeBody {
    pub(super) fn new(info: ProviderInfo, node: Node) -> Self {
        Self {
            cloud_type: info.display_name,
            extra: node.extra,
            id: node.id.to_string(),
            name: node.name,
            private_ips: node.private_ips,
            provider: info.kind,
            public_ips: node.public_ips,
            state: node.state.code(),
            uuid: node.uuid,
        }
    }
}

/// An image.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ImageBody {
    cloud_type: &'static str,
    id: String,
    name: String,
    provider: &'static str,
}

/// A size (a flavor, as the reference calls it).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SizeBody {
    cloud_type: &'static str,
    cpu: u32,
    disk: u64,
    id: String,
    name: String,
    provider: &'static str,
    ram: u64,
}

/// A location.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct LocationBody {
    cloud_type: &'static str,
    country: String,
    id: String,
    name: String,
    provider: &'static str,
}

/// A listing: `{"nodes": […]}`, `{"images": […]}`, `{"flavors": […]}` or
/// `{"locations": […]}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum ListingBody {
    Nodes(Vec<NodeBody>),
    Images(Vec<ImageBody>),
    #[serde(rename = "flavors")]
    Sizes(Vec<SizeBody>),
    Locations(Vec<LocationBody>),
}

impl ListingBody {
    pub(super) fn new(info: ProviderInfo, listing: Listing) -> Self {
        match listing {
            Listing::Nodes(nodes) => Self::Nodes(
                nodes
                    .into_iter()
                    .map(|node| NodeBody::new(info, node))
                    .collect(),
            ),
            Listing::Images(images) => Self::Images(
                images
                    .into_iter()
                    .map(|image: NodeImage| ImageBody {
                        cloud_type: info.display_name,
                        id: image.id,
                        name: image.name,
                        provider: info.kind,
                    })
                    .collect(),
            ),
            Listing::Sizes(sizes) => Self::Sizes(
                sizes
                    .into_iter()
                    .map(|size: NodeSize| SizeBody {
                        cloud_type: info.display_name,
                        cpu: size.cpu,
                        disk: size.disk,
                        id: size.id,
                        name: size.name,
                        provider: info.kind,
                        ram: size.ram,
                    })
                    .collect(),
            ),
            Listing::Locations(locations) => Self::Locations(
                locations
                    .into_iter()
                    .map(|location: NodeLocation| LocationBody {
                        cloud_type: info.display_name,
                        country: location.country,
                        id: location.id,
                        name: location.name,
                        provider: info.kind,
                    })
                    .collect(),
            ),
        }
    }
}

/// `{"nodes": <node>}`: the answer to a start.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct StartedBody {
    pub(super) nodes: NodeBody,
}

/// `{"result": "…"}`: the answer to a stop.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ResultBody {
    pub(super) result: String,
}

/// The answer to an assignment or a release.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AssignmentBody {
    /// The node's inventory id (42 when emulated).
    pub(super) id: i64,
    /// The provider's id of the node.
    pub(super) id_vm: String,
    pub(super) result: String,
}

/// An error answer.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ErrorBody {
    pub(super) message: String,
    pub(super) status: &'static str,
    pub(super) status_code: u16,
    pub(super) status_long_message: &'static str,
    pub(super) status_short_message: &'static str,
}
