//! Subrequests (`--call targets|outline|check`, buildx 0.13's `--print=`):
//! answered from the build file and the compiler without solving the
//! build, as metadata in the formats of BuildKit's Dockerfile frontend.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use envd_proto::gateway;
use llb_gen::CompileOptions;
use llb_gen::diagnostics::{Diagnostic, Diagnostics};
use llb_gen::lang::IncludedModules;
use llb_gen::lower::{ContextSource, LowerOptions};
use llb_gen::subrequests::{self, Answer, OutlineArg};

use crate::bridge::Bridge;
use crate::build::{build_file_name, compile_for, context_of, default_platform, read_build_file};
use crate::error::FrontendError;
use crate::options::{INCLUDE_MIRRORS_ARG, LOOKUP_TIMEOUT_ARG, Options};
use crate::report::REPORT_ARG;

/// The result of subrequest `request`; an unknown one is BuildKit's
/// "unsupported request" error, which clients recognise.
pub async fn answer(
    bridge: &Arc<Bridge>,
    options: &Options,
    probe: &Path,
    request: &str,
) -> Result<gateway::Result, FrontendError> {
    let answer = match request {
        subrequests::DESCRIBE => subrequests::describe(),
        subrequests::TARGETS => {
            let inputs = inputs(bridge).await?;
            let text = read_build_file(bridge, options, &inputs).await?;
            subrequests::targets(&build_file_name(options), &text)
                .map_err(|d| FrontendError::Build(d.into()))?
        }
        subrequests::OUTLINE => outline(bridge, options, probe).await?,
        subrequests::LINT => lint(bridge, options, probe).await?,
        other => return Err(FrontendError::UnsupportedSubrequest(other.to_string())),
    };
    Ok(gateway::Result {
        metadata: answer.metadata().into_iter().collect(),
        ..Default::default()
    })
}

async fn inputs(
    bridge: &Bridge,
) -> Result<HashMap<String, envd_proto::pb::Definition>, FrontendError> {
    bridge
        .inputs()
        .await
        .map_err(FrontendError::daemon("reading frontend inputs"))
}

/// What a compile needs, as a build reads it: the build file, the
/// context, and the repositories the file includes.
async fn build_file_and_context(
    bridge: &Arc<Bridge>,
    options: &Options,
) -> Result<(String, ContextSource, IncludedModules), FrontendError> {
    let inputs = inputs(bridge).await?;
    let text = read_build_file(bridge, options, &inputs).await?;
    let context = context_of(options, &inputs)?;
    let includes = crate::includes::fetch(bridge, &text, &options.include_mirrors, &context).await;
    Ok((text, context, includes))
}

/// The target's build args and the site settings that apply, the
/// frontend's own settings included.
async fn outline(
    bridge: &Arc<Bridge>,
    options: &Options,
    probe: &Path,
) -> Result<Answer, FrontendError> {
    let (text, _, includes) = build_file_and_context(bridge, options).await?;
    let mut lower = LowerOptions::new(default_platform());
    lower.filename = build_file_name(options);
    lower.build_args = options.build_args.clone();
    let compile_options = CompileOptions {
        target: options.target.clone(),
        lower,
        probe: Some(probe.to_path_buf()),
        includes: includes.clone(),
    };
    let name = build_file_name(options);
    // Evaluation is the compiler's, off the runtime's threads.
    let mut outline =
        tokio::task::spawn_blocking(move || subrequests::outline(&name, &text, &compile_options))
            .await
            .map_err(|e| FrontendError::from_join(e, "the outline"))?
            .map_err(FrontendError::Build)?;
    let setting = |name: &str, description: &str| OutlineArg {
        name: name.to_string(),
        value: options.build_args.get(name).cloned(),
        description: description.to_string(),
        span: None,
    };
    if !includes.is_empty() {
        outline.args.push(setting(
            INCLUDE_MIRRORS_ARG,
            "where included repositories are fetched from: URL=git-url or URL=context:FOLDER, space-separated",
        ));
    }
    outline.args.push(setting(
        LOOKUP_TIMEOUT_ARG,
        "seconds each lookup in the daemon may take (default 300)",
    ));
    outline.args.push(setting(
        REPORT_ARG,
        "1: show a step with the frontend's timings and memory",
    ));
    Ok(outline.answer())
}

/// The lint rules' findings: the compile a build would run, without the
/// solve. A build file that does not compile is the result's error.
async fn lint(
    bridge: &Arc<Bridge>,
    options: &Options,
    probe: &Path,
) -> Result<Answer, FrontendError> {
    let (text, context, includes) = build_file_and_context(bridge, options).await?;
    let platforms = if options.platforms.is_empty() {
        vec![default_platform()]
    } else {
        options.platforms.clone()
    };
    // Each platform's findings (a base's platform is one platform's), each
    // finding once, as a build shows them.
    let mut warnings: Vec<Diagnostic> = vec![];
    for (i, platform) in platforms.iter().enumerate() {
        let probe = (i == 0).then_some(probe);
        let compiled =
            compile_for(bridge, options, &text, &context, platform, probe, &includes).await;
        match compiled {
            Ok(compiled) => add_new(&mut warnings, compiled.warnings),
            Err(FrontendError::Build(diagnostics)) => {
                // The warnings so far, then this platform's, then its error.
                add_new(&mut warnings, diagnostics.0);
                return Ok(subrequests::lint(Err(&Diagnostics(warnings))));
            }
            Err(other) => return Err(other),
        }
    }
    Ok(subrequests::lint(Ok(&warnings)))
}

/// Appends the findings `found` that `shown` does not hold yet.
fn add_new(shown: &mut Vec<Diagnostic>, found: Vec<Diagnostic>) {
    for finding in found {
        if !shown.contains(&finding) {
            shown.push(finding);
        }
    }
}
