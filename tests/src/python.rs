//! Python virtualenvs for end-to-end tests that drive real Python programs
//! (such as the IM client): created once under the workspace's `target/`,
//! with pinned requirements, and reused by later tests and later runs.
//!
//! Creation is serialized twice: by a mutex between the threads of one test
//! binary, and by a lock file between test processes. A `.installed` file
//! written last, holding the requirements, marks a finished virtualenv; a
//! virtualenv without it, or with other requirements in it, is made anew.
//! Every failure panics with what `python3` or `pip` said: a test that needs
//! a Python program fails loudly instead of skipping.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// How long to wait for another process that is creating the same
/// virtualenv before giving up.
const LOCK_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// A lock file older than this is taken as left behind by a dead process,
/// whatever pid it names.
const LOCK_STALE_AFTER: Duration = Duration::from_secs(30 * 60);

/// How often to look at the lock file again while another process holds it.
const LOCK_POLL: Duration = Duration::from_millis(100);

/// The file inside a virtualenv that marks it finished.
const MARKER: &str = ".installed";

/// Serializes the threads of one process: at most one of them checks or
/// creates a virtualenv at a time.
static IN_PROCESS: Mutex<()> = Mutex::new(());

/// A Python virtualenv made by [`venv`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Venv {
    root: PathBuf,
}

impl Venv {
    /// The virtualenv's directory (`<target>/<name>-venv`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of a program installed in the virtualenv (`<root>/bin/<program>`),
    /// such as a package's console script.
    pub fn bin(&self, program: &str) -> PathBuf {
        self.root.join("bin").join(program)
    }

    /// The virtualenv's Python interpreter.
    pub fn python(&self) -> PathBuf {
        self.bin("python")
    }

    /// A command running `program` from the virtualenv, with the variables
    /// that would make Python look outside it (`PYTHONPATH`, `PYTHONHOME`,
    /// `PYTHONSTARTUP`, `VIRTUAL_ENV`) removed.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin(program));
        for name in ["PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"] {
            command.env_remove(name);
        }
        command
    }
}

/// The workspace's target directory: `CARGO_TARGET_DIR` when set (at run
/// time, else when this crate was built), otherwise `<workspace>/target`.
/// A relative `CARGO_TARGET_DIR` is taken relative to the workspace root.
pub fn target_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        Path::to_path_buf,
    );
    let configured = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            option_env!("CARGO_TARGET_DIR")
                .filter(|dir| !dir.is_empty())
                .map(PathBuf::from)
        });
    match configured {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    }
}

/// A virtualenv under `<target>/<name>-venv` holding exactly `requirements`
/// (pinned `package==version` strings), created on first use and reused
/// afterwards, by this process and by later ones.
///
/// Safe to call from several tests at once, in one process or in several:
/// one of them creates the virtualenv while the others wait for it. A
/// virtualenv whose `.installed` file does not list exactly `requirements`
/// (an interrupted install, or a changed pin) is removed and made anew.
///
/// # Panics
/// When `name` is not a plain file name, a requirement is not pinned with
/// `==`, `python3 -m venv` or `pip install` fails (the panic message holds
/// their output), or another process holds the lock for too long.
pub fn venv(name: &str, requirements: &[&str]) -> Venv {
    assert!(
        !name.is_empty() && !name.contains(['/', '\\']) && name != "." && name != "..",
        "a virtualenv's name is a plain file name, not {name:?}"
    );
    for requirement in requirements {
        assert!(
            requirement.contains("=="),
            "the requirements of the {name} virtualenv must be pinned (`package==version`), \
             not {requirement:?}"
        );
    }
    let target = target_dir();
    let venv = Venv {
        root: target.join(format!("{name}-venv")),
    };
    let wanted = marker_text(requirements);

    // A panic while a thread held the mutex left no half-made virtualenv
    // that the marker would hide, so the mutex's poison is of no concern.
    let _in_process = IN_PROCESS.lock().unwrap_or_else(PoisonError::into_inner);
    if is_installed(&venv, &wanted) {
        return venv;
    }
    fs::create_dir_all(&target).unwrap_or_else(|e| {
        panic!(
            "cannot create the target directory {}: {e}",
            target.display()
        )
    });
    let _lock = LockFile::acquire(target.join(format!("{name}-venv.lock")));
    // Another process may have finished it while this one waited.
    if !is_installed(&venv, &wanted) {
        create(&venv, requirements, &wanted);
    }
    venv
}

/// The text of the `.installed` marker for these requirements.
fn marker_text(requirements: &[&str]) -> String {
    let mut text = String::new();
    for requirement in requirements {
        text.push_str(requirement);
        text.push('\n');
    }
    text
}

/// Whether `venv` is finished with exactly these requirements.
fn is_installed(venv: &Venv, wanted: &str) -> bool {
    venv.python().exists()
        && fs::read_to_string(venv.root.join(MARKER)).is_ok_and(|found| found == wanted)
}

/// Makes `venv` from nothing: removes what is there, runs `python3 -m venv`,
/// installs the requirements, then writes the marker.
fn create(venv: &Venv, requirements: &[&str], wanted: &str) {
    let root = &venv.root;
    match fs::remove_dir_all(root) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => panic!("cannot remove the stale virtualenv {}: {e}", root.display()),
    }

    let mut make = Command::new("python3");
    make.arg("-m").arg("venv").arg(root);
    run(make, &format!("python3 -m venv {}", root.display()));

    if !requirements.is_empty() {
        let mut install = venv.command("pip");
        install
            .args([
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
            ])
            .args(requirements);
        run(
            install,
            &format!(
                "{} install {}",
                venv.bin("pip").display(),
                requirements.join(" ")
            ),
        );
    }

    // Written whole under another name, then renamed: a reader sees the
    // marker complete or not at all.
    let partial = root.join(format!("{MARKER}.partial"));
    fs::write(&partial, wanted)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", partial.display()));
    let marker = root.join(MARKER);
    fs::rename(&partial, &marker)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
}

