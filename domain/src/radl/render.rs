//! Canonical RADL text (spec §6.5): description, ansible, network, system,
//! configure, contextualize, deploy, one sentence per line, features joined
//! by ` and` and a newline; a system's features one per line followed by an
//! empty line.

use std::fmt::Write as _;

use super::model::{Aspect, Configure, Contextualize, Deploy, Radl};

impl Radl {
    /// The document as canonical RADL text; [`super::parse_text`] reads it
    /// back to an equal document (line numbers aside).
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if let Some(aspect) = &self.description {
            inline(&mut out, "description", aspect);
        }
        for aspect in &self.ansible {
            inline(&mut out, "ansible", aspect);
        }
        for aspect in &self.networks {
            inline(&mut out, "network", aspect);
        }
        for aspect in &self.systems {
            system(&mut out, aspect);
        }
        for configure in &self.configures {
            configure_sentence(&mut out, configure);
        }
        if let Some(contextualize) = &self.contextualize {
            contextualize_sentence(&mut out, contextualize);
        }
        for deploy in &self.deploys {
            deploy_sentence(&mut out, deploy);
        }
        out
    }
}

fn lines(aspect: &Aspect) -> String {
    let parts: Vec<String> = aspect.features.iter().flat_map(|f| f.written()).collect();
    parts.join(" and\n")
}

/// `network <id> ( <features> )`, or `network <id>` for a reference.
fn inline(out: &mut String, class: &str, aspect: &Aspect) {
    if aspect.reference {
        let _ = writeln!(out, "{class} {}", aspect.id);
    } else {
        let _ = writeln!(out, "{class} {} ( {} )", aspect.id, lines(aspect));
    }
}

/// `system <id> (`, one feature per line, `)`, an empty line.
fn system(out: &mut String, aspect: &Aspect) {
    if aspect.reference {
        let _ = writeln!(out, "system {}", aspect.id);
    } else if aspect.features.is_empty() {
        let _ = write!(out, "system {} (\n)\n\n", aspect.id);
    } else {
        let _ = write!(out, "system {} (\n{}\n)\n\n", aspect.id, lines(aspect));
    }
}

fn configure_sentence(out: &mut String, configure: &Configure) {
    match (&configure.recipes, configure.reference) {
        (_, true) => {
            let _ = writeln!(out, "configure {}", configure.id);
        }
        (None, false) => {
            let _ = writeln!(out, "configure {} ()", configure.id);
        }
        (Some(recipes), false) => {
            let _ = writeln!(out, "configure {} (\n@begin{recipes}@end\n)", configure.id);
        }
    }
}

fn contextualize_sentence(out: &mut String, contextualize: &Contextualize) {
    out.push_str("contextualize ");
    if let Some(max_time) = contextualize.max_time {
        let _ = write!(out, "{max_time} ");
    }
    if contextualize.options.is_empty() && contextualize.items.is_empty() {
        out.push_str("()\n");
        return;
    }
    out.push_str("(\n");
    for option in &contextualize.options {
        let _ = writeln!(out, "option {} {} {}", option.name, option.op, option.value);
    }
    for item in &contextualize.items {
        let _ = write!(out, "system {} configure {}", item.system, item.configure);
        if let Some(step) = item.step {
            let _ = write!(out, " step {step}");
        }
        if let Some(tool) = &item.ctxt_tool {
            let _ = write!(out, " with {tool}");
        }
        out.push('\n');
    }
    out.push_str(")\n");
}

fn deploy_sentence(out: &mut String, deploy: &Deploy) {
    let _ = write!(out, "deploy {} {}", deploy.system, deploy.count);
    if let Some(cloud) = &deploy.cloud {
        let _ = write!(out, " {cloud}");
    }
    out.push('\n');
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::text::parse_text;

    #[test]
    fn sentences_come_in_canonical_order() {
        let text = "deploy node 1\nconfigure node ()\nsystem node ( cpu.count = 1 )\n\
                    network net ()\nansible h ( host = 'x' )\ndescription d ( name = 'n' )\n\
                    contextualize 60 ()";
        let radl = parse_text(text).unwrap();
        assert_eq!(
            radl.to_text(),
            "description d ( name = 'n' )\nansible h ( host = 'x' )\nnetwork net (  )\n\
             system node (\ncpu.count = 1\n)\n\nconfigure node ()\ncontextualize 60 ()\n\
             deploy node 1\n"
        );
    }

    #[test]
    fn references_have_no_parentheses() {
        let radl = parse_text("network net\nsystem node\nconfigure node").unwrap();
        assert_eq!(radl.to_text(), "network net\nsystem node\nconfigure node\n");
    }

    #[test]
    fn an_empty_document_is_empty_text() {
        assert_eq!(parse_text("").unwrap().to_text(), "");
    }

    #[test]
    fn contextualize_items_one_per_line() {
        let radl = parse_text(
            "contextualize ( option a = 'b' system x configure y step 2 system x configure z with t )",
        )
        .unwrap();
        assert_eq!(
            radl.to_text(),
            "contextualize (\noption a = 'b'\nsystem x configure y step 2\nsystem x configure z with t\n)\n"
        );
    }

    #[test]
    fn nested_features_render_on_one_line() {
        let radl = parse_text(
            "network n ( outbound = 'yes' and outports = '22' )\n\
             system s ( disk.0.applications contains ( name = 'a' and version = '1' ) and \
             soft 5 ( cpu.arch = 'x86_64' and memory.size >= 1g ) and x = ['a', 'b'] and y = [] )",
        )
        .unwrap();
        assert_eq!(
            radl.to_text(),
            "network n ( outbound = 'yes' and\noutports = '22' )\n\
             system s (\ndisk.0.applications contains (name = 'a' and version = '1') and\n\
             soft 5 (cpu.arch = 'x86_64' and memory.size >= 1g) and\nx = ['a', 'b'] and\ny = []\n)\n\n"
        );
    }
}
