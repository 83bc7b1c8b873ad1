//! The worked examples of spec §6.6 and round-trip properties of RADL text
//! and JSON RADL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::Value as Json;

use super::*;

const EXAMPLE_1: &str = "\
network privada ( )
system node ( cpu.arch = 'x86_64' and cpu.count >= 1 and memory.size >= 512m and net_interface.0.connection = 'privada' and
  disk.0.image.url = 'mock0://linux.for.ev.er/image' and disk.0.os.name = 'linux' )
contextualize ()
deploy node 2
";

const EXAMPLE_1_JSON: &str = r#"[{"class":"network","id":"privada"},{"class":"system","id":"node","cpu.arch":"x86_64","cpu.count_min":1,"memory.size_min":512000000,
    "net_interface.0.connection":"privada","disk.0.image.url":"mock0://linux.for.ev.er/image","disk.0.os.name":"linux"},
    {"class":"deploy","system":"node","vm_number":2},{"class":"contextualize"}]"#;

const EXAMPLE_2: &str = "\
network public ( outbound = 'yes' and outports = '22/tcp,80/tcp' )
system front ( cpu.count >= 2 and cpu.count <= 4 and memory.size >= 2GiB and net_interface.0.connection = 'public' and
  disk.0.image.url = ['one://a/1', 'one://b/2'] and disk.0.applications contains ( name = 'nginx' ) and
  disk.1.size = 20G and soft 10 ( cpu.arch = 'x86_64' ) )
";

const EXAMPLE_2_JSON: &str = r#"[{"class":"network","id":"public","outbound":"yes","outports":"22/tcp,80/tcp"},{"class":"system","id":"front","cpu.count_min":2,
    "cpu.count_max":4,"memory.size_min":2147483648,"net_interface.0.connection":"public","disk.0.image.url":["one://a/1","one://b/2"],
    "disk.0.applications":[{"name":"nginx"}],"disk.1.size":20000000000,"softs":[{"weight":10,"items":{"cpu.arch":"x86_64"}}]}]"#;

const EXAMPLE_3: &str = "\
network net
system vm ( memory.size = 1024Mi and net_interface.0.connection = 'net' )
configure vm (
@begin
- tasks: [{debug: {msg: hi}}]
@end
)
contextualize 600 ( option ansible_version = '2.9' system vm configure vm step 1 )
deploy vm 1 mycloud
";

const EXAMPLE_3_JSON: &str = r#"[{"class":"network","id":"net","reference":true},{"class":"system","id":"vm","memory.size":1073741824,"net_interface.0.connection":"net"},
    {"class":"configure","id":"vm","recipes":"\n- tasks: [{debug: {msg: hi}}]\n"},{"class":"deploy","system":"vm","vm_number":1,"cloud":"mycloud"},
    {"class":"contextualize","max_time":600,"items":[{"system":"vm","configure":"vm","step":1}],"options":{"ansible_version":"2.9"}}]"#;

const EXAMPLES: [(&str, &str); 3] = [
    (EXAMPLE_1, EXAMPLE_1_JSON),
    (EXAMPLE_2, EXAMPLE_2_JSON),
    (EXAMPLE_3, EXAMPLE_3_JSON),
];

/// The spec's JSON, compact, keys in the spec's order.
fn compact(json: &str) -> String {
    serde_json::to_string(&serde_json::from_str::<Json>(json).unwrap()).unwrap()
}

#[test]
fn worked_examples_give_the_spec_json_byte_for_byte() {
    for (text, json) in EXAMPLES {
        let radl = parse_text(text).unwrap();
        radl.check().unwrap();
        assert_eq!(radl.to_json(), serde_json::from_str::<Json>(json).unwrap());
        assert_eq!(
            serde_json::to_string(&radl.to_json()).unwrap(),
            compact(json)
        );
    }
}

#[test]
fn worked_examples_round_trip_as_text() {
    for (text, _) in EXAMPLES {
        let radl = parse_text(text).unwrap();
        let rendered = radl.to_text();
        let again = parse_text(&rendered).unwrap();
        assert_eq!(again.without_lines(), radl.without_lines(), "{rendered}");
        assert_eq!(again.to_text(), rendered);
    }
}

#[test]
fn worked_example_json_reads_back_to_the_same_json() {
    for (_, json) in EXAMPLES {
        let radl = parse_json(json).unwrap();
        radl.check().unwrap();
        assert_eq!(
            serde_json::to_string(&radl.to_json()).unwrap(),
            compact(json)
        );
        let text = parse_text(&radl.to_text()).unwrap();
        assert_eq!(text.without_lines(), radl);
    }
}

#[test]
fn example_1_renders_canonically() {
    let radl = parse_text(EXAMPLE_1).unwrap();
    assert_eq!(
        radl.to_text(),
        "network privada (  )\n\
         system node (\n\
         cpu.arch = 'x86_64' and\n\
         cpu.count >= 1 and\n\
         memory.size >= 512m and\n\
         net_interface.0.connection = 'privada' and\n\
         disk.0.image.url = 'mock0://linux.for.ev.er/image' and\n\
         disk.0.os.name = 'linux'\n\
         )\n\
         \n\
         contextualize ()\n\
         deploy node 2\n"
    );
}

