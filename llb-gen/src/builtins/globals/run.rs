//! `run(commands)`: each command a step, run by `/bin/sh -c` on the image
//! with the pip cache mounted.

use serde::Serialize;

use crate::builtins::{Args, BuiltinError, Kind, Lower, Param, Params, Recording, Spec};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;

pub static SPEC: Spec = Spec {
    name: "run",
    summary: "each command a step, run by `/bin/sh -c`",
    params: Params::Declared(&[Param::positional(
        "commands",
        Kind::StrList,
        "shell commands, each run as its own step",
    )]),
    once: false,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Run {
    pub command: String,
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
    for command in commands {
        recording.step(Run { command }.into())?;
    }
    Ok(())
}

impl Lower for Run {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let name = format!("run {}", one_line(&self.command));
        let mounts = vec![lowering.pip_cache()];
        lowering.exec_step(span, &name, self.command.clone(), mounts)
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
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
