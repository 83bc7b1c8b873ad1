//! Records the git revision the binary is built from (for the build-info
//! metric): `STRATO_GIT_REVISION` when set (container builds), else `git`'s
//! answer, else `unknown`.

fn main() {
    println!("cargo:rerun-if-env-changed=STRATO_GIT_REVISION");
    if let Ok(revision) = std::env::var("STRATO_GIT_REVISION") {
        println!("cargo:rustc-env=STRATO_GIT_REVISION={revision}");
        return;
    }
    let revision = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=STRATO_GIT_REVISION={revision}");
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");
}
