//! The IM `Authorization` header (spec `im.md` §1.1–1.2): an IM auth file
//! flattened onto one line, a JSON array of the same lines, or `Basic`
//! credentials, parsed into ordered lines of `key = value` items.
//!
//! Values are plain data: nothing here reads a file or logs a secret, and the
//! `Debug` output of every type shows only `id`, `type` and `username`.

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// The `type` of the line that carries the caller's own credentials.
///
/// Compared case-sensitively, as IM does: `type = infrastructuremanager` is a
/// cloud line of an unknown kind, not a credentials line.
pub const IM_TYPE: &str = "InfrastructureManager";

/// The keys whose values `Debug` shows; every other value is redacted.
const SHOWN_KEYS: [&str; 3] = ["id", "type", "username"];

/// Standard base64, with or without `=` padding (curl pads, some clients do not).
const BASIC_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a request's `Authorization` header does not name a caller (§1.2).
///
/// `Display` gives the spec's reason without the route prefix; see
/// [`AuthError::has_prefix`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The header is absent, empty or only whitespace.
    #[error("No authentication data provided")]
    Missing,
    /// No line has `type = InfrastructureManager` (an unparseable header included).
    #[error("No credentials provided for the InfrastructureManager.")]
    NoCredentials,
    /// The credentials line has neither a `username` nor a `token`.
    #[error("No username nor token for the InfrastructureManager.")]
    NoUsernameNorToken,
    /// The credentials line has a `username` without a `password`.
    #[error("Invalid InfrastructureManager credentials")]
    Invalid,
    /// A `Basic` value that is not base64 of `user:password`.
    #[error("Invalid Basic credentials")]
    InvalidBasic,
    /// The `Bearer` scheme, which strato does not accept.
    #[error("Bearer tokens are not supported; send an InfrastructureManager line")]
    Bearer,
}

impl AuthError {
    /// Whether the message is preceded by the route's prefix (`<prefix>: `):
    /// every case but [`AuthError::Missing`].
    pub fn has_prefix(&self) -> bool {
        !matches!(self, Self::Missing)
    }
}

/// The caller's identity, taken from the credentials line.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A `username` and its `password`.
    Password {
        /// The login name, which names the owner.
        username: String,
        /// The secret; never shown by `Debug`.
        password: String,
    },
    /// A `token` (used only when the line has no `username`); never shown by `Debug`.
    Token(String),
}

impl Credentials {
    /// The username, when these are password credentials.
    pub fn username(&self) -> Option<&str> {
        match self {
            Self::Password { username, .. } => Some(username),
            Self::Token(_) => None,
        }
    }

    /// The secret part: the password or the token.
    pub fn secret(&self) -> &str {
        match self {
            Self::Password { password, .. } => password,
            Self::Token(token) => token,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .field("password", &Redacted)
                .finish(),
            Self::Token(_) => f.debug_tuple("Token").field(&Redacted).finish(),
        }
    }
}

/// Stands for a secret value in `Debug` output.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// One line of the auth data: its `key = value` items in order, each key once.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthLine {
    items: Vec<(String, String)>,
}

impl AuthLine {
    /// Builds a line from items in order; as in IM, a key given twice keeps its
    /// first position and its last value, and an empty key is dropped.
    pub fn new<K, V>(items: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut line = Self { items: Vec::new() };
        for (key, value) in items {
            line.insert(key.into(), value.into());
        }
        line
    }

    fn insert(&mut self, key: String, value: String) {
        if key.is_empty() {
            return;
        }
        match self.items.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => *old = value,
            None => self.items.push((key, value)),
        }
    }

    /// The items in the order they were written.
    pub fn items(&self) -> &[(String, String)] {
        &self.items
    }

    /// The value of `key` (keys are case-sensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The `type`: [`IM_TYPE`] or a provider kind such as `Dummy`.
    pub fn kind(&self) -> Option<&str> {
        self.get("type")
    }

    /// The `id`, the name that `deploy` sentences use.
    pub fn id(&self) -> Option<&str> {
        self.get("id")
    }

    /// Whether this is a credentials line (`type = InfrastructureManager`).
    pub fn is_credentials(&self) -> bool {
        self.kind() == Some(IM_TYPE)
    }

    /// Applies §1.2 to this line, whatever its `type`: a non-empty `username`
    /// needs a non-empty `password`; without a username a non-empty `token`
    /// is used; empty values count as absent.
    ///
    /// # Errors
    /// [`AuthError::Invalid`] for a username without password,
    /// [`AuthError::NoUsernameNorToken`] when both are absent.
    pub fn credentials(&self) -> Result<Credentials, AuthError> {
        let present = |key| self.get(key).filter(|v| !v.is_empty());
        match (present("username"), present("token")) {
            (Some(username), _) => match present("password") {
                Some(password) => Ok(Credentials::Password {
                    username: username.to_owned(),
                    password: password.to_owned(),
                }),
                None => Err(AuthError::Invalid),
            },
            (None, Some(token)) => Ok(Credentials::Token(token.to_owned())),
            (None, None) => Err(AuthError::NoUsernameNorToken),
        }
    }
}

