//! envd v1's `install.nodejs(version)`: Node.js's release at /opt/nodejs,
//! its `bin` on PATH, as envd 1.3.4 installed it (a layer every variant
//! shares).

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, ONLY_V1, Param, Params, Recording, Spec, Tool,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;
use crate::lower::downloads::NODEJS;

pub static SPEC: Spec = Spec {
    name: "install.nodejs",
    summary: "Node.js's release at /opt/nodejs, on PATH (envd v1)",
    params: Params::Declared(&[Param::positional(
        "version",
        Kind::Str,
        "the Node.js version; envd's 25.1.0 when not given",
    )]),
    once: true,
    tools: &[Tool::Download],
    syntaxes: ONLY_V1,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeJs {
    pub version: String,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let version = crate::builtins::release_version(&SPEC, args, &NODEJS, "22.11.0")?;
    recording.step(NodeJs { version }.into())
}

impl Lower for NodeJs {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.install_release(
            span,
            SPEC.name,
            &NODEJS,
            &self.version,
            &[("", "/opt/nodejs")],
        )?;
        lowering.append_path(&["/opt/nodejs/bin"]);
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
