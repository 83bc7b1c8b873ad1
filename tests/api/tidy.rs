//! The crate boundaries, checked on the sources: the domain stays pure, only
//! the composition root names adapters and providers, nothing blocks a
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
fn only_the_composition_root_names_adapters_and_providers() {
    for file in rust_files(&root().join("api/src")) {
        if file.ends_with("main.rs") {
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
