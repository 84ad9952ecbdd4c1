//! Install steps: pip, conda and apt, each a shell script run in the image
//! with its download cache mounted. Files they read from the context
//! (requirements, wheels) are mounted read-only, narrowed to those files,
//! so editing one re-runs only the step that reads it.

use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::llb::{BindMount, CacheMount, CacheSharing, FileOp, Mkfile, Mount};

use super::context::{FileKind, read_text, require_kind};
use super::{Lowering, conda, requirements, shell};

/// Where context files an install step reads are mounted.
const CONTEXT_MOUNT: &str = "/tmp/envd-frontend/context";
/// Where the rewritten conda environment file is mounted.
const CONDA_ENV_MOUNT: &str = "/tmp/envd-frontend/conda";
const APT_ARCHIVES_DIR: &str = "/var/cache/apt";
/// Only the lists: `/var/lib/apt/extended_states` belongs to the image.
const APT_LISTS_DIR: &str = "/var/lib/apt/lists";

impl Lowering<'_> {
    pub(super) fn python_packages(
        &mut self,
        span: &Span,
        names: &[String],
        requirements_file: Option<&str>,
        wheels: &[String],
    ) -> Result<(), Diagnostic> {
        let mut args: Vec<String> = names.to_vec();
        let mut context_paths: Vec<String> = vec![];
        let mut title: Vec<String> = names.to_vec();
        if let Some(path) = requirements_file {
            context_paths.extend(requirements::collect(
                self.files,
                self.source,
                span.range(),
                path,
            )?);
            args.extend(["-r".to_string(), format!("{CONTEXT_MOUNT}/{path}")]);
            title.push(format!("-r {path}"));
        }
        for wheel in wheels {
            if require_kind(self.files, self.source, span.range(), "local wheel", wheel)?
                != FileKind::File
            {
                return Err(Diagnostic::error(
                    self.source,
                    Some(span.range()),
                    format!("local wheel {wheel:?} is a directory"),
                ));
            }
            context_paths.push(wheel.clone());
            args.push(format!("{CONTEXT_MOUNT}/{wheel}"));
            title.push(wheel.clone());
        }
        let mut mounts = vec![self.pip_cache()];
        if !context_paths.is_empty() {
            let context = self
                .options
                .context
                .narrowed(&context_paths)
                .map_err(|e| self.llb_error(span, e))?;
            mounts.push(BindMount::new(CONTEXT_MOUNT, &context).readonly().into());
        }
        let script = format!(
            "set -eu\n{}\n\"$py\" -m pip install {}\n",
            self.find_python(span, "install.python_packages"),
            shell::join(&args)
        );
        let name = format!("install.python_packages {}", title.join(", "));
        self.exec_step(span, &name, script, mounts)?;
        Ok(())
    }

    pub(super) fn conda_packages(
        &mut self,
        span: &Span,
        names: &[String],
        channels: &[String],
        env_file: Option<&str>,
    ) -> Result<(), Diagnostic> {
        let mut script = format!(
            "set -eu\ncommand -v conda >/dev/null 2>&1 || {{ echo {} >&2; exit 127; }}\nprefix=\"${{CONDA_PREFIX:-$(conda info --base)}}\"\n",
            shell::quote(&self.failure(
                span,
                "install.conda_packages needs conda on the base image's PATH"
            ))
        );
        let mut mounts = vec![self.conda_cache()];
        let mut title: Vec<String> = names.to_vec();
        if !names.is_empty() {
            let channel_args = channels
                .iter()
                .flat_map(|c| ["--channel".to_string(), c.clone()]);
            let args: Vec<String> = channel_args.chain(names.iter().cloned()).collect();
            script.push_str(&format!(
                "conda install --yes --prefix \"$prefix\" {}\n",
                shell::join(&args)
            ));
        }
        if let Some(path) = env_file {
            let text = read_text(
                self.files,
                self.source,
                span.range(),
                "conda environment file",
                path,
            )?;
            let env = conda::rewrite(&text, channels)?;
            let file = FileOp::new(&self.scratch())
                .mkfile(Mkfile::new("/environment.yml", env.conda_yaml).mode(0o644))
                .build()
                .map_err(|e| self.llb_error(span, e))?;
            mounts.push(BindMount::new(CONDA_ENV_MOUNT, &file).readonly().into());
            script.push_str(&format!(
                "conda env update --prefix \"$prefix\" --file {CONDA_ENV_MOUNT}/environment.yml\n"
            ));
            if !env.pip.is_empty() {
                script.push_str(&format!(
                    "{}\n\"$py\" -m pip install {}\n",
                    self.find_python(span, "the pip: list of an environment file"),
                    shell::join(&env.pip)
                ));
                mounts.push(self.pip_cache());
            }
            title.push(path.to_string());
        }
        let name = format!("install.conda_packages {}", title.join(", "));
        self.exec_step(span, &name, script, mounts)?;
        Ok(())
    }

    /// apt-get with the archives and lists cached across builds. Docker
    /// images ship a hook that deletes downloaded packages after every
    /// install; it is moved aside for the step and put back after it.
    pub(super) fn system_packages(
        &mut self,
        span: &Span,
        names: &[String],
    ) -> Result<(), Diagnostic> {
        let script = format!(
            r#"set -eu
command -v apt-get >/dev/null 2>&1 || {{ echo {} >&2; exit 127; }}
hook=/etc/apt/apt.conf.d/docker-clean
if [ -f "$hook" ]; then mv "$hook" /tmp/envd-frontend-docker-clean; trap 'mv /tmp/envd-frontend-docker-clean "$hook"' EXIT; fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o APT::Keep-Downloaded-Packages=true update
apt-get -o APT::Keep-Downloaded-Packages=true install -y --no-install-recommends {}
"#,
            shell::quote(&self.failure(
                span,
                "install.system_packages needs apt-get (a Debian or Ubuntu base image)"
            )),
            shell::join(names)
        );
        let mounts: Vec<Mount> = vec![
            CacheMount::new(APT_ARCHIVES_DIR, super::APT_CACHE_ID)
                .sharing(CacheSharing::Locked)
                .into(),
            CacheMount::new(APT_LISTS_DIR, super::APT_LISTS_ID)
                .sharing(CacheSharing::Locked)
                .into(),
        ];
        let name = format!("install.system_packages {}", names.join(", "));
        self.exec_step(span, &name, script, mounts)?;
        Ok(())
    }

    /// Shell lines that set `py` to the image's Python or fail clearly.
    fn find_python(&self, span: &Span, what: &str) -> String {
        format!(
            "py=\"$(command -v python || command -v python3 || true)\"\n[ -n \"$py\" ] || {{ echo {} >&2; exit 127; }}",
            shell::quote(&self.failure(
                span,
                &format!("{what} needs python or python3 on the base image's PATH")
            ))
        )
    }

    /// A build-time failure message naming the build.envd line.
    fn failure(&self, span: &Span, message: &str) -> String {
        format!(
            "envd-frontend: {}:{}: {message}",
            self.options.filename, span.line
        )
    }
}
