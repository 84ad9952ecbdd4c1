//! The base's platform against the build's: BuildKit takes a
//! single-platform image whatever platform is asked for, so a base for
//! another architecture would silently give a mislabelled image. A base
//! whose programs the build's platform runs natively is a warning
//! (`InvalidBaseImagePlatform`, as the Dockerfile frontend names it); any
//! other is an error at the call that chose the image.

use std::ops::Range;

use crate::diagnostics::{Diagnostic, SourceText};
use crate::lint::INVALID_BASE_IMAGE_PLATFORM;
use crate::llb::Platform;

use super::image_config::ImageConfig;

/// The install base's name in messages.
pub(super) const INSTALL_BASE: &str = "install base";

/// Which image is checked, for messages: `base image`, [`INSTALL_BASE`].
pub(super) struct Checked<'a> {
    pub what: &'a str,
    pub reference: &'a str,
    /// The build arg that chose the image, when a site setting did.
    pub set_by: Option<String>,
}

/// A warning when the base fits the build's platform only loosely, an
/// error when the build's platform does not run its programs.
pub(super) fn check(
    source: &SourceText,
    at: Range<usize>,
    image: &Checked<'_>,
    config: &ImageConfig,
    target: &Platform,
) -> Result<Option<Diagnostic>, Diagnostic> {
    let Checked {
        what,
        reference,
        set_by,
    } = image;
    let chosen = set_by
        .as_ref()
        .map(|arg| format!(" (set by --build-arg {arg})"))
        .unwrap_or_default();
    let warning = |message: String, help: String| {
        Ok(Some(
            Diagnostic::warning(
                &INVALID_BASE_IMAGE_PLATFORM,
                source,
                Some(at.clone()),
                message,
            )
            .with_help(help),
        ))
    };
    let Some(found) = config.platform() else {
        return warning(
            format!(
                "{what} {reference}{chosen} names no platform in its config, so it cannot be checked against {target}"
            ),
            "an OCI image config names its os and architecture; rebuild or re-import the image with them (`docker import --platform`)".to_string(),
        );
    };
    if found.normalized() == target.normalized() {
        return Ok(None);
    }
    if target.runs(&found) {
        // The Dockerfile frontend's wording, so users find the rule.
        return warning(
            format!(
                "{what} {reference}{chosen} was pulled with platform \"{found}\", expected \"{target}\" for current build"
            ),
            format!(
                "{target} runs {found} programs, so the image works, but it is not built for {target}; name an image built for {target}"
            ),
        );
    }
    Err(Diagnostic::error(
        source,
        Some(at),
        // The headline is all buildx shows: it says why and what to do.
        format!(
            "{what} {reference}{chosen} is for {found}, and this build is for {target}: {target} does not run {found} programs, so the image would hold {found} programs under a {target} label (use a base with a {target} build, or --platform {found})"
        ),
    )
    .with_help(format!(
        "{target} does not run {found} programs: the steps would run them as {found} (under emulation or natively), install {found} packages, and the result would be an image labelled {target} that holds {found} programs"
    ))
    .with_help(if *what == INSTALL_BASE {
        format!(
            "point ENVD_INSTALL_BASE at an image with a {target} build, or build for {found} (--platform {found})"
        )
    } else {
        format!(
            "use an image that has a {target} build (a multi-platform image, or one per platform with --build-arg ENVD_BASE_IMAGE_<NAME>=IMAGE), or build for {found} (--platform {found})"
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(platform: &str) -> ImageConfig {
        let mut config = ImageConfig::default();
        if !platform.is_empty() {
            config.set_platform(&Platform::parse(platform).unwrap());
        }
        config
    }

    fn run(image_platform: &str, target: &str) -> Result<Option<Diagnostic>, Diagnostic> {
        let source = SourceText::new("build.envd", "base(os=\"x\")\n");
        check(
            &source,
            0..12,
            &Checked {
                what: "base image",
                reference: "local/x:1",
                set_by: Some("ENVD_BASE_IMAGE".to_string()),
            },
            &config(image_platform),
            &Platform::parse(target).unwrap(),
        )
    }

    #[test]
    fn same_platform_in_any_spelling_is_silent() {
        assert!(run("linux/amd64", "linux/amd64").unwrap().is_none());
        assert!(run("linux/arm64", "linux/arm64/v8").unwrap().is_none());
        assert!(run("linux/aarch64", "linux/arm64").unwrap().is_none());
    }

    #[test]
    fn natively_runnable_platforms_warn_in_the_dockerfile_frontend_words() {
        let warning = run("linux/386", "linux/amd64").unwrap().unwrap();
        assert_eq!(warning.rule, Some(&INVALID_BASE_IMAGE_PLATFORM));
        assert!(
            warning.render().contains(
                "base image local/x:1 (set by --build-arg ENVD_BASE_IMAGE) was pulled with platform \"linux/386\", expected \"linux/amd64\" for current build"
            ),
            "{}",
            warning.render()
        );
        assert!(run("linux/arm/v7", "linux/arm64").unwrap().is_some());
    }

    #[test]
    fn another_architecture_is_an_error_naming_both() {
        let error = run("linux/amd64", "linux/arm64").unwrap_err();
        let text = error.render();
        assert!(error.rule.is_none());
        assert!(
            text.contains("is for linux/amd64, and this build is for linux/arm64"),
            "{text}"
        );
        assert!(text.contains("--platform linux/amd64"), "{text}");
        assert!(run("windows/amd64", "linux/amd64").is_err());
    }

    #[test]
    fn a_config_without_platform_is_a_warning() {
        let warning = run("", "linux/amd64").unwrap().unwrap();
        assert!(warning.render().contains("names no platform"));
    }
}
