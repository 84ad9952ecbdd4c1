//! A build: the request compiled for each platform, its warnings shown,
//! a solve per platform, and the result with its image configs; or, when
//! `ENVD_FRONTEND_EXPORT=dockerfile` asks, each platform's Dockerfile as
//! the file `/Dockerfile` of its result.

use std::collections::HashMap;
use std::sync::Arc;

use envd_proto::gateway::{self, result};
use envd_proto::{metadata, pb};
use llb_gen::compile::compile_platforms;
use llb_gen::diagnostics::Diagnostic;
use llb_gen::llb::{FileOp, Mkfile, Platform, State, WithOpOptions};

use crate::bridge::Bridge;
use crate::error::FrontendError;
use crate::options::{Export, REPORT_ARG, TEST_PANIC_ARG};
use crate::report::{self, Timeline};
use crate::request::Request;

/// Compiles the request for each platform, shows the warnings, solves
/// each platform's graph and returns the images with their configs.
pub async fn build(
    bridge: &Arc<Bridge>,
    request: Request,
    timeline: &mut Timeline,
) -> Result<gateway::Result, FrontendError> {
    let report = report::requested(
        request
            .options
            .build_args
            .get(REPORT_ARG)
            .map(String::as_str),
    )?;
    let export = request.options.export;
    let mut options = request.compile_options(bridge);
    if export == Some(Export::Dockerfile) {
        options = llb_gen::export::compile_options(options);
    }
    let export_options = options.clone();
    let (files, resolver) = request.lookups(bridge);
    let text = request.text.clone();
    let platforms = request.platforms.clone();
    // The compiler waits on bridge calls, so it runs off the runtime's thread.
    let mut compiled = tokio::task::spawn_blocking(move || {
        panic_if_asked(&options.lower.build_args);
        compile_platforms(&text, &options, &platforms, &files, &resolver)
    })
    .await
    .map_err(|e| FrontendError::from_join(e, "the compiler"))?
    .map_err(FrontendError::Build)?;
    let mut dockerfiles = vec![];
    if export == Some(Export::Dockerfile) {
        for (platform, build) in &compiled.builds {
            let options = export_options.clone().platform(platform.clone());
            let exported = llb_gen::export::dockerfile(&request.text, &options, build)
                .map_err(FrontendError::Build)?;
            compiled.warnings.extend(exported.warnings);
            dockerfiles.push(exported.dockerfile);
        }
    }
    // The first graph's Solve is sent next.
    timeline.mark("compiled");
    // Each warning once (a platform's own, its base's platform, names it):
    // a `Warn` message for clients that show them, and a step for every
    // client.
    send_warnings(bridge, &compiled.warnings).await;
    crate::progress::show_warnings(bridge, &compiled.warnings)
        .await
        .map_err(|e| FrontendError::Internal(format!("showing warnings: {e}")))?;
    let mut built: Vec<(Platform, String, Option<Vec<u8>>)> = vec![];
    if !dockerfiles.is_empty() {
        for ((platform, _), dockerfile) in compiled.builds.into_iter().zip(dockerfiles) {
            let state = dockerfile_state(dockerfile)?;
            let reference = bridge
                .solve(state.marshal(), &[])
                .await
                .map_err(FrontendError::daemon("solve"))?;
            built.push((platform, reference, None));
        }
        timeline.mark("return");
        return Ok(result_of(built, request.options.platforms.len() > 1));
    }
    for (platform, compiled) in compiled.builds {
        let missing = bridge.missing_llb_caps(&compiled.definition);
        if !missing.is_empty() {
            return Err(crate::caps::missing_llb_caps(
                &compiled.definition,
                &missing,
                &request.filename(),
                &request.text,
            ));
        }
        let reference = bridge
            .solve(compiled.definition, &request.options.cache_imports)
            .await
            .map_err(FrontendError::daemon("solve"))?;
        let mut config = compiled.lowered.config;
        for (key, value) in &request.options.labels {
            config.set_label(key, value);
        }
        let config =
            serde_json::to_vec(&config).map_err(|e| FrontendError::Internal(e.to_string()))?;
        built.push((platform, reference, Some(config)));
    }
    timeline.mark("return");
    if let (true, Some(line)) = (report, timeline.render()) {
        report::show(bridge, &line)
            .await
            .map_err(|e| FrontendError::Internal(format!("showing the report: {e}")))?;
    }
    Ok(result_of(built, request.options.platforms.len() > 1))
}

/// A file system holding only `/Dockerfile`.
fn dockerfile_state(dockerfile: String) -> Result<State, FrontendError> {
    FileOp::new(&State::scratch())
        .mkfile(Mkfile::new("/Dockerfile", dockerfile).mode(0o644))
        .custom_name("Dockerfile exported from the build file")
        .build()
        .map_err(|e| FrontendError::Internal(e.to_string()))
}

