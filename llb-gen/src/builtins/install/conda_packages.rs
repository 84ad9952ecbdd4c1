//! `install.conda_packages(name, channel, env_file)`: `conda install` and
//! `conda env update` with the conda package cache. An environment file is
//! checked and rewritten for the image (`lower::conda_env`); its `pip:`
//! list is installed by pip with the pip cache.

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, ONLY_V0, ONLY_V1, Param, Params, Recording, Spec, Tool,
    context_path, nothing_to_install, package_names,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::llb::{BindMount, FileOp, Mkfile, WithOpOptions};
use crate::lower::{Lowering, conda_env, shell};

pub static SPEC: Spec = Spec {
    name: "install.conda_packages",
    summary: "`conda install` / `conda env update` with the conda cache",
    params: Params::Declared(&[
        Param::positional("name", Kind::StrList, "conda specs (`numpy=1.21`)"),
        Param::named(
            "channel",
            Kind::StrList,
            "channels, before those of the environment file",
        ),
        Param::named(
            "env_file",
            Kind::Str,
            "an environment file in the context (`conda env export > env.yaml`)",
        ),
    ]),
    once: false,
    tools: &[Tool::Conda],
    syntaxes: ONLY_V0,
    record,
};

/// envd v1's `install.conda_packages`: into the environment
/// `install.python()` made, with install.conda()'s conda.
pub static V1: Spec = Spec {
    summary: "`conda install` into install.python()'s environment, with install.conda()'s conda (envd v1)",
    syntaxes: ONLY_V1,
    ..SPEC
};

/// Where the rewritten conda environment file is mounted.
const CONDA_ENV_MOUNT: &str = "/tmp/envd-frontend/conda";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CondaPackages {
    pub names: Vec<String>,
    pub channels: Vec<String>,
    pub env_file: Option<String>,
    /// envd v1's: into /opt/conda/envs/envd with install.conda()'s conda.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub v1: bool,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let v1 = args.spec().syntaxes == ONLY_V1;
    let names = package_names(&SPEC, "name", args.str_list("name"), is_conda_spec)?;
    let channels = args.str_list("channel");
    if let Some(bad) = channels
        .iter()
        .find(|c| c.trim().is_empty() || c.contains(char::is_whitespace))
    {
        return Err(BuiltinError::new(format!(
            "{}(): invalid channel {bad:?}",
            SPEC.name
        )));
    }
    for channel in &channels {
        crate::builtins::without_login(&SPEC, "`channel`", channel)?;
    }
    let env_file = args
        .str("env_file")
        .map(|p| context_path(&SPEC, "env_file", &p))
        .transpose()?;
    if v1 && env_file.is_some() && !(names.is_empty() && channels.is_empty()) {
        // envd 1.x's own rule.
        return Err(BuiltinError::new(format!(
            "{}(): `env_file` and `name`/`channel` are mutually exclusive",
            SPEC.name
        )));
    }
    if names.is_empty() && env_file.is_none() {
        // envd added a call's channels to its one install of every conda
        // package; here each call is its own install, so they go nowhere.
        let what = if channels.is_empty() {
            "name=[...] or env_file=\"env.yaml\""
        } else {
            "name=[...] with the channels (channels alone apply to no install here)"
        };
        nothing_to_install(&SPEC, what, recording);
        return Ok(());
    }
    recording.step(
        CondaPackages {
            names,
            channels,
            env_file,
            v1,
        }
        .into(),
    )?;
    Ok(())
}

/// `name`, `name=1.2`, `name>=1.2`, `channel::name`.
fn is_conda_spec(spec: &str) -> bool {
    spec.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && spec.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '.' | '_' | '-' | '=' | '<' | '>' | '!' | '*' | ':' | ',' | '/'
                )
        })
}

