//! README.md's "A short session", replayed against a fresh server: the
//! README cannot drift from what strato prints.
//!
//! The test reads README.md when it runs, takes the indented code blocks of
//! the section (each must be a session: its first line starts with `$ `),
//! starts the real binary on its built-in defaults (one dummy cloud,
//! `default`) with only a free port and a fresh SQLite file changed, so that
//! ids and node numbers are those of a first session, and runs every command,
//! in order, with `sh -c`, comparing what it prints with what the README
//! shows.
//!
//! How the README is read:
//! - The section runs from its heading to the next `#` or `##` heading; its
//!   code blocks are the lines indented by four spaces.
//! - `$ ` starts a command; a line ending in `\` continues on the next one.
//!   Every command is a `curl` command to `localhost:8080`, which is replaced
//!   by the test server's port.
//! - A `#` that starts a word outside quotes starts a comment, which is not
//!   part of the command (as for `sh`).
//! - The lines up to the next `$ ` or the end of the block (a blank or
//!   unindented line) are the output. A command shown without output must
//!   print nothing.
//!
//! How outputs are compared (all of them, on stdout; stderr must stay empty
//! and every command must exit 0):
//! - An output that is a JSON object or array is compared as JSON: the same
//!   members with the same values, whatever the spacing and member order.
//! - `...` in place of an object's last member stands for the rest of that
//!   object's members (none or more); in place of an array's last element,
//!   for the rest of its elements. Everything shown must match exactly: the
//!   elements shown are the array's first ones, in order.
//! - The string `"<datetime>"` stands for a datetime as strato prints it
//!   (`YYYY-MM-DDTHH:MM:SS`, then `.ffffff` when it has microseconds): the
//!   moments an assignment or release happened.
//! - Any other output is compared as text, line by line, exactly (the
//!   printed output's final newline aside).

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::process::Scratch;

/// The section replayed.
const SECTION: &str = "## A short session";
/// The address the README's commands name.
const README_ADDRESS: &str = "localhost:8080";
/// Stands for the rest of an object's members or an array's elements.
const REST: &str = "...";
/// What `...` becomes while the shown output is parsed as JSON: a string no
/// output contains.
const REST_MARK: &str = "\u{0}...";
/// Stands for a datetime as strato prints it.
const DATETIME: &str = "<datetime>";
/// Longest wait for one command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn the_readme_session_prints_what_the_readme_shows() {
    // Arrange: the session as the README shows it, curl, and a fresh server.
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&readme_path)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", readme_path.display()));
    let steps = session(&readme);
    assert!(
        steps.len() >= 10,
        "README.md's {SECTION:?} shows {} commands; is the section still there?",
        steps.len()
    );
    require_curl();
    let scratch = Scratch::new("readme");
    let server = Server::start(&scratch);

    // Act and assert: every command, in order; every difference is reported.
    let mut differences = String::new();
    for step in &steps {
        let command = step
            .command
            .replace(README_ADDRESS, &format!("localhost:{}", server.port));
        let printed = run(&command, &scratch);
        let verdict = if printed.status.success() && printed.stderr.is_empty() {
            compare(&step.shown, &printed.stdout)
        } else {
            Err(format!(
                "it exited with {} and wrote to stderr:\n{}",
                printed.status, printed.stderr
            ))
        };
        if let Err(why) = verdict {
            let _ = write!(
                differences,
                "\nREADME.md line {}: $ {}\n  {why}\n  shown:\n{}\n  printed:\n{}\n",
                step.line,
                step.command,
                indent(&step.shown.join("\n")),
                indent(&printed.stdout),
            );
        }
    }
    assert!(
        differences.is_empty(),
        "README.md's session differs from what strato prints \
         (rules: tests/api/readme.rs):\n{differences}"
    );
}

/// One `$ command` and the output the README shows under it.
#[derive(Debug, PartialEq)]
struct Step {
    /// 1-based line of the `$ `, for messages.
    line: usize,
    /// The command, continuation lines joined, comment removed.
    command: String,
    /// The output lines, indentation removed.
    shown: Vec<String>,
}

