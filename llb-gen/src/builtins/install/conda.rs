//! envd v1's `install.conda(use_mamba)`: the conda `install.python()`
//! makes its environment with, at /opt/conda. Miniconda's installer is
//! downloaded by BuildKit (envd's version and checksum) and run; with
//! `use_mamba=True`, micromamba is copied out of its image. Without
//! `install.python()`, envd 1.x installed nothing, and so does this
//! (`plan::rules` says so at the call).

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, ONLY_V1, Param, Params, Recording, Spec, Tool,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::llb::{BindMount, Copy};
use crate::lower::Lowering;
use crate::lower::downloads::{CondaKind, MICROMAMBA_IMAGE, MINICONDA};
use crate::lower::shell;

pub static SPEC: Spec = Spec {
    name: "install.conda",
    summary: "Miniconda (or micromamba) at /opt/conda, for install.python()'s environment (envd v1)",
    params: Params::Declared(&[Param::positional(
        "use_mamba",
        Kind::Bool,
        "micromamba from its image instead of Miniconda's installer",
    )]),
    once: true,
    tools: &[Tool::Download],
    syntaxes: ONLY_V1,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conda {
    pub flavor: CondaKind,
}

/// The `.condarc` envd 1.3.4 writes for Miniconda (`condaRc`).
const MINICONDA_RC: &str = "default_channels:\n  - https://conda.anaconda.org/conda-forge/\n\nchannels:\n  - conda-forge\n";
/// The `.mambarc` envd 1.3.4 writes for micromamba (`mambaRc`).
const MAMBA_RC: &str = "channels:\n    - conda-forge\n";
/// Where the installer is mounted for its step.
const INSTALLER_MOUNT: &str = "/tmp/envd-frontend/miniconda";

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let kind = if args.bool("use_mamba") {
        CondaKind::Micromamba
    } else {
        CondaKind::Miniconda
    };
    recording.step(Conda { flavor: kind }.into())
}

impl Lower for Conda {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        match self.flavor {
            CondaKind::Miniconda => {
                let installer = lowering.release(span, &MINICONDA, MINICONDA.version)?;
                let file = MINICONDA
                    .file(&lowering.options.platform.architecture)
                    .map(|f| f.url.rsplit('/').next().unwrap_or_default())
                    .unwrap_or_default();
                let script = format!(
                    "set -eu\n\
                     sh {INSTALLER_MOUNT}/{file} -b -u -p /opt/conda\n\
                     touch ~/.bashrc\n\
                     echo '. /opt/conda/etc/profile.d/conda.sh' >> ~/.bashrc\n\
                     echo 'conda activate base' >> ~/.bashrc\n\
                     find /opt/conda/ -follow -type f \\( -name '*.a' -o -name '*.js.map' \\) -delete\n\
                     /opt/conda/bin/conda clean -afy\n\
                     printf '%s' {} > /opt/conda/.condarc\n\
                     printf '%s\\n' 'conda activate $argv' > /opt/conda/bin/activate.fish\n\
                     chmod 755 /opt/conda/bin/activate.fish\n\
                     /opt/conda/bin/conda init bash",
                    shell::quote(&lowering.condarc_for_site(
                        span,
                        SPEC.name,
                        "envd's .condarc",
                        MINICONDA_RC.to_string()
                    )?)
                );
                lowering.exec_step_in(
                    span,
                    &format!("{} Miniconda {}", SPEC.name, MINICONDA.version),
                    script,
                    vec![BindMount::new(INSTALLER_MOUNT, &installer).into()],
                    "/",
                )?;
            }
            CondaKind::Micromamba => {
                lowering.set_env("MAMBA_ROOT_PREFIX", "/opt/conda");
                lowering.set_env("MAMBA_TARGET_PREFIX", "/opt/conda");
                let image = lowering.tool_image(span, MICROMAMBA_IMAGE)?;
                let title = format!("{} micromamba", SPEC.name);
                // Files: marked as nesting nothing, for the Dockerfile export.
                lowering.add_layer(span, &title, |op| {
                    op.copy(
                        Copy::new(&image, "/bin/micromamba", "/opt/conda/bin/micromamba")
                            .contents_only(true)
                            .create_dest_path(true),
                    )
                    .copy(
                        Copy::new(
                            &image,
                            "/etc/ssl/certs/ca-certificates.crt",
                            "/etc/ssl/certs/ca-certificates.crt",
                        )
                        .contents_only(true)
                        .create_dest_path(true),
                    )
                })?;
                let script = format!(
                    "set -eu\n\
                     printf '%s' {} > /opt/conda/.mambarc\n\
                     printf '%s\\n' '#!/bin/sh' 'eval \"$(/opt/conda/bin/micromamba shell hook --shell=bash)\" || return $?' 'micromamba activate \"$@\"' > /opt/conda/bin/activate\n\
                     chmod 755 /opt/conda/bin/activate\n\
                     update-alternatives --install /usr/bin/conda conda /opt/conda/bin/micromamba 1\n\
                     /opt/conda/bin/micromamba shell init --shell bash --root-prefix /opt/conda",
                    shell::quote(&lowering.condarc_for_site(
                        span,
                        SPEC.name,
                        "envd's .mambarc",
                        MAMBA_RC.to_string()
                    )?)
                );
                lowering.exec_step_in(span, &format!("{title} setup"), script, vec![], "/")?;
            }
        }
        lowering.v1_conda = Some(self.flavor);
        lowering.own_for_dev("/opt/conda");
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