impl Lower for CondaPackages {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let (mut script, conda, micromamba) = if self.v1 {
            let Some(kind) = lowering.v1_conda else {
                return Err(Diagnostic::error(
                    lowering.source,
                    Some(span.range()),
                    format!("{}() needs install.conda() and install.python()", SPEC.name),
                ));
            };
            (
                // CONDA_PREFIX: conda reads the environment's .condarc
                // (v1's config.conda_channel) as for an active environment.
                format!(
                    "set -eu\nprefix={}\nexport CONDA_PREFIX=\"$prefix\"\n",
                    crate::builtins::install::python::ENVD_PREFIX
                ),
                kind.command(),
                kind == crate::lower::downloads::CondaKind::Micromamba,
            )
        } else {
            let script = format!(
                "set -eu\ncommand -v conda >/dev/null 2>&1 || {{ echo {} >&2; exit 127; }}\nprefix=\"${{CONDA_PREFIX:-$(conda info --base)}}\"\n",
                shell::quote(&lowering.failure(
                    span,
                    &format!("{} needs conda on the base image's PATH", SPEC.name)
                ))
            );
            (script, "conda", false)
        };
        let mut mounts = vec![lowering.conda_cache()];
        let mut title: Vec<String> = self.names.clone();
        if !self.names.is_empty() {
            let mirror = lowering.site.conda_mirror.clone();
            let channel_args = self.channels.iter().flat_map(|c| {
                let channel = mirror.as_ref().map_or_else(|| c.clone(), |m| m.channel(c));
                ["--channel".to_string(), channel]
            });
            // `URL::package` names its channel too.
            let names = self
                .names
                .iter()
                .map(|n| mirror.as_ref().map_or_else(|| n.clone(), |m| m.spec(n)));
            let args: Vec<String> = channel_args.chain(names).collect();
            script.push_str(&lowering.with_login_hint(
                span,
                "conda",
                &format!(
                    "{conda} install --yes --prefix \"$prefix\" {}",
                    shell::join(&args)
                ),
            ));
            script.push('\n');
        }
        if let Some(path) = &self.env_file {
            let text = lowering.read_text(span, "conda environment file", path)?;
            let env =
                conda_env::rewrite(&text, &self.channels, lowering.site.conda_mirror.as_ref())?;
            lowering.warnings.extend(env.warnings.iter().cloned());
            let file = FileOp::new(&lowering.scratch())
                .mkfile(Mkfile::new("/environment.yml", env.conda_yaml).mode(0o644))
                .custom_name(
                    lowering.op_name(&format!("{} {path} (rewritten for the image)", SPEC.name)),
                )
                .location(lowering.location(span))
                .build()
                .map_err(|e| lowering.llb_error(span, e))?;
            mounts.push(BindMount::new(CONDA_ENV_MOUNT, &file).into());
            script.push_str(&lowering.with_login_hint(
                span,
                "conda",
                &if micromamba {
                    format!(
                        "{conda} install --yes --prefix \"$prefix\" --file {CONDA_ENV_MOUNT}/environment.yml"
                    )
                } else {
                    format!(
                        "{conda} env update --prefix \"$prefix\" --file {CONDA_ENV_MOUNT}/environment.yml"
                    )
                },
            ));
            script.push('\n');
            if !env.pip.is_empty() {
                script.push_str(&format!(
                    "{}\n{}\n",
                    lowering.find_python(span, "the pip: list of an environment file"),
                    lowering.with_login_hint(
                        span,
                        "pip",
                        &format!("\"$py\" -m pip install {}", shell::join(&env.pip))
                    )
                ));
                mounts.push(lowering.pip_cache());
            }
            title.push(path.to_string());
        }
        let name = format!("{} {}", SPEC.name, title.join(", "));
        lowering.exec_step(span, &name, script, mounts)
    }

    fn context_paths(&self) -> Vec<&str> {
        self.env_file.iter().map(String::as_str).collect()
    }

    fn builtin(&self) -> Option<&'static Spec> {
        Some(if self.v1 { &V1 } else { &SPEC })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conda_specs() {
        for ok in [
            "pytorch",
            "numpy=1.21",
            "conda-forge::opencv",
            "python>=3.8,<3.9",
        ] {
            assert!(is_conda_spec(ok), "{ok}");
        }
        for bad in ["", "x y", "-c"] {
            assert!(!is_conda_spec(bad), "{bad}");
        }
    }
}
