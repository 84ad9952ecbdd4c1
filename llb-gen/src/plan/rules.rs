//! Rules that need every call of the file: at most one `base()` (envd's
//! default base when there is none), and settings that replace the
//! image's (builtins whose spec says `once`) made at most once.

use super::{BuildSpec, Recorded};
use crate::builtins::Step;
use crate::diagnostics::{Diagnostic, SourceText};
use crate::ir::{BaseRequest, CudaRequest, Located, PythonRequest, Span};
use crate::lint::BASE_NOT_CALLED;

/// envd v0's base when a file calls no `base()` (its `NewGraph`): Ubuntu
/// 22.04 with Python 3.
pub const DEFAULT_OS: &str = "ubuntu22.04";

/// Builds the spec from the recorded calls, or says which rule the file
/// breaks; adds its warnings to `warnings`. `target_span` locates the
/// target function, for diagnostics about the file as a whole.
pub fn assemble(
    source: &SourceText,
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
    let mut base = match base {
        Some(base) => base,
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
            Located {
                value: BaseRequest {
                    image: DEFAULT_OS.to_string(),
                    python: Some(PythonRequest {
                        major: 3,
                        minor: None,
                        patch: None,
                    }),
                    other_language: None,
                    cuda: None,
                },
                span: Span {
                    start: target_span.start,
                    end: target_span.end,
                    line: source.line_col(target_span.start).0,
                    called_from: vec![],
                },
            }
        }
    };
    base.value.cuda = cuda;
    Ok(BuildSpec {
        target: target.to_string(),
        base,
        steps,
    })
}
