//! envd v1's `config.owner(uid, gid)`: the ids of the user `envd` that
//! `base(dev=True)` makes. envd 1.x also owned the files it wrote by them;
//! files here are root's (a BuildKit frontend has no client user), so
//! without `base(dev=True)` the call changes nothing, and says so.
//! `plan::rules` folds it into the base.

use serde::Serialize;

use crate::builtins::{Args, BuiltinError, Kind, Lower, ONLY_V1, Param, Params, Recording, Spec};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;

pub static SPEC: Spec = Spec {
    name: "config.owner",
    summary: "the uid and gid of base(dev=True)'s user envd (envd v1)",
    params: Params::Declared(&[
        Param::positional("uid", Kind::Int, "the user's id").required(),
        Param::positional("gid", Kind::Int, "the user's group id").required(),
    ]),
    once: true,
    tools: &[],
    syntaxes: ONLY_V1,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let id = |name: &str| {
        let value = args.int(name).unwrap_or(-1);
        u32::try_from(value)
            .ok()
            .filter(|id| *id < 1 << 31)
            .ok_or_else(|| {
                BuiltinError::new(format!(
                    "{}(): `{name}` {value} is no user or group id",
                    SPEC.name
                ))
                .help("an id from 0 to 2147483647, e.g. config.owner(uid=1000, gid=1000)")
            })
    };
    let (uid, gid) = (id("uid")?, id("gid")?);
    recording.step(Owner { uid, gid }.into())
}

impl Lower for Owner {
    /// Nothing: `plan::rules` moves the ids to the base's dev user before
    /// lowering, and no Owner step reaches it.
    fn lower(&self, _: &mut Lowering<'_>, _: &Span) -> Result<(), Diagnostic> {
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
