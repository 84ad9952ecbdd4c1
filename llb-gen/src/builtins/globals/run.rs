//! `run(commands, mount_host)`: each command a step, run by `/bin/sh -c`
//! on the image with the pip cache mounted; with `mount_host=True`, the
//! build context is mounted at the working directory for those commands
//! (writable, the writes thrown away), as envd did, and not copied in.
//! envd ran commands in `/home/envd/<environment>`; images without a
//! working directory get the context there, at [`MOUNT_HOST_FALLBACK`].
//! envd v1's `run` ([`V1`]) is one step per call: its commands as one
//! `bash` script under `set -euo pipefail`, always in that folder.

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, ONLY_V0, ONLY_V1, Param, Params, Recording, Spec,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lint;
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
    tools: &[],
    syntaxes: ONLY_V0,
    record,
};

/// envd v1's `run(commands, mount_host)`.
pub static V1: Spec = Spec {
    summary: "the commands of a call as one bash script (`set -euo pipefail`), a step per call",
    syntaxes: ONLY_V1,
    record: record_v1,
    ..SPEC
};

/// Where `mount_host` mounts the context on an image whose working
/// directory is `/`. envd named the folder after the client's folder,
/// which BuildKit does not send.
pub const MOUNT_HOST_FALLBACK: &str = crate::lower::DEV_FOLDER;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Run {
    pub command: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mount_host: bool,
    /// envd v1's run: a bash script in [`MOUNT_HOST_FALLBACK`].
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub v1: bool,
}

fn record_v1(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let commands = checked_commands(args, recording)?;
    recording.step(
        Run {
            command: commands.join("\n"),
            mount_host: args.bool("mount_host"),
            v1: true,
        }
        .into(),
    )
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let commands = checked_commands(args, recording)?;
    let mount_host = args.bool("mount_host");
    for command in commands {
        recording.step(
            Run {
                command,
                mount_host,
                v1: false,
            }
            .into(),
        )?;
    }
    Ok(())
}

/// The commands of a call, each checked and the ones a builtin does
/// better warned about.
fn checked_commands(
    args: &Args,
    recording: &mut dyn Recording,
) -> Result<Vec<String>, BuiltinError> {
    let commands = args.str_list("commands");
    if commands.is_empty() {
        return Err(BuiltinError::new("run(): `commands` is empty")
            .help("e.g. run(commands=[\"pip install -e /detectron2\"])"));
    }
    if commands.iter().any(|c| c.trim().is_empty()) {
        return Err(BuiltinError::new("run(): a command is empty"));
    }
    let v1 = args.spec().syntaxes == ONLY_V1;
    for command in &commands {
        // v1 names apt's builtin apt_packages, and builds no conda yet.
        let builtin = builtin_for(command).and_then(|builtin| match (v1, builtin) {
            (true, APT) => Some(APT_V1),
            (true, CONDA) => None,
            (_, builtin) => Some(builtin),
        });
        if let Some(builtin) = builtin {
            // Located from its first character: the text is verbatim in
            // the call when found, so the range ends on a character.
            let shown = command.trim();
            let at = recording
                .locate_in_argument(shown, 0)
                .map(|start| start.start..start.start + shown.len());
            recording.warn_at(
                &lint::RUN_INSTEAD_OF_BUILTIN,
                at,
                format!(
                    "run(): {:?} {}; {} does that with a download cache",
                    one_line(command),
                    builtin.does,
                    builtin.name
                ),
                builtin.help,
            );
        }
    }
    Ok(commands)
}

