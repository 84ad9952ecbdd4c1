//! Rules that need every call of the file: at most one `base()` (envd's
//! default base when there is none), settings that replace the image's
//! (builtins whose spec says `once`) made at most once, and envd v1's
//! fixed order of phases ([`v1_phase`]).

use super::{BuildSpec, Recorded};
use crate::builtins::ONLY_V1;
use crate::builtins::Step;
use crate::builtins::globals::base::V1_DEFAULT_IMAGE;
use crate::diagnostics::{Diagnostic, SourceText};
use crate::ir::{BaseRequest, CudaRequest, Located, PythonRequest, Span, Syntax};
use crate::lint::{BASE_NOT_CALLED, EMPTY_INSTALL, IGNORED_PARAMETER};

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
                let earlier = steps
                    .iter()
                    .position(|s| spec.once && s.value.spec().name == spec.name);
                // envd 1.x's tool installs keep the last call's settings.
                if let Some(at) = earlier
                    && spec.syntaxes == ONLY_V1
                {
                    let first = steps.remove(at);
                    warnings.push(
                        Diagnostic::warning(
                            &IGNORED_PARAMETER,
                            source,
                            Some(first.span.range()),
                            format!(
                                "{}() is called again later: that call's settings are used, as in envd 1.x",
                                spec.name
                            ),
                        )
                        .with_note_at(step.span.range(), "called again here")
                        .with_help("call it once"),
                    );
                } else if let Some(first) = earlier.map(|at| &steps[at]) {
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
            owner: None,
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
        v1_conda_rules(source, &mut steps, warnings)?;
        v1_owner(source, &mut base, &mut steps, warnings);
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

/// `config.owner`'s ids go to the dev user `base(dev=True)` makes; without
/// one they change nothing here (a warning at the call).
fn v1_owner(
    source: &SourceText,
    base: &mut Located<BaseRequest>,
    steps: &mut Vec<Located<Step>>,
    warnings: &mut Vec<Diagnostic>,
) {
    let Some(at) = steps
        .iter()
        .position(|step| matches!(step.value, Step::Owner(_)))
    else {
        return;
    };
    let step = steps.remove(at);
    let Step::Owner(owner) = &step.value else {
        return;
    };
    if base.value.dev {
        base.value.owner = Some((owner.uid, owner.gid));
    } else {
        warnings.push(
            Diagnostic::warning(
                &IGNORED_PARAMETER,
                source,
                Some(step.span.range()),
                "config.owner() changes nothing without base(dev=True): envd 1.x owned its files by these ids, and files here are root's, as Dockerfile COPY makes them",
            )
            .with_help("remove it, or use base(dev=True) for envd's user with these ids"),
        );
    }
}

/// envd 1.x's rules of conda, which its calls checked as they were made:
/// `install.conda_packages` after `install.conda()`; and conda is installed
/// by `install.python()` only, so without it `install.conda()` installs
/// nothing (a warning, and the step goes) and conda packages have nowhere
/// to go (an error at their call).
fn v1_conda_rules(
    source: &SourceText,
    steps: &mut Vec<Located<Step>>,
    warnings: &mut Vec<Diagnostic>,
) -> Result<(), Diagnostic> {
    let conda_at = steps
        .iter()
        .position(|step| matches!(step.value, Step::Conda(_)));
    let has_python = steps
        .iter()
        .any(|step| matches!(step.value, Step::Python(_)));
    for (at, step) in steps.iter().enumerate() {
        if matches!(&step.value, Step::CondaChannel(c) if c.v1)
            && conda_at.is_none_or(|conda| conda >= at)
        {
            return Err(Diagnostic::error(
                source,
                Some(step.span.range()),
                "cannot configure conda when conda is not installed (envd 1.x refuses this too)",
            )
            .with_help("call install.conda() before config.conda_channel()"));
        }
        if !matches!(&step.value, Step::CondaPackages(p) if p.v1) {
            continue;
        }
        let error = |message: &str, help: &str| {
            Diagnostic::error(source, Some(step.span.range()), message).with_help(help)
        };
        match conda_at {
            Some(conda) if conda < at && has_python => {}
            Some(conda) if conda < at => {
                return Err(error(
                    "install.conda_packages() needs install.python(): envd 1.x installs conda only with Python",
                    "call install.python() too",
                ));
            }
            _ => {
                return Err(error(
                    "cannot install conda packages when conda is not installed (envd 1.x refuses this too)",
                    "call install.conda() before install.conda_packages()",
                ));
            }
        }
    }
    if let Some(conda) = conda_at
        && !has_python
    {
        warnings.push(
            Diagnostic::warning(
                &EMPTY_INSTALL,
                source,
                Some(steps[conda].span.range()),
                "install.conda() installs nothing without install.python(), as in envd 1.x",
            )
            .with_help(
                "call install.python() to get conda and its environment /opt/conda/envs/envd",
            ),
        );
        steps.remove(conda);
    }
    Ok(())
}

/// Where a step goes in envd v1's build, which runs in fixed phases
/// whatever the order of the calls (envd 1.3's `CompileLLB`): settings of
/// the image first, then the apt source, apt packages, the languages
/// (conda before the Python it makes), package indexes, pip, conda, uv,
/// pixi and the other languages' packages, downloads, copies, agents, and
/// `run` last.
fn v1_phase(step: &Step) -> u8 {
    match step {
        Step::Environ(_)
        | Step::Expose(_)
        | Step::Entrypoint(_)
        | Step::Repo(_)
        | Step::Owner(_) => 0,
        Step::AptSource(_) => 1,
        Step::SystemPackages(_) => 2,
        Step::Conda(_) => 3,
        Step::Python(_)
        | Step::Go(_)
        | Step::NodeJs(_)
        | Step::Julia(_)
        | Step::Rust(_)
        | Step::RLang(_) => 4,
        Step::PipIndex(_) | Step::PackageMirror(_) => 5,
        Step::PythonPackages(_) => 6,
        Step::CondaChannel(_) => 7,
        Step::CondaPackages(_) => 8,
        Step::Uv(_) => 9,
        Step::Pixi(_) => 10,
        Step::RPackages(_) | Step::JuliaPackages(_) => 11,
        Step::Http(_) => 12,
        Step::Copy(_) => 13,
        Step::Codex(_) => 14,
        Step::Run(_) => 15,
    }
}