impl fmt::Debug for AuthLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthLine ")?;
        let mut map = f.debug_map();
        for (key, value) in &self.items {
            if SHOWN_KEYS.contains(&key.as_str()) {
                map.entry(key, value);
            } else {
                map.entry(key, &Redacted);
            }
        }
        map.finish()
    }
}

/// One parsed header: its lines in order, each an ordered list of (key, value) items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthData {
    lines: Vec<AuthLine>,
}

impl AuthData {
    /// Parses an `Authorization` header value (§1.1).
    ///
    /// - `Basic <base64 of user:password>` (scheme in any case) is one
    ///   credentials line; `Bearer …` is refused.
    /// - A header starting with `[` is the JSON form: an array of objects whose
    ///   strings are taken as they are, numbers and booleans as their text,
    ///   arrays and objects as compact JSON, and `null` as absent; any other
    ///   JSON, or invalid JSON, gives no lines.
    /// - Otherwise lines are separated by the two characters `\n` or by a
    ///   newline byte, and the three characters `\\n` are a newline inside a
    ///   value; see [`AuthData::lines`] for the items.
    ///
    /// An unparseable header is not an error here: it has no lines, so
    /// [`AuthData::credentials`] answers [`AuthError::NoCredentials`].
    ///
    /// # Errors
    /// [`AuthError::Missing`] for no header or only whitespace,
    /// [`AuthError::InvalidBasic`] and [`AuthError::Bearer`] for those schemes.
    pub fn parse(header: Option<&str>) -> Result<Self, AuthError> {
        let header = header.map(str::trim).unwrap_or_default();
        if header.is_empty() {
            return Err(AuthError::Missing);
        }
        if let Some(encoded) = scheme_value(header, "Basic") {
            return parse_basic(encoded).ok_or(AuthError::InvalidBasic);
        }
        if scheme_value(header, "Bearer").is_some() {
            return Err(AuthError::Bearer);
        }
        let lines = if header.starts_with('[') {
            parse_json(header)
        } else {
            parse_text(header)
        };
        Ok(Self { lines })
    }

    /// Every line with at least one item, in header order.
    ///
    /// In the text form a line's items are separated by `;` and split at their
    /// first `=`; keys and unquoted values are trimmed; a value starting with
    /// `'` or `"` runs to the same quote (kept verbatim, `;` and `=` included,
    /// quotes removed) when that quote closes on the line, else the quote is
    /// an ordinary character. Items without `=`, empty lines and lines
    /// starting with `#` are skipped.
    pub fn lines(&self) -> &[AuthLine] {
        &self.lines
    }

    /// The caller's credentials, from the first `type = InfrastructureManager` line.
    ///
    /// # Errors
    /// [`AuthError::NoCredentials`] when there is no such line, else those of
    /// [`AuthLine::credentials`].
    pub fn credentials(&self) -> Result<Credentials, AuthError> {
        self.lines
            .iter()
            .find(|line| line.is_credentials())
            .ok_or(AuthError::NoCredentials)
            .and_then(AuthLine::credentials)
    }

    /// The cloud lines: every line with a non-empty `type` other than
    /// [`IM_TYPE`], in header order.
    pub fn clouds(&self) -> Vec<&AuthLine> {
        self.lines
            .iter()
            .filter(|line| {
                line.kind()
                    .is_some_and(|kind| !kind.is_empty() && kind != IM_TYPE)
            })
            .collect()
    }
}

