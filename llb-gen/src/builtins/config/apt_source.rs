//! `config.apt_source(source)`: `/etc/apt/sources.list`, replaced by the
//! given text.

use serde::Serialize;

use crate::builtins::{
    Args, BOTH, BuiltinError, Kind, Lower, Param, Params, Recording, Spec, warn_unused_mode,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::{Lowering, shell};

pub static SPEC: Spec = Spec {
    name: "config.apt_source",
    summary: "`/etc/apt/sources.list`",
    params: Params::Declared(&[
        Param::positional("source", Kind::Str, "the text of sources.list").required(),
        Param::named(
            "mode",
            Kind::Str,
            "accepted with a warning: envd never implemented it",
        ),
    ]),
    once: true,
    tools: &[],
    syntaxes: BOTH,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AptSource {
    pub source: String,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let source = args.required_str("source")?;
    if source.trim().is_empty() {
        return Err(BuiltinError::new(format!(
            "{}(): `source` is empty",
            SPEC.name
        )));
    }
    warn_unused_mode(&SPEC, args, recording);
    recording.step(AptSource { source }.into())?;
    Ok(())
}

impl Lower for AptSource {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let text = shell::dedent(&self.source);
        lowering.config_file(span, SPEC.name, "/etc/apt/sources.list", text)
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
