//! RADL text (spec §6.1): a winnow lexer turns the text into tokens with
//! their lines, a winnow parser over the tokens builds the sentences, and the
//! sentences are added to a [`Radl`], which finds duplicate ids and
//! conflicting features.

use winnow::ascii::{digit0, digit1, multispace1, till_line_ending};
use winnow::combinator::{alt, cut_err, delimited, opt, preceded, repeat, terminated};
use winnow::error::ModalResult;
use winnow::prelude::*;
use winnow::token::{any, one_of, take_until, take_while};

use super::error::{RadlError, Reason};
use super::model::{
    Aspect, Configure, ContextItem, ContextOption, Contextualize, Deploy, Features, Op, Radl, Value,
};

/// Parses RADL text; an empty text (or one of comments only) is an empty document.
///
/// # Errors
/// Syntax errors (`Line <n>: Parse error in: <token>`), duplicate ids and
/// conflicting features, with the line where known.
pub fn parse_text(text: &str) -> Result<Radl, RadlError> {
    let tokens = lex(text)?;
    let sentences = document.parse(tokens.as_slice()).map_err(|e| {
        let at = tokens.get(e.offset());
        RadlError::new(
            at.map(|t| t.line),
            Reason::Syntax(at.map(|t| t.shown().to_owned())),
        )
    })?;
    build(sentences)
}

/// RADL keywords, which are never names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    Network,
    System,
    Configure,
    Contextualize,
    Deploy,
    Description,
    Ansible,
    Soft,
    And,
    Contains,
    Step,
    With,
    Option,
}

impl Kw {
    fn of(word: &str) -> Option<Self> {
        Some(match word {
            "network" => Self::Network,
            "system" => Self::System,
            "configure" => Self::Configure,
            "contextualize" => Self::Contextualize,
            "deploy" => Self::Deploy,
            "description" => Self::Description,
            "ansible" => Self::Ansible,
            "soft" => Self::Soft,
            "and" => Self::And,
            "contains" => Self::Contains,
            "step" => Self::Step,
            "with" => Self::With,
            "option" => Self::Option,
            _ => return None,
        })
    }
}

/// Whether `word` is a RADL keyword.
pub(super) fn is_keyword(word: &str) -> bool {
    Kw::of(word).is_some()
}

/// Whether `word` is a valid `NAME`/`ID`: `[a-zA-Z_.][\w.-]*`, not a keyword.
pub(super) fn is_name(word: &str) -> bool {
    let mut input = word;
    name_word.parse_next(&mut input).is_ok() && input.is_empty() && !is_keyword(word)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Kw(Kw),
    Name(&'a str),
    Number(&'a str),
    Str(&'a str),
    Recipe(&'a str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Op(Op),
}

#[derive(Debug, Clone, PartialEq)]
struct Token<'a> {
    tok: Tok<'a>,
    text: &'a str,
    line: u32,
}

impl Token<'_> {
    /// The token as a syntax error shows it.
    fn shown(&self) -> &str {
        match self.tok {
            Tok::Recipe(_) => "@begin",
            _ => self.text,
        }
    }
}

// ---------------------------------------------------------------------------
// Lexer

fn lex(text: &str) -> Result<Vec<Token<'_>>, RadlError> {
    let mut input = text;
    let mut tokens = Vec::new();
    let mut line: u32 = 1;
    loop {
        let before = input;
        // Trivia never fails: it matches zero or more blanks and comments.
        let _ = trivia.parse_next(&mut input);
        line = line.saturating_add(newlines(&before[..before.len() - input.len()]));
        if input.is_empty() {
            return Ok(tokens);
        }
        let start = input;
        match token.parse_next(&mut input) {
            Ok(tok) => {
                let text = &start[..start.len() - input.len()];
                tokens.push(Token { tok, text, line });
                line = line.saturating_add(newlines(text));
            }
            Err(_) if start.starts_with("@begin") => {
                // A recipe without `@end` runs to the end of the input.
                return Err(RadlError::bare(Reason::Syntax(None)));
            }
            Err(_) => {
                let shown = start.chars().next().map(String::from);
                return Err(RadlError::new(Some(line), Reason::Syntax(shown)));
            }
        }
    }
}

fn newlines(text: &str) -> u32 {
    u32::try_from(text.bytes().filter(|b| *b == b'\n').count()).unwrap_or(u32::MAX)
}

fn trivia(input: &mut &str) -> ModalResult<()> {
    repeat(
        0..,
        alt((multispace1.void(), ('#', till_line_ending).void())),
    )
    .parse_next(input)
}

fn token<'a>(input: &mut &'a str) -> ModalResult<Tok<'a>> {
    alt((
        recipe,
        quoted.map(Tok::Str),
        (digit1, opt(('.', digit0))).take().map(Tok::Number),
        name_word.map(|w| Kw::of(w).map_or(Tok::Name(w), Tok::Kw)),
        alt((
            ">=".value(Tok::Op(Op::Ge)),
            "<=".value(Tok::Op(Op::Le)),
            '='.value(Tok::Op(Op::Eq)),
            '>'.value(Tok::Op(Op::Gt)),
            '<'.value(Tok::Op(Op::Lt)),
        )),
        alt((
            '('.value(Tok::LParen),
            ')'.value(Tok::RParen),
            '['.value(Tok::LBracket),
            ']'.value(Tok::RBracket),
            ','.value(Tok::Comma),
        )),
    ))
    .parse_next(input)
}

