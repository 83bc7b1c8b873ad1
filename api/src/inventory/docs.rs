//! The inventory API's own documentation, served at `/` and `/__doc__`.

/// Documentation of one part of the API (`None`: all of it), as plain text.
pub(crate) fn text(part: Option<&str>) -> String {
    SECTIONS
        .iter()
        .filter(|(name, _)| part.is_none_or(|p| p == *name))
        .map(|(_, body)| body.trim())
        .collect::<Vec<_>>()
        .join("\n\n")
        + "\n"
}

/// The same documentation as an XHTML page.
pub(crate) fn html(part: Option<&str>) -> String {
    let escaped = escape(&text(part));
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n\
         <!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \
         \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\n\
         <html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\">\n\
         <head><title>strato inventory API</title></head>\n\
         <body><p><a href=\"/docs/\">API reference (OpenAPI): /docs/</a></p>\n\
         <pre>{escaped}</pre></body>\n</html>\n"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const SECTIONS: &[(&str, &str)] = &[
    (
        "server",
        r#"
strato inventory API
====================
Entities (servers, pools, racks, resource managers...) with typed attributes,
pool memberships and resource allocation. Parameters go in the query string
on GET and in a form body on POST, PUT and DELETE.

Request headers
  Clusto-Mode: compact | expanded     how entities are shown
  Clusto-Page: N, Clusto-Per-Page: M  page N of M entities (answer: Clusto-Pages)
  Clusto-Minify: true                 JSON on one line

GET /by-name/NAME [driver]            one entity (expanded)
GET /by-names name=... [name=...]     several; 206 when some are missing, 404 when all are
GET /by-attr key [subkey] [value]     entities holding a matching attribute
GET /from-pools pool=... [driver] [type] [children=true]
                                      entities in every pool given
GET /driverlist, /typelist            the drivers and types
GET /__version__, /__meta__, /__doc__ the server's version, applications, this text
GET /healthz, /livez, /readyz          probes; GET /metrics  Prometheus metrics
GET /openapi.json, /docs/             the whole API described (OpenAPI 3.1), and browsable
"#,
    ),
    (
        "entity",
        r#"
/entity
-------
GET    /entity/[DRIVER]               list entities (of a driver)
POST   /entity/DRIVER name=...        create; 202 with a Warnings header for existing ones
GET    /entity/DRIVER/NAME            show one
POST   /entity/DRIVER/NAME action=insert|remove device=...
                                      put devices in, or take them out of, the entity
DELETE /entity/DRIVER/NAME            delete (204, or 404)
"#,
    ),
    (
        "attribute",
        r#"
/attribute
----------
GET    /attribute/NAME[/KEY[/SUBKEY[/NUMBER]]] [driver]
                                      the entity's attributes that match
POST   /attribute/NAME key value [subkey] [number] [datatype] [mask]
                                      add one; or a JSON object or list of them
PUT    /attribute/NAME/KEY[/SUBKEY[/NUMBER]] value [datatype] [mask]
                                      set: replace or add
DELETE /attribute/NAME/KEY[/SUBKEY[/NUMBER]]
                                      delete the matching ones
Datatypes: string, int, bool, datetime (mask, default %Y-%m-%dT%H:%M:%S.%f),
relation (another entity), json.
"#,
    ),
    (
        "resourcemanager",
        r#"
/resourcemanager
----------------
GET    /resourcemanager/[DRIVER]      list resource managers
POST   /resourcemanager/DRIVER name [properties]
                                      create (simplenamemanager: basename, digits, next,
                                      leadingZeros; ipmanager: baseip, netmask, gateway)
GET    /resourcemanager/DRIVER/NAME   show one, with its allocation count
POST   /resourcemanager/DRIVER/NAME driver=D | object=NAME [resource]
                                      allocate the next (or the given) resource
DELETE /resourcemanager/DRIVER/NAME object=NAME [resource]
                                      release it
"#,
    ),
    (
        "clouds",
        r#"
/api/v1 (clouds)
----------------
Each path also takes a cloud's name at its end (/api/v1/nodes/lab); without
one, the cloud named default answers. JSON object (or form) bodies; answers
carry "status": "ok", errors "status": "error" with the status code.
GET /api/v1/nodes, /images, /sizes, /locations
                                      the cloud's nodes, images, sizes (as flavors), locations
POST /api/v1/vm/start name image size [location] [keyname]
                                      create a node (a durable job), recorded in the inventory
PUT  /api/v1/vm/stop node             destroy a node; its record becomes terminated
PUT  /api/v1/vm/action/assign node|hostname user vm_type [emulate]
PUT  /api/v1/vm/action/release node|hostname [emulate]
"#,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_wraps_the_escaped_text() {
        let page = html(None);
        assert!(page.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\" ?>"));
        assert!(page.contains("GET /by-name/NAME"));
        assert_eq!(escape("<a & b>"), "&lt;a &amp; b&gt;");
        assert!(text(Some("entity")).starts_with("/entity"));
    }
}