impl Lower for Run {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let name = format!("run {}", one_line(&self.command));
        let mut mounts = vec![lowering.pip_cache()];
        let mut cwd = lowering.exec_config.working_dir().to_string();
        let mut script = self.command.clone();
        if self.v1 {
            lowering.settle_dev_ownership()?;
            cwd = MOUNT_HOST_FALLBACK.to_string();
            script = format!(
                "exec bash -c {}",
                crate::lower::shell::quote(&format!("set -euo pipefail\n{}\n", self.command))
            );
        }
        if self.mount_host {
            // The root cannot be a mount: an image without a working
            // directory gets envd's home for its environments.
            if cwd == "/" {
                cwd = MOUNT_HOST_FALLBACK.to_string();
            }
            let context = lowering.context(span, "run", &[".".to_string()])?;
            mounts.push(BindMount::new(cwd.clone(), &context).writable().into());
        }
        // envd v1 runs them as its user in a dev image.
        let user = if self.v1 { lowering.run_user() } else { None };
        lowering.exec_step_as(span, &name, script, mounts, &cwd, user.as_deref())
    }

    fn context_paths(&self) -> Vec<&str> {
        if self.mount_host { vec!["."] } else { vec![] }
    }

    fn builtin(&self) -> Option<&'static Spec> {
        self.v1.then_some(&V1)
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

/// The builtin that does what a shell command does, for
/// [`lint::RUN_INSTEAD_OF_BUILTIN`].
#[derive(Debug, PartialEq, Eq)]
struct Instead {
    name: &'static str,
    does: &'static str,
    help: &'static str,
}

const PIP: Instead = Instead {
    name: "install.python_packages()",
    does: "installs Python packages from an index",
    help: "write install.python_packages(name=[...]) or install.python_packages(requirements=\"...\"): its downloads stay in a cache mount that variants share, and ENVD_PIP_INDEX applies",
};
const APT: Instead = Instead {
    name: "install.system_packages()",
    does: "installs Debian packages",
    help: "write install.system_packages(name=[...]): apt's downloads stay in a cache mount, and config.apt_source applies",
};
const APT_V1: Instead = Instead {
    name: "install.apt_packages()",
    does: "installs Debian packages",
    help: "write install.apt_packages(name=[...]): apt's downloads stay in a cache mount, and config.apt_source applies",
};
const CONDA: Instead = Instead {
    name: "install.conda_packages()",
    does: "installs conda packages",
    help: "write install.conda_packages(name=[...]): conda's package cache is a cache mount, and config.conda_channel applies",
};

/// pip options that take a value (the value is not a package).
const PIP_VALUE_OPTIONS: &[&str] = &[
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--trusted-host",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--src",
    "--upgrade-strategy",
    "--cache-dir",
    "--log",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--cert",
    "--client-cert",
    "--global-option",
    "--config-settings",
    "-C",
    "--no-binary",
    "--only-binary",
    "--progress-bar",
    "--use-deprecated",
    "--use-feature",
    "--report",
    "--python",
    "--log-file",
    "--root-user-action",
    "--keyring-provider",
];

/// Options before a subcommand that take a value (apt's `-o`, `-c`, `-t`;
/// pip's global ones), so the value is not taken for the subcommand.
const GLOBAL_VALUE_OPTIONS: &[&str] = &[
    "-o",
    "-c",
    "-t",
    "--proxy",
    "--timeout",
    "--retries",
    "--cache-dir",
    "--log",
    "--python",
    "--prefix",
    "-p",
    "-n",
    "--name",
];