/// `@begin … @end`: every character between, verbatim.
fn recipe<'a>(input: &mut &'a str) -> ModalResult<Tok<'a>> {
    preceded(
        "@begin",
        cut_err(terminated(take_until(0.., "@end"), "@end")),
    )
    .map(Tok::Recipe)
    .parse_next(input)
}

/// `'…'`, a backslash escaping the next character; gives the raw text
/// between the quotes (see [`unescape`]).
fn quoted<'a>(input: &mut &'a str) -> ModalResult<&'a str> {
    let body = repeat::<_, _, (), _, _>(
        0..,
        alt((
            take_while(1.., |c: char| c != '\\' && c != '\'').void(),
            ('\\', any).void(),
        )),
    )
    .take();
    delimited('\'', body, '\'').parse_next(input)
}

/// `\'` is a quote and `\\` a backslash; any other backslash is kept as written.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e @ ('\'' | '\\')) => out.push(e),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `[a-zA-Z_.][\w.-]*`
fn name_word<'a>(input: &mut &'a str) -> ModalResult<&'a str> {
    (
        one_of(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '.'),
        take_while(0.., |c: char| {
            c.is_alphanumeric() || c == '_' || c == '.' || c == '-'
        }),
    )
        .take()
        .parse_next(input)
}

// ---------------------------------------------------------------------------
// Parser over tokens

type Input<'a> = &'a [Token<'a>];

/// A feature as written, before normalisation.
#[derive(Debug)]
enum Written<'a> {
    Simple {
        name: &'a str,
        op: Op,
        value: Value,
        line: u32,
    },
    Contains {
        name: &'a str,
        features: Vec<Written<'a>>,
        line: u32,
    },
    Soft {
        weight: f64,
        features: Vec<Written<'a>>,
        line: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Network,
    System,
    Description,
    Ansible,
}

#[derive(Debug)]
enum Sentence<'a> {
    Aspect {
        class: Class,
        id: &'a str,
        features: Option<Vec<Written<'a>>>,
        line: u32,
    },
    Configure {
        id: &'a str,
        /// `None`: a reference; `Some(None)`: `()`.
        body: Option<Option<&'a str>>,
        line: u32,
    },
    Contextualize {
        max_time: Option<u64>,
        options: Vec<ContextOption>,
        items: Vec<ContextItem>,
        line: u32,
    },
    Deploy {
        system: &'a str,
        count: u32,
        cloud: Option<&'a str>,
        line: u32,
    },
}

