//! `data.envd`: an envd-managed data folder on the host, for `runtime.mount`.
//! Accepted so envd files load; it puts nothing in an image.

use crate::builtins::{Args, BOTH, BuiltinError, Params, Recording, Spec, dev_only};

pub static SPEC: Spec = Spec {
    name: "data.envd",
    summary: "nothing in the image (accepted with a warning): an envd-managed data folder on the host, for `runtime.mount`",
    params: Params::Any,
    once: false,
    tools: &[],
    syntaxes: BOTH,
    record,
};

fn record(_: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    dev_only(&SPEC, recording)
}