/// Shows build file warnings in the client's output, with their excerpts.
async fn send_warnings(bridge: &Bridge, warnings: &[Diagnostic]) {
    for warning in warnings {
        let detail = warning.to_errdefs();
        let info = pb::SourceInfo {
            filename: detail.info.filename,
            data: detail.info.data,
            language: detail.info.language,
            definition: None,
        };
        let position = |p: &envd_proto::errdefs::Position| pb::Position {
            line: p.line,
            character: p.character,
        };
        let ranges = detail
            .ranges
            .iter()
            .map(|r| pb::Range {
                start: Some(position(&r.start)),
                end: Some(position(&r.end)),
            })
            .collect();
        bridge
            .warn(crate::bridge::Warning {
                message: warning.message.clone(),
                detail: warning
                    .notes
                    .iter()
                    .map(|note| note.message.clone())
                    .collect(),
                url: warning.rule.map(|rule| rule.url()).unwrap_or_default(),
                info: Some(info),
                ranges,
            })
            .await;
    }
}

/// The suite's trigger (see [`TEST_PANIC_ARG`]).
fn panic_if_asked(build_args: &std::collections::BTreeMap<String, String>) {
    if build_args.get(TEST_PANIC_ARG).is_some_and(|v| v == "1") {
        panic!("{TEST_PANIC_ARG}=1 asked for a panic");
    }
}

/// One ref with its config, or (for several platforms) a ref map with a
/// config per platform and the `refs.platforms` list. An export has no
/// config.
fn result_of(built: Vec<(Platform, String, Option<Vec<u8>>)>, multi: bool) -> gateway::Result {
    let mut metadata: HashMap<String, Vec<u8>> = HashMap::new();
    if !multi && let Some((_, reference, config)) = built.first().cloned() {
        if let Some(config) = config {
            metadata.insert(metadata::CONTAINER_IMAGE_CONFIG.to_string(), config);
        }
        return gateway::Result {
            metadata,
            result: Some(result::Result::Ref(gateway::Ref {
                id: reference,
                def: None,
            })),
            ..Default::default()
        };
    }
    let mut refs = HashMap::new();
    let mut listed = vec![];
    for (platform, reference, config) in built {
        let id = platform.to_string();
        if let Some(config) = config {
            metadata.insert(
                format!("{}{id}", metadata::CONTAINER_IMAGE_CONFIG_PREFIX),
                config,
            );
        }
        let mut platform_json =
            serde_json::json!({"os": platform.os, "architecture": platform.architecture});
        if let Some(variant) = &platform.variant {
            platform_json["variant"] = serde_json::json!(variant);
        }
        listed.push(serde_json::json!({"ID": id, "Platform": platform_json}));
        refs.insert(
            id,
            gateway::Ref {
                id: reference,
                def: None,
            },
        );
    }
    metadata.insert(
        metadata::REFS_PLATFORMS.to_string(),
        serde_json::json!({"Platforms": listed})
            .to_string()
            .into_bytes(),
    );
    gateway::Result {
        metadata,
        result: Some(result::Result::Refs(gateway::RefMap { refs })),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multi_platform_results() {
        let single = result_of(
            vec![(
                Platform::new("linux", "amd64"),
                "r1".into(),
                Some(b"{}".to_vec()),
            )],
            false,
        );
        assert!(matches!(single.result, Some(result::Result::Ref(ref r)) if r.id == "r1"));
        assert_eq!(single.metadata["containerimage.config"], b"{}");

        let multi = result_of(
            vec![
                (
                    Platform::new("linux", "amd64"),
                    "r1".into(),
                    Some(b"{\"a\":1}".to_vec()),
                ),
                (
                    Platform::parse("linux/arm64/v8").unwrap(),
                    "r2".into(),
                    Some(b"{\"a\":2}".to_vec()),
                ),
            ],
            true,
        );
        let Some(result::Result::Refs(map)) = &multi.result else {
            panic!("expected refs")
        };
        assert_eq!(map.refs["linux/arm64/v8"].id, "r2");
        assert_eq!(
            multi.metadata["containerimage.config/linux/amd64"],
            b"{\"a\":1}"
        );
        let platforms: serde_json::Value =
            serde_json::from_slice(&multi.metadata["refs.platforms"]).unwrap();
        assert_eq!(platforms["Platforms"][1]["Platform"]["variant"], "v8");
        assert_eq!(platforms["Platforms"][0]["ID"], "linux/amd64");
    }
}