fn kw<'a>(k: Kw) -> impl FnMut(&mut Input<'a>) -> ModalResult<u32> {
    move |input: &mut Input<'a>| {
        any.verify_map(|t: Token<'a>| (t.tok == Tok::Kw(k)).then_some(t.line))
            .parse_next(input)
    }
}

fn sym<'a>(expected: Tok<'static>) -> impl FnMut(&mut Input<'a>) -> ModalResult<()> {
    move |input: &mut Input<'a>| {
        any.verify(|t: &Token<'a>| t.tok == expected)
            .void()
            .parse_next(input)
    }
}

fn name<'a>(input: &mut Input<'a>) -> ModalResult<(&'a str, u32)> {
    any.verify_map(|t: Token<'a>| match t.tok {
        Tok::Name(n) => Some((n, t.line)),
        _ => None,
    })
    .parse_next(input)
}

fn number<'a>(input: &mut Input<'a>) -> ModalResult<f64> {
    any.verify_map(|t: Token<'a>| match t.tok {
        Tok::Number(n) => n.parse::<f64>().ok(),
        _ => None,
    })
    .parse_next(input)
}

fn integer<'a, N: std::str::FromStr>(input: &mut Input<'a>) -> ModalResult<N> {
    any.verify_map(|t: Token<'a>| match t.tok {
        Tok::Number(n) => n.parse::<N>().ok(),
        _ => None,
    })
    .parse_next(input)
}

fn string<'a>(input: &mut Input<'a>) -> ModalResult<String> {
    any.verify_map(|t: Token<'a>| match &t.tok {
        Tok::Str(s) => Some(unescape(s)),
        _ => None,
    })
    .parse_next(input)
}

fn op<'a>(input: &mut Input<'a>) -> ModalResult<Op> {
    any.verify_map(|t: Token<'a>| match t.tok {
        Tok::Op(op) => Some(op),
        _ => None,
    })
    .parse_next(input)
}

fn recipe_text<'a>(input: &mut Input<'a>) -> ModalResult<&'a str> {
    any.verify_map(|t: Token<'a>| match t.tok {
        Tok::Recipe(r) => Some(r),
        _ => None,
    })
    .parse_next(input)
}

fn document<'a>(input: &mut Input<'a>) -> ModalResult<Vec<Sentence<'a>>> {
    repeat(0.., sentence).parse_next(input)
}

fn sentence<'a>(input: &mut Input<'a>) -> ModalResult<Sentence<'a>> {
    alt((
        aspect(Kw::Network, Class::Network),
        aspect(Kw::System, Class::System),
        aspect(Kw::Description, Class::Description),
        aspect(Kw::Ansible, Class::Ansible),
        configure,
        contextualize,
        deploy,
    ))
    .parse_next(input)
}

fn aspect<'a>(k: Kw, class: Class) -> impl FnMut(&mut Input<'a>) -> ModalResult<Sentence<'a>> {
    move |input: &mut Input<'a>| {
        let line = kw(k).parse_next(input)?;
        let (id, _) = cut_err(name).parse_next(input)?;
        let features = if class == Class::Ansible {
            Some(cut_err(parenthesized).parse_next(input)?)
        } else {
            opt(parenthesized).parse_next(input)?
        };
        Ok(Sentence::Aspect {
            class,
            id,
            features,
            line,
        })
    }
}

/// `( features )`
fn parenthesized<'a>(input: &mut Input<'a>) -> ModalResult<Vec<Written<'a>>> {
    preceded(
        sym(Tok::LParen),
        cut_err(terminated(features, sym(Tok::RParen))),
    )
    .parse_next(input)
}

/// `[ feature ( 'and' feature )* ]`
fn features<'a>(input: &mut Input<'a>) -> ModalResult<Vec<Written<'a>>> {
    let Some(first) = opt(feature).parse_next(input)? else {
        return Ok(Vec::new());
    };
    let rest: Vec<Written<'a>> =
        repeat(0.., preceded(kw(Kw::And), cut_err(feature))).parse_next(input)?;
    let mut all = Vec::with_capacity(rest.len() + 1);
    all.push(first);
    all.extend(rest);
    Ok(all)
}

