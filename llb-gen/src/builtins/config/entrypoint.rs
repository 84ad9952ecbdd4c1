//! `config.entrypoint(args)`: the image's Entrypoint (and no Cmd). Calls
//! add up, as envd (v0 and v1) appended each call's args to one list.

use serde::Serialize;

use crate::builtins::{Args, BOTH, BuiltinError, Kind, Lower, Param, Params, Recording, Spec};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::{Lowering, shell};

pub static SPEC: Spec = Spec {
    name: "config.entrypoint",
    summary: "image Entrypoint (clears Cmd); each call adds its args",
    params: Params::Declared(&[Param::positional(
        "args",
        Kind::StrList,
        "the program and its arguments",
    )]),
    once: false,
    tools: &[],
    syntaxes: BOTH,
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
        lowering.entrypoint.extend(self.args.iter().cloned());
        let entrypoint = lowering.entrypoint.clone();
        lowering.config.set_entrypoint(&entrypoint);
        let title = format!("{} {}", SPEC.name, shell::join(&self.args));
        lowering.history(span, &title, true);
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
