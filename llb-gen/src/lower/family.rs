//! Base families (`--build-arg ENVD_INSTALL_BASE=aiges_cpu`): every step
//! runs on a lower image that the build's base extends, and the changes are
//! merged onto the base. CPU and GPU variants then share one install chain;
//! the cost is that steps no longer see the upper image's files or env.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::diagnostics::{Diagnostic, SourceText};
use crate::llb::{Diff, ImageRef, Merge, SourceLocation, State, WithOpOptions};

use super::image_config::ImageConfig;
use super::{BaseResolver, LowerOptions, base, base_platform};

/// `--build-arg ENVD_INSTALL_BASE=aiges_cpu` (a base name or an image
/// reference): run the build's steps on this image and merge their changes
/// onto the build's base, which must extend it.
pub const INSTALL_BASE_ARG: &str = "ENVD_INSTALL_BASE";

/// The install base reference, after the base table and its overrides;
/// `None` when the build arg is not given.
pub fn install_base_reference(
    build_args: &BTreeMap<String, String>,
) -> Result<Option<String>, Diagnostic> {
    let Some(value) = build_args.get(INSTALL_BASE_ARG) else {
        return Ok(None);
    };
    if let Some(image) = base::table_image(value, build_args) {
        return Ok(Some(image));
    }
    if base::is_image_reference(value) {
        return Ok(Some(value.clone()));
    }
    let source = SourceText::new(format!("--build-arg {INSTALL_BASE_ARG}"), value.clone());
    Err(Diagnostic::error(
        &source,
        Some(0..value.len()),
        format!("{value:?} is neither a base name nor an image reference"),
    )
    .with_help("e.g. aiges_cpu, or an image such as registry.local/aiges/cpu:1"))
}

/// What a base family starts from: the build's base and the install base.
pub(super) struct Request<'a> {
    pub source: &'a SourceText,
    /// The `base()` call, where family errors point.
    pub base_span: Range<usize>,
    pub options: &'a LowerOptions,
    pub resolver: &'a dyn BaseResolver,
    pub base_image: &'a str,
    pub base_config: &'a ImageConfig,
    pub install_base: String,
}

/// Where the steps run (the install base's state and config), and how the
/// build ends.
pub(super) struct Start {
    pub state: State,
    pub exec_config: ImageConfig,
    pub merge: FamilyMerge,
    /// The install base fits the build's platform only loosely.
    pub platform_warning: Option<Diagnostic>,
}

/// The steps ran on `lower` (the install base); their changes go onto `base`.
pub(super) struct FamilyMerge {
    install_base: String,
    lower: State,
    base: State,
}

impl FamilyMerge {
    /// The base with the changes `steps` made to the install base merged on.
    /// `op_name` names an op for progress output.
    pub(super) fn finish(
        self,
        steps: &State,
        base_image: &str,
        location: SourceLocation,
        op_name: impl Fn(&str) -> String,
    ) -> State {
        let changes = Diff::new(&self.lower, steps)
            .custom_name(op_name(&format!(
                "install base: changes made on {}",
                self.install_base
            )))
            .location(location.clone())
            .build();
        Merge::new([self.base, changes])
            .custom_name(op_name(&format!(
                "install base: changes merged onto {base_image}"
            )))
            .location(location)
            .build()
    }
}

/// Resolves the install base and checks that the base extends it.
/// `image_state` makes an image's source op.
pub(super) fn start(
    request: Request<'_>,
    base_state: State,
    image_state: impl Fn(&str, Option<String>) -> Result<State, Diagnostic>,
) -> Result<Start, Diagnostic> {
    let Request {
        source,
        base_span,
        options,
        resolver,
        base_image,
        base_config,
        install_base,
    } = request;
    let error = |message: String| {
        Diagnostic::error(source, Some(base_span.clone()), message).with_help(format!(
            "{INSTALL_BASE_ARG} names the image this base was built from; unset it to run the steps on the base itself"
        ))
    };
    if options.dockerfile_export {
        return Err(error(format!(
            "{INSTALL_BASE_ARG} makes a base family: the steps run on the install base and their changes are moved onto the runtime base with BuildKit's merge and diff ops, which a Dockerfile cannot say; export without {INSTALL_BASE_ARG}, or build with envd-frontend"
        )));
    }
    if !options.merge_layers {
        let since = envd_proto::caps::first_release(envd_proto::caps::llb::MERGE_OP)
            .map(|r| format!(": BuildKit {}, Docker {}", r.buildkit, r.docker))
            .unwrap_or_default();
        return Err(error(format!(
            "{INSTALL_BASE_ARG} needs BuildKit's merge and diff ops (caps `mergeop` and `diffop`{since}), which this daemon lacks"
        )));
    }
    let platform = &options.platform;
    let lower = resolver.resolve(&install_base, platform).map_err(|e| {
        error(format!(
            "cannot resolve install base {install_base} for {platform}: {e}"
        ))
    })?;
    let checked = base_platform::Checked {
        what: base_platform::INSTALL_BASE,
        reference: &install_base,
        set_by: Some(INSTALL_BASE_ARG.to_string()),
    };
    let platform_warning =
        base_platform::check(source, base_span.clone(), &checked, &lower.config, platform)?;
    check_extends(&lower.config, base_config).map_err(|why| {
        error(format!(
            "base {base_image} does not extend install base {install_base} ({INSTALL_BASE_ARG}): {why}"
        ))
    })?;
    let mut exec_config = lower.config;
    exec_config.set_platform(&options.platform);
    let lower_state = image_state(&install_base, lower.digest)?;
    Ok(Start {
        state: lower_state.clone(),
        exec_config,
        platform_warning,
        merge: FamilyMerge {
            install_base,
            lower: lower_state,
            base: base_state,
        },
    })
}

