//! `run(commands, mount_host)`: each command a step, run by `/bin/sh -c`
//! on the image with the pip cache mounted; with `mount_host=True`, the
//! build context is mounted at the working directory for those commands
//! (writable, the writes thrown away), as envd did, and not copied in.
//! envd ran commands in `/home/envd/<environment>`; images without a
//! working directory get the context there, at [`MOUNT_HOST_FALLBACK`].

use serde::Serialize;

use crate::builtins::{Args, BuiltinError, Kind, Lower, Param, Params, Recording, Spec};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::llb::BindMount;
use crate::lower::Lowering;

pub static SPEC: Spec = Spec {
    name: "run",
    summary: "each command a step, run by `/bin/sh -c`",
    params: Params::Declared(&[
        Param::positional(
            "commands",
            Kind::StrList,
            "shell commands, each run as its own step",
        ),
        Param::positional(
            "mount_host",
            Kind::Bool,
            "mount the build context at the working directory while they run",
        ),
    ]),
    once: false,
    record,
};

/// Where `mount_host` mounts the context on an image whose working
/// directory is `/`.
pub const MOUNT_HOST_FALLBACK: &str = "/home/envd/build-context";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Run {
    pub command: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mount_host: bool,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let commands = args.str_list("commands");
    if commands.is_empty() {
        return Err(BuiltinError::new("run(): `commands` is empty")
            .help("e.g. run(commands=[\"pip install -e /detectron2\"])"));
    }
    if commands.iter().any(|c| c.trim().is_empty()) {
        return Err(BuiltinError::new("run(): a command is empty"));
    }
    let mount_host = args.bool("mount_host");
    for command in commands {
        recording.step(
            Run {
                command,
                mount_host,
            }
            .into(),
        )?;
    }
    Ok(())
}

impl Lower for Run {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let name = format!("run {}", one_line(&self.command));
        let mut mounts = vec![lowering.pip_cache()];
        let mut cwd = lowering.exec_config.working_dir().to_string();
        if self.mount_host {
            // The root cannot be a mount: an image without a working
            // directory gets envd's home for its environments.
            if cwd == "/" {
                cwd = MOUNT_HOST_FALLBACK.to_string();
            }
            let context = lowering.context(span, "run", &[".".to_string()])?;
            mounts.push(BindMount::new(cwd.clone(), &context).writable().into());
        }
        lowering.exec_step_in(span, &name, self.command.clone(), mounts, &cwd)
    }

    fn context_paths(&self) -> Vec<&str> {
        if self.mount_host { vec!["."] } else { vec![] }
    }
}

/// The first line of a command, shortened for progress output.
fn one_line(command: &str) -> String {
    let first = command.trim().lines().next().unwrap_or("");
    let mut out: String = first.chars().take(80).collect();
    if first.chars().count() > 80 || command.trim().lines().count() > 1 {
        out.push_str(" ...");
    }
    out
}
