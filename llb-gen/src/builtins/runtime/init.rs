//! `runtime.init`: runs commands when envd starts the environment.
//! Accepted so envd files load; it puts nothing in an image.

use crate::builtins::{Args, BOTH, BuiltinError, Params, Recording, Spec, dev_only};

pub static SPEC: Spec = Spec {
    name: "runtime.init",
    summary: "nothing in the image (accepted with a warning): runs commands when envd starts the environment",
    params: Params::Any,
    once: false,
    tools: &[],
    syntaxes: BOTH,
    record,
};

fn record(_: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    dev_only(&SPEC, recording)
}
