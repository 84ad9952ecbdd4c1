//! `install.system_packages(name)`: `apt-get install` with apt's archives and lists
//! cached across builds (`lower::apt`).

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
    name: "install.system_packages",
    summary: "`apt-get install` with the apt caches",
    params: Params::Declared(&[Param::positional(
        "name",
        Kind::StrList,
        "Debian package names, optionally `=version` or `/release`",
    )]),
    once: false,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SystemPackages {
    pub names: Vec<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let names = package_names(&SPEC, "name", args.str_list("name"), is_debian_package)?;
    if names.is_empty() {
        return Err(nothing_to_install(&SPEC, "name=[...]"));
    }
    recording.step(SystemPackages { names }.into())?;
    Ok(())
}

impl Lower for SystemPackages {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.apt_install(span, SPEC.name, &self.names)
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