fn feature<'a>(input: &mut Input<'a>) -> ModalResult<Written<'a>> {
    if let Some(line) = opt(kw(Kw::Soft)).parse_next(input)? {
        let (weight, features) = cut_err((number, parenthesized)).parse_next(input)?;
        return Ok(Written::Soft {
            weight,
            features,
            line,
        });
    }
    let (name, line) = name.parse_next(input)?;
    cut_err(alt((
        preceded(kw(Kw::Contains), parenthesized).map(move |features| Written::Contains {
            name,
            features,
            line,
        }),
        (op, value).map(move |(op, value)| Written::Simple {
            name,
            op,
            value,
            line,
        }),
    )))
    .parse_next(input)
}

/// `STRING | NUMBER [UNIT] | '[' [ STRING ( ',' STRING )* ] ']'`
fn value<'a>(input: &mut Input<'a>) -> ModalResult<Value> {
    alt((
        string.map(|s| Value::Text(random(s))),
        (number, opt(name)).map(|(value, unit)| Value::Number {
            value,
            unit: unit.map(|(u, _)| u.to_owned()),
        }),
        preceded(
            sym(Tok::LBracket),
            cut_err(terminated(
                winnow::combinator::separated(0.., string, sym(Tok::Comma)),
                sym(Tok::RBracket),
            )),
        )
        .map(Value::List),
    ))
    .parse_next(input)
}

/// `'random(N)'` becomes N random letters and digits.
fn random(text: String) -> String {
    /// Longer requests are kept as written.
    const MAX: usize = 4096;
    let count = text
        .strip_prefix("random(")
        .and_then(|rest| rest.strip_suffix(')'))
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse::<usize>().ok())
        .filter(|n| *n <= MAX);
    match count {
        Some(n) => std::iter::repeat_with(fastrand::alphanumeric)
            .take(n)
            .collect(),
        None => text,
    }
}

/// `'configure' ID [ '(' [ '@begin' recipe '@end' ] ')' ]`
fn configure<'a>(input: &mut Input<'a>) -> ModalResult<Sentence<'a>> {
    let line = kw(Kw::Configure).parse_next(input)?;
    let (id, _) = cut_err(name).parse_next(input)?;
    let body = opt(preceded(
        sym(Tok::LParen),
        cut_err(terminated(opt(recipe_text), sym(Tok::RParen))),
    ))
    .parse_next(input)?;
    Ok(Sentence::Configure { id, body, line })
}

/// `'contextualize' [NUMBER] '(' option* item* ')'`
fn contextualize<'a>(input: &mut Input<'a>) -> ModalResult<Sentence<'a>> {
    let line = kw(Kw::Contextualize).parse_next(input)?;
    let (max_time, _, options, items, _) = cut_err((
        opt(integer::<u64>),
        sym(Tok::LParen),
        repeat(0.., context_option),
        repeat(0.., context_item),
        sym(Tok::RParen),
    ))
    .parse_next(input)?;
    Ok(Sentence::Contextualize {
        max_time,
        options,
        items,
        line,
    })
}

/// `'option' NAME OP (STRING | NUMBER)`
fn context_option<'a>(input: &mut Input<'a>) -> ModalResult<ContextOption> {
    preceded(
        kw(Kw::Option),
        cut_err((
            name,
            op,
            alt((string.map(Value::Text), number.map(Value::number))),
        )),
    )
    .map(|((name, _), op, value)| ContextOption {
        name: name.to_owned(),
        op,
        value,
    })
    .parse_next(input)
}

