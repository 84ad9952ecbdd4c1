//! One build: options, the build file, the context, then a compile and a
//! solve per platform, and the result with its image configs.

use llb_gen::limits::MAX_BUILD_FILE_BYTES;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use envd_proto::gateway::{self, result};
use envd_proto::{metadata, pb};
use llb_gen::diagnostics::{Diagnostic, Diagnostics};
use llb_gen::lang::IncludedModules;
use llb_gen::llb::{Local, Platform, State, WithOpOptions};
use llb_gen::lower::{ContextSource, LowerOptions};
use llb_gen::{CompileOptions, Compiled, compile};
use tokio::runtime::Handle;

use crate::bridge::Bridge;
use crate::context::{BridgeContext, BridgeResolver};
use crate::error::FrontendError;
use crate::options::{OptionError, Options};
use crate::report::{self, REPORT_ARG, Timeline};

pub async fn build(
    bridge: Arc<Bridge>,
    options: Result<Options, OptionError>,
    probe: Option<PathBuf>,
    timeline: &mut Timeline,
) -> Result<gateway::Result, FrontendError> {
    let options = options?;
    let probe = probe.ok_or_else(|| {
        FrontendError::Internal("cannot find envd-frontend's own program".to_string())
    })?;
    let report = report::requested(options.build_args.get(REPORT_ARG).map(String::as_str))?;
    if let Some(request) = &options.request_id {
        return crate::subrequest::answer(&bridge, &options, &probe, request).await;
    }
    let inputs = bridge
        .inputs()
        .await
        .map_err(FrontendError::daemon("reading frontend inputs"))?;
    let text = read_build_file(&bridge, &options, &inputs).await?;
    timeline.mark("build_file");
    let context = context_of(&options, &inputs)?;
    let platforms = if options.platforms.is_empty() {
        vec![default_platform()]
    } else {
        options.platforms.clone()
    };

    let includes = crate::includes::fetch(&bridge, &text, &options.include_mirrors, &context).await;
    let mut built: Vec<(Platform, String, Vec<u8>)> = vec![];
    let mut shown: Vec<Diagnostic> = vec![];
    for (i, platform) in platforms.iter().enumerate() {
        // Evaluation does not depend on the platform: one probe is enough.
        let probe = (i == 0).then_some(probe.as_path());
        let compiled = compile_for(
            &bridge, &options, &text, &context, platform, probe, &includes,
        )
        .await?;
        if i == 0 {
            // The graph's Solve is sent next.
            timeline.mark("compiled");
        }
        // Most warnings are the same for every platform and shown once;
        // a platform's own (its base's platform) name it. Each shows as a
        // `Warn` message for clients that show them, and as a step for
        // every client.
        let new: Vec<Diagnostic> = compiled
            .warnings
            .iter()
            .filter(|w| !shown.contains(w))
            .cloned()
            .collect();
        send_warnings(&bridge, &new).await;
        crate::progress::show_warnings(&bridge, &new)
            .await
            .map_err(|e| FrontendError::Internal(format!("showing warnings: {e}")))?;
        shown.extend(new);
        let missing = bridge.missing_llb_caps(&compiled.definition);
        if !missing.is_empty() {
            return Err(crate::caps::missing_llb_caps(
                &compiled.definition,
                &missing,
                &build_file_name(&options),
                &text,
            ));
        }
        let reference = bridge
            .solve(compiled.definition.clone(), &options.cache_imports)
            .await
            .map_err(FrontendError::daemon("solve"))?;
        let mut config = compiled.lowered.config;
        for (key, value) in &options.labels {
            config.set_label(key, value);
        }
        let config =
            serde_json::to_vec(&config).map_err(|e| FrontendError::Internal(e.to_string()))?;
        built.push((platform.clone(), reference, config));
    }
    timeline.mark("return");
    if let (true, Some(line)) = (report, timeline.render()) {
        report::show(&bridge, &line)
            .await
            .map_err(|e| FrontendError::Internal(format!("showing the report: {e}")))?;
    }
    Ok(result_of(built, options.platforms.len() > 1))
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

/// The build context: the input of that name, or the client's folder.
pub(crate) fn context_of(
    options: &Options,
    inputs: &HashMap<String, pb::Definition>,
) -> Result<ContextSource, FrontendError> {
    Ok(match inputs.get(&options.context_key) {
        Some(def) => ContextSource::State(
            State::from_definition(def).map_err(|e| FrontendError::Internal(e.to_string()))?,
        ),
        None => ContextSource::Local {
            name: options.context_key.clone(),
            session_id: options.session_id.clone(),
        },
    })
}

pub(crate) async fn compile_for(
    bridge: &Arc<Bridge>,
    options: &Options,
    text: &str,
    context: &ContextSource,
    platform: &Platform,
    probe: Option<&Path>,
    includes: &IncludedModules,
) -> Result<Compiled, FrontendError> {
    let mut lower = LowerOptions::new(platform.clone());
    lower.filename = build_file_name(options);
    lower.network = options.network;
    lower.resolve_mode = options.resolve_mode;
    lower.context = context.clone();
    lower.build_args = options.build_args.clone();
    lower.no_cache = options.no_cache;
    lower.merge_layers = bridge.merges_layers();
    lower.platform_in_names = options.platforms.len() > 1;
    let compile_options = CompileOptions {
        target: options.target.clone(),
        lower,
        probe: probe.map(Path::to_path_buf),
        includes: includes.clone(),
    };
    let runtime = Handle::current();
    let files = BridgeContext::new(
        bridge.clone(),
        runtime.clone(),
        context.clone(),
        options.cache_imports.clone(),
    );
    let resolver = BridgeResolver::new(
        bridge.clone(),
        runtime,
        options.resolve_mode,
        options.session_id.clone(),
    );
    let text = text.to_string();
    // The compiler waits on bridge calls, so it runs off the runtime's thread.
    tokio::task::spawn_blocking(move || {
        panic_if_asked(&compile_options.lower.build_args);
        compile(&text, &compile_options, &files, &resolver)
    })
    .await
    .map_err(|e| FrontendError::from_join(e, "the compiler"))?
    .map_err(|diagnostics: Diagnostics| FrontendError::Build(diagnostics))
}

/// Build arg that makes the compiler's thread panic: the hidden trigger
/// the end-to-end suite uses to check that a panic reaches the client as
/// an error. No build file can set it.
pub const TEST_PANIC_ARG: &str = "ENVD_FRONTEND_TEST_PANIC";

fn panic_if_asked(build_args: &std::collections::BTreeMap<String, String>) {
    if build_args.get(TEST_PANIC_ARG).is_some_and(|v| v == "1") {
        panic!("{TEST_PANIC_ARG}=1 asked for a panic");
    }
}

/// Reads the build file as BuildKit's dockerui reads a Dockerfile: from the
/// input of that name, or from the client's `dockerfile` local, narrowed to
/// the one file.
pub(crate) async fn read_build_file(
    bridge: &Bridge,
    options: &Options,
    inputs: &HashMap<String, pb::Definition>,
) -> Result<String, FrontendError> {
    let def = match inputs.get(&options.dockerfile_key) {
        Some(def) => def.clone(),
        None => {
            let mut local = Local::new(options.dockerfile_key.clone())
                .follow_paths([options.filename.clone()])
                .shared_key_hint(options.filename.clone())
                .transfer_all(false)
                .custom_name(format!(
                    "[envd-frontend] load build definition from {}",
                    options.filename
                ));
            if let Some(session) = &options.session_id {
                local = local.session_id(session.clone());
            }
            local
                .build()
                .map_err(|e| FrontendError::Internal(e.to_string()))?
                .marshal()
        }
    };
    let reference = bridge
        .solve(def, &[])
        .await
        .map_err(FrontendError::daemon("loading the build file"))?;
    let bytes = bridge
        .read_file(&reference, &options.filename, MAX_BUILD_FILE_BYTES + 1)
        .await
        .map_err(FrontendError::daemon("reading the build file"))?
        .ok_or_else(|| FrontendError::MissingBuildFile(options.filename.clone()))?;
    String::from_utf8(bytes).map_err(|_| FrontendError::NotText(options.filename.clone()))
}

/// The build file's name, as diagnostics show it (`build.envd`, not the
/// path the client gave).
pub(crate) fn build_file_name(options: &Options) -> String {
    options
        .filename
        .rsplit('/')
        .next()
        .unwrap_or(&options.filename)
        .to_string()
}

/// The first platform of the first worker (`BUILDKIT_WORKERS`), else linux/amd64.
pub(crate) fn default_platform() -> Platform {
    let workers: serde_json::Value = std::env::var(envd_proto::opts::ENV_WORKERS)
        .ok()
        .and_then(|w| serde_json::from_str(&w).ok())
        .unwrap_or_default();
    let first = &workers[0]["platforms"][0];
    match (first["os"].as_str(), first["architecture"].as_str()) {
        (Some(os), Some(arch)) => Platform {
            variant: first["variant"]
                .as_str()
                .map(str::to_string)
                .filter(|v| !v.is_empty()),
            ..Platform::new(os, arch)
        },
        _ => Platform::new("linux", "amd64"),
    }
}

/// One ref with its config, or (for several platforms) a ref map with a
/// config per platform and the `refs.platforms` list.
fn result_of(built: Vec<(Platform, String, Vec<u8>)>, multi: bool) -> gateway::Result {
    let mut metadata: HashMap<String, Vec<u8>> = HashMap::new();
    if !multi && let Some((_, reference, config)) = built.first().cloned() {
        metadata.insert(metadata::CONTAINER_IMAGE_CONFIG.to_string(), config);
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
        metadata.insert(
            format!("{}{id}", metadata::CONTAINER_IMAGE_CONFIG_PREFIX),
            config,
        );
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
            vec![(Platform::new("linux", "amd64"), "r1".into(), b"{}".to_vec())],
            false,
        );
        assert!(matches!(single.result, Some(result::Result::Ref(ref r)) if r.id == "r1"));
        assert_eq!(single.metadata["containerimage.config"], b"{}");

        let multi = result_of(
            vec![
                (
                    Platform::new("linux", "amd64"),
                    "r1".into(),
                    b"{\"a\":1}".to_vec(),
                ),
                (
                    Platform::parse("linux/arm64/v8").unwrap(),
                    "r2".into(),
                    b"{\"a\":2}".to_vec(),
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
