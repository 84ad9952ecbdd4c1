//! `config.julia_pkg_server(url)`: the Julia package server `install.julia_packages` uses, for the
//! installs after it.

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, Param, Params, Recording, Spec, lower_mirror, mirror_url,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;

/// The kind of package the mirror serves.
pub const MIRROR_KIND: &str = "julia";

pub static SPEC: Spec = Spec {
    name: "config.julia_pkg_server",
    summary: "the Julia package server `install.julia_packages` uses",
    params: Params::Declared(&[Param::positional("url", Kind::Str, "an http(s) URL").required()]),
    once: true,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JuliaPkgServer {
    pub url: String,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let url = mirror_url(&SPEC, args)?;
    recording.step(JuliaPkgServer { url }.into())?;
    Ok(())
}

impl Lower for JuliaPkgServer {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lower_mirror(lowering, span, &SPEC, MIRROR_KIND, &self.url)
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
