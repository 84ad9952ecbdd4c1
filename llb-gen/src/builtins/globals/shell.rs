//! `shell`: sets the shell of envd's development environment.
//! Accepted so envd files load; it puts nothing in an image.

use crate::builtins::{Args, BOTH, BuiltinError, Params, Recording, Spec, dev_only};

pub static SPEC: Spec = Spec {
    name: "shell",
    summary: "nothing in the image (accepted with a warning): sets the shell of envd's development environment",
    params: Params::Any,
    once: false,
    tools: &[],
    syntaxes: BOTH,
    record,
};

fn record(_: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    dev_only(&SPEC, recording)
}
