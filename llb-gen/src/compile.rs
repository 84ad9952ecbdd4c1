//! The whole pipeline: build.envd text to IR, to LLB and image config.

use std::collections::BTreeMap;
use std::path::PathBuf;

use envd_proto::pb;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceText};
use crate::includes::IncludedModules;
use crate::lang;
use crate::limits::MAX_BUILD_FILE_BYTES;
use crate::llb::{NetworkMode, Platform, ResolveMode};
use crate::lower::{BaseResolver, ContextFiles, ContextSource, LowerOptions, Lowered};
use crate::plan::{self, BuildSpec};
use crate::{bounded, probe};

/// What a compile is asked, with defaults (`build.envd`, `linux/amd64`,
/// target `build`, unbounded, nothing included); every caller (the
/// frontend, `llb-gen`, the language server, the subrequests, the fuzz
/// targets) describes its compile with these builder methods.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    /// The function to run; `build` when `None`.
    pub target: Option<String>,
    pub lower: LowerOptions,
    /// How build.envd's evaluation is bounded in memory and time.
    /// Callers that evaluate untrusted files choose a bound.
    pub bounds: EvaluationBounds,
    /// The repositories build.envd includes, fetched by the caller
    /// (`crate::includes::fetch`).
    pub includes: IncludedModules,
}

/// How an evaluation's memory and time are bounded, beyond Starlark's own
/// bounds (statements, the heap between statements, call depth), which
/// always hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum EvaluationBounds {
    /// No more: for trusted text (tests of lowering, a build's second
    /// platform, evaluated once already).
    #[default]
    Unbounded,
    /// In the probe, a child process of this program ([`crate::probe`]),
    /// then again in this process: for a caller that outlives a stopped
    /// evaluation (the language server).
    Probe(PathBuf),
    /// On a thread of this process ([`crate::bounded`]), once: for a
    /// program that ends after one build (`llb-gen`, the frontend).
    Thread,
}

impl CompileOptions {
    /// The build file's name, as diagnostics and the source map show it.
    pub fn filename(mut self, filename: impl Into<String>) -> Self {
        self.lower.filename = filename.into();
        self
    }

    pub fn target(mut self, target: Option<String>) -> Self {
        self.target = target;
        self
    }

    pub fn platform(mut self, platform: Platform) -> Self {
        self.lower.platform = platform;
        self
    }

    pub fn build_args(mut self, build_args: BTreeMap<String, String>) -> Self {
        self.lower.build_args = build_args;
        self
    }

    pub fn network(mut self, network: NetworkMode) -> Self {
        self.lower.network = network;
        self
    }

    pub fn resolve_mode(mut self, resolve_mode: ResolveMode) -> Self {
        self.lower.resolve_mode = resolve_mode;
        self
    }

    pub fn context(mut self, context: ContextSource) -> Self {
        self.lower.context = context;
        self
    }

    pub fn no_cache(mut self, no_cache: bool) -> Self {
        self.lower.no_cache = no_cache;
        self
    }

    pub fn merge_layers(mut self, merge_layers: bool) -> Self {
        self.lower.merge_layers = merge_layers;
        self
    }

    pub fn bounds(mut self, bounds: EvaluationBounds) -> Self {
        self.bounds = bounds;
        self
    }

    pub fn includes(mut self, includes: IncludedModules) -> Self {
        self.includes = includes;
        self
    }
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
    let lowered = plan::lower(&evaluated.spec, &source, &options.lower, files, resolver)
        .map_err(|errors| Diagnostics::after_warnings(evaluated.warnings.clone(), errors.0))?;
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

/// Each platform's compile of one build, and the warnings of all of them,
/// each once in the order first seen (a base's platform warns for its
/// platform only).
#[derive(Clone, Debug)]
pub struct CompiledPlatforms {
    pub builds: Vec<(Platform, Compiled)>,
    pub warnings: Vec<Diagnostic>,
}

/// Compiles the build for each of `platforms` (at least one): evaluated
/// within the bounds once, since evaluation does not depend on the
/// platform, and
/// with the platform in each op's name when there are several. On failure
/// the diagnostics hold the warnings so far, then the error.
pub fn compile_platforms(
    text: &str,
    options: &CompileOptions,
    platforms: &[Platform],
    files: &dyn ContextFiles,
    resolver: &dyn BaseResolver,
) -> Result<CompiledPlatforms, Diagnostics> {
    let mut builds = vec![];
    let mut warnings: Vec<Diagnostic> = vec![];
    for (i, platform) in platforms.iter().enumerate() {
        let mut options = options.clone().platform(platform.clone());
        options.lower.platform_in_names = platforms.len() > 1;
        if i > 0 {
            options.bounds = EvaluationBounds::Unbounded;
        }
        match compile(text, &options, files, resolver) {
            Ok(compiled) => {
                add_new(&mut warnings, compiled.warnings.iter().cloned());
                builds.push((platform.clone(), compiled));
            }
            Err(Diagnostics(found)) => {
                // The error last, after this platform's warnings.
                add_new(&mut warnings, found);
                return Err(Diagnostics(warnings));
            }
        }
    }
    Ok(CompiledPlatforms { builds, warnings })
}

/// Appends the findings that `shown` does not hold yet.
fn add_new(shown: &mut Vec<Diagnostic>, found: impl IntoIterator<Item = Diagnostic>) {
    for finding in found {
        if !shown.contains(&finding) {
            shown.push(finding);
        }
    }
}

/// Evaluates the target of `options` within its bounds.
pub fn evaluate_bounded(
    source: &SourceText,
    options: &CompileOptions,
) -> Result<lang::Evaluated, Diagnostics> {
    let target = options.target.as_deref();
    let args = &options.lower.build_args;
    // A file over the size bound is refused by the evaluation at once.
    let bounds = match &options.bounds {
        _ if source.text().len() > MAX_BUILD_FILE_BYTES => &EvaluationBounds::Unbounded,
        bounds => bounds,
    };
    match bounds {
        EvaluationBounds::Unbounded => {}
        EvaluationBounds::Thread => {
            return bounded::evaluate(source, target, args, &options.includes);
        }
        EvaluationBounds::Probe(program) => {
            probe::evaluate(program, source, target, args, &options.includes)
                .map_err(|error| Diagnostics(vec![error]))?;
        }
    }
    evaluate(source, target, args, &options.includes)
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