#[test]
fn example_3_keeps_the_recipe_and_renders_it_verbatim() {
    let radl = parse_text(EXAMPLE_3).unwrap();
    let text = radl.to_text();
    assert!(
        text.contains("configure vm (\n@begin\n- tasks: [{debug: {msg: hi}}]\n@end\n)\n"),
        "{text}"
    );
    assert!(text.contains(
        "contextualize 600 (\noption ansible_version = '2.9'\nsystem vm configure vm step 1\n)\n"
    ));
    assert!(text.ends_with("deploy vm 1 mycloud\n"));
}

#[test]
fn example_lines_are_known() {
    let radl = parse_text(EXAMPLE_3).unwrap();
    assert_eq!(radl.network("net").unwrap().line, Some(1));
    assert_eq!(radl.system("vm").unwrap().line, Some(2));
    assert_eq!(radl.configure("vm").unwrap().line, Some(3));
    assert_eq!(radl.contextualize.as_ref().unwrap().items[0].line, Some(8));
    assert_eq!(radl.deploys[0].line, Some(9));
}

#[test]
fn a_vm_document_with_added_features_survives_storage() {
    let radl = parse_text(EXAMPLE_1).unwrap();
    let mut system = radl.system("node").unwrap().clone();
    system.set("state", Value::text("configured"));
    system.set("provider.type", Value::text("Dummy"));
    system.set("net_interface.0.ip", Value::text("127.0.0.3"));
    system.set(
        "disk.0.os.credentials.new.password",
        Value::text("8pyVaKyd"),
    );
    let vm = Radl {
        networks: radl.networks.clone(),
        systems: vec![system],
        ..Radl::default()
    };
    let stored = parse_text(&vm.to_text()).unwrap();
    assert_eq!(stored.without_lines(), vm.without_lines());
    let node = stored.system("node").unwrap();
    assert_eq!(node.feature("state"), Some(Json::from("configured")));
    assert_eq!(node.feature("cpu.count"), Some(Json::from(1)));
    assert_eq!(node.feature("memory.size"), Some(Json::from(512_000_000)));
    assert_eq!(
        node.feature("net_interface.0.ip"),
        Some(Json::from("127.0.0.3"))
    );
}

// ---------------------------------------------------------------------------
// Properties

/// Names that are valid, not keywords, and read the same from JSON.
const NAMES: &[&str] = &[
    "a",
    "b.c",
    "cpu.count",
    "memory.size",
    "x_1",
    "_z",
    "v-1.w",
    "disk.0.image.url",
    "net_interface.0.connection",
    "name",
    "app_version",
];

const IDS: &[&str] = &["n0", "n1", "front", "back.end", "vm_2"];

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(NAMES).prop_map(str::to_owned)
}

/// Names of `contains` features (a list under `disk.<k>.image.url` is a
/// plain value in JSON RADL).
fn group_name() -> impl Strategy<Value = String> {
    name().prop_filter("plain list key", |n| n != "disk.0.image.url")
}

fn id() -> impl Strategy<Value = String> {
    prop::sample::select(IDS).prop_map(str::to_owned)
}

/// Non-negative numbers that print and read back exactly.
fn number() -> impl Strategy<Value = f64> {
    (0u32..2_000_000, 0u8..3).prop_map(|(n, scale)| f64::from(n) / f64::from(1u8 << scale))
}

fn unit(json: bool) -> BoxedStrategy<Option<String>> {
    if json {
        Just(None).boxed()
    } else {
        prop::option::of(prop::sample::select(
            &["m", "G", "GiB", "Ki", "kb", "B", "ECU"][..],
        ))
        .prop_map(|u| u.map(str::to_owned))
        .boxed()
    }
}

fn number_op(json: bool) -> BoxedStrategy<Op> {
    let ops: &'static [Op] = if json {
        &[Op::Eq, Op::Ge, Op::Le]
    } else {
        &[Op::Eq, Op::Ge, Op::Le, Op::Gt, Op::Lt]
    };
    prop::sample::select(ops).boxed()
}

/// A simple feature as written: name, operator, value.
fn simple(json: bool) -> impl Strategy<Value = (String, Op, Value)> {
    let text = any::<String>().prop_map(Value::Text);
    let list = prop::collection::vec(any::<String>(), 0..3).prop_map(Value::List);
    prop_oneof![
        (name(), Just(Op::Eq), prop_oneof![text, list]),
        (name(), number_op(json), number(), unit(json)).prop_map(|(n, op, value, unit)| (
            n,
            op,
            Value::Number { value, unit }
        )),
    ]
}

#[derive(Debug, Clone)]
enum Written {
    Simple(String, Op, Value),
    Contains(String, Vec<(String, Op, Value)>),
    Soft(f64, Vec<(String, Op, Value)>),
}

