//! `install.apt_packages(name)`: envd's other name for installing Debian
//! packages: the same `apt-get install`, shown under this name.

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, Param, Params, Recording, Spec, nothing_to_install,
    package_names,
};
use crate::checks::is_debian_package;
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;

pub static SPEC: Spec = Spec {
    name: "install.apt_packages",
    summary: "`apt-get install` with the apt caches (envd's other name)",
    params: Params::Declared(&[Param::positional(
        "name",
        Kind::StrList,
        "Debian package names, optionally `=version` or `/release`",
    )]),
    once: false,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AptPackages {
    pub names: Vec<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let names = package_names(&SPEC, "name", args.str_list("name"), is_debian_package)?;
    if names.is_empty() {
        return Err(nothing_to_install(&SPEC, "name=[...]"));
    }
    recording.step(AptPackages { names }.into())?;
    Ok(())
}

impl Lower for AptPackages {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.apt_install(span, SPEC.name, &self.names)
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
