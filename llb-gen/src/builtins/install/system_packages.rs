//! `install.system_packages(name)` and its alias `install.apt_packages`:
//! `apt-get install` with apt's archives and lists cached across builds
//! (`lower::apt`), shown under the name the call used.

use serde::Serialize;

use crate::builtins::{
    Args, BOTH, BuiltinError, DEBIAN_PACKAGES, Lower, ONLY_V0, Params, Recording, Spec,
    debian_packages, nothing_to_install,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;

pub static SPEC: Spec = Spec {
    name: "install.system_packages",
    summary: "`apt-get install` with the apt caches",
    params: Params::Declared(&[DEBIAN_PACKAGES]),
    once: false,
    tools: &[],
    syntaxes: ONLY_V0,
    record,
};

/// envd's other name for the same install.
pub static APT_PACKAGES: Spec = Spec {
    name: "install.apt_packages",
    summary: "`apt-get install` with the apt caches (envd's other name)",
    syntaxes: BOTH,
    ..SPEC
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SystemPackages {
    /// The name the call used, when it was the alias.
    #[serde(skip_serializing_if = "is_main_name")]
    pub builtin: &'static str,
    pub names: Vec<String>,
}

fn is_main_name(name: &&'static str) -> bool {
    *name == SPEC.name
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let spec = args.spec();
    let names = debian_packages(spec, args)?;
    if names.is_empty() {
        nothing_to_install(spec, "name=[...]", recording);
        return Ok(());
    }
    let builtin = spec.name;
    recording.step(SystemPackages { builtin, names }.into())
}

impl Lower for SystemPackages {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.apt_install(span, self.builtin, &self.names)
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }

    fn builtin(&self) -> Option<&'static Spec> {
        Some(if self.builtin == APT_PACKAGES.name {
            &APT_PACKAGES
        } else {
            &SPEC
        })
    }
}
