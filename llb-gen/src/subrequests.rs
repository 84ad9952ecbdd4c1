//! Answers to BuildKit's subrequests (`--call targets|outline|check`,
//! buildx 0.13's `--print=...`), in the result formats of BuildKit's
//! Dockerfile frontend (`frontend/subrequests`): JSON for clients that
//! render it, and the text buildx 0.13 prints as it is.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::builtins::{Step, Tool};
use crate::compile::{CompileOptions, build_source, compile_platforms, evaluate_bounded};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceText};
use crate::ir::Located;
use crate::lang::{self, FileOutline};
use crate::llb::Platform;
use crate::lower::downloads::DOWNLOAD_MIRRORS_ARG;
use crate::lower::{
    BaseResolver, CONDA_CHANNEL_ARG, ContextFiles, INSTALL_BASE_ARG, OVERRIDE_ANY, PIP_INDEX_ARG,
    PYTHON_VERSION_ARG, describe_setting, override_arg, table_image, table_name,
};
use crate::validate::mask_logins;

pub const DESCRIBE: &str = "frontend.subrequests.describe";
pub const OUTLINE: &str = "frontend.outline";
pub const TARGETS: &str = "frontend.targets";
pub const LINT: &str = "frontend.lint";

/// A subrequest this frontend answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subrequest {
    Describe,
    Targets,
    Outline,
    Lint,
}

impl Subrequest {
    /// The subrequest of BuildKit's request id (`frontend.outline`); `None`
    /// for one this frontend does not answer.
    pub fn from_id(id: &str) -> Option<Subrequest> {
        Some(match id {
            DESCRIBE => Subrequest::Describe,
            TARGETS => Subrequest::Targets,
            OUTLINE => Subrequest::Outline,
            LINT => Subrequest::Lint,
            _ => return None,
        })
    }
}

/// What a subrequest reads: the build file, the compile a build would run
/// (its target, build args, includes and bounds), the platforms it builds,
/// and where context files and base images are looked up.
pub struct Inputs<'a> {
    pub text: &'a str,
    pub options: &'a CompileOptions,
    pub platforms: &'a [Platform],
    pub files: &'a dyn ContextFiles,
    pub resolver: &'a dyn BaseResolver,
    /// The caller's own settings, listed after the compiler's in an outline.
    pub settings: Vec<OutlineArg>,
}

/// The answer to `request`, the same for the frontend and `llb-gen --call`.
/// A build file that does not evaluate is the error (for `lint`, the
/// result's error instead: its findings so far, then the error).
pub fn answer(request: Subrequest, inputs: &Inputs) -> Result<Answer, Diagnostics> {
    let filename = &inputs.options.lower.filename;
    Ok(match request {
        Subrequest::Describe => describe(),
        Subrequest::Targets => targets(filename, inputs.text).map_err(Diagnostics::from)?,
        Subrequest::Outline => {
            let mut outline = outline(filename, inputs.text, inputs.options)?;
            outline.args.extend(inputs.settings.iter().cloned());
            outline.answer()
        }
        Subrequest::Lint => {
            let compiled = compile_platforms(
                inputs.text,
                inputs.options,
                inputs.platforms,
                inputs.files,
                inputs.resolver,
            );
            lint(compiled.as_ref().map(|c| c.warnings.as_slice()))
        }
    })
}

/// Every subrequest's definition version (BuildKit's are all 1.0.0).
const VERSION: &str = "1.0.0";

/// A subrequest's result: BuildKit returns it as metadata, with no image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub json: String,
    pub text: String,
    /// `--call check`'s exit status (1 when there are findings).
    pub status_code: Option<u8>,
}

impl Answer {
    fn new(json: &Value, text: String) -> Answer {
        Answer {
            json: serde_json::to_string_pretty(json).unwrap_or_default(),
            text,
            status_code: None,
        }
    }

    /// The result metadata: `result.json`, `result.txt`, `version`, and for
    /// lint `result.statuscode`.
    pub fn metadata(&self) -> Vec<(String, Vec<u8>)> {
        let mut metadata = vec![
            ("result.json".to_string(), self.json.clone().into_bytes()),
            ("result.txt".to_string(), self.text.clone().into_bytes()),
            ("version".to_string(), VERSION.as_bytes().to_vec()),
        ];
        if let Some(code) = self.status_code {
            metadata.push((
                "result.statuscode".to_string(),
                code.to_string().into_bytes(),
            ));
        }
        metadata
    }
}