/// The credentials after `scheme` (compared case-insensitively, as HTTP does),
/// or `None` when the header does not use that scheme. `Basic = x` is an item
/// named `Basic`, not the scheme: base64 and tokens never start with `=`.
fn scheme_value<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (word, rest) = header
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((header, ""));
    let rest = rest.trim();
    (word.eq_ignore_ascii_case(scheme) && !rest.starts_with('=')).then_some(rest)
}

/// One credentials line from `Basic` credentials: UTF-8 `user:password`, split
/// at the first colon, neither part empty.
fn parse_basic(encoded: &str) -> Option<AuthData> {
    let decoded = String::from_utf8(BASIC_ENGINE.decode(encoded).ok()?).ok()?;
    let (username, password) = decoded.split_once(':')?;
    if username.is_empty() || password.is_empty() {
        return None;
    }
    let line = AuthLine::new([
        ("type", IM_TYPE),
        ("username", username),
        ("password", password),
    ]);
    Some(AuthData { lines: vec![line] })
}

/// The JSON form: an array of objects, else no lines at all.
fn parse_json(header: &str) -> Vec<AuthLine> {
    use serde_json::Value;

    let Ok(Value::Array(elements)) = serde_json::from_str::<Value>(header) else {
        return Vec::new();
    };
    let mut lines = Vec::with_capacity(elements.len());
    for element in elements {
        let Value::Object(object) = element else {
            return Vec::new();
        };
        let line = AuthLine::new(object.into_iter().filter_map(|(key, value)| {
            let text = match value {
                Value::Null => return None,
                Value::String(text) => text,
                other => other.to_string(),
            };
            Some((key, text))
        }));
        if !line.items.is_empty() {
            lines.push(line);
        }
    }
    lines
}

/// The text form: lines, then items.
fn parse_text(header: &str) -> Vec<AuthLine> {
    header
        .split('\n')
        .flat_map(split_escaped_lines)
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let line = AuthLine::new(parse_items(line));
            (!line.items.is_empty()).then_some(line)
        })
        .collect()
}

/// Splits one physical line at the two characters `\n`, turning the three
/// characters `\\n` into a newline first, as IM's replace-then-split does.
fn split_escaped_lines(raw: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        current.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("\\\\n") {
            current.push('\n');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("\\n") {
            lines.push(std::mem::take(&mut current));
            rest = after;
        } else {
            current.push('\\');
            rest = &tail[1..];
        }
    }
    current.push_str(rest);
    lines.push(current);
    lines
}

/// The `key = value` items of one line.
fn parse_items(line: &str) -> Vec<(String, String)> {
    let mut items = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(['=', ';']) {
        if rest[at..].starts_with(';') {
            // An item without `=`.
            rest = &rest[at + 1..];
            continue;
        }
        let key = rest[..at].trim();
        let (value, after) = read_value(&rest[at + 1..]);
        items.push((key.to_owned(), value));
        rest = after;
    }
    items
}

/// Reads a value up to its `;` (or the end); returns it and what follows the `;`.
fn read_value(text: &str) -> (String, &str) {
    let text = text.trim_start();
    if let Some(quote) = text.chars().next().filter(|c| matches!(c, '\'' | '"')) {
        let inner = &text[1..];
        if let Some(end) = inner.find(quote) {
            let (tail, after) = up_to_semicolon(&inner[end + 1..]);
            let mut value = inner[..end].to_owned();
            value.push_str(tail.trim_end());
            return (value, after);
        }
    }
    let (value, after) = up_to_semicolon(text);
    (value.trim().to_owned(), after)
}