/// Whether two references name the same image (`ubuntu` and
/// `docker.io/library/ubuntu:latest` do).
pub fn same_image(a: &str, b: &str) -> bool {
    match (ImageRef::parse(a), ImageRef::parse(b)) {
        (Ok(a), Ok(b)) => a.to_string() == b.to_string(),
        _ => a == b,
    }
}

/// Why `upper` does not extend `lower`, judged by the layer chains in their
/// configs (`rootfs.diff_ids`): `lower`'s must begin `upper`'s.
pub fn check_extends(lower: &ImageConfig, upper: &ImageConfig) -> Result<(), String> {
    let lower_ids = lower.diff_ids();
    let upper_ids = upper.diff_ids();
    if lower_ids.is_empty() {
        return Err("the install base's config lists no layers (rootfs.diff_ids)".to_string());
    }
    if upper_ids.len() < lower_ids.len() {
        return Err(format!(
            "the base's layer chain ({}) is shorter than the install base's ({})",
            upper_ids.len(),
            lower_ids.len()
        ));
    }
    match lower_ids.iter().zip(&upper_ids).position(|(l, u)| l != u) {
        Some(index) => Err(format!(
            "layer {} differs: {} in the install base, {} in the base",
            index + 1,
            lower_ids[index],
            upper_ids[index]
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(ids: &[&str]) -> ImageConfig {
        serde_json::from_value(json!({"rootfs": {"type": "layers", "diff_ids": ids}})).unwrap()
    }

    fn args(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn upper_must_begin_with_the_lower_chain() {
        assert!(check_extends(&config(&["a", "b"]), &config(&["a", "b", "c"])).is_ok());
        assert!(check_extends(&config(&["a"]), &config(&["a"])).is_ok());
        assert_eq!(
            check_extends(&config(&["a", "b"]), &config(&["a", "x", "c"])).unwrap_err(),
            "layer 2 differs: b in the install base, x in the base"
        );
        assert!(check_extends(&config(&["a", "b"]), &config(&["a"])).is_err());
        assert!(check_extends(&config(&[]), &config(&["a"])).is_err());
    }

    #[test]
    fn same_image_compares_normalized_references() {
        assert!(same_image(
            "envd-test/cpu",
            "docker.io/envd-test/cpu:latest"
        ));
        assert!(!same_image("envd-test/cpu", "envd-test/gpu"));
    }

    #[test]
    fn install_base_names_references_and_errors() {
        assert_eq!(install_base_reference(&args(&[])).unwrap(), None);
        assert_eq!(
            install_base_reference(&args(&[
                ("ENVD_INSTALL_BASE", "aiges_cpu"),
                ("ENVD_BASE_IMAGE_AIGES_CPU", "local/cpu:1"),
            ]))
            .unwrap()
            .as_deref(),
            Some("local/cpu:1")
        );
        assert_eq!(
            install_base_reference(&args(&[("ENVD_INSTALL_BASE", "local/cpu:2")]))
                .unwrap()
                .as_deref(),
            Some("local/cpu:2")
        );
        let err = install_base_reference(&args(&[("ENVD_INSTALL_BASE", "cpu")])).unwrap_err();
        assert!(
            err.render()
                .starts_with("--build-arg ENVD_INSTALL_BASE:1:1: error: \"cpu\" is neither"),
            "{}",
            err.render()
        );
    }
}
