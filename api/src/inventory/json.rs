//! JSON text as the reference server writes it (Python's `json.dumps` with
//! sorted keys): indented by four spaces, or on one line with `, ` and `: `
//! when minified; non-ASCII characters escaped.

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

/// Writes `value` as the reference does.
pub(crate) fn to_text(value: &impl Serialize, minify: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let formatter = PythonFormatter {
        indent: (!minify).then_some(0),
        has_value: false,
    };
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Writing into memory cannot fail, nor can the answers' types: their
    // maps have string keys.
    let _ = value.serialize(&mut serializer);
    out
}

struct PythonFormatter {
    /// Current depth when pretty-printing; `None` on one line.
    indent: Option<usize>,
    has_value: bool,
}

impl PythonFormatter {
    fn newline<W: ?Sized + io::Write>(&self, w: &mut W) -> io::Result<()> {
        if let Some(depth) = self.indent {
            w.write_all(b"\n")?;
            for _ in 0..depth {
                w.write_all(b"    ")?;
            }
        }
        Ok(())
    }

    fn open<W: ?Sized + io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        if let Some(depth) = self.indent.as_mut() {
            *depth += 1;
        }
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        if let Some(depth) = self.indent.as_mut() {
            *depth -= 1;
        }
        if self.has_value {
            self.newline(w)?;
        }
        self.has_value = true;
        w.write_all(bracket)
    }

    fn item<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        match (first, self.indent.is_some()) {
            (true, _) => {}
            (false, true) => w.write_all(b",")?,
            (false, false) => w.write_all(b", ")?,
        }
        self.newline(w)
    }
}

impl Formatter for PythonFormatter {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if fragment.is_ascii() {
            return w.write_all(fragment.as_bytes());
        }
        for ch in fragment.chars() {
            if ch.is_ascii() {
                w.write_all(&[ch as u8])?;
            } else {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    write!(w, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn text(value: Value, minify: bool) -> String {
        String::from_utf8(to_text(&value, minify)).unwrap()
    }

    #[test]
    fn pretty_output_matches_python_indent_4() {
        let value = json!({"a": [], "b": [1, {"x": null}], "c": {}});
        assert_eq!(
            text(value, false),
            "{\n    \"a\": [],\n    \"b\": [\n        1,\n        {\n            \"x\": null\n        }\n    ],\n    \"c\": {}\n}"
        );
    }

    #[test]
    fn minified_output_matches_python_defaults() {
        assert_eq!(text(json!(["/a/b", "/c/d"]), true), "[\"/a/b\", \"/c/d\"]");
        assert_eq!(
            text(json!({"j": [true], "k": 1}), true),
            "{\"j\": [true], \"k\": 1}"
        );
    }

    #[test]
    fn non_ascii_is_escaped() {
        assert_eq!(text(json!("é😀"), true), "\"\\u00e9\\ud83d\\ude00\"");
    }
}