fn up_to_semicolon(text: &str) -> (&str, &str) {
    text.split_once(';').unwrap_or((text, ""))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn parse(header: &str) -> AuthData {
        AuthData::parse(Some(header)).unwrap()
    }

    fn items(line: &AuthLine) -> Vec<(&str, &str)> {
        line.items()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    fn as_maps(data: &AuthData) -> Vec<BTreeMap<&str, &str>> {
        data.lines()
            .iter()
            .map(|line| items(line).into_iter().collect())
            .collect()
    }

    fn password(username: &str, password: &str) -> Credentials {
        Credentials::Password {
            username: username.to_owned(),
            password: password.to_owned(),
        }
    }

    const SPEC_EXAMPLE: &str =
        r"id = dummy; type = Dummy\ntype = InfrastructureManager; username = user; password = pass";
    const CLIENT_EXAMPLE: &str = r"id = dummy;type = Dummy;\ntype = InfrastructureManager;username = user;password = pass;\n";

    // §1.1 and §1.2: a missing or empty header.

    #[test]
    fn a_missing_empty_or_blank_header_is_missing() {
        assert_eq!(AuthData::parse(None), Err(AuthError::Missing));
        assert_eq!(AuthData::parse(Some("")), Err(AuthError::Missing));
        assert_eq!(AuthData::parse(Some(" \t ")), Err(AuthError::Missing));
    }

    // §1.1 lines.

    #[test]
    fn the_spec_example_gives_a_cloud_line_and_a_credentials_line() {
        let data = parse(SPEC_EXAMPLE);
        assert_eq!(data.lines().len(), 2);
        assert_eq!(
            items(&data.lines()[0]),
            [("id", "dummy"), ("type", "Dummy")]
        );
        assert_eq!(
            items(&data.lines()[1]),
            [
                ("type", "InfrastructureManager"),
                ("username", "user"),
                ("password", "pass")
            ]
        );
        assert_eq!(data.credentials(), Ok(password("user", "pass")));
        let clouds = data.clouds();
        assert_eq!(clouds.len(), 1);
        assert_eq!(clouds[0].id(), Some("dummy"));
        assert_eq!(clouds[0].kind(), Some("Dummy"));
    }

    #[test]
    fn the_im_client_form_parses_like_the_spec_example() {
        assert_eq!(parse(CLIENT_EXAMPLE), parse(SPEC_EXAMPLE));
    }

    #[test]
    fn the_json_form_gives_the_same_lines() {
        let json = r#"[{"id":"dummy","type":"Dummy"},{"type":"InfrastructureManager","username":"user","password":"pass"}]"#;
        assert_eq!(as_maps(&parse(json)), as_maps(&parse(SPEC_EXAMPLE)));
    }

    #[test]
    fn real_newline_bytes_also_separate_lines() {
        let header = "id = dummy; type = Dummy\r\ntype = InfrastructureManager; username = user; password = pass\n";
        assert_eq!(parse(header), parse(SPEC_EXAMPLE));
    }

    #[test]
    fn empty_lines_and_comments_are_skipped() {
        let header = r"\n  \n# type = InfrastructureManager; username = x; password = y\n  # also a comment\nid = dummy; type = Dummy\n\ntype = InfrastructureManager; username = user; password = pass\n\n";
        assert_eq!(parse(header), parse(SPEC_EXAMPLE));
    }

    #[test]
    fn a_hash_inside_a_line_is_data() {
        let data = parse(r"type = Dummy; password = a#b");
        assert_eq!(data.lines()[0].get("password"), Some("a#b"));
    }

    // §1.1 newline inside a value.

    #[test]
    fn backslash_backslash_n_is_a_newline_inside_a_value() {
        let header = r"type = InfrastructureManager; token = abc\\ndef; username = u; password = p\\nq\nid = k; type = Kube; key = '-----BEGIN\\nXYZ\\n-----END'";
        let data = parse(header);
        assert_eq!(data.lines().len(), 2);
        assert_eq!(data.lines()[0].get("token"), Some("abc\ndef"));
        assert_eq!(data.credentials(), Ok(password("u", "p\nq")));
        assert_eq!(
            data.lines()[1].get("key"),
            Some("-----BEGIN\nXYZ\n-----END")
        );
    }

    #[test]
    fn escapes_decode_left_to_right_like_replace_then_split() {
        // `\\\n` (backslash, backslash, backslash, n): IM replaces the `\\n`
        // found at the second character, leaving a backslash and a newline.
        let data = parse(r"type = Dummy; a = x\\\ny; b = \q");
        assert_eq!(data.lines().len(), 1);
        assert_eq!(data.lines()[0].get("a"), Some("x\\\ny"));
        assert_eq!(data.lines()[0].get("b"), Some("\\q"));
        // An unquoted value's trailing decoded newline is trimmed, as IM strips it.
        let data = parse(r"type = Dummy; a = x\\n");
        assert_eq!(data.lines()[0].get("a"), Some("x"));
    }

    // §1.1 items.

    #[test]
    fn items_ignore_whitespace_trailing_semicolons_and_items_without_equals() {
        let data = parse("  type=Dummy ;;  id =  a  ; bogus ; host = h:1 ; ;");
        assert_eq!(
            items(&data.lines()[0]),
            [("type", "Dummy"), ("id", "a"), ("host", "h:1")]
        );
        let data = parse("type = Dummy; trailing");
        assert_eq!(items(&data.lines()[0]), [("type", "Dummy")]);
    }

    #[test]
    fn a_line_without_any_item_is_dropped() {
        let data = parse(r"just words\ntype = Dummy");
        assert_eq!(data.lines().len(), 1);
        assert_eq!(data.lines()[0].kind(), Some("Dummy"));
    }

    #[test]
    fn an_unquoted_value_is_split_at_its_first_equals_sign() {
        let data = parse("type = InfrastructureManager; token = YWJj==; extra = a=b");
        assert_eq!(
            data.credentials(),
            Ok(Credentials::Token("YWJj==".to_owned()))
        );
        assert_eq!(data.lines()[0].get("extra"), Some("a=b"));
    }

    #[test]
    fn empty_keys_are_dropped_and_empty_values_kept() {
        let data = parse("= x; type = Dummy; host =");
        assert_eq!(items(&data.lines()[0]), [("type", "Dummy"), ("host", "")]);
    }

    #[test]
    fn a_repeated_key_keeps_its_place_and_its_last_value() {
        let data = parse("type = Dummy; id = a; type = Other");
        assert_eq!(items(&data.lines()[0]), [("type", "Other"), ("id", "a")]);
    }

    #[test]
    fn quoted_values_may_hold_semicolons_and_equals_signs() {
        let data = parse(
            r#"type = InfrastructureManager; username = u; password = 'pa;ss=word'; a = "some;'pass" ; b='some;"pass'"#,
        );
        let line = &data.lines()[0];
        assert_eq!(line.get("password"), Some("pa;ss=word"));
        assert_eq!(line.get("a"), Some("some;'pass"));
        assert_eq!(line.get("b"), Some("some;\"pass"));
        assert_eq!(data.credentials(), Ok(password("u", "pa;ss=word")));
    }

    #[test]
    fn quoted_values_keep_inner_whitespace() {
        let data = parse("type = Dummy; password = ' spaced ' ; id = ''");
        assert_eq!(data.lines()[0].get("password"), Some(" spaced "));
        assert_eq!(data.lines()[0].get("id"), Some(""));
    }

    #[test]
    fn quotes_that_do_not_open_a_value_are_ordinary_characters() {
        let data = parse(r#"type = Dummy; password = it's; other = 'open; x = "y"#);
        let line = &data.lines()[0];
        assert_eq!(line.get("password"), Some("it's"));
        assert_eq!(line.get("other"), Some("'open"));
        assert_eq!(line.get("x"), Some("\"y"));
    }

    #[test]
    fn text_after_a_closing_quote_joins_the_value() {
        let data = parse("type = Dummy; a = 'x;y'z ; b = c");
        assert_eq!(data.lines()[0].get("a"), Some("x;yz"));
        assert_eq!(data.lines()[0].get("b"), Some("c"));
    }

    #[test]
    fn file_values_are_plain_strings() {
        let data =
            parse("type = InfrastructureManager; username = u; password = file(/etc/passwd)");
        assert_eq!(data.credentials(), Ok(password("u", "file(/etc/passwd)")));
    }

    // §1.1 JSON form.

    #[test]
    fn json_scalars_become_text_and_null_is_absent() {
        let data = parse(
            r#"[{"type":"InfrastructureManager","username":"u","password":"p"},{"id":"dummy","type":"Dummy","port":8080,"verify":false,"ratio":1.5,"tags":["a"],"proxy":null,"key":"a\nb"}]"#,
        );
        assert_eq!(data.credentials(), Ok(password("u", "p")));
        let cloud = data.clouds()[0];
        assert_eq!(cloud.id(), Some("dummy"));
        assert_eq!(cloud.get("port"), Some("8080"));
        assert_eq!(cloud.get("verify"), Some("false"));
        assert_eq!(cloud.get("ratio"), Some("1.5"));
        assert_eq!(cloud.get("tags"), Some(r#"["a"]"#));
        assert_eq!(cloud.get("proxy"), None);
        assert_eq!(cloud.get("key"), Some("a\nb"));
    }

    #[test]
    fn json_number_passwords_work() {
        let data = parse(r#"[{"type":"InfrastructureManager","username":"u","password":1234}]"#);
        assert_eq!(data.credentials(), Ok(password("u", "1234")));
    }

    #[test]
    fn an_empty_json_array_has_no_credentials() {
        assert_eq!(parse("[]").credentials(), Err(AuthError::NoCredentials));
        assert_eq!(parse("[{}]").lines().len(), 0);
    }

    #[test]
    fn invalid_json_has_no_lines_and_no_credentials() {
        for header in [
            r#"[{"type":"InfrastructureManager","username":"u","password":"p"}"#,
            r#"[{"type":"InfrastructureManager","username":"u","password":"p"}, 3]"#,
            r#"["type = InfrastructureManager; username = u; password = p"]"#,
            "[not json]",
        ] {
            let data = parse(header);
            assert!(data.lines().is_empty(), "{header}");
            assert_eq!(
                data.credentials(),
                Err(AuthError::NoCredentials),
                "{header}"
            );
        }
    }

    // §1.1 credentials and cloud lines.

    #[test]
    fn the_first_credentials_line_is_the_caller() {
        let data = parse(
            r"type = InfrastructureManager; username = first; password = a\ntype = InfrastructureManager; username = second; password = b",
        );
        assert_eq!(data.credentials(), Ok(password("first", "a")));
        assert!(data.clouds().is_empty());
    }

    #[test]
    fn a_token_line_gives_token_credentials() {
        let data = parse("type = InfrastructureManager; token = tok");
        assert_eq!(data.credentials(), Ok(Credentials::Token("tok".to_owned())));
        assert_eq!(data.credentials().unwrap().username(), None);
    }

    #[test]
    fn a_username_wins_over_a_token() {
        let data = parse("type = InfrastructureManager; token = tok; username = u; password = p");
        assert_eq!(data.credentials(), Ok(password("u", "p")));
        assert_eq!(data.credentials().unwrap().username(), Some("u"));
    }

    #[test]
    fn an_empty_username_counts_as_absent() {
        let data = parse("type = InfrastructureManager; username = ; token = tok");
        assert_eq!(data.credentials(), Ok(Credentials::Token("tok".to_owned())));
    }

    #[test]
    fn cloud_lines_are_the_other_typed_lines_in_order() {
        let data = parse(
            r"id = one; type = OpenNebula; host = h:2633\nid = untyped; host = x\ntype = InfrastructureManager; username = u; password = p\nid = two; type = EC2; type2 = x\nid = empty; type = ",
        );
        let ids: Vec<_> = data.clouds().iter().map(|line| line.id()).collect();
        assert_eq!(ids, [Some("one"), Some("two")]);
        assert_eq!(data.lines().len(), 5);
    }

    #[test]
    fn the_credentials_type_is_case_sensitive() {
        let data = parse("type = infrastructuremanager; username = u; password = p");
        assert_eq!(data.credentials(), Err(AuthError::NoCredentials));
        assert_eq!(data.clouds().len(), 1);
    }

    // §1.2 failures.

    #[test]
    fn no_credentials_line_is_no_credentials() {
        assert_eq!(
            parse("id = dummy; type = Dummy").credentials(),
            Err(AuthError::NoCredentials)
        );
        assert_eq!(
            parse("garbage").credentials(),
            Err(AuthError::NoCredentials)
        );
        assert_eq!(
            parse(r"\n#type = InfrastructureManager; username = u; password = p").credentials(),
            Err(AuthError::NoCredentials)
        );
    }

    #[test]
    fn a_credentials_line_without_username_or_token_is_rejected() {
        for header in [
            "type = InfrastructureManager",
            "type = InfrastructureManager; password = p",
            "type = InfrastructureManager; username = ; token = ",
        ] {
            assert_eq!(
                parse(header).credentials(),
                Err(AuthError::NoUsernameNorToken),
                "{header}"
            );
        }
    }

    #[test]
    fn a_username_without_password_is_invalid() {
        for header in [
            "type = InfrastructureManager; username = u",
            "type = InfrastructureManager; username = u; password = ",
            "type = InfrastructureManager; username = u; token = t",
        ] {
            assert_eq!(
                parse(header).credentials(),
                Err(AuthError::Invalid),
                "{header}"
            );
        }
    }

    #[test]
    fn messages_are_the_specs_reasons() {
        let cases = [
            (AuthError::Missing, "No authentication data provided", false),
            (
                AuthError::NoCredentials,
                "No credentials provided for the InfrastructureManager.",
                true,
            ),
            (
                AuthError::NoUsernameNorToken,
                "No username nor token for the InfrastructureManager.",
                true,
            ),
            (
                AuthError::Invalid,
                "Invalid InfrastructureManager credentials",
                true,
            ),
            (AuthError::InvalidBasic, "Invalid Basic credentials", true),
            (
                AuthError::Bearer,
                "Bearer tokens are not supported; send an InfrastructureManager line",
                true,
            ),
        ];
        for (error, message, prefixed) in cases {
            assert_eq!(error.to_string(), message);
            assert_eq!(error.has_prefix(), prefixed, "{error:?}");
        }
    }

    // Basic and Bearer.

    #[test]
    fn basic_is_one_credentials_line() {
        // base64 of "user:pa:ss" — the password runs past the first colon.
        let data = parse("Basic dXNlcjpwYTpzcw==");
        assert_eq!(data.lines().len(), 1);
        assert_eq!(
            items(&data.lines()[0]),
            [
                ("type", "InfrastructureManager"),
                ("username", "user"),
                ("password", "pa:ss")
            ]
        );
        assert_eq!(data.credentials(), Ok(password("user", "pa:ss")));
        assert!(data.clouds().is_empty());
    }

    #[test]
    fn basic_accepts_any_scheme_case_and_missing_padding() {
        // base64 of "user:password", with and without padding.
        let padded = parse("basic dXNlcjpwYXNzd29yZA==");
        assert_eq!(padded.credentials(), Ok(password("user", "password")));
        assert_eq!(parse("BASIC   dXNlcjpwYXNzd29yZA  "), padded);
    }

    #[test]
    fn malformed_basic_is_invalid_basic() {
        for header in [
            "Basic not*base64!",
            "Basic",
            "Basic dXNlcnBhc3M=",  // "userpass": no colon
            "Basic OnBhc3M=",      // ":pass": no username
            "Basic dXNlcjo=",      // "user:": no password
            "Basic //79/w==",      // not UTF-8
            "Basic dXNlcjpw YXNz", // a space inside
        ] {
            assert_eq!(
                AuthData::parse(Some(header)),
                Err(AuthError::InvalidBasic),
                "{header}"
            );
        }
    }

    #[test]
    fn a_key_named_basic_is_an_item() {
        let data = parse("Basic = x; type = InfrastructureManager; username = u; password = p");
        assert_eq!(data.lines()[0].get("Basic"), Some("x"));
        assert_eq!(data.credentials(), Ok(password("u", "p")));
    }

    #[test]
    fn bearer_is_refused() {
        for header in ["Bearer eyJhbGciOi.x.y", "bearer abc", "Bearer"] {
            assert_eq!(
                AuthData::parse(Some(header)),
                Err(AuthError::Bearer),
                "{header}"
            );
        }
    }

    // Redaction.

    #[test]
    fn debug_output_redacts_secrets() {
        let data = parse(
            r"id = one; type = OpenNebula; host = secret-host; username = cloud-user; password = cloud-secret; token = cloud-token\ntype = InfrastructureManager; username = user; password = hunter2",
        );
        let shown = format!("{data:?}");
        for secret in ["hunter2", "cloud-secret", "cloud-token", "secret-host"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        for public in [
            "one",
            "OpenNebula",
            "cloud-user",
            "InfrastructureManager",
            "user",
        ] {
            assert!(shown.contains(public), "{public} missing from {shown}");
        }
        assert!(!format!("{data:#?}").contains("hunter2"));
        assert!(!format!("{:?}", data.clouds()).contains("cloud-secret"));
    }

    #[test]
    fn debug_output_of_credentials_redacts_secrets() {
        let shown = format!("{:?}", password("user", "hunter2"));
        assert!(
            shown.contains("user") && !shown.contains("hunter2"),
            "{shown}"
        );
        let shown = format!("{:?}", Credentials::Token("tok-secret".to_owned()));
        assert!(!shown.contains("tok-secret"), "{shown}");
        let basic = format!("{:?}", parse("Basic dXNlcjpwYXNzd29yZA=="));
        assert!(!basic.contains("password\": \"password"), "{basic}");
        assert!(basic.contains("<redacted>"), "{basic}");
    }
}