/// The subrequests this frontend answers.
pub fn describe() -> Answer {
    let metadata = |extra: &[&str]| -> Value {
        ["result.json", "result.txt"]
            .iter()
            .chain(extra)
            .map(|name| json!({"name": name, "description": ""}))
            .collect()
    };
    let requests = [
        (
            OUTLINE,
            "List the build args and site settings the build target reads",
            json!([{"name": "target", "description": "The function to outline (default `build`)"}]),
            metadata(&[]),
        ),
        (
            TARGETS,
            "List the functions a build can name as its target",
            json!([]),
            metadata(&[]),
        ),
        (
            LINT,
            "Check build.envd with the lint rules, without building",
            json!([{"name": "target", "description": "The function to check (default `build`)"}]),
            metadata(&["result.statuscode"]),
        ),
        (
            DESCRIBE,
            "List available subrequest types",
            Value::Null,
            metadata(&[]),
        ),
    ];
    let list: Vec<Value> = requests
        .iter()
        .map(|(name, description, opts, metadata)| {
            json!({
                "name": name, "version": VERSION, "type": "rpc", "description": description,
                "opts": opts, "inputs": null, "metadata": metadata, "refs": null,
            })
        })
        .collect();
    let rows: Vec<Vec<String>> = requests
        .iter()
        .map(|(name, description, _, _)| {
            vec![
                name.trim_start_matches("frontend.").to_string(),
                VERSION.to_string(),
                description.to_string(),
            ]
        })
        .collect();
    Answer::new(
        &Value::Array(list),
        table(&["NAME", "VERSION", "DESCRIPTION"], &rows, 1),
    )
}

/// The functions of build.envd a build can name with `--target`.
pub fn targets(filename: &str, text: &str) -> Result<Answer, Diagnostic> {
    let source = build_source(filename, text);
    let outline = lang::outline(&source)?;
    let targets: Vec<Value> = outline
        .targets
        .iter()
        .map(|t| {
            let mut target = json!({"name": t.name, "location": location(&source, &t.span, 0)});
            if t.default {
                target["default"] = json!(true);
            }
            if let Some(description) = &t.description {
                target["description"] = json!(description);
            }
            target
        })
        .collect();
    let rows: Vec<Vec<String>> = outline
        .targets
        .iter()
        .map(|t| {
            let name = if t.default {
                format!("{} (default)", t.name)
            } else {
                t.name.clone()
            };
            vec![name, t.description.clone().unwrap_or_default()]
        })
        .collect();
    Ok(Answer::new(
        &json!({"targets": targets, "sources": [base64(source.text())]}),
        table(&["TARGET", "DESCRIPTION"], &rows, 1),
    ))
}

/// One build arg of an outline: read by build.envd, or a site setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutlineArg {
    pub name: String,
    pub value: Option<String>,
    pub description: String,
    /// Where build.envd reads it, or the call it applies to.
    pub span: Option<std::ops::Range<usize>>,
}

/// The outline of one target: its description, the build args build.envd
/// reads, and the site settings that apply to what it builds.
#[derive(Clone, Debug)]
pub struct Outline {
    source: SourceText,
    target: String,
    description: Option<String>,
    pub args: Vec<OutlineArg>,
}

/// Outlines `options.target` (default `build`): the file is evaluated
/// (within the options' bounds) to learn which site settings apply.
pub fn outline(
    filename: &str,
    text: &str,
    options: &CompileOptions,
) -> Result<Outline, Diagnostics> {
    let source = build_source(filename, text);
    let FileOutline {
        targets,
        build_args,
    } = lang::outline(&source)?;
    let target = options
        .target
        .clone()
        .unwrap_or_else(|| lang::DEFAULT_TARGET.to_string());
    let args_given = &options.lower.build_args;
    let evaluated = evaluate_bounded(&source, options)?;
    let mut args: Vec<OutlineArg> = build_args
        .into_iter()
        .map(|read| OutlineArg {
            // Logins in URLs are never shown (build args may hold one).
            value: args_given
                .get(&read.name)
                .cloned()
                .or(read.default)
                .map(|v| mask_logins(&v)),
            description: read.description.unwrap_or_default(),
            span: Some(read.span),
            name: read.name,
        })
        .collect();
    args.extend(site_settings(&evaluated.spec, args_given));
    Ok(Outline {
        description: targets
            .into_iter()
            .find(|t| t.name == target)
            .and_then(|t| t.description),
        source,
        target,
        args,
    })
}

