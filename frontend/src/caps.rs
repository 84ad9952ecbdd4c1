//! Caps the daemon lacks, as errors a user can act on: located at the
//! build.envd call whose step needs the cap, naming it with the first
//! BuildKit and Docker releases that have it (`envd_proto::caps`).

use envd_proto::caps;
use envd_proto::pb;
use llb_gen::diagnostics::{Diagnostic, Diagnostics};

use crate::error::FrontendError;
use crate::locate;

/// The error for `missing` (LLB caps of `def` the daemon lacks): at the
/// line of the first op that needs one, when the graph's source map has it.
pub fn missing_llb_caps(
    def: &pb::Definition,
    missing: &[String],
    filename: &str,
    text: &str,
) -> FrontendError {
    let described: Vec<String> = missing.iter().map(|cap| caps::describe(cap)).collect();
    let message = format!(
        "this step needs BuildKit {} {}, which this daemon lacks",
        if missing.len() == 1 { "cap" } else { "caps" },
        described.join(", ")
    );
    let Some(line) = first_line_needing(def, missing) else {
        return FrontendError::MissingCaps(described);
    };
    let source = llb_gen::compile::build_source(filename, text);
    let span = source.line_span(line);
    FrontendError::Build(Diagnostics(vec![
        Diagnostic::error(&source, Some(span), message)
            .with_help("upgrade Docker (or BuildKit) to a release that has it; the README lists what each feature needs"),
    ]))
}

/// The 1-based build.envd line of the first op (in the graph's order) that
/// needs one of `missing`.
fn first_line_needing(def: &pb::Definition, missing: &[String]) -> Option<usize> {
    locate::op_digests(def).find_map(|digest| {
        let needs = def
            .metadata
            .get(&digest)
            .is_some_and(|md| missing.iter().any(|cap| md.caps.contains_key(cap)));
        if needs {
            locate::line_of(def, &digest)
        } else {
            None
        }
    })
}
