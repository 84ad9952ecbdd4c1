//! envd v1's `install.codex(version)`: OpenAI's codex release at
//! /usr/bin/codex. envd 1.x took GitHub's newest release when no tag was
//! named; here it is envd's pinned tag, so a build gives the same image
//! each time.

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, ONLY_V1, Param, Params, Recording, Spec, Tool,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;
use crate::lower::downloads::CODEX;

pub static SPEC: Spec = Spec {
    name: "install.codex",
    summary: "OpenAI's codex release at /usr/bin/codex (envd v1)",
    params: Params::Declared(&[Param::positional(
        "version",
        Kind::Str,
        "a release tag of openai/codex; rust-v0.98.0 when not given",
    )]),
    once: true,
    tools: &[Tool::Download],
    syntaxes: ONLY_V1,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Codex {
    pub version: String,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let version = crate::builtins::release_version(&SPEC, args, &CODEX, "rust-v0.98.0")?;
    recording.step(Codex { version }.into())
}

impl Lower for Codex {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let program = format!(
            "codex-{}-unknown-linux-musl",
            match lowering.options.platform.architecture.as_str() {
                "arm64" => "aarch64",
                _ => "x86_64",
            }
        );
        lowering.install_release(
            span,
            SPEC.name,
            &CODEX,
            &self.version,
            &[(&program, "/usr/bin/codex")],
        )
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
