//! `install.apt_packages(name)`: envd's other name for
//! `install.system_packages`; the same install, shown under this name.

use serde::Serialize;

use super::system_packages::{NAME, apt_install, package_names_of};
use crate::builtins::{Args, BuiltinError, Lower, Params, Recording, Spec};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;

pub static SPEC: Spec = Spec {
    name: "install.apt_packages",
    summary: "as `install.system_packages`",
    params: Params::Declared(&[NAME]),
    once: false,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AptPackages {
    pub names: Vec<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let names = package_names_of(&SPEC, args)?;
    recording.step(AptPackages { names }.into());
    Ok(())
}

impl Lower for AptPackages {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        apt_install(lowering, span, &SPEC, &self.names)
    }
}
