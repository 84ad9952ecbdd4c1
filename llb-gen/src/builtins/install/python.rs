//! envd v1's `install.python(version)`: Python in the conda environment
//! `/opt/conda/envs/envd`, made by micromamba (copied out of its image for
//! the step and removed after) or, after `install.conda()`, by that conda;
//! `python`, `python3`, `pip` and `pip3` point at it (update-alternatives),
//! as envd 1.3.4 built it.

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, ONLY_V1, Param, Params, Recording, Spec, Tool,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::llb::BindMount;
use crate::lower::Lowering;
use crate::lower::downloads::MICROMAMBA_IMAGE;
use crate::lower::shell;

/// envd v1's conda environment, where its Python lives.
pub const ENVD_PREFIX: &str = "/opt/conda/envs/envd";
/// What envd 1.3.4 appends to PATH (`types.DefaultCondaPath`).
pub const CONDA_PATH: &[&str] = &[
    "/opt/conda/envs/envd/bin",
    "/opt/conda/bin",
    "/home/envd/.local/bin",
];
/// envd's Python when a call names none (`PythonVersionDefault`).
pub const DEFAULT_VERSION: &str = "3.11";
/// Where the micromamba image is mounted for the step.
const MICROMAMBA_MOUNT: &str = "/tmp/envd-frontend/micromamba";

pub static SPEC: Spec = Spec {
    name: "install.python",
    summary: "Python in the conda environment /opt/conda/envs/envd, by micromamba or install.conda()'s conda (envd v1)",
    params: Params::Declared(&[Param::positional(
        "version",
        Kind::Str,
        "`3.x` or `3.x.y`; `3.11` when not given",
    )]),
    once: true,
    tools: &[Tool::Download, Tool::Conda],
    syntaxes: ONLY_V1,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Python {
    pub version: String,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let given = args.str("version").unwrap_or_default();
    let version = match given.as_str() {
        "" | "3" => DEFAULT_VERSION.to_string(),
        // envd passed any `3.` version to conda, which reads specs like
        // `3.12.*` and `3.13.0rc1` too.
        v if v.len() > 2
            && v.starts_with("3.")
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'*')) =>
        {
            v.to_string()
        }
        v if v.starts_with('2') => {
            return Err(BuiltinError::new(format!(
                "{}(): Python {v} is Python 2, which envd does not support",
                SPEC.name
            )));
        }
        v => {
            return Err(BuiltinError::new(format!(
                "{}(): `version` {v:?} is not a Python 3 version",
                SPEC.name
            ))
            .help("e.g. install.python(version=\"3.11\")"));
        }
    };
    recording.step(Python { version }.into())
}

impl Lower for Python {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.append_path(CONDA_PATH);
        let version = shell::quote(&format!("python={}", self.version));
        let mut mounts = vec![lowering.conda_cache()];
        let create = match lowering.v1_conda {
            Some(conda) => format!(
                "{} create --yes --prefix {ENVD_PREFIX} {version}",
                conda.command()
            ),
            None => {
                // envd takes micromamba's CA bundle too, for its downloads.
                let image = lowering.tool_image(span, MICROMAMBA_IMAGE)?;
                mounts.push(BindMount::new(MICROMAMBA_MOUNT, &image).into());
                let channels = match &lowering.site.conda_mirror {
                    Some(mirror) => mirror.default_channels(),
                    None => vec!["defaults".to_string()],
                };
                let channel_args: Vec<String> = channels
                    .iter()
                    .flat_map(|c| ["--channel".to_string(), c.clone()])
                    .collect();
                format!(
                    "mkdir -p /etc/ssl/certs\n\
                     cp {MICROMAMBA_MOUNT}/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/\n\
                     {MICROMAMBA_MOUNT}/bin/micromamba create --yes --prefix {ENVD_PREFIX} --override-channels {} {version}",
                    shell::join(&channel_args)
                )
            }
        };
        let script = format!(
            "set -eu\n{}\n{}",
            lowering.with_login_hint(span, "conda", &create),
            alternatives()
        );
        lowering.exec_step_in(
            span,
            &format!("{} {}", SPEC.name, self.version),
            script,
            mounts,
            "/",
        )
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}

/// `python`, `python3`, `pip` and `pip3` in /usr/bin, pointing at the envd
/// environment's: by update-alternatives, as envd did, or by links on an
/// image without it (no dpkg).
fn alternatives() -> String {
    let names = ["python", "python3", "pip", "pip3"];
    let by = |line: fn(&str) -> String| names.map(line).join("\n");
    format!(
        "if command -v update-alternatives >/dev/null 2>&1; then\n{}\nelse\n{}\nfi",
        by(|name| format!(
            "update-alternatives --install /usr/bin/{name} {name} {ENVD_PREFIX}/bin/{name} 1"
        )),
        by(|name| format!("ln -sf {ENVD_PREFIX}/bin/{name} /usr/bin/{name}"))
    )
}
