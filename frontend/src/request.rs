//! One request, read once: the options, the build file, the context, the
//! repositories the file includes and the platforms, as BuildKit's
//! `dockerui` reads a Dockerfile build's inputs; and from them the one
//! compile description (and the lookups through BuildKit) that a build and
//! every subrequest share.

use std::collections::HashMap;
use std::sync::Arc;

use envd_proto::pb;
use llb_gen::compile::{CompileOptions, EvaluationBounds};
use llb_gen::includes::IncludedModules;
use llb_gen::limits::MAX_BUILD_FILE_BYTES;
use llb_gen::llb::{Local, Platform, State, WithOpOptions};
use llb_gen::lower::ContextSource;
use tokio::runtime::Handle;

use crate::bridge::Bridge;
use crate::context::{BridgeContext, BridgeResolver};
use crate::error::FrontendError;
use crate::options::Options;
use crate::report::Timeline;

pub struct Request {
    pub options: Options,
    /// build.envd as the client sent it.
    pub text: String,
    pub context: ContextSource,
    pub includes: IncludedModules,
    /// The platforms to build: those asked for, else the worker's first.
    pub platforms: Vec<Platform>,
}

/// What a request needs beyond the build file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// The build file alone (`targets` lists its functions).
    BuildFile,
    /// The build file and the repositories it includes (a compile).
    Includes,
}

impl Request {
    pub async fn read(
        bridge: &Arc<Bridge>,
        options: Options,
        reads: Reads,
        timeline: &mut Timeline,
    ) -> Result<Request, FrontendError> {
        let inputs = bridge
            .inputs()
            .await
            .map_err(FrontendError::daemon("reading frontend inputs"))?;
        let text = read_build_file(bridge, &options, &inputs).await?;
        timeline.mark("build_file");
        let context = context_of(&options, &inputs)?;
        let includes = match reads {
            Reads::BuildFile => IncludedModules::new(),
            Reads::Includes => {
                crate::includes::fetch(bridge, &text, &options.include_mirrors, &context).await
            }
        };
        let platforms = if options.platforms.is_empty() {
            vec![default_platform()]
        } else {
            options.platforms.clone()
        };
        Ok(Request {
            options,
            text,
            context,
            includes,
            platforms,
        })
    }

    /// The build file's name, as diagnostics show it (`build.envd`, not the
    /// path the client gave).
    pub fn filename(&self) -> String {
        let path = &self.options.filename;
        path.rsplit('/').next().unwrap_or(path).to_string()
    }

    /// The compile a build runs, for its first platform. Its evaluation is
    /// bounded on a thread of this process: envd-frontend ends after one
    /// request.
    pub fn compile_options(&self, bridge: &Bridge) -> CompileOptions {
        let options = &self.options;
        CompileOptions::default()
            .filename(self.filename())
            .target(options.target.clone())
            .platform(self.platforms[0].clone())
            .build_args(options.build_args.clone())
            .network(options.network)
            .resolve_mode(options.resolve_mode)
            .context(self.context.clone())
            .no_cache(options.no_cache)
            .merge_layers(bridge.merges_layers())
            .bounds(EvaluationBounds::Thread)
            .includes(self.includes.clone())
    }

    /// Where the compiler reads context files and base image configs: from
    /// BuildKit, waiting on the bridge from a blocking thread.
    pub fn lookups(&self, bridge: &Arc<Bridge>) -> (BridgeContext, BridgeResolver) {
        let runtime = Handle::current();
        let files = BridgeContext::new(
            bridge.clone(),
            runtime.clone(),
            self.context.clone(),
            self.options.cache_imports.clone(),
        );
        let resolver = BridgeResolver::new(
            bridge.clone(),
            runtime,
            self.options.resolve_mode,
            self.options.session_id.clone(),
        );
        (files, resolver)
    }
}

/// The build context: the input of that name, or the client's folder.
fn context_of(
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

/// Reads the build file as BuildKit's dockerui reads a Dockerfile: from the
/// input of that name, or from the client's `dockerfile` local, narrowed to
/// the one file.
async fn read_build_file(
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

/// The first platform of the first worker (`BUILDKIT_WORKERS`), else linux/amd64.
fn default_platform() -> Platform {
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
