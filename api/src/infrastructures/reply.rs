//! Success answers of the IM family (spec `im.md` §2.2, §2.4): absolute
//! URIs built from the request, `text/uri-list` and `text/plain` bodies,
//! the JSON shapes, and the `InfID` header.

use actix_web::http::header::{HOST, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use serde::ser::SerializeMap;
use strato_domain::infrastructure::{InfId, VmId, VmState};
use strato_domain::radl::Radl;
use utoipa::ToSchema;

use super::negotiation::Format;

/// `text/plain; charset=utf-8`.
const TEXT: &str = "text/plain; charset=utf-8";
/// `text/uri-list; charset=utf-8`.
const URI_LIST: &str = "text/uri-list; charset=utf-8";

/// The header load balancers use for stickiness.
pub(super) const INF_ID: HeaderName = HeaderName::from_static("infid");

/// One URI: `{"uri": "<URI>"}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UriBody {
    /// An absolute URI.
    uri: String,
}

/// A list of URIs: `{"uri-list": [{"uri": "<URI>"}, …]}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UriListBody {
    /// The URIs.
    #[serde(rename = "uri-list")]
    uri_list: Vec<UriBody>,
}

/// An infrastructure's state and its VMs' states.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StateBody {
    /// The states.
    state: InfStateBody,
}

/// The inner object of [`StateBody`].
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InfStateBody {
    /// The infrastructure's state.
    state: String,
    /// Each VM's state, by VM id in ascending order.
    #[schema(value_type = Object)]
    vm_states: VmStates,
}

/// VM states as a JSON object keyed by VM id, in ascending id order.
#[derive(Debug)]
pub(crate) struct VmStates(Vec<(VmId, VmState)>);

impl Serialize for VmStates {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (vm, state) in &self.0 {
            map.serialize_entry(&vm.to_string(), state.as_str())?;
        }
        map.end()
    }
}

/// The export document, as a JSON string: `{"data": "<document>"}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DataBody {
    /// The export document (JSON text).
    data: String,
}

/// The owners' usernames: `{"authorization": ["user", …]}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OwnersBody {
    /// Usernames, in the order they were added.
    authorization: Vec<String>,
}

/// The infrastructure's RADL, as text: `{"radl": "<RADL text>"}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RadlTextBody {
    /// Canonical RADL text.
    radl: String,
}

/// A VM's RADL, as JSON RADL: `{"radl": [{"class": …}, …]}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VmRadlBody {
    /// JSON RADL: the VM's networks and its system.
    #[schema(value_type = Vec<Object>)]
    radl: serde_json::Value,
}

/// The contextualisation log: `{"contmsg": "<log>"}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContmsgBody {
    /// The log.
    contmsg: String,
}

/// strato's version: `{"version": "<version>"}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VersionBody {
    /// The version.
    version: String,
}

/// Where the family's URIs start: the listener's scheme and the request's
/// `Host`.
#[derive(Debug, Clone)]
pub(super) struct Base(String);

impl Base {
    /// The base of the request's URIs: `http://<Host>` (`https` on a TLS
    /// listener); without a `Host` header, the request's authority, else
    /// the host the connection names.
    pub(super) fn of(req: &HttpRequest) -> Self {
        let scheme = if req.app_config().secure() {
            "https"
        } else {
            "http"
        };
        let host = req
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| req.uri().authority().map(ToString::to_string))
            .unwrap_or_else(|| req.connection_info().host().to_owned());
        Self(format!("{scheme}://{host}"))
    }

    /// An infrastructure's URI.
    pub(super) fn infrastructure(&self, id: &InfId) -> String {
        format!("{}/infrastructures/{id}", self.0)
    }

    /// A VM's URI.
    pub(super) fn vm(&self, id: &str, vm: VmId) -> String {
        format!("{}/infrastructures/{id}/vms/{vm}", self.0)
    }
}

/// 200 with a zero-length `text/plain` body.
pub(super) fn empty() -> HttpResponse {
    HttpResponse::Ok().content_type(TEXT).finish()
}

/// 200 with a `text/plain` body, whatever `Accept` says.
pub(super) fn plain(text: String) -> HttpResponse {
    HttpResponse::Ok().content_type(TEXT).body(text)
}

/// A JSON answer.
pub(super) fn json(body: &impl Serialize) -> HttpResponse {
    HttpResponse::Ok().json(body)
}

/// URIs: joined by `\n` (no trailing newline), or `{"uri-list": […]}`.
pub(super) fn uri_list(format: Format, uris: Vec<String>) -> HttpResponse {
    match format {
        Format::Json => json(&UriListBody {
            uri_list: uris.into_iter().map(|uri| UriBody { uri }).collect(),
        }),
        Format::UriList | Format::Text => HttpResponse::Ok()
            .content_type(URI_LIST)
            .body(uris.join("\n")),
    }
}

/// One URI, or `{"uri": "<URI>"}`.
pub(super) fn uri(format: Format, uri: String) -> HttpResponse {
    match format {
        Format::Json => json(&UriBody { uri }),
        Format::UriList | Format::Text => HttpResponse::Ok().content_type(URI_LIST).body(uri),
    }
}