/// The commands of the README's session section, in order.
fn session(readme: &str) -> Vec<Step> {
    let mut lines = readme
        .lines()
        .enumerate()
        .skip_while(|(_, l)| *l != SECTION);
    assert!(
        lines.next().is_some(),
        "README.md has no {SECTION:?} section"
    );
    let mut steps: Vec<Step> = Vec::new();
    // A command whose last line so far ends in `\`.
    let mut continued: Option<Step> = None;
    let mut in_block = false;
    for (index, line) in lines {
        if line.starts_with("# ") || line.starts_with("## ") {
            break;
        }
        let Some(code) = line.strip_prefix("    ") else {
            assert!(
                continued.is_none(),
                "README.md line {index}: a command ends in `\\` with no line after it"
            );
            in_block = false;
            continue;
        };
        let mut step = if let Some(mut step) = continued.take() {
            step.command.push(' ');
            step.command.push_str(code.trim());
            step
        } else if let Some(command) = code.strip_prefix("$ ") {
            Step {
                line: index + 1,
                command: command.trim().to_owned(),
                shown: Vec::new(),
            }
        } else {
            assert!(
                in_block,
                "README.md line {}: a code block of {SECTION:?} must start with `$ `",
                index + 1
            );
            let last = steps.last_mut().expect("a block starts with a command");
            last.shown.push(code.to_owned());
            continue;
        };
        in_block = true;
        if let Some(head) = step.command.strip_suffix('\\') {
            step.command = head.trim_end().to_owned();
            continued = Some(step);
        } else {
            step.command = without_comment(&step.command);
            assert!(
                step.command.starts_with("curl ") && step.command.contains(README_ADDRESS),
                "README.md line {}: the session's commands are curl commands to {README_ADDRESS}: {}",
                step.line,
                step.command
            );
            steps.push(step);
        }
    }
    assert!(
        continued.is_none(),
        "README.md: the session's last command ends in `\\`"
    );
    steps
}

/// The command without its `# comment`: a `#` that starts a word outside
/// quotes, as `sh` reads it.
fn without_comment(command: &str) -> String {
    let mut quote = None;
    let mut previous = ' ';
    for (at, c) in command.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' && previous.is_whitespace() => {
                return command[..at].trim_end().to_owned();
            }
            None => {}
        }
        previous = c;
    }
    command.to_owned()
}

/// Compares what a command printed with what the README shows.
fn compare(shown: &[String], printed: &str) -> Result<(), String> {
    let printed = printed.strip_suffix('\n').unwrap_or(printed);
    let text = shown.join("\n");
    if shown.is_empty() {
        return if printed.is_empty() {
            Ok(())
        } else {
            Err("the README shows no output".to_owned())
        };
    }
    let Some(pattern) = json_pattern(&text) else {
        return if printed == text {
            Ok(())
        } else {
            Err("the text differs".to_owned())
        };
    };
    let actual: Value = serde_json::from_str(printed)
        .map_err(|e| format!("the README shows JSON, the output is not JSON ({e})"))?;
    matches(&pattern, &actual, "$")
}

/// The shown output as a JSON pattern, when it is a JSON object or array
/// (with `...` and `"<datetime>"` where allowed).
fn json_pattern(text: &str) -> Option<Value> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') && !trimmed.starts_with('[') {
        return None;
    }
    let marked = mark_rest(text).unwrap_or_else(|why| panic!("{why} in README output:\n{text}"));
    let pattern = serde_json::from_str(&marked).unwrap_or_else(|e| {
        panic!("README output is neither JSON nor a JSON pattern ({e}):\n{text}")
    });
    Some(pattern)
}

/// Replaces each `...` outside strings by a member or element that stands
/// for the rest; `...` is allowed only as an object's last member or an
/// array's last element.
fn mark_rest(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut open: Vec<char> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut at = 0;
    while let Some(c) = text[at..].chars().next() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if text[at..].starts_with(REST) {
            let before = out.trim_end().chars().last();
            let after = text[at + REST.len()..].trim_start().chars().next();
            let mark = Value::String(REST_MARK.to_owned()).to_string();
            let (member, closer) = match open.last() {
                Some('{') => (format!("{mark}: null"), '}'),
                Some('[') => (mark, ']'),
                _ => return Err(format!("`{REST}` outside an object or array")),
            };
            if !matches!(before, Some(',' | '{' | '[')) || after != Some(closer) {
                return Err(format!(
                    "`{REST}` must be the last member or element, written `, {REST}{closer}`"
                ));
            }
            out.push_str(&member);
            at += REST.len();
            continue;
        } else {
            match c {
                '"' => in_string = true,
                '{' | '[' => open.push(c),
                '}' | ']' => {
                    open.pop();
                }
                _ => {}
            }
        }
        out.push(c);
        at += c.len_utf8();
    }
    Ok(out)
}