/// The `ENVD_*` settings that change what this build makes.
fn site_settings(
    spec: &crate::plan::BuildSpec,
    given: &BTreeMap<String, String>,
) -> Vec<OutlineArg> {
    let value = |name: &str| given.get(name).map(|v| mask_logins(v));
    let base_span = Some(spec.base.span.range());
    let mut settings = vec![OutlineArg {
        name: OVERRIDE_ANY.to_string(),
        value: value(OVERRIDE_ANY),
        description: describe_setting(OVERRIDE_ANY).to_string(),
        span: base_span.clone(),
    }];
    if let Some(name) = table_name(&spec.base.value.image) {
        let arg = override_arg(name);
        settings.push(OutlineArg {
            value: value(&arg).or_else(|| table_image(name, given)),
            description: format!("the image of base name {name}"),
            span: base_span.clone(),
            name: arg,
        });
    }
    settings.push(OutlineArg {
        name: INSTALL_BASE_ARG.to_string(),
        value: value(INSTALL_BASE_ARG),
        description: describe_setting(INSTALL_BASE_ARG).to_string(),
        span: None,
    });
    if spec.base.value.python.is_some() {
        settings.push(OutlineArg {
            name: PYTHON_VERSION_ARG.to_string(),
            value: value(PYTHON_VERSION_ARG),
            description: describe_setting(PYTHON_VERSION_ARG).to_string(),
            span: base_span,
        });
    }
    // Run steps get the mirror too (as PIP_INDEX_URL).
    let uses = |tool: Tool| move |step: &&Located<Step>| step.value.spec().tools.contains(&tool);
    let pip_step = spec.steps.iter().find(|step| match &step.value {
        Step::Run(run) => run.command.contains("pip"),
        _ => uses(Tool::Pip)(step),
    });
    let conda_step = spec.steps.iter().find(uses(Tool::Conda));
    if let Some(step) = conda_step {
        settings.push(OutlineArg {
            name: CONDA_CHANNEL_ARG.to_string(),
            value: value(CONDA_CHANNEL_ARG),
            description: describe_setting(CONDA_CHANNEL_ARG).to_string(),
            span: Some(step.span.range()),
        });
    }
    if let Some(step) = spec.steps.iter().find(uses(Tool::Download)) {
        settings.push(OutlineArg {
            name: DOWNLOAD_MIRRORS_ARG.to_string(),
            value: value(DOWNLOAD_MIRRORS_ARG),
            description: describe_setting(DOWNLOAD_MIRRORS_ARG).to_string(),
            span: Some(step.span.range()),
        });
    }
    if let Some(step) = pip_step {
        settings.push(OutlineArg {
            name: PIP_INDEX_ARG.to_string(),
            value: value(PIP_INDEX_ARG),
            description: describe_setting(PIP_INDEX_ARG).to_string(),
            span: Some(step.span.range()),
        });
    }
    settings
}

impl Outline {
    /// The answer, as BuildKit's Dockerfile frontend gives it.
    pub fn answer(&self) -> Answer {
        let args: Vec<Value> = self
            .args
            .iter()
            .map(|arg| {
                let mut value = json!({"name": arg.name});
                if !arg.description.is_empty() {
                    value["description"] = json!(arg.description);
                }
                if let Some(v) = &arg.value {
                    value["value"] = json!(v);
                }
                if let Some(span) = &arg.span {
                    value["location"] = location(&self.source, span, 0);
                }
                value
            })
            .collect();
        let mut result = json!({"name": self.target, "sources": [base64(self.source.text())]});
        if let Some(description) = &self.description {
            result["description"] = json!(description);
        }
        if !args.is_empty() {
            result["args"] = Value::Array(args);
        }
        let mut text = table(&["TARGET:", &self.target], &[], 1);
        if let Some(description) = &self.description {
            text = table(
                &["TARGET:", &self.target],
                &[vec!["DESCRIPTION:".to_string(), description.clone()]],
                1,
            );
        }
        text.push('\n');
        if !self.args.is_empty() {
            let rows: Vec<Vec<String>> = self
                .args
                .iter()
                .map(|a| {
                    vec![
                        a.name.clone(),
                        a.value.clone().unwrap_or_default(),
                        a.description.clone(),
                    ]
                })
                .collect();
            text.push_str(&table(&["BUILD ARG", "VALUE", "DESCRIPTION"], &rows, 3));
            text.push('\n');
        }
        Answer::new(&result, text)
    }
}

