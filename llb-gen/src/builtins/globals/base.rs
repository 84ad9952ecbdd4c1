//! `base(os, language, image)`: the base image, and the Python it must
//! have; envd v1's `base(image, dev)` ([`V1`]). Lowering starts from it
//! (see `lower::base`), so it records a base request rather than a step.

use crate::builtins::{Args, BuiltinError, Kind, ONLY_V0, ONLY_V1, Param, Params, Recording, Spec};
use crate::ir::{BaseRequest, OtherLanguage, PythonRequest};
use crate::lint;

pub static SPEC: Spec = Spec {
    name: "base",
    summary: "base image and Python version",
    params: Params::Declared(&[
        Param::positional(
            "os",
            Kind::Str,
            "a name from the base table, the seed's `ubuntu20.4` spelling, or an image reference",
        ),
        Param::positional(
            "language",
            Kind::Str,
            "`python`, `python3` or `python3.X`: the Python the image must have; or `r`, `julia`: the base must have R or Julia",
        ),
        Param::named("image", Kind::Str, "an image reference, instead of `os`"),
    ]),
    once: false,
    tools: &[],
    syntaxes: ONLY_V0,
    record,
};

/// envd v1's `base(image="ubuntu:22.04", dev=False)`.
pub static V1: Spec = Spec {
    name: "base",
    summary: "base image (envd v1)",
    params: Params::Declared(&[
        Param::positional(
            "image",
            Kind::Str,
            "an image reference (default `ubuntu:22.04`)",
        ),
        Param::positional(
            "dev",
            Kind::Bool,
            "envd's development image: its user `envd` and folder, without its interactive tools",
        ),
    ]),
    once: false,
    tools: &[],
    syntaxes: ONLY_V1,
    record: record_v1,
};

/// envd v1's base image when `base()` names none.
pub const V1_DEFAULT_IMAGE: &str = "ubuntu:22.04";

fn record_v1(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let dev = args.bool("dev");
    if dev {
        recording.warn(
            &lint::NO_EFFECT_IN_IMAGE,
            "base(dev=True): the image gets envd's user `envd`, its folder and environment; envd's development tools (its apt packages such as sudo and vim, envd-sshd, horust, starship, the shell prompt) are not built".to_string(),
            "they serve envd's interactive environments (envd up), not an image; install what the image needs with install.apt_packages",
        );
    }
    let image = args
        .str("image")
        .filter(|image| !image.trim().is_empty())
        .unwrap_or_else(|| V1_DEFAULT_IMAGE.to_string());
    recording.base(BaseRequest {
        image,
        python: None,
        other_language: None,
        cuda: None,
        dev,
        owner: None,
    });
    Ok(())
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let image = match (args.str("os"), args.str("image")) {
        (Some(os), Some(image)) if os != image => {
            return Err(BuiltinError::new(format!(
                "base(): `os` ({os:?}) and `image` ({image:?}) both name the base"
            ))
            .help("give one of them"));
        }
        (Some(image), _) | (None, Some(image)) => image,
        (None, None) => {
            return Err(
                BuiltinError::new("base(): missing argument `os` (or `image`)")
                    .help("e.g. base(os=\"aiges_cpu\", language=\"python3.8\")"),
            );
        }
    };
    if image.trim().is_empty() {
        return Err(BuiltinError::new("base(): the base image name is empty"));
    }
    let language = args.str("language");
    let other_language = language.as_deref().and_then(OtherLanguage::parse);
    let python = match (&language, other_language) {
        (Some(language), None) => Some(
            PythonRequest::parse(language)
                .map_err(|e| BuiltinError::new(format!("base(): {}", e.message)).help(e.help))?,
        ),
        _ => None,
    };
    recording.base(BaseRequest {
        image,
        python,
        other_language,
        cuda: None,
        dev: false,
        owner: None,
    });
    Ok(())
}