/// Whether `actual` matches `pattern` (see the module's rules); the error
/// names the first place where they differ.
fn matches(pattern: &Value, actual: &Value, at: &str) -> Result<(), String> {
    match (pattern, actual) {
        (Value::String(p), Value::String(a)) if p == DATETIME => {
            if is_datetime(a) {
                Ok(())
            } else {
                Err(format!("at {at}: shown {DATETIME}, printed {a:?}"))
            }
        }
        (Value::Object(p), Value::Object(a)) => {
            let open = p.contains_key(REST_MARK);
            for (key, value) in p.iter().filter(|(key, _)| *key != REST_MARK) {
                let here = format!("{at}.{key}");
                let printed = a
                    .get(key)
                    .ok_or_else(|| format!("at {here}: shown, not printed"))?;
                matches(value, printed, &here)?;
            }
            let extra: Vec<&String> = a.keys().filter(|k| !p.contains_key(*k)).collect();
            if open || extra.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "at {at}: printed members the README does not show \
                     (end the object with `, {REST}` to elide them): {extra:?}"
                ))
            }
        }
        (Value::Array(p), Value::Array(a)) => {
            let open = p.last() == Some(&Value::String(REST_MARK.to_owned()));
            let shown = if open { &p[..p.len() - 1] } else { &p[..] };
            if a.len() < shown.len() || (!open && a.len() != shown.len()) {
                return Err(format!(
                    "at {at}: shown {} elements{}, printed {}",
                    shown.len(),
                    if open { " and more" } else { "" },
                    a.len()
                ));
            }
            for (index, (p, a)) in shown.iter().zip(a).enumerate() {
                matches(p, a, &format!("{at}[{index}]"))?;
            }
            Ok(())
        }
        _ if pattern == actual => Ok(()),
        _ => Err(format!("at {at}: shown {pattern}, printed {actual}")),
    }
}

/// `YYYY-MM-DDTHH:MM:SS`, optionally followed by `.ffffff`: a datetime as
/// strato prints it (Python's `isoformat()` of a naive datetime).
fn is_datetime(text: &str) -> bool {
    const SHAPE: &str = "dddd-dd-ddTdd:dd:dd";
    let fits = |text: &str, shape: &str| {
        text.len() == shape.len()
            && text.chars().zip(shape.chars()).all(|(c, s)| match s {
                'd' => c.is_ascii_digit(),
                _ => c == s,
            })
    };
    match text.split_once('.') {
        None => fits(text, SHAPE),
        Some((seconds, micros)) => fits(seconds, SHAPE) && fits(micros, "dddddd"),
    }
}

/// Fails the test, loudly, when curl cannot be run.
fn require_curl() {
    let version = Command::new("curl").arg("--version").output();
    assert!(
        version.is_ok_and(|v| v.status.success()),
        "the README session test needs curl on the PATH (e.g. `apt-get install curl`)"
    );
}

/// What a command printed.
struct Printed {
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `command` with `sh -c`, its outputs kept in files (no pipe to fill),
/// curl's own configuration files and proxies out of the way.
fn run(command: &str, scratch: &Scratch) -> Printed {
    let (stdout, stderr) = (scratch.path("stdout"), scratch.path("stderr"));
    let home = scratch.path("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("HOME", &home)
        .env("CURL_HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .env("NO_PROXY", "*")
        .env("no_proxy", "*")
        .stdin(Stdio::null())
        .stdout(File::create(&stdout).unwrap())
        .stderr(File::create(&stderr).unwrap())
        .spawn()
        .expect("sh runs");
    let status = wait(&mut child, COMMAND_TIMEOUT)
        .unwrap_or_else(|| panic!("`{command}` did not finish within {COMMAND_TIMEOUT:?}"));
    Printed {
        status,
        stdout: std::fs::read_to_string(&stdout).unwrap(),
        stderr: std::fs::read_to_string(&stderr).unwrap(),
    }
}

/// Waits for `child` at most `within`; kills it past that.
fn wait(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The real binary on its built-in defaults, but for a free port and a
/// fresh SQLite file; killed when dropped, its log shown when the test fails.
struct Server {
    child: Child,
    log: PathBuf,
    port: u16,
}

impl Server {
    fn start(scratch: &Scratch) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let config = scratch.path("strato.toml");
        let database = scratch.path("strato.db");
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = \"127.0.0.1:{port}\"\n\n[database]\nurl = {:?}\n",
                format!("sqlite://{}", database.display())
            ),
        )
        .unwrap();
        let log = scratch.path("strato.log");
        let output = File::create(&log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_strato-process"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("STRATO_") {
                command.env_remove(name);
            }
        }
        let child = command
            .args(["serve", "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .expect("the strato binary starts");
        let mut server = Self { child, log, port };
        server.wait_until_healthy();
        server
    }

    /// Waits (at most 20 s) until a TCP connection to the port succeeds and
    /// `/healthz` answers 200.
    fn wait_until_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let probe = format!(
            "curl -s -o /dev/null -w '%{{http_code}}' http://127.0.0.1:{}/healthz",
            self.port
        );
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("strato exited before it served ({status})");
            }
            let healthy = Command::new("sh")
                .args(["-c", &probe])
                .output()
                .is_ok_and(|out| out.stdout == b"200");
            if healthy {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "strato did not answer /healthz within 20 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!(
                "--- strato log, last lines ---\n{}",
                lines[lines.len().saturating_sub(40)..].join("\n")
            );
        }
    }
}