/// The lint results: every warning of the build (each belongs to a rule),
/// and the error that stopped it, if one did. `findings` is the compile's
/// outcome: its warnings, or its diagnostics (warnings, then the error).
pub fn lint(findings: Result<&[Diagnostic], &Diagnostics>) -> Answer {
    let (mut warnings, error): (Vec<&Diagnostic>, Option<&Diagnostic>) = match findings {
        Ok(warnings) => (warnings.iter().collect(), None),
        Err(diagnostics) => (
            diagnostics.0.iter().filter(|d| d.rule.is_some()).collect(),
            diagnostics.first_error(),
        ),
    };
    // In file order, as BuildKit lists lint warnings (evaluation finds
    // some, lowering the others).
    warnings.sort_by_key(|d| (d.source.name().to_string(), d.line()));
    // Sources in the order diagnostics first point into them.
    let mut sources: Vec<&SourceText> = vec![];
    let mut indexed: Vec<(usize, &Diagnostic)> = vec![];
    for d in warnings.iter().copied().chain(error) {
        let index = match sources.iter().position(|s| **s == d.source) {
            Some(index) => index,
            None => {
                sources.push(&d.source);
                sources.len() - 1
            }
        };
        indexed.push((index, d));
    }
    let at = |index: usize, d: &Diagnostic| match &d.span {
        Some(span) => location(&d.source, span, index),
        None => json!({"sourceIndex": index}),
    };
    let warning_json: Vec<Value> = indexed
        .iter()
        .filter(|(_, d)| d.rule.is_some())
        .map(|(index, d)| {
            let rule = d.rule.map_or(("", "", String::new()), |r| {
                (r.name, r.description, r.url())
            });
            json!({
                "ruleName": rule.0, "description": rule.1, "url": rule.2,
                "detail": d.message, "location": at(*index, d),
            })
        })
        .collect();
    let mut result = json!({
        "warnings": if warning_json.is_empty() { Value::Null } else { Value::Array(warning_json) },
        "sources": sources.iter().map(|s| json!({
            "filename": s.name(),
            "data": base64(s.text()),
            "language": crate::diagnostics::language_of(s.name()),
        })).collect::<Vec<_>>(),
    });
    let mut text = String::new();
    for d in &warnings {
        text.push_str(&lint_text(d));
    }
    if let Some((index, error)) = indexed.iter().find(|(_, d)| d.rule.is_none()) {
        result["buildError"] = json!({"message": error.message, "location": at(*index, error)});
        text.push_str(&format!("\nERROR: {}", error.render()));
    }
    let count = warnings.len();
    text.push_str(&match (count, error) {
        (0, None) => "Check complete, no warnings found.\n".to_string(),
        (0, Some(_)) => "Check complete: build.envd does not compile.\n".to_string(),
        (n, _) => format!(
            "\nCheck complete, {n} warning{} found.\n",
            if n == 1 { "" } else { "s" }
        ),
    });
    let mut answer = Answer::new(&result, text);
    answer.status_code = Some(u8::from(count > 0 || error.is_some()));
    answer
}

/// One finding as BuildKit prints lint warnings: rule and URL, the detail,
/// then the file with the lines around it.
fn lint_text(d: &Diagnostic) -> String {
    let mut out = String::from("\nWARNING: ");
    if let Some(rule) = d.rule {
        out.push_str(&format!("{} - {}\n", rule.name, rule.url()));
    }
    out.push_str(&d.message);
    out.push('\n');
    if let Some(line) = d.line() {
        let lines: Vec<&str> = d.source.text().split('\n').collect();
        let (first, last) = (line.saturating_sub(2).max(1), (line + 2).min(lines.len()));
        out.push_str(&format!(
            "{}:{line}\n--------------------\n",
            d.source.name()
        ));
        for n in first..=last {
            let marker = if n == line { ">>>" } else { "   " };
            let text = lines
                .get(n - 1)
                .copied()
                .unwrap_or("")
                .trim_end_matches('\r');
            out.push_str(&format!(" {n:>3} | {marker} {text}\n"));
        }
        out.push_str("--------------------\n");
    }
    out
}

/// A `pb.Location`: 1-based lines, 0-based characters.
fn location(source: &SourceText, span: &std::ops::Range<usize>, index: usize) -> Value {
    let position = |offset: usize| {
        let (line, col) = source.line_col(offset);
        json!({"line": line, "character": col - 1})
    };
    json!({
        "sourceIndex": index,
        "ranges": [{"start": position(span.start), "end": position(span.end.max(span.start))}],
    })
}

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Columns padded as Go's tabwriter pads them (minimum width 0, `padding`
/// spaces after the widest cell); the last column is not padded.
fn table(header: &[&str], rows: &[Vec<String>], padding: usize) -> String {
    let all: Vec<Vec<&str>> = std::iter::once(header.to_vec())
        .chain(rows.iter().map(|r| r.iter().map(String::as_str).collect()))
        .collect();
    let columns = header.len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            all.iter()
                .map(|row| row.get(c).map_or(0, |cell| cell.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &all {
        for (c, cell) in row.iter().enumerate() {
            if c + 1 < columns {
                let pad = widths[c] + padding - cell.chars().count();
                out.push_str(cell);
                out.push_str(&" ".repeat(pad));
            } else {
                out.push_str(cell);
            }
        }
        out.push('\n');
    }
    out
}
