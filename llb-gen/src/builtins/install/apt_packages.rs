//! `install.apt_packages(name)`: envd's other name for installing Debian
//! packages: the same `apt-get install`, shown under this name.

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, DEBIAN_PACKAGES, Lower, Params, Recording, Spec, debian_packages,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;

pub static SPEC: Spec = Spec {
    name: "install.apt_packages",
    summary: "`apt-get install` with the apt caches (envd's other name)",
    params: Params::Declared(&[DEBIAN_PACKAGES]),
    once: false,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AptPackages {
    pub names: Vec<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let names = debian_packages(&SPEC, args)?;
    recording.step(AptPackages { names }.into())
}

impl Lower for AptPackages {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.apt_install(span, SPEC.name, &self.names)
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