/// `'system' ID 'configure' ID [ 'step' NUMBER ] [ 'with' NAME ]`
fn context_item<'a>(input: &mut Input<'a>) -> ModalResult<ContextItem> {
    let line = kw(Kw::System).parse_next(input)?;
    let ((system, _), _, (configure, _), step, tool) = cut_err((
        name,
        kw(Kw::Configure),
        name,
        opt(preceded(kw(Kw::Step), cut_err(integer::<u32>))),
        opt(preceded(kw(Kw::With), cut_err(name))),
    ))
    .parse_next(input)?;
    Ok(ContextItem {
        system: system.to_owned(),
        configure: configure.to_owned(),
        step,
        ctxt_tool: tool.map(|(t, _)| t.to_owned()),
        line: Some(line),
    })
}

/// `'deploy' ID NUMBER [CLOUD_ID]`
fn deploy<'a>(input: &mut Input<'a>) -> ModalResult<Sentence<'a>> {
    let line = kw(Kw::Deploy).parse_next(input)?;
    let ((system, _), count, cloud) =
        cut_err((name, integer::<u32>, opt(name))).parse_next(input)?;
    Ok(Sentence::Deploy {
        system,
        count,
        cloud: cloud.map(|(c, _)| c),
        line,
    })
}

// ---------------------------------------------------------------------------
// Building the document

fn build(sentences: Vec<Sentence<'_>>) -> Result<Radl, RadlError> {
    let mut radl = Radl::default();
    for sentence in sentences {
        match sentence {
            Sentence::Aspect {
                class,
                id,
                features,
                line,
            } => {
                let aspect = Aspect {
                    id: id.to_owned(),
                    reference: features.is_none(),
                    features: normalise(features.unwrap_or_default())?,
                    line: Some(line),
                };
                match class {
                    Class::Network => radl.add_network(aspect)?,
                    Class::System => radl.add_system(aspect)?,
                    Class::Ansible => radl.add_ansible(aspect)?,
                    Class::Description => radl.description = Some(aspect),
                }
            }
            Sentence::Configure { id, body, line } => radl.add_configure(Configure {
                id: id.to_owned(),
                recipes: body.flatten().map(str::to_owned),
                reference: body.is_none(),
                line: Some(line),
            })?,
            Sentence::Contextualize {
                max_time,
                options,
                items,
                line,
            } => {
                let mut merged = Contextualize {
                    line: Some(line),
                    ..Contextualize::default()
                };
                merged.update(Contextualize {
                    max_time,
                    options,
                    items,
                    line: Some(line),
                });
                radl.add_contextualize(merged);
            }
            Sentence::Deploy {
                system,
                count,
                cloud,
                line,
            } => radl.deploys.push(Deploy {
                system: system.to_owned(),
                count,
                cloud: cloud.map(str::to_owned),
                line: Some(line),
            }),
        }
    }
    Ok(radl)
}