/// A text result, or `json` of it.
pub(super) fn text<T: Serialize>(
    format: Format,
    text: String,
    json_of: impl FnOnce(String) -> T,
) -> HttpResponse {
    match format {
        Format::Json => json(&json_of(text)),
        Format::Text | Format::UriList => plain(text),
    }
}

/// The JSON answer of `GET …/<ID>/state`.
pub(super) fn state(state: VmState, vms: Vec<(VmId, VmState)>) -> HttpResponse {
    json(&StateBody {
        state: InfStateBody {
            state: state.as_str().to_owned(),
            vm_states: VmStates(vms),
        },
    })
}

/// The JSON answer of `GET …/<ID>/data`.
pub(super) fn data(document: String) -> HttpResponse {
    json(&DataBody { data: document })
}

/// The owners, one per line, or `{"authorization": […]}`.
pub(super) fn owners(format: Format, usernames: Vec<String>) -> HttpResponse {
    match format {
        Format::Json => json(&OwnersBody {
            authorization: usernames,
        }),
        Format::Text | Format::UriList => plain(usernames.join("\n")),
    }
}

/// The infrastructure's RADL text, or `{"radl": "<text>"}`.
pub(super) fn radl_text(format: Format, radl: String) -> HttpResponse {
    text(format, radl, |radl| RadlTextBody { radl })
}

/// The contextualisation log, or `{"contmsg": "<log>"}`.
pub(super) fn contmsg(format: Format, log: String) -> HttpResponse {
    text(format, log, |contmsg| ContmsgBody { contmsg })
}

/// strato's version, or `{"version": "<version>"}`.
pub(super) fn version(format: Format, version: &str) -> HttpResponse {
    text(format, version.to_owned(), |version| VersionBody {
        version,
    })
}

/// A VM's RADL: as text, or `{"radl": <JSON RADL>}`.
pub(super) fn vm_radl(format: Format, radl: &Radl) -> HttpResponse {
    match format {
        Format::Json => json(&VmRadlBody {
            radl: radl.to_json(),
        }),
        Format::Text | Format::UriList => plain(radl.to_text()),
    }
}

/// A VM feature's value: a string as it is, anything else as JSON text; or
/// `{"<feature>": <value>}`.
pub(super) fn feature(format: Format, name: &str, value: serde_json::Value) -> HttpResponse {
    match format {
        Format::Json => {
            let mut body = serde_json::Map::new();
            body.insert(name.to_owned(), value);
            json(&body)
        }
        Format::Text | Format::UriList => plain(match value {
            serde_json::Value::String(text) => text,
            other => other.to_string(),
        }),
    }
}

/// Adds the `InfID` header: the infrastructure's id.
pub(super) fn with_inf_id(mut answer: HttpResponse, id: &str) -> HttpResponse {
    if let Ok(value) = HeaderValue::from_str(id) {
        answer.headers_mut().insert(INF_ID, value);
    }
    answer
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use actix_web::http::header::CONTENT_TYPE;
    use actix_web::test::TestRequest;

    use super::*;

    fn body(answer: HttpResponse) -> (String, String) {
        let content_type = answer
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = answer.into_body().try_into_bytes().unwrap();
        (content_type, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[test]
    fn uris_are_absolute_from_the_host_header() {
        let req = TestRequest::default()
            .insert_header((HOST, "im.example:8800"))
            .to_http_request();
        let base = Base::of(&req);
        assert_eq!(
            base.vm("abc", VmId(2)),
            "http://im.example:8800/infrastructures/abc/vms/2"
        );
    }

    #[test]
    fn uri_lists_join_with_newlines_or_answer_json() {
        let uris = vec![
            "http://h/infrastructures/a".to_owned(),
            "http://h/infrastructures/b".to_owned(),
        ];
        assert_eq!(
            body(uri_list(Format::UriList, uris.clone())),
            (
                URI_LIST.to_owned(),
                "http://h/infrastructures/a\nhttp://h/infrastructures/b".to_owned()
            )
        );
        let (content_type, json) = body(uri_list(Format::Json, uris));
        assert_eq!(content_type, "application/json");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).unwrap(),
            serde_json::json!({"uri-list": [{"uri": "http://h/infrastructures/a"}, {"uri": "http://h/infrastructures/b"}]})
        );
        assert_eq!(body(uri_list(Format::UriList, Vec::new())).1, "");
    }

    #[test]
    fn vm_states_keep_ascending_id_order() {
        let vms = vec![(VmId(2), VmState::Running), (VmId(10), VmState::Configured)];
        let (_, json) = body(state(VmState::Running, vms));
        assert_eq!(
            json,
            r#"{"state":{"state":"running","vm_states":{"2":"running","10":"configured"}}}"#
        );
    }

    #[test]
    fn features_are_plain_values_or_json_objects() {
        assert_eq!(
            body(feature(
                Format::Text,
                "memory.size",
                serde_json::json!(512_000_000)
            ))
            .1,
            "512000000"
        );
        assert_eq!(
            body(feature(
                Format::Text,
                "state",
                serde_json::json!("configured")
            ))
            .1,
            "configured"
        );
        assert_eq!(
            body(feature(Format::Json, "cpu.count", serde_json::json!(1))).1,
            r#"{"cpu.count":1}"#
        );
    }

    #[test]
    fn empty_answers_are_plain_text() {
        assert_eq!(body(empty()), (TEXT.to_owned(), String::new()));
    }
}
