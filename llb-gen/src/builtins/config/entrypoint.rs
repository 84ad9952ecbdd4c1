//! `config.entrypoint(args)`: the image's Entrypoint (and no Cmd).

use serde::Serialize;

use crate::builtins::{Args, BuiltinError, Kind, Lower, Param, Params, Recording, Spec};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::{Lowering, shell};

pub static SPEC: Spec = Spec {
    name: "config.entrypoint",
    summary: "image Entrypoint (clears Cmd)",
    params: Params::Declared(&[Param::positional(
        "args",
        Kind::StrList,
        "the program and its arguments",
    )]),
    once: true,
    tools: &[],
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entrypoint {
    pub args: Vec<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let args = args.str_list("args");
    if args.first().is_none_or(String::is_empty) {
        return Err(
            BuiltinError::new(format!("{}(): `args` must name a program", SPEC.name))
                .help("e.g. config.entrypoint([\"python\", \"/app/main.py\"])"),
        );
    }
    recording.step(Entrypoint { args }.into())?;
    Ok(())
}

impl Lower for Entrypoint {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.config.set_entrypoint(&self.args);
        let title = format!("{} {}", SPEC.name, shell::join(&self.args));
        lowering.history(span, &title, true);
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
