//! envd v1's `install.uv(python_version)`: uv's release (`uv` and `uvx`
//! into /usr/bin, a layer every variant shares) and the Python that `uv
//! python install` fetches (as user envd with `base(dev=True)`), as envd
//! 1.3.4 built them. A site mirrors uv's release and Python's builds
//! with `ENVD_DOWNLOAD_MIRRORS`.

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, ONLY_V1, Param, Params, Recording, Spec, Tool,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;
use crate::lower::downloads::UV;
use crate::lower::shell;

/// Where `uv python install` fetches Python's builds unless told
/// otherwise (`UV_PYTHON_INSTALL_MIRROR`): a download-mirror rule for this
/// prefix points uv at the site's copy.
pub const PYTHON_BUILDS: &str =
    "https://github.com/astral-sh/python-build-standalone/releases/download";

pub static SPEC: Spec = Spec {
    name: "install.uv",
    summary: "uv's release into /usr/bin, and the Python `uv python install` fetches (envd v1)",
    params: Params::Declared(&[Param::positional(
        "python_version",
        Kind::Str,
        "the Python uv installs; `3.11` when not given",
    )]),
    once: true,
    tools: &[Tool::Download],
    syntaxes: ONLY_V1,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Uv {
    pub python_version: String,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let python_version = args
        .str("python_version")
        .unwrap_or_else(|| "3.11".to_string());
    // uv takes requests like `3.12`, `3.12.4` or `pypy@3.10`: what it
    // refuses fails its step, which is located here.
    if python_version.is_empty() || python_version.contains(char::is_whitespace) {
        return Err(BuiltinError::new(format!(
            "{}(): `python_version` {python_version:?} is no Python version",
            SPEC.name
        ))
        .help("e.g. install.uv(python_version=\"3.12\")"));
    }
    recording.step(Uv { python_version }.into())
}

impl Lower for Uv {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.install_release(
            span,
            SPEC.name,
            &UV,
            UV.version,
            &[("uv", "/usr/bin/uv"), ("uvx", "/usr/bin/uvx")],
        )?;
        lowering.set_env("UV_LINK_MODE", "copy");
        lowering.set_env("UV_PYTHON_PREFERENCE", "only-managed");
        let mut script = String::new();
        // As a folder, so that a rule written for the folder applies.
        if let Some(mirror) = lowering
            .site
            .download_mirrors
            .folder_mirror(&format!("{PYTHON_BUILDS}/"))
        {
            script.push_str(&format!(
                "export UV_PYTHON_INSTALL_MIRROR={}\n",
                shell::quote(&mirror)
            ));
        }
        script.push_str(&format!(
            "uv python install {}",
            shell::quote(&self.python_version)
        ));
        // In a development image envd 1.3.4 installed it as its user.
        let user = lowering.run_user();
        let cwd = lowering.exec_config.working_dir().to_string();
        lowering.exec_step_as(
            span,
            &format!("uv python install {}", self.python_version),
            script,
            vec![],
            &cwd,
            user.as_deref(),
        )
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
