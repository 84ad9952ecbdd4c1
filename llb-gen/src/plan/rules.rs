//! Rules that need every call of the file: at most one `base()` (envd's
//! default base when there is none), settings that replace the image's
//! (builtins whose spec says `once`) made at most once, and envd v1's
//! fixed order of phases ([`v1_phase`]).

use super::{BuildSpec, Recorded};
use crate::builtins::Step;
use crate::builtins::globals::base::V1_DEFAULT_IMAGE;
use crate::diagnostics::{Diagnostic, SourceText};
use crate::ir::{BaseRequest, CudaRequest, Located, PythonRequest, Span, Syntax};
use crate::lint::BASE_NOT_CALLED;

/// envd v0's base when a file calls no `base()` (its `NewGraph`): Ubuntu
/// 22.04 with Python 3.
pub const DEFAULT_OS: &str = "ubuntu22.04";

/// Builds the spec from the recorded calls, or says which rule the file
/// breaks; adds its warnings to `warnings`. `target_span` locates the
/// target function, for diagnostics about the file as a whole.
pub fn assemble(
    source: &SourceText,
    syntax: Syntax,
    target: &str,
    target_span: std::ops::Range<usize>,
    recorded: Vec<Recorded>,
    warnings: &mut Vec<Diagnostic>,
) -> Result<BuildSpec, Diagnostic> {
    let mut base: Option<Located<BaseRequest>> = None;
    let mut cuda: Option<Located<CudaRequest>> = None;
    let mut steps: Vec<Located<Step>> = vec![];
    for call in recorded {
        match call {
            Recorded::Base(b) => {
                if let Some(first) = &base {
                    return Err(Diagnostic::error(source, Some(b.span.range()), "base() is called more than once")
                        .with_note_at(first.span.range(), "first called here")
                        .with_help("a build has one base image; choose it with build_args or a separate target function"));
                }
                base = Some(b);
            }
            Recorded::Cuda(c) => {
                if let Some(first) = &cuda {
                    return Err(Diagnostic::error(
                        source,
                        Some(c.span.range()),
                        "install.cuda() is called more than once",
                    )
                    .with_note_at(first.span.range(), "first called here")
                    .with_help("a build has one base image, so one CUDA version"));
                }
                cuda = Some(c);
            }
            Recorded::Step(step) => {
                let spec = step.value.spec();
                if let Some(first) = steps
                    .iter()
                    .find(|s| spec.once && s.value.spec().name == spec.name)
                {
                    let name = spec.name;
                    return Err(Diagnostic::error(
                        source,
                        Some(step.span.range()),
                        format!("{name}() is called more than once"),
                    )
                    .with_note_at(first.span.range(), "first called here")
                    .with_help(format!(
                        "{name}() sets the image's configuration; call it once"
                    )));
                }
                steps.push(step);
            }
        }
    }
    // The base a build gets without base(), located at its function.
    let default_base = |image: &str, python: Option<PythonRequest>| Located {
        value: BaseRequest {
            image: image.to_string(),
            python,
            other_language: None,
            cuda: None,
            dev: false,
        },
        span: Span {
            start: target_span.start,
            end: target_span.end,
            line: source.line_col(target_span.start).0,
            called_from: vec![],
        },
    };
    let mut base = match base {
        Some(base) => base,
        // envd v1 builds on ubuntu:22.04 unless base() names an image.
        None if syntax == Syntax::V1 => default_base(V1_DEFAULT_IMAGE, None),
        None => {
            warnings.push(
                Diagnostic::warning(
                    &BASE_NOT_CALLED,
                    source,
                    Some(target_span.clone()),
                    format!("{target}() never calls base(): building on envd's default, {DEFAULT_OS} with Python 3"),
                )
                .with_help("call base(os=..., language=...) to choose the base image, e.g. base(os=\"aiges_cpu\", language=\"python3.8\")"),
            );
            let python3 = PythonRequest {
                major: 3,
                minor: None,
                patch: None,
            };
            default_base(DEFAULT_OS, Some(python3))
        }
    };
    base.value.cuda = cuda;
    if syntax == Syntax::V1 {
        // A stable sort: calls of one phase keep their order.
        steps.sort_by_key(|step| v1_phase(&step.value));
    }
    Ok(BuildSpec {
        syntax,
        target: target.to_string(),
        base,
        steps,
    })
}

/// Where a step goes in envd v1's build, which runs in fixed phases
/// whatever the order of the calls (envd 1.3's `CompileLLB`): settings of
/// the image first, then the apt source, apt packages, package indexes,
/// packages, downloads, copies, and `run` last.
fn v1_phase(step: &Step) -> u8 {
    match step {
        Step::Environ(_) | Step::Expose(_) | Step::Entrypoint(_) | Step::Repo(_) => 0,
        Step::AptSource(_) => 1,
        Step::SystemPackages(_) => 2,
        Step::PipIndex(_) | Step::CondaChannel(_) | Step::PackageMirror(_) => 3,
        Step::PythonPackages(_)
        | Step::CondaPackages(_)
        | Step::RPackages(_)
        | Step::JuliaPackages(_) => 4,
        Step::Http(_) => 5,
        Step::Copy(_) => 6,
        Step::Run(_) => 7,
    }
}
