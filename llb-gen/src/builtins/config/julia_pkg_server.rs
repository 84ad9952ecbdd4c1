//! `config.julia_pkg_server(url)`: the Julia package server `install.julia_packages` uses, for the
//! installs after it.

use serde::Serialize;

use crate::builtins::{Args, BuiltinError, Kind, Lower, Param, Params, Recording, Spec, http_url};
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
    let url = http_url(&SPEC, "url", &args.required_str("url")?)?;
    // The URL goes into a quoted string of the install command.
    if url.contains(['"', '\'', '\\']) {
        return Err(BuiltinError::new(format!(
            "{}(): `url` {url:?} has quotes or backslashes",
            SPEC.name
        )));
    }
    recording.step(JuliaPkgServer { url }.into())?;
    Ok(())
}

impl Lower for JuliaPkgServer {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.set_mirror(MIRROR_KIND, &self.url, span, SPEC.name)?;
        lowering.history(span, &format!("{} {}", SPEC.name, self.url), true);
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
