//! `install.system_packages(name)`: `apt-get install` with apt's archives and lists
//! cached across builds (`lower::apt`).

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, DEBIAN_PACKAGES, Lower, Params, Recording, Spec, debian_packages,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;

pub static SPEC: Spec = Spec {
    name: "install.system_packages",
    summary: "`apt-get install` with the apt caches",
    params: Params::Declared(&[DEBIAN_PACKAGES]),
    once: false,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SystemPackages {
    pub names: Vec<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let names = debian_packages(&SPEC, args)?;
    recording.step(SystemPackages { names }.into())
}

impl Lower for SystemPackages {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.apt_install(span, SPEC.name, &self.names)
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