/// Whether `command` installs packages a builtin installs with a cache:
/// `pip install` of index packages or a requirements file (not of local
/// paths, as the seed's `pip install -e /detectron2`), `apt-get install`,
/// `conda install`. Each part of a `&&`/`;`/`|` chain is read alone.
fn builtin_for(command: &str) -> Option<Instead> {
    // A line continued with `\` is one command.
    command
        .replace("\\\n", " ")
        .split(['\n', ';', '&', '|'])
        .find_map(|part| {
            let words: Vec<&str> = part
                .split_whitespace()
                .map(|w| w.trim_matches(['"', '\'']))
                .collect();
            // `sudo` (with its flags) and `VAR=value` prefixes run the
            // same program.
            let mut words = words.as_slice();
            loop {
                match words {
                    ["sudo", rest @ ..] => {
                        words = rest;
                        while let [flag, rest @ ..] = words
                            && flag.starts_with('-')
                        {
                            words = rest;
                        }
                    }
                    [assignment, rest @ ..]
                        if assignment.contains('=') && !assignment.starts_with('-') =>
                    {
                        words = rest
                    }
                    _ => break,
                }
            }
            let (program, rest) = words.split_first()?;
            let program = program.rsplit('/').next().unwrap_or(program);
            let (program, rest) = match (program, rest) {
                (p, ["-m", module, rest @ ..]) if p.starts_with("python") => (*module, rest),
                _ => (program, rest),
            };
            let install_args = after_subcommand(rest, "install")?;
            if program == "pip" || program.starts_with("pip3") {
                pip_installs_from_index(install_args).then_some(PIP)
            } else if matches!(program, "apt-get" | "apt" | "aptitude") {
                install_args
                    .iter()
                    .any(|a| !a.starts_with('-'))
                    .then_some(APT)
            } else if matches!(program, "conda" | "mamba" | "micromamba") {
                install_args
                    .iter()
                    .any(|a| !a.starts_with('-'))
                    .then_some(CONDA)
            } else {
                None
            }
        })
}

/// The arguments after subcommand `name`, past options before it
/// (`apt-get -y install`, `pip --no-cache-dir install`); `None` when the
/// command's subcommand is another.
fn after_subcommand<'a>(args: &'a [&'a str], name: &str) -> Option<&'a [&'a str]> {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if *arg == name {
            return args.get(i + 1..);
        }
        if !arg.starts_with('-') {
            return None;
        }
        i += if GLOBAL_VALUE_OPTIONS.contains(arg) {
            2
        } else {
            1
        };
    }
    None
}

/// Whether pip's install arguments name a requirements file or a package
/// from an index (not only local paths, wheels or editable checkouts).
fn pip_installs_from_index(args: &[&str]) -> bool {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if matches!(*arg, "-r" | "--requirement") || arg.starts_with("--requirement=") {
            return true;
        }
        if PIP_VALUE_OPTIONS.contains(arg) {
            args.next();
            continue;
        }
        // pip takes an argument with a `/` for a path.
        let local = arg.starts_with(['.', '~', '$'])
            || arg.contains('/')
            || arg.ends_with(".whl")
            || arg.ends_with(".tar.gz")
            || arg.ends_with(".zip");
        if !arg.starts_with('-') && !local {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_installs_a_builtin_does_with_a_cache() {
        for (command, expected) in [
            ("pip install numpy==1.24", Some(PIP)),
            ("python3 -m pip install -r requirements.txt", Some(PIP)),
            ("cd /srv && pip3 install --no-cache-dir torch", Some(PIP)),
            (
                "DEBIAN_FRONTEND=noninteractive apt-get install -y libgl1",
                Some(APT),
            ),
            ("sudo apt install -y git", Some(APT)),
            ("conda install -y -c conda-forge faiss-cpu", Some(CONDA)),
            ("/opt/conda/bin/mamba install numpy", Some(CONDA)),
            ("apt-get -y -o Dpkg::Use-Pty=0 install git", Some(APT)),
            (
                "sudo -E python -m pip --no-cache-dir install six",
                Some(PIP),
            ),
            ("pip install --no-cache-dir \\\n  numpy", Some(PIP)),
        ] {
            assert_eq!(builtin_for(command), expected, "{command}");
        }
    }

    #[test]
    fn local_installs_and_other_commands_are_fine() {
        for command in [
            "pip install -e /detectron2",
            "pip install ./dist/model-1.0-py3-none-any.whl",
            "pip install --upgrade-strategy eager /src",
            "pip install src/ vendor/pkg",
            "pip install --no-cache-dir \\\n  -e /x",
            "pip install --use-feature truststore ./pkg",
            "apt-get -o Dpkg::Options=x update",
            "pip list",
            "apt-get update",
            "apt-get install",
            "conda env list",
            "echo pip install numpy > notes.txt",
        ] {
            assert_eq!(builtin_for(command), None, "{command}");
        }
    }
}
