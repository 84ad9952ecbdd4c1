//! The whole build: the calls build.envd recorded, assembled into one base
//! and its steps with the rules that need the whole file ([`rules`]), and
//! lowered step by step, each by its builtin.

mod rules;

use serde::Serialize;

use crate::builtins::Step;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceText};
use crate::ir::{BaseRequest, CudaRequest, Located, Syntax};
use crate::lower::{BaseResolver, ContextFiles, LowerOptions, Lowered, Lowering};

pub use rules::assemble;

/// A call as the evaluator recorded it, before whole-file rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    Base(Located<BaseRequest>),
    /// `install.cuda()`, which selects the base's CUDA variant.
    Cuda(Located<CudaRequest>),
    Step(Located<Step>),
}

/// The whole build: one base, then steps in source order (envd v1's in
/// its fixed order of phases, `rules::v1_phase`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BuildSpec {
    #[serde(skip_serializing_if = "is_v0")]
    pub syntax: Syntax,
    /// The function that was run (`build` unless a target was given).
    pub target: String,
    pub base: Located<BaseRequest>,
    pub steps: Vec<Located<Step>>,
}

fn is_v0(syntax: &Syntax) -> bool {
    *syntax == Syntax::V0
}

impl BuildSpec {
    /// Context paths the steps name (requirements and env files, wheels,
    /// copy sources), without `.`, in order, each once. Files these name
    /// in turn (nested `-r`) are not known until they are read.
    pub fn context_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = vec![];
        for step in &self.steps {
            for path in step.value.context_paths() {
                if path != "." && !paths.iter().any(|p| p == path) {
                    paths.push(path.to_string());
                }
            }
        }
        paths
    }
}

/// Lowers the build: the base, then each step by its builtin. An error
/// comes after the warnings lowering gave before it.
pub fn lower(
    spec: &BuildSpec,
    source: &SourceText,
    options: &LowerOptions,
    files: &dyn ContextFiles,
    resolver: &dyn BaseResolver,
) -> Result<Lowered, Diagnostics> {
    let mut lowering = Lowering::new(
        &spec.base,
        &spec.context_paths(),
        source,
        options,
        files,
        resolver,
    )?;
    let failed = |warnings: &[Diagnostic], error: Diagnostic| {
        Diagnostics::after_warnings(warnings.iter().cloned(), [error])
    };
    for step in &spec.steps {
        if let Err(error) = step.value.lower(&mut lowering, &step.span) {
            return Err(failed(&lowering.warnings, error));
        }
    }
    let warnings = lowering.warnings.clone();
    let mut lowered = lowering
        .finish(&spec.target)
        .map_err(|error| failed(&warnings, error))?;
    if spec.syntax == Syntax::V1 {
        // envd v1 never sets Cmd: the base image's is dropped.
        lowered.config.clear_cmd();
    }
    Ok(lowered)
}
