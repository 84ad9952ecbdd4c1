//! `config.jupyter`: starts Jupyter in envd's development environment.
//! Accepted so envd files load; it puts nothing in an image.

use crate::builtins::{Args, BuiltinError, ONLY_V0, Params, Recording, Spec, dev_only};

pub static SPEC: Spec = Spec {
    name: "config.jupyter",
    summary: "nothing in the image (accepted with a warning): starts Jupyter in envd's development environment",
    params: Params::Any,
    once: false,
    tools: &[],
    syntaxes: ONLY_V0,
    record,
};

fn record(_: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    dev_only(&SPEC, recording)
}
