//! The cloud API's JSON shapes, as the reference shows them.

use serde_json::{Value, json};
use strato_domain::cloud::{Node, NodeImage, NodeLocation, NodeSize, ProviderInfo};

pub(super) fn node(info: ProviderInfo, node: &Node) -> Value {
    json!({
        "cloud_type": info.display_name,
        "extra": node.extra,
        "id": node.id,
        "name": node.name,
        "private_ips": node.private_ips,
        "provider": info.kind,
        "public_ips": node.public_ips,
        "state": node.state.code(),
        "uuid": node.uuid,
    })
}

pub(super) fn image(info: ProviderInfo, image: &NodeImage) -> Value {
    json!({"cloud_type": info.display_name, "id": image.id, "name": image.name, "provider": info.kind})
}

pub(super) fn size(info: ProviderInfo, size: &NodeSize) -> Value {
    json!({
        "cloud_type": info.display_name,
        "cpu": size.cpu,
        "disk": size.disk,
        "id": size.id,
        "name": size.name,
        "provider": info.kind,
        "ram": size.ram,
    })
}

pub(super) fn location(info: ProviderInfo, location: &NodeLocation) -> Value {
    json!({
        "cloud_type": info.display_name,
        "country": location.country,
        "id": location.id,
        "name": location.name,
        "provider": info.kind,
    })
}
