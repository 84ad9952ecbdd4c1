//! The whole pipeline: build.envd text to IR, to LLB and image config.

use std::collections::BTreeMap;
use std::path::PathBuf;

use envd_proto::pb;

use crate::build::{self, BuildSpec};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceText};
use crate::lang::{self, IncludedModules};
use crate::limits::MAX_BUILD_FILE_BYTES;
use crate::lower::{BaseResolver, ContextFiles, LowerOptions, Lowered};
use crate::probe;

#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// The function to run; `build` when `None`.
    pub target: Option<String>,
    pub lower: LowerOptions,
    /// A program that serves the evaluation probe ([`crate::probe`]): when
    /// given, build.envd is evaluated there first, with bounded memory and
    /// time. Callers that parse untrusted files give their own binary.
    pub probe: Option<PathBuf>,
    /// The repositories build.envd includes, fetched by the caller
    /// ([`included_urls`] lists them).
    pub includes: IncludedModules,
}

/// The repository URLs build.envd includes, for the caller to fetch before
/// it compiles.
pub fn included_urls(text: &str) -> Vec<String> {
    lang::include_urls(text)
}

#[derive(Clone, Debug)]
pub struct Compiled {
    pub spec: BuildSpec,
    pub lowered: Lowered,
    pub definition: pb::Definition,
    pub warnings: Vec<Diagnostic>,
}

/// Compiles a build file; on failure the diagnostics hold the warnings seen
/// so far, then the error.
pub fn compile(
    text: &str,
    options: &CompileOptions,
    files: &dyn ContextFiles,
    resolver: &dyn BaseResolver,
) -> Result<Compiled, Diagnostics> {
    let source = build_source(&options.lower.filename, text);
    // Before anything else sees the text: it goes into every definition.
    crate::lower::check_kept_text(
        &source,
        "build.envd's text is kept in the build's definition (its source map), history and provenance",
    )
    .map_err(|error| Diagnostics(vec![error]))?;
    let evaluated = evaluate_bounded(&source, options)?;
    let lowered = build::lower(&evaluated.spec, &source, &options.lower, files, resolver).map_err(
        |errors| {
            let mut all = evaluated.warnings.clone();
            all.extend(errors.0);
            Diagnostics(all)
        },
    )?;
    let definition = lowered.state.marshal();
    let mut warnings = evaluated.warnings;
    warnings.extend(lowered.warnings.iter().cloned());
    Ok(Compiled {
        spec: evaluated.spec,
        lowered,
        definition,
        warnings,
    })
}

/// Evaluates the target of `options` in the probe first, when one is
/// given (bounded memory and time), then in this process.
pub fn evaluate_bounded(
    source: &SourceText,
    options: &CompileOptions,
) -> Result<lang::Evaluated, Diagnostics> {
    // A file over the size bound is refused by the evaluation at once.
    if let Some(program) = options
        .probe
        .as_ref()
        .filter(|_| source.text().len() <= MAX_BUILD_FILE_BYTES)
    {
        probe::evaluate(
            program,
            source,
            options.target.as_deref(),
            &options.lower.build_args,
            &options.includes,
        )
        .map_err(|error| Diagnostics(vec![error]))?;
    }
    evaluate(
        source,
        options.target.as_deref(),
        &options.lower.build_args,
        &options.includes,
    )
}

/// build.envd as the language reads it: without a byte-order mark (editors
/// on Windows start files with one; it is not code), with the tabs envd's
/// Starlark accepted and pasted Unicode spaces, which starlark-rust
/// refuses, expanded.
pub fn build_source(filename: &str, text: &str) -> SourceText {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let expanded = lang::expand_whitespace(text);
    SourceText::new(filename, expanded.as_deref().unwrap_or(text))
}

/// Evaluates only: the IR, without reading context files or resolving images.
pub fn evaluate(
    source: &SourceText,
    target: Option<&str>,
    build_args: &BTreeMap<String, String>,
    includes: &IncludedModules,
) -> Result<lang::Evaluated, Diagnostics> {
    lang::evaluate(source, target, build_args, includes)
}
