//! `config.cran_mirror(url)` and its twin `config.julia_pkg_server(url)`:
//! the mirror `install.r_packages` (or `install.julia_packages`) uses, for
//! the installs after it.

use serde::Serialize;

use crate::builtins::{
    Args, BOTH, BuiltinError, Kind, Lower, Param, Params, Recording, Spec, lower_mirror, mirror_url,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;

/// The kinds of package the mirrors serve.
pub const CRAN: &str = "cran";
pub const JULIA: &str = "julia";

pub static SPEC: Spec = Spec {
    name: "config.cran_mirror",
    summary: "the CRAN mirror `install.r_packages` uses",
    params: Params::Declared(&[Param::positional("url", Kind::Str, "an http(s) URL").required()]),
    once: true,
    tools: &[],
    syntaxes: BOTH,
    record,
};

pub static JULIA_PKG_SERVER: Spec = Spec {
    name: "config.julia_pkg_server",
    summary: "the Julia package server `install.julia_packages` uses",
    ..SPEC
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackageMirror {
    /// The packages it serves: [`CRAN`] or [`JULIA`].
    pub packages: &'static str,
    pub url: String,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let spec = args.spec();
    let url = mirror_url(spec, args)?;
    let packages = if spec.name == JULIA_PKG_SERVER.name {
        JULIA
    } else {
        CRAN
    };
    recording.step(PackageMirror { packages, url }.into())?;
    Ok(())
}

impl Lower for PackageMirror {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lower_mirror(lowering, span, self.spec(), self.packages, &self.url)
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }

    fn builtin(&self) -> Option<&'static Spec> {
        Some(self.spec())
    }
}

impl PackageMirror {
    fn spec(&self) -> &'static Spec {
        if self.packages == JULIA {
            &JULIA_PKG_SERVER
        } else {
            &SPEC
        }
    }
}