fn written(json: bool) -> impl Strategy<Value = Written> {
    let group = || prop::collection::vec(simple(json), 0..3);
    prop_oneof![
        4 => simple(json).prop_map(|(n, o, v)| Written::Simple(n, o, v)),
        1 => (group_name(), group()).prop_map(|(n, g)| Written::Contains(n, g)),
        1 => (number(), group()).prop_map(|(w, g)| Written::Soft(w, g)),
    ]
}

/// Features built as a parser builds them, skipping conflicting ones.
fn features(json: bool) -> impl Strategy<Value = Features> {
    prop::collection::vec(written(json), 0..6).prop_map(|list| {
        let build = |items: Vec<(String, Op, Value)>| {
            let mut f = Features::new();
            for (n, o, v) in items {
                let _ = f.add(&n, o, v, None);
            }
            f
        };
        let mut out = Features::new();
        for w in list {
            match w {
                Written::Simple(n, o, v) => {
                    let _ = out.add(&n, o, v, None);
                }
                Written::Contains(n, g) => {
                    let _ = out.add_contains(&n, build(g), None);
                }
                Written::Soft(weight, g) => out.add_soft(weight, build(g), None),
            }
        }
        out
    })
}

fn aspect(json: bool) -> impl Strategy<Value = Aspect> {
    (id(), any::<bool>(), features(json)).prop_map(|(id, reference, features)| Aspect {
        reference,
        features: if reference { Features::new() } else { features },
        ..Aspect::new(id)
    })
}

fn configure() -> impl Strategy<Value = Configure> {
    let recipes = prop_oneof![
        Just(None),
        any::<String>()
            .prop_filter("no @end", |r| !r.contains("@end"))
            .prop_map(Some),
    ];
    (id(), any::<bool>(), recipes).prop_map(|(id, reference, recipes)| Configure {
        id,
        reference,
        recipes: if reference { None } else { recipes },
        line: None,
    })
}

fn contextualize(json: bool) -> impl Strategy<Value = Contextualize> {
    let option_value = prop_oneof![
        any::<String>().prop_map(Value::Text),
        number().prop_map(Value::number),
    ];
    let op = if json {
        Just(Op::Eq).boxed()
    } else {
        prop::sample::select(&[Op::Eq, Op::Ge, Op::Lt][..]).boxed()
    };
    let option =
        (name(), op, option_value).prop_map(|(name, op, value)| ContextOption { name, op, value });
    let item = (
        id(),
        id(),
        prop::option::of(0u32..10),
        prop::option::of(name()),
    )
        .prop_map(|(system, configure, step, ctxt_tool)| ContextItem {
            system,
            configure,
            step,
            ctxt_tool,
            line: None,
        });
    (
        prop::option::of(0u64..10_000),
        prop::collection::vec(option, 0..3),
        prop::collection::vec(item, 0..3),
    )
        .prop_map(|(max_time, options, items)| {
            let mut c = Contextualize::default();
            c.update(Contextualize {
                max_time,
                options,
                items,
                line: None,
            });
            c
        })
}

fn deploy() -> impl Strategy<Value = Deploy> {
    (id(), 0u32..5, prop::option::of(id())).prop_map(|(system, count, cloud)| Deploy {
        system,
        count,
        cloud,
        line: None,
    })
}

fn document(json: bool) -> impl Strategy<Value = Radl> {
    (
        prop::option::of(aspect(json)),
        prop::collection::vec(aspect(json), 0..2),
        prop::collection::vec(aspect(json), 0..3),
        prop::collection::vec(aspect(json), 0..3),
        prop::collection::vec(configure(), 0..3),
        prop::option::of(contextualize(json)),
        prop::collection::vec(deploy(), 0..3),
    )
        .prop_map(
            |(description, ansible, networks, systems, configures, contextualize, deploys)| {
                let mut radl = Radl {
                    description,
                    contextualize,
                    deploys,
                    ..Radl::default()
                };
                for mut host in ansible {
                    host.reference = false;
                    let _ = radl.add_ansible(host);
                }
                for network in networks {
                    let _ = radl.add_network(network);
                }
                for system in systems {
                    let _ = radl.add_system(system);
                }
                for configure in configures {
                    let _ = radl.add_configure(configure);
                }
                radl
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn text_round_trips(doc in document(false)) {
        let text = doc.to_text();
        let parsed = parse_text(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(parsed.without_lines(), doc, "{}", text);
    }

    #[test]
    fn json_round_trips(doc in document(true)) {
        let json = serde_json::to_string(&doc.to_json()).unwrap();
        let parsed = parse_json(&json).map_err(|e| TestCaseError::fail(format!("{e}\n{json}")))?;
        prop_assert_eq!(&parsed, &doc, "{}", json);
        // And JSON documents survive storage as text.
        let text = parsed.to_text();
        let stored = parse_text(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(stored.without_lines(), doc, "{}", text);
    }
}
