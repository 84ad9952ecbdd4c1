//! `install.cuda(version, cudnn)`: the CUDA variant of the chosen base, as
//! envd did (it swapped the base for NVIDIA's CUDA development image).
//! Each variant is a base table name (`ubuntu22.04-cuda11.8.0-cudnn8`),
//! overridable like the others; `lower::base` resolves it.

use crate::builtins::{Args, BuiltinError, Kind, ONLY_V0, ONLY_V1, Param, Params, Recording, Spec};
use crate::ir::CudaRequest;

/// envd's cuDNN when `cudnn` is not given.
pub const DEFAULT_CUDNN: &str = "8";

pub static SPEC: Spec = Spec {
    name: "install.cuda",
    summary: "the CUDA variant of the base image (from the base table)",
    params: Params::Declared(&[
        Param::positional("version", Kind::Str, "CUDA version, e.g. `11.8.0`").required(),
        Param::positional(
            "cudnn",
            Kind::Str,
            "cuDNN major version; `8` when not given",
        ),
    ]),
    once: false,
    tools: &[],
    syntaxes: ONLY_V0,
    record,
};

/// envd v1's `install.cuda(version, cudnn="8")`: NVIDIA's CUDA image for
/// the base image (`docker.io/nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04`
/// for `ubuntu:22.04`; `devel` with `base(dev=True)`).
pub static V1: Spec = Spec {
    summary: "NVIDIA's CUDA image for the base image (envd v1)",
    syntaxes: ONLY_V1,
    ..SPEC
};

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let version = args.required_str("version")?;
    let cudnn = args
        .str("cudnn")
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| DEFAULT_CUDNN.to_string());
    let is_version = |v: &str| {
        !v.is_empty()
            && v.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    if !is_version(&version) {
        return Err(BuiltinError::new(format!(
            "{}(): `version` {version:?} is not a CUDA version",
            SPEC.name
        ))
        .help("e.g. install.cuda(version=\"11.8.0\", cudnn=\"8\")"));
    }
    if !is_version(&cudnn) {
        return Err(BuiltinError::new(format!(
            "{}(): `cudnn` {cudnn:?} is not a cuDNN version",
            SPEC.name
        )));
    }
    let v1 = args.spec().syntaxes == ONLY_V1;
    recording.cuda(CudaRequest { version, cudnn, v1 });
    Ok(())
}