/// Runs `command` to the end; panics with its output when it cannot start or fails.
fn run(mut command: Command, shown: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{shown}` (is python3 installed?): {e}"));
    assert!(
        output.status.success(),
        "`{shown}` failed ({}), so the end-to-end tests that need it cannot run.\n\
         --- stderr:\n{}\n--- stdout:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout),
    );
    output
}

/// A lock file held by this process (it holds its pid), removed when dropped,
/// a panic's unwinding included.
#[derive(Debug)]
struct LockFile {
    path: PathBuf,
}

impl LockFile {
    /// Waits until the file can be created, then holds it. Removes a lock
    /// file left behind by a dead process.
    fn acquire(path: PathBuf) -> Self {
        let started = Instant::now();
        loop {
            match fs::File::create_new(&path) {
                Ok(_) => {
                    let lock = Self { path };
                    // Written after creation: a reader may see it empty for
                    // a moment, which `is_stale` allows for.
                    fs::write(&lock.path, std::process::id().to_string()).unwrap_or_else(|e| {
                        panic!("cannot write the lock file {}: {e}", lock.path.display())
                    });
                    return lock;
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if let Some(holder) = stale_holder(&path) {
                        remove_stale(&path, &holder);
                        continue;
                    }
                    assert!(
                        started.elapsed() < LOCK_TIMEOUT,
                        "waited {LOCK_TIMEOUT:?} for {} (held by pid {}); remove it if no \
                         test is running",
                        path.display(),
                        fs::read_to_string(&path).unwrap_or_default().trim(),
                    );
                    std::thread::sleep(LOCK_POLL);
                }
                Err(e) => panic!("cannot create the lock file {}: {e}", path.display()),
            }
        }
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// When the lock file at `path` was left behind by a process that is gone
/// (or is too old to trust), what it holds; `None` while it is live.
fn stale_holder(path: &Path) -> Option<String> {
    // Removed meanwhile: the next attempt to create it will tell.
    let Ok(holder) = fs::read_to_string(path) else {
        return None;
    };
    let age = fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(|modified| SystemTime::now().duration_since(modified).ok())
        .unwrap_or_default();
    if age > LOCK_STALE_AFTER {
        return Some(holder);
    }
    let Ok(pid) = holder.trim().parse::<u32>() else {
        // Empty or garbled: being written now, unless it stays so.
        return (age > Duration::from_secs(30)).then_some(holder);
    };
    let procfs = Path::new("/proc/self").exists();
    let alive = !procfs || Path::new(&format!("/proc/{pid}")).exists();
    (!alive).then_some(holder)
}

/// Removes a stale lock file, unless it was replaced meanwhile by a live one.
fn remove_stale(path: &Path, holder: &str) {
    if fs::read_to_string(path).is_ok_and(|now| now == holder) {
        let _ = fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_dir_is_the_workspace_one_by_default() {
        let target = target_dir();
        if std::env::var_os("CARGO_TARGET_DIR").is_none()
            && option_env!("CARGO_TARGET_DIR").is_none()
        {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
            assert_eq!(target, workspace.join("target"));
        }
        assert!(target.is_absolute(), "{}", target.display());
    }

    #[test]
    fn the_marker_lists_the_requirements_one_a_line() {
        assert_eq!(marker_text(&[]), "");
        assert_eq!(marker_text(&["a==1", "b==2"]), "a==1\nb==2\n");
    }

    #[test]
    #[should_panic(expected = "must be pinned")]
    fn unpinned_requirements_are_refused() {
        let _ = venv("strato-unpinned", &["requests"]);
    }

    #[test]
    fn a_stale_lock_file_is_recognized() {
        let dir = std::env::temp_dir().join(format!("strato-lock-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.lock");
        // pid 0 never names a process in /proc.
        fs::write(&path, "0").unwrap();
        assert_eq!(stale_holder(&path).as_deref(), Some("0"));
        fs::write(&path, std::process::id().to_string()).unwrap();
        assert_eq!(stale_holder(&path), None);
        fs::remove_file(&path).unwrap();
        let lock = LockFile::acquire(path.clone());
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            std::process::id().to_string()
        );
        drop(lock);
        assert!(!path.exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn threads_share_one_virtualenv() {
        let made: Vec<Venv> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| venv("strato-python-selftest", &[])))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(made.windows(2).all(|pair| pair[0] == pair[1]));
        let venv = &made[0];
        assert!(venv.python().exists(), "{}", venv.python().display());
        assert_eq!(fs::read_to_string(venv.root().join(MARKER)).unwrap(), "");
        let output = venv
            .command("python")
            .args(["-c", "import sys; print(sys.prefix)"])
            .output()
            .unwrap();
        assert!(output.status.success());
        let prefix = String::from_utf8(output.stdout).unwrap();
        assert_eq!(
            Path::new(prefix.trim()).canonicalize().unwrap(),
            venv.root().canonicalize().unwrap()
        );
    }
}
