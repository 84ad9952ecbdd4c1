//! A compiled build as a Dockerfile, for builders that cannot run a
//! BuildKit frontend (Podman, Buildah, dockerd's built-in frontend): the
//! graph's ops become stages and instructions, each under a
//! `# build.envd:LINE` comment, and the image config the build returns
//! becomes the instructions that set it. What a Dockerfile cannot say is an
//! error at the line that needs it.
//!
//! The export assumes of the base image only what the compile saw: offline
//! (`llb-gen`), a base without settings. Steps' variables and folders are
//! written as changes (`ENV PATH="${PATH}:..."`, `cd`), so a base with its
//! own settings keeps them, as it does under envd-frontend.

mod files;
mod graph;
mod run;
mod stages;
mod syntax;

use std::collections::BTreeSet;

use crate::compile::{CompileOptions, Compiled, build_source};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceText};
use crate::lint::EXPORT_DIFFERS;
use crate::lower::{ImageConfig, setting_keys};

use graph::Graph;
use stages::{Assumed, ExportError, Settings, Stages};

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

/// Writes `compiled` (compiled from `text` with [`compile_options`]) as a
/// Dockerfile.
pub fn dockerfile(
    text: &str,
    options: &CompileOptions,
    compiled: &Compiled,
) -> Result<Exported, Diagnostics> {
    let source = build_source(&options.lower.filename, text);
    let at = |error: ExportError| locate(&source, error);
    let lowered = &compiled.lowered;
    let graph = Graph::decode(&compiled.definition).map_err(|message| {
        Diagnostics(vec![at(ExportError {
            line: None,
            message,
        })])
    })?;
    let Some(root) = graph.root.clone() else {
        return Err(Diagnostics(vec![at(ExportError {
            line: None,
            message: "the build is empty".to_string(),
        })]));
    };
    let base = &lowered.base_config;
    let assumed = Assumed {
        base_pinned: lowered.base_image.contains("@sha256:"),
        settings: Settings {
            env: base
                .env()
                .iter()
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (k.to_string(), v.to_string())
                })
                .collect(),
            args: Default::default(),
            workdir: base.working_dir().to_string(),
            user: base.config.user.clone().unwrap_or_default(),
        },
        image_env: lowered
            .config
            .env()
            .iter()
            .map(|kv| {
                kv.split_once('=')
                    .map_or(kv.as_str(), |(k, _)| k)
                    .to_string()
            })
            .collect(),
    };
    let filename = options.lower.filename.as_str();
    let platform = options.lower.platform.to_string();
    let mut stages = Stages::new(&graph, filename, platform, &assumed);
    let (mut image, settings) = stages
        .image(&root)
        .map_err(|error| Diagnostics(vec![at(error)]))?;
    let settings_lines = config_instructions(
        &lowered.config,
        base,
        &settings,
        &lowered.config_lines,
        filename,
    )
    .map_err(|error| Diagnostics(vec![at(error)]))?;
    image.extend(settings_lines);
    let mut text = header(filename, compiled);
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

fn header(filename: &str, compiled: &Compiled) -> String {
    format!(
        "# Exported by envd-frontend from {filename} (target {}): the image\n\
         # envd-frontend builds, for builders that cannot run a BuildKit frontend.\n\
         # Each instruction's comment names the line it comes from.\n\n",
        compiled.spec.target
    )
}

fn locate(source: &SourceText, error: ExportError) -> Diagnostic {
    Diagnostic::error(
        source,
        error.line.map(|line| source.line_span(line)),
        format!("cannot export a Dockerfile: {}", error.message),
    )
    .with_help("build this file with envd-frontend (# syntax=aiges/envd-frontend)")
}

/// The instructions that give the image the config the build returns,
/// where it differs from what the stage has: `ENV`, `ENTRYPOINT`, `CMD`,
/// `WORKDIR`, `USER`, `EXPOSE`, `LABEL`, each under the line of the step
/// that set it.
fn config_instructions(
    config: &ImageConfig,
    base: &ImageConfig,
    settings: &Settings,
    lines: &std::collections::BTreeMap<String, usize>,
    filename: &str,
) -> Result<Vec<String>, ExportError> {
    let wanted = setting_keys(config);
    let had = setting_keys(base);
    let mut out = vec![];
    let mut emit = |key: &str, instruction: String| {
        out.push(String::new());
        match lines.get(key) {
            Some(line) => out.push(format!("# {filename}:{line}")),
            None => out.push(format!("# {filename}")),
        }
        out.push(instruction);
    };
    let fail = |message: String| ExportError {
        line: None,
        message,
    };
    for kv in config.env() {
        let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
        let current = settings.env.get(key);
        if current.map(String::as_str) == Some(value) {
            continue;
        }
        let name = syntax::key(key).map_err(fail)?;
        let written = match current {
            Some(old) if value.starts_with(&format!("{old}:")) => {
                let rest = syntax::quoted(&value[old.len()..]).map_err(fail)?;
                format!("\"${{{key}}}{}", &rest[1..])
            }
            _ => syntax::quoted(value).map_err(fail)?,
        };
        emit(&format!("env:{key}"), format!("ENV {name}={written}"));
    }
    // ENTRYPOINT resets the base's CMD: CMD follows it whenever it is set.
    let entrypoint_set = wanted.get("entrypoint") != had.get("entrypoint");
    if entrypoint_set {
        let args = config.config.entrypoint.clone().unwrap_or_default();
        emit(
            "entrypoint",
            format!("ENTRYPOINT {}", syntax::json_array(&args)),
        );
    }
    if entrypoint_set || wanted.get("cmd") != had.get("cmd") {
        match &config.config.cmd {
            Some(cmd) => emit("cmd", format!("CMD {}", syntax::json_array(cmd))),
            None if entrypoint_set => {}
            None => emit("cmd", "CMD []".to_string()),
        }
    }
    let workdir = config.working_dir();
    if workdir != base.working_dir() {
        emit(
            "workdir",
            format!("WORKDIR {}", syntax::paths(&[workdir]).map_err(fail)?),
        );
    }
    let user = config.config.user.clone().unwrap_or_default();
    let user_now = if settings.user.is_empty() {
        "root"
    } else {
        settings.user.as_str()
    };
    let user_wanted = if user.is_empty() {
        "root"
    } else {
        user.as_str()
    };
    if user_now != user_wanted {
        emit("user", format!("USER {user_wanted}"));
    }
    for (key, value) in &wanted {
        if had.get(key) == Some(value) {
            continue;
        }
        if let Some(port) = key.strip_prefix("expose:") {
            emit(key, format!("EXPOSE {port}"));
        } else if let Some(label) = key.strip_prefix("label:") {
            emit(
                key,
                format!(
                    "LABEL {}={}",
                    syntax::key(label).map_err(fail)?,
                    syntax::quoted(value).map_err(fail)?
                ),
            );
        } else if let Some(field) = key.strip_prefix("config:") {
            return Err(fail(format!(
                "the image config's {field} ({value}) differs from the base image's, which this export does not write"
            )));
        }
    }
    let removed: BTreeSet<&String> = had
        .keys()
        .filter(|key| !wanted.contains_key(*key) && !key.starts_with("env:"))
        .collect();
    if let Some(key) = removed.into_iter().next() {
        return Err(fail(format!(
            "the build removes the base image's {key}, which a Dockerfile cannot"
        )));
    }
    Ok(out)
}
