//! envd v1's `install.pixi(use_pixi_mirror, pypi_index)`: pixi's release
//! at /usr/bin/pixi and, when either parameter is given, pixi's
//! `/etc/pixi/config.toml` with prefix.dev's mirror of conda-forge and the
//! PyPI index, as envd 1.3.4 wrote it.

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, ONLY_V1, Param, Params, Recording, Spec, Tool, http_url,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;
use crate::lower::downloads::PIXI;

pub static SPEC: Spec = Spec {
    name: "install.pixi",
    summary: "pixi's release at /usr/bin/pixi, and its mirror settings (envd v1)",
    params: Params::Declared(&[
        Param::positional(
            "use_pixi_mirror",
            Kind::Bool,
            "take conda-forge from prefix.dev's mirror",
        ),
        Param::positional("pypi_index", Kind::Str, "the PyPI index pixi uses"),
    ]),
    once: true,
    tools: &[Tool::Download],
    syntaxes: ONLY_V1,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pixi {
    pub use_pixi_mirror: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pypi_index: Option<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let pypi_index = args
        .str("pypi_index")
        .filter(|url| !url.is_empty())
        .map(|url| http_url(&SPEC, "pypi_index", &url))
        .transpose()?;
    if let Some(url) = &pypi_index {
        crate::builtins::without_login(&SPEC, "`pypi_index`", url)?;
    }
    recording.step(
        Pixi {
            use_pixi_mirror: args.bool("use_pixi_mirror"),
            pypi_index,
        }
        .into(),
    )
}

impl Pixi {
    /// pixi's configuration, as envd's template gave it.
    fn config(&self) -> Option<String> {
        let mut toml = String::new();
        if self.use_pixi_mirror {
            toml.push_str(
                "[mirrors]\n\"https://conda.anaconda.org\" = [\"https://prefix.dev/\"]\n\"https://conda.anaconda.org/conda-forge/label\" = [\"https://conda.anaconda.org/conda-forge/label\"]\n",
            );
        }
        if let Some(url) = &self.pypi_index {
            toml.push_str(&format!("[pypi-config]\nindex-url = {url:?}\n"));
        }
        (!toml.is_empty()).then_some(toml)
    }
}

impl Lower for Pixi {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.install_release(
            span,
            SPEC.name,
            &PIXI,
            PIXI.version,
            &[("pixi", "/usr/bin/pixi")],
        )?;
        if let Some(config) = self.config() {
            lowering.config_file(span, SPEC.name, "/etc/pixi/config.toml", config)?;
        }
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
