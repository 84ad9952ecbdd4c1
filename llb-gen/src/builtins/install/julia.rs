//! envd v1's `install.julia()`: Julia 1.10.10's release, checked against
//! envd's checksum, at /opt/julia with its `bin` on PATH (a layer every
//! variant shares).

use serde::Serialize;

use crate::builtins::{Args, BuiltinError, Lower, ONLY_V1, Params, Recording, Spec, Tool};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;
use crate::lower::downloads::JULIA;

pub static SPEC: Spec = Spec {
    name: "install.julia",
    summary: "Julia 1.10.10's release at /opt/julia, on PATH (envd v1)",
    params: Params::Declared(&[]),
    once: true,
    tools: &[Tool::Download],
    syntaxes: ONLY_V1,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Julia {}

fn record(_: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    recording.step(Julia {}.into())
}

impl Lower for Julia {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.install_release(
            span,
            SPEC.name,
            &JULIA,
            JULIA.version,
            &[("", "/opt/julia")],
        )?;
        lowering.append_path(&["/opt/julia/bin"]);
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
