//! `base(os, language, image)`: the base image, and the Python it must
//! have. Lowering starts from it (see `lower::base`), so it records a base
//! request rather than a step.

use crate::builtins::{Args, BuiltinError, Kind, Param, Params, Recording, Spec};
use crate::ir::{BaseRequest, OtherLanguage, PythonRequest};

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
    record,
};

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
    });
    Ok(())
}