/// Indents text for a failure message.
fn indent(text: &str) -> String {
    if text.is_empty() {
        return "    (nothing)".to_owned();
    }
    text.lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

mod rules {
    use super::*;

    fn pattern(text: &str) -> Value {
        json_pattern(text).expect("JSON")
    }

    #[test]
    fn a_session_joins_continued_lines_and_drops_comments() {
        let readme = "## A short session\n\n    $ curl -s localhost:8080/a \\\n        -d x=1   # why\n    [\n        1\n    ]\n    $ curl -s 'localhost:8080/b#c'\n\nprose\n\n## Next\n\n    $ not read\n";

        let steps = session(readme);

        assert_eq!(
            steps,
            vec![
                Step {
                    line: 3,
                    command: "curl -s localhost:8080/a -d x=1".to_owned(),
                    shown: vec!["[".to_owned(), "    1".to_owned(), "]".to_owned()],
                },
                Step {
                    line: 8,
                    command: "curl -s 'localhost:8080/b#c'".to_owned(),
                    shown: vec![],
                },
            ]
        );
    }

    #[test]
    fn rest_stands_for_the_remaining_members_and_elements_only() {
        let shown = pattern(r#"{"a":[{"id":"1",...},...],"b":1}"#);

        assert!(
            matches(
                &shown,
                &serde_json::json!({"b":1,"a":[{"id":"1","x":2},{}]}),
                "$"
            )
            .is_ok()
        );
        assert!(matches(&shown, &serde_json::json!({"a":[{"id":"1"}],"b":1}), "$").is_ok());
        assert!(matches(&shown, &serde_json::json!({"a":[{"id":"2"}],"b":1}), "$").is_err());
        assert!(matches(&shown, &serde_json::json!({"a":[],"b":1}), "$").is_err());
        assert!(
            matches(
                &shown,
                &serde_json::json!({"a":[{"id":"1"}],"b":1,"c":0}),
                "$"
            )
            .is_err()
        );
        assert!(mark_rest(r#"{"a":...,"b":1}"#).is_err());
        assert!(mark_rest(r#"[..., 1]"#).is_err());
        assert!(mark_rest(r#"{"a":"...",...}"#).is_ok());
    }

    #[test]
    fn complete_json_is_compared_exactly_whatever_the_spacing() {
        assert!(compare(&["[".into(), "  \"/a\"".into(), "]".into()], "[\"/a\"]\n").is_ok());
        assert!(compare(&["[\"/a\"]".into()], "[\"/a\", \"/b\"]").is_err());
        assert!(compare(&[], "{}").is_err());
        assert!(compare(&["200".into()], "200\n").is_ok());
        assert!(compare(&["200".into()], "201\n").is_err());
    }

    #[test]
    fn the_datetime_placeholder_matches_strato_datetimes_only() {
        let shown = pattern(r#"{"at":"<datetime>"}"#);

        for at in ["2026-12-01T05:00:47", "2026-12-01T05:00:47.374921"] {
            assert!(
                matches(&shown, &serde_json::json!({"at": at}), "$").is_ok(),
                "{at}"
            );
        }
        for at in [
            "2026-12-01 05:00:47",
            "2026-12-01T05:00:47Z",
            "2026-12-01T05:00:47.37",
            "x",
        ] {
            assert!(
                matches(&shown, &serde_json::json!({"at": at}), "$").is_err(),
                "{at}"
            );
        }
    }
}
