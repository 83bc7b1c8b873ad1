//! The crate boundaries, checked on the sources: the domain stays pure, only
//! the composition module names adapters and providers, nothing blocks a
//! runtime thread, every library says what it is.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn normal_dependencies(manifest: &str) -> Vec<String> {
    let mut in_dependencies = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
        } else if in_dependencies && let Some((name, _)) = line.split_once('=') {
            names.push(name.trim().to_owned());
        }
    }
    names
}

#[test]
fn the_domain_depends_on_no_web_database_or_runtime_crate() {
    let manifest = std::fs::read_to_string(root().join("domain/Cargo.toml")).unwrap();
    let forbidden = [
        "actix", "diesel", "r2d2", "tokio", "reqwest", "hyper", "sqlx", "rusqlite",
    ];
    for dependency in normal_dependencies(&manifest) {
        let bad = forbidden.iter().any(|f| {
            dependency == *f
                || dependency.starts_with(&format!("{f}-"))
                || dependency.starts_with(&format!("{f}_"))
        });
        assert!(!bad, "domain depends on {dependency}");
    }
}

#[test]
fn providers_know_neither_storage_nor_http() {
    let manifest = std::fs::read_to_string(root().join("providers/Cargo.toml")).unwrap();
    for dependency in normal_dependencies(&manifest) {
        let bad = [
            "strato-adapters",
            "strato-api",
            "actix-web",
            "diesel",
            "r2d2",
        ]
        .contains(&dependency.as_str());
        assert!(!bad, "providers depend on {dependency}");
    }
}

#[test]
fn domain_types_carry_no_serde() {
    for file in rust_files(&root().join("domain/src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("Serialize") && !text.contains("Deserialize"),
            "{} derives serde",
            file.display()
        );
    }
}

#[test]
fn only_the_composition_module_names_adapters_and_providers() {
    let compose = root().join("api/src/compose");
    for file in rust_files(&root().join("api/src")) {
        if file.ends_with("compose.rs") || file.starts_with(&compose) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for name in ["strato_adapters", "strato_providers"] {
            assert!(!text.contains(name), "{} names {name}", file.display());
        }
    }
}

#[test]
fn nothing_blocks_a_runtime_thread() {
    for dir in ["domain/src", "adapters/src", "providers/src", "api/src"] {
        for file in rust_files(&root().join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                !text.contains("block_in_place"),
                "{} calls block_in_place",
                file.display()
            );
        }
    }
}

#[test]
fn every_library_says_what_it_is() {
    for lib in [
        "domain/src/lib.rs",
        "adapters/src/lib.rs",
        "api/src/lib.rs",
        "tests/src/lib.rs",
    ] {
        let text = std::fs::read_to_string(root().join(lib)).unwrap();
        assert!(
            text.starts_with("//!"),
            "{lib} does not open with a //! paragraph"
        );
    }
}

/// The module path of a source file (`src/cloud/service.rs` → `cloud::service`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// The file that defines a module path, trying shorter paths first cut
/// from the end (`cloud::model::Node` → `cloud/model.rs`).
fn file_of(src: &Path, path: &[String]) -> Option<PathBuf> {
    (1..=path.len()).rev().find_map(|n| {
        let parts = &path[..n];
        let joined: PathBuf = parts.iter().collect();
        [
            src.join(&joined).with_extension("rs"),
            src.join(&joined).join("mod.rs"),
        ]
        .into_iter()
        .find(|f| f.exists())
    })
}

/// The module paths a file names through `crate::` and `super::`, its
/// tests left out.
fn named_modules(module: &[String], text: &str) -> Vec<Vec<String>> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut found = Vec::new();
    let lowercase_path = |rest: &str| -> Vec<String> {
        rest.split("::")
            .map(|s| s.trim())
            .take_while(|s| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            })
            .map(str::to_owned)
            .collect()
    };
    for (prefix, base) in [
        ("crate::", Vec::new()),
        ("super::", {
            let mut parent = module.to_vec();
            parent.pop();
            parent
        }),
    ] {
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            let groups: Vec<&str> = if let Some(inner) = rest.strip_prefix('{') {
                inner.split('}').next().unwrap_or("").split(',').collect()
            } else {
                vec![
                    rest.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                        .next()
                        .unwrap_or(""),
                ]
            };
            for group in groups {
                let mut path = base.clone();
                path.extend(lowercase_path(group));
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn no_two_modules_import_each_other() {
    for krate in ["domain", "adapters", "providers", "api"] {
        let src = root().join(krate).join("src");
        let mut edges = std::collections::BTreeSet::new();
        for file in rust_files(&src) {
            let module = module_of(&src, &file);
            let text = std::fs::read_to_string(&file).unwrap();
            for path in named_modules(&module, &text) {
                if let Some(target) = file_of(&src, &path)
                    && target != file
                    && !module_of(&src, &target).is_empty()
                {
                    edges.insert((file.clone(), target));
                }
            }
        }
        for (from, to) in &edges {
            assert!(
                !edges.contains(&(to.clone(), from.clone())),
                "{} and {} import each other",
                from.display(),
                to.display()
            );
        }
    }
}
