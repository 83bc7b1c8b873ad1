//! RADL, the Resource and Application Description Language of IM (spec §6):
//! the document model, RADL text and JSON RADL in and out, and validation.
//!
//! Parsing ([`parse_text`], [`parse_json`]) finds syntax errors, duplicate ids
//! and conflicting features; [`Radl::check`] (or [`Radl::check_with`] against a
//! stored document) finds the other errors of §6.3. Both answer a
//! [`RadlError`] whose `Display` is the exact text IM clients see.
//! Rendering ([`Radl::to_text`], [`Radl::to_json`]) round-trips.
//!
//! Module map: `model` holds the types and the feature rules that apply while
//! parsing; `text` parses RADL text, `json` reads and writes JSON RADL,
//! `render` writes RADL text, `check` validates, `units` and `outports`
//! hold the value formats. `model` imports none of the others.

mod check;
mod error;
mod json;
mod model;
mod outports;
mod render;
mod text;
mod units;

#[cfg(test)]
mod tests;

pub use error::{Expected, PyList, RadlError, Reason};
pub use json::parse_json;
pub use model::{
    Aspect, Bound, Configure, ContextItem, ContextOption, Contextualize, Deploy, Feature, Features,
    Op, Radl, Value, quote,
};
pub use text::parse_text;
pub use units::{byte_factor, json_number, to_base};
