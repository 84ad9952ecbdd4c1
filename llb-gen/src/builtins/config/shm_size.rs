//! `config.shm_size`: sets the shared memory size when envd runs the environment.
//! Accepted so envd files load; it puts nothing in an image.

use crate::builtins::{Args, BOTH, BuiltinError, Params, Recording, Spec, dev_only};

pub static SPEC: Spec = Spec {
    name: "config.shm_size",
    summary: "nothing in the image (accepted with a warning): sets the shared memory size when envd runs the environment",
    params: Params::Any,
    once: false,
    tools: &[],
    syntaxes: BOTH,
    record,
};

fn record(_: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    dev_only(&SPEC, recording)
}