fn normalise(written: Vec<Written<'_>>) -> Result<Features, RadlError> {
    let mut features = Features::new();
    for feature in written {
        match feature {
            Written::Simple {
                name,
                op,
                value,
                line,
            } => features.add(name, op, value, Some(line))?,
            Written::Contains {
                name,
                features: group,
                line,
            } => features.add_contains(name, normalise(group)?, Some(line))?,
            Written::Soft {
                weight,
                features: block,
                line,
            } => features.add_soft(weight, normalise(block)?, Some(line)),
        }
    }
    Ok(features)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::model::Feature;
    use super::*;

    fn error(text: &str) -> String {
        parse_text(text).unwrap_err().to_string()
    }

    #[test]
    fn empty_text_and_comments_are_an_empty_document() {
        assert_eq!(parse_text("").unwrap(), Radl::default());
        assert_eq!(
            parse_text("  \n# only a comment\n\t").unwrap(),
            Radl::default()
        );
    }

    #[test]
    fn comments_run_to_the_end_of_the_line() {
        let radl = parse_text(
            "# head\nsystem a ( # first\n cpu.count = 1 # one\n and memory.size = 2 )\n",
        )
        .unwrap();
        let system = radl.system("a").unwrap();
        assert_eq!(system.line, Some(2));
        assert_eq!(system.feature_names(), ["cpu.count", "memory.size"]);
    }

    #[test]
    fn a_sentence_without_parentheses_is_a_reference() {
        let radl = parse_text("network net\nsystem node\nconfigure c\nconfigure d ()").unwrap();
        assert!(radl.network("net").unwrap().reference);
        assert!(radl.system("node").unwrap().reference);
        let c = radl.configure("c").unwrap();
        assert!(c.reference && c.recipes.is_none());
        let d = radl.configure("d").unwrap();
        assert!(!d.reference && d.recipes.is_none());
    }

    #[test]
    fn recipes_are_kept_verbatim() {
        let recipe = "\n  - hosts: all # not a comment\n    tasks: ['a', \"b\"]\n\t(x)\n";
        let text = format!("configure vm (\n@begin{recipe}@end\n)\nsystem vm\ndeploy vm 1");
        let radl = parse_text(&text).unwrap();
        assert_eq!(
            radl.configure("vm").unwrap().recipes.as_deref(),
            Some(recipe)
        );
        // Lines inside a recipe count.
        assert_eq!(radl.system("vm").unwrap().line, Some(8));
        assert_eq!(radl.deploys[0].line, Some(9));
    }

    #[test]
    fn strings_unescape_quotes_and_backslashes() {
        let radl =
            parse_text(r"system a ( x = 'it\'s' and y = 'a\\b' and z = 'c:\dir' and w = '' )")
                .unwrap();
        let f = &radl.system("a").unwrap().features;
        assert_eq!(f.text("x"), Some("it's"));
        assert_eq!(f.text("y"), Some("a\\b"));
        assert_eq!(f.text("z"), Some("c:\\dir"));
        assert_eq!(f.text("w"), Some(""));
    }

    #[test]
    fn random_strings_become_letters_and_digits() {
        let radl =
            parse_text("system a ( disk.0.os.credentials.new.password = 'random(12)' )").unwrap();
        let password = radl
            .system("a")
            .unwrap()
            .features
            .text("disk.0.os.credentials.new.password")
            .unwrap()
            .to_owned();
        assert_eq!(password.len(), 12);
        assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
        let again = parse_text("system a ( p = 'random(12)' )").unwrap();
        assert_ne!(
            again.system("a").unwrap().features.text("p"),
            Some("random(12)")
        );
        let kept = parse_text("system a ( p = 'random(x)' and q = 'random()' )").unwrap();
        assert_eq!(
            kept.system("a").unwrap().features.text("p"),
            Some("random(x)")
        );
        assert_eq!(
            kept.system("a").unwrap().features.text("q"),
            Some("random()")
        );
    }

    #[test]
    fn units_follow_numbers_with_or_without_a_space() {
        let radl = parse_text(
            "system a ( memory.size >= 512m and disk.0.size = 2 G and disk.1.size = 1GiB )",
        )
        .unwrap();
        let f = &radl.system("a").unwrap().features;
        let bound = |name: &str| match f.get(name).unwrap() {
            Feature::Range { min: Some(b), .. } => (b.value, b.unit.clone(), b.base()),
            other => panic!("{other:?}"),
        };
        assert_eq!(bound("memory.size"), (512.0, Some("m".into()), 512e6));
        assert_eq!(bound("disk.0.size"), (2.0, Some("G".into()), 2e9));
        assert_eq!(
            bound("disk.1.size"),
            (1.0, Some("GiB".into()), 1_073_741_824.0)
        );
    }

    #[test]
    fn numbers_may_end_with_a_dot() {
        let radl = parse_text("system a ( price <= 1. and cpu.performance >= 2.50 )").unwrap();
        assert_eq!(
            radl.system("a").unwrap().features.to_string(),
            "price <= 1 and cpu.performance >= 2.5"
        );
    }

    #[test]
    fn contextualize_options_items_and_time() {
        let radl = parse_text(
            "contextualize 600 ( option ansible_version = '2.9' option retries = 3 \
             system vm configure vm step 1 system vm configure other with cloud_init )",
        )
        .unwrap();
        let c = radl.contextualize.unwrap();
        assert_eq!(c.max_time, Some(600));
        assert_eq!(c.options.len(), 2);
        assert_eq!(c.options[0].value, Value::text("2.9"));
        assert_eq!(c.options[1].value, Value::number(3.0));
        assert_eq!(c.items[0].step, Some(1));
        assert_eq!(c.items[1].ctxt_tool.as_deref(), Some("cloud_init"));
        let empty = parse_text("contextualize ()")
            .unwrap()
            .contextualize
            .unwrap();
        assert!(empty.disables());
    }

    #[test]
    fn deploys_take_an_optional_cloud() {
        let radl = parse_text("deploy a 2\ndeploy b 0 mycloud").unwrap();
        assert_eq!(radl.deploys[0].count, 2);
        assert_eq!(radl.deploys[0].cloud, None);
        assert_eq!(radl.deploys[1].cloud.as_deref(), Some("mycloud"));
        assert_eq!(radl.deploys[1].line, Some(2));
    }

    #[test]
    fn syntax_errors_name_the_token_and_its_line() {
        assert_eq!(
            error("system a (\n cpu.count = )"),
            "Line 2: Parse error in: )"
        );
        assert_eq!(
            error("system a ( cpu.count 1 )"),
            "Line 1: Parse error in: 1"
        );
        assert_eq!(error("deploy a 1.5"), "Line 1: Parse error in: 1.5");
        assert_eq!(error("system a ( x = 1 and )"), "Line 1: Parse error in: )");
        assert_eq!(error("\n\nfoo"), "Line 3: Parse error in: foo");
        assert_eq!(error("system and"), "Line 1: Parse error in: and");
        assert_eq!(
            error("network n ( outbound = 'yes'\n outports = '22' )"),
            "Line 2: Parse error in: outports"
        );
        assert_eq!(
            error("contextualize ( system a )"),
            "Line 1: Parse error in: )"
        );
        assert_eq!(error("deploy a"), "Parse error in: None");
        assert_eq!(error("system a ( x = 'open"), "Line 1: Parse error in: '");
        assert_eq!(error("system a ( x = 1 ; )"), "Line 1: Parse error in: ;");
        assert_eq!(error("ansible a"), "Parse error in: None");
        assert_eq!(error("system a ("), "Parse error in: None");
        assert_eq!(
            error("configure a (\n@begin\nno end\n)"),
            "Parse error in: None"
        );
    }

    #[test]
    fn duplicate_ids_are_rejected_per_class() {
        assert_eq!(
            error("system a ()\nsystem a ()"),
            "Aspect with the same id was found."
        );
        assert_eq!(
            error("network n\nnetwork n ()"),
            "Aspect with the same id was found."
        );
        assert_eq!(
            error("configure c ()\nconfigure c"),
            "Aspect with the same id was found."
        );
        assert!(parse_text("network a ()\nsystem a ()\nconfigure a ()").is_ok());
    }

    #[test]
    fn conflicting_features_are_rejected_with_their_line() {
        assert_eq!(
            error("system a (\ndisk.0.os.name = 'linux' and\ndisk.0.os.name = 'windows')"),
            "Line 3: Conflict adding `disk.0.os.name = 'windows'` because \
             `disk.0.os.name = 'linux'` is already set and conflict is error"
        );
        assert_eq!(
            error("system a ( cpu.count >= 4 and\n cpu.count <= 2 )"),
            "Line 2: Disjoint intervals!. Involved features: ['cpu.count >= 4', 'cpu.count <= 2']"
        );
    }

    #[test]
    fn names_follow_the_grammar() {
        assert!(is_name("net_interface.0.connection"));
        assert!(is_name("_a-b.c"));
        assert!(is_name(".x"));
        assert!(!is_name("0a"));
        assert!(!is_name("a b"));
        assert!(!is_name(""));
        assert!(!is_name("system"));
    }
}
