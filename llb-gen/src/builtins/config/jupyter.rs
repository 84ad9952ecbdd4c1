//! `config.jupyter`: starts Jupyter in envd's development environment.
//! envd 0.4's is accepted so envd files load; it puts nothing in an image.
//! envd v1's also pip-installs `jupyter` into the image (its
//! `compileJupyter`), which is built; the server is envd's, and a warning
//! says so.

use crate::builtins::install::python_packages::PythonPackages;
use crate::builtins::{
    Args, BuiltinError, Kind, ONLY_V0, ONLY_V1, Param, Params, Recording, Spec, Tool, dev_only,
};
use crate::lint;

pub static SPEC: Spec = Spec {
    name: "config.jupyter",
    summary: "nothing in the image (accepted with a warning): starts Jupyter in envd's development environment",
    params: Params::Any,
    once: false,
    tools: &[],
    syntaxes: ONLY_V0,
    record,
};

/// envd v1's `config.jupyter(token, port)`.
pub static V1: Spec = Spec {
    name: "config.jupyter",
    summary: "`pip install jupyter` (envd v1); the notebook server is envd's development environment's",
    params: Params::Declared(&[
        Param::positional(
            "token",
            Kind::Str,
            "the server's token (envd's server only)",
        ),
        Param::positional("port", Kind::Int, "the server's port (envd's server only)"),
    ]),
    once: false,
    tools: &[Tool::Pip],
    syntaxes: ONLY_V1,
    record: record_v1,
};

fn record(_: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    dev_only(&SPEC, recording)
}

fn record_v1(_: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    recording.warn(
        &lint::NO_EFFECT_IN_IMAGE,
        "config.jupyter(): jupyter is installed, as envd 1.x installed it; the notebook server envd started in its development environment is not (`token` and `port` are its)".to_string(),
        "to serve notebooks from the image, start the server with config.entrypoint([\"python3\", \"-m\", \"notebook\", \"--ip\", \"0.0.0.0\", ...])",
    );
    recording.step(
        PythonPackages {
            names: vec!["jupyter".to_string()],
            pip_options: vec![],
            requirements: None,
            local_wheels: vec![],
        }
        .into(),
    )
}
