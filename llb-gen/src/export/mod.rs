//! A compiled build as a Dockerfile, for builders that cannot run a
//! BuildKit frontend (Podman, Buildah, dockerd's built-in frontend): the
//! graph's ops become stages and instructions, each under a
//! `# build.envd:LINE` comment, and the image config the build returns
//! becomes the instructions that set it. What a Dockerfile cannot say is an
//! error at the line that needs it.
//!
//! The export assumes of the base image only what the compile saw: offline
//! (`llb-gen`), a base without settings but BuildKit's PATH. Steps'
//! variables are written as changes (`ENV PATH="${PATH}:..."`), and a
//! folder or user only where a step's differs from the base's, so a base
//! with its own settings keeps them, as it does under envd-frontend.

mod config;
mod files;
mod graph;
mod run;
mod stages;
mod syntax;

use std::collections::{BTreeMap, BTreeSet};

use crate::compile::{CompileOptions, Compiled, build_source};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceText};
use crate::lint::EXPORT_DIFFERS;
use crate::lower::ImageConfig;

use graph::Graph;
use stages::Stages;

/// The options a compile for export needs: the build context is the
/// Dockerfile builder's own, and files are copied onto the image (no merge
/// ops, which a Dockerfile cannot say).
pub fn compile_options(mut options: CompileOptions) -> CompileOptions {
    options.lower.dockerfile_export = true;
    options
        .merge_layers(false)
        .context(crate::lower::ContextSource::default())
}

/// The exported Dockerfile, and the steps it may do differently.
#[derive(Debug)]
pub struct Exported {
    pub dockerfile: String,
    pub warnings: Vec<Diagnostic>,
}

/// Something found while exporting, at the build file line it concerns:
/// an error (nothing is written), or a warning (`ExportDiffers`).
#[derive(Debug)]
struct Finding {
    line: Option<usize>,
    message: String,
}

impl Finding {
    fn at(line: Option<usize>, message: impl Into<String>) -> Finding {
        Finding {
            line,
            message: message.into(),
        }
    }
}

/// What the Dockerfile gives a stage's steps, as far as written so far:
/// the environment (`ENV` and `ARG`), folder and user.
#[derive(Clone, Debug, Default)]
struct Settings {
    /// Variables the image keeps (the base's and `ENV`'s).
    env: BTreeMap<String, String>,
    /// Variables only steps see (`ARG`).
    args: BTreeMap<String, String>,
    workdir: String,
    user: String,
}

/// A config's or a step's user, where an empty one means root.
fn user_or_root(user: &str) -> &str {
    if user.is_empty() { "root" } else { user }
}

/// `KEY=VALUE` entries as pairs, in order.
fn env_pairs(env: &[String]) -> Vec<(String, String)> {
    env.iter()
        .map(|kv| {
            let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
            (key.to_string(), value.to_string())
        })
        .collect()
}

/// The base of the image as the compile saw it, and what the final config
/// keeps.
struct Assumed {
    settings: Settings,
    /// build.envd (or an override) named the base by digest: the FROM
    /// keeps it. Otherwise the digest the compile resolved is a comment,
    /// and the builder resolves the tag itself (an image moved into
    /// another builder has another digest).
    base_pinned: bool,
    /// Variables the final image has: set with `ENV` when steps change them.
    image_env: BTreeSet<String>,
    /// Why the base cannot be a Dockerfile's FROM, if it cannot.
    base_refused: Option<String>,
}

/// Writes `compiled` (compiled from `text` with [`compile_options`]) as a
/// Dockerfile.
pub fn dockerfile(
    text: &str,
    options: &CompileOptions,
    compiled: &Compiled,
) -> Result<Exported, Diagnostics> {
    let source = build_source(&options.lower.filename, text);
    let failed = |finding: Finding| Diagnostics(vec![locate(&source, finding)]);
    let lowered = &compiled.lowered;
    let graph = Graph::decode(&compiled.definition)
        .map_err(|message| failed(Finding::at(None, message)))?;
    let Some(root) = graph.root.clone() else {
        return Err(failed(Finding::at(None, "the build is empty")));
    };
    let base = &lowered.base_config;
    let assumed = Assumed {
        settings: Settings {
            env: env_pairs(base.env()).into_iter().collect(),
            args: BTreeMap::new(),
            workdir: base.working_dir().to_string(),
            user: base.config.user.clone().unwrap_or_default(),
        },
        base_pinned: lowered.base_image.contains("@sha256:"),
        image_env: env_pairs(lowered.config.env())
            .into_iter()
            .map(|(key, _)| key)
            .collect(),
        base_refused: base_refused(base),
    };
    let filename = syntax::comment_text(&options.lower.filename);
    let platform = options.lower.platform.to_string();
    let mut stages = Stages::new(&graph, &filename, platform, &assumed);
    let (mut image, settings) = stages.image(&root).map_err(failed)?;
    image.extend(
        config::instructions(
            &lowered.config,
            base,
            &settings,
            &lowered.config_lines,
            &filename,
        )
        .map_err(failed)?,
    );
    let mut text = header(&filename, compiled, stages.reads_whole_context);
    for stage in &stages.written {
        text.push_str(stage);
        text.push_str("\n\n");
    }
    text.push_str(&image.join("\n"));
    text.push('\n');
    let warnings = stages
        .warnings
        .into_iter()
        .map(|warning| {
            Diagnostic::warning(
                &EXPORT_DIFFERS,
                &source,
                warning.line.map(|line| source.line_span(line)),
                warning.message,
            )
            .with_help("check this step's files in the image the Dockerfile builds")
        })
        .collect();
    Ok(Exported {
        dockerfile: text,
        warnings,
    })
}

/// Base image settings a Dockerfile's FROM applies and a BuildKit graph
/// does not: the export refuses them rather than build another image.
fn base_refused(base: &ImageConfig) -> Option<String> {
    let set = |field: &str| {
        base.config
            .other
            .get(field)
            .is_some_and(|value| !value.is_null() && value.as_array().is_none_or(|a| !a.is_empty()))
    };
    if set("OnBuild") {
        return Some("the base image has ONBUILD triggers, which a Dockerfile's FROM runs and this build does not".to_string());
    }
    if set("Shell") {
        return Some("the base image sets SHELL, which a Dockerfile's RUN uses where this build runs /bin/sh".to_string());
    }
    None
}

fn header(filename: &str, compiled: &Compiled, whole_context: bool) -> String {
    let mut text = format!(
        "# Exported by envd-frontend from {filename} (target {}): the image\n\
         # envd-frontend builds, for builders that cannot run a BuildKit frontend.\n\
         # Each instruction's comment names the line it comes from. Build it with\n\
         # the folder of {filename} as the context.\n",
        syntax::comment_text(&compiled.spec.target)
    );
    if whole_context {
        text.push_str(
            "# Steps read the whole context: keep this file out of it, or list it in\n\
             # .dockerignore (and .containerignore, which Podman reads first).\n",
        );
    }
    text.push('\n');
    text
}

fn locate(source: &SourceText, finding: Finding) -> Diagnostic {
    Diagnostic::error(
        source,
        finding.line.map(|line| source.line_span(line)),
        format!("cannot export a Dockerfile: {}", finding.message),
    )
    .with_help("build this file with envd-frontend (# syntax=aiges/envd-frontend)")
}
