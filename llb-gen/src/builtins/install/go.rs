//! envd v1's `install.go(version)`: Go's release at /usr/local/go, its
//! `bin` on PATH, as envd 1.3.4 installed it (a layer every variant shares).

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, ONLY_V1, Param, Params, Recording, Spec, Tool,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;
use crate::lower::downloads::GO;

pub static SPEC: Spec = Spec {
    name: "install.go",
    summary: "Go's release at /usr/local/go, on PATH (envd v1)",
    params: Params::Declared(&[Param::positional(
        "version",
        Kind::Str,
        "the Go version; envd's 1.25.3 when not given",
    )]),
    once: true,
    tools: &[Tool::Download],
    syntaxes: ONLY_V1,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Go {
    pub version: String,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let version = crate::builtins::release_version(&SPEC, args, &GO, "1.22.1")?;
    recording.step(Go { version }.into())
}

impl Lower for Go {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.install_release(
            span,
            SPEC.name,
            &GO,
            &self.version,
            &[("", "/usr/local/go")],
        )?;
        lowering.append_path(&["/usr/local/go/bin"]);
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
