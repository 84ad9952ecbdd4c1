//! `install.julia_packages(name)`: Julia packages with `Pkg.add`, from the
//! package server `config.julia_pkg_server` set (else Julia's default).
//! The base image must have Julia; the step fails at the call's line when
//! it has none. No cache mount: Julia installs packages into the depot it
//! downloads them to, so a cache there would leave them out of the image.

use serde::Serialize;

use crate::builtins::config::package_mirror::JULIA as MIRROR_KIND;
use crate::builtins::{
    Args, BuiltinError, Kind, Lower, ONLY_V0, ONLY_V1, Param, Params, Recording, Spec,
    nothing_to_install, package_names,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::{Lowering, shell};

pub static SPEC: Spec = Spec {
    name: "install.julia_packages",
    summary: "Julia packages with `Pkg.add`",
    params: Params::Declared(&[
        Param::positional("name", Kind::StrList, "Julia package names").required(),
    ]),
    once: false,
    tools: &[],
    syntaxes: ONLY_V0,
    record,
};

/// envd v1's: into the depot /opt/julia/user_packages (`JULIA_DEPOT_PATH`
/// in the image too), with install.julia()'s Julia on PATH.
pub static V1: Spec = Spec {
    summary: "Julia packages with `Pkg.add`, into the depot /opt/julia/user_packages (envd v1)",
    syntaxes: ONLY_V1,
    ..SPEC
};

/// envd v1's Julia depot for packages.
const V1_DEPOT: &str = "/opt/julia/user_packages";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JuliaPackages {
    pub names: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub v1: bool,
}

/// A Julia package name: an identifier, optionally with `.jl`.
fn is_julia_package(name: &str) -> bool {
    let name = name.strip_suffix(".jl").unwrap_or(name);
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let names = package_names(&SPEC, "name", args.str_list("name"), is_julia_package)?;
    if names.is_empty() {
        nothing_to_install(&SPEC, "name=[...]", recording);
        return Ok(());
    }
    let v1 = args.spec().syntaxes == ONLY_V1;
    recording.step(JuliaPackages { names, v1 }.into())?;
    Ok(())
}

impl Lower for JuliaPackages {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let server = lowering.mirror(MIRROR_KIND);
        let packages: Vec<String> = self
            .names
            .iter()
            .map(|n| format!("\"{}\"", n.strip_suffix(".jl").unwrap_or(n)))
            .collect();
        let expression = format!("using Pkg; Pkg.add([{}])", packages.join(", "));
        let no_julia = lowering.failure(
            span,
            "install.julia_packages needs julia on the base image's PATH",
        );
        let server = server
            .map(|url| format!("JULIA_PKG_SERVER={} ", shell::quote(&url)))
            .unwrap_or_default();
        let script = format!(
            "set -eu\ncommand -v julia >/dev/null 2>&1 || {{ echo {} >&2; exit 127; }}\n{server}julia -e {}\n",
            shell::quote(&no_julia),
            shell::quote(&expression)
        );
        let name = format!("{} {}", SPEC.name, self.names.join(", "));
        if self.v1 {
            lowering.append_path(&["/opt/julia/bin"]);
            lowering.set_env("JULIA_DEPOT_PATH", V1_DEPOT);
            lowering.own_for_dev(V1_DEPOT);
            let script = format!("mkdir -p {V1_DEPOT}\n{script}");
            return lowering.exec_step(span, &name, script, vec![]);
        }
        lowering.exec_step(span, &name, script, vec![])
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }

    fn builtin(&self) -> Option<&'static Spec> {
        Some(if self.v1 { &V1 } else { &SPEC })
    }
}
