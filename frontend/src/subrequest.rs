//! Subrequests (`--call targets|outline|check`, buildx 0.13's `--print=`):
//! answered by llb-gen's `subrequests::answer`, as `llb-gen --call` is,
//! from the request and the compile a build would run, without solving
//! it; the answer is metadata in the formats of BuildKit's Dockerfile
//! frontend.

use std::sync::Arc;

use envd_proto::gateway;
use llb_gen::lower::describe_setting;
use llb_gen::subrequests::{self, Answer, Inputs, OutlineArg, Subrequest};

use crate::bridge::Bridge;
use crate::error::FrontendError;
use crate::options::{INCLUDE_MIRRORS_ARG, LOOKUP_TIMEOUT_ARG, REPORT_ARG};
use crate::request::{Reads, Request};

/// What `request` needs read: `targets` lists the file's functions; the
/// others compile it.
pub fn reads(request: Subrequest) -> Reads {
    match request {
        Subrequest::Targets => Reads::BuildFile,
        _ => Reads::Includes,
    }
}

/// The answer to `subrequest` for the request read.
pub async fn answer(
    bridge: &Arc<Bridge>,
    subrequest: Subrequest,
    request: Request,
) -> Result<gateway::Result, FrontendError> {
    let options = request.compile_options(bridge);
    let (files, resolver) = request.lookups(bridge);
    let settings = frontend_settings(&request);
    // Evaluation and lookups are the compiler's, off the runtime's threads.
    let answer = tokio::task::spawn_blocking(move || {
        let inputs = Inputs {
            text: &request.text,
            options: &options,
            platforms: &request.platforms,
            files: &files,
            resolver: &resolver,
            settings,
        };
        subrequests::answer(subrequest, &inputs)
    })
    .await
    .map_err(|e| FrontendError::from_join(e, "the subrequest"))?
    .map_err(FrontendError::Build)?;
    Ok(result_of(&answer))
}

/// A subrequest's answer as BuildKit returns it: metadata, no image.
pub fn result_of(answer: &Answer) -> gateway::Result {
    gateway::Result {
        metadata: answer.metadata().into_iter().collect(),
        ..Default::default()
    }
}

/// The frontend's own settings an outline lists, with their values.
fn frontend_settings(request: &Request) -> Vec<OutlineArg> {
    let setting = |name: &str| OutlineArg {
        name: name.to_string(),
        value: request.options.build_args.get(name).cloned(),
        description: describe_setting(name).to_string(),
        span: None,
    };
    let mut settings = vec![];
    if !request.includes.is_empty() {
        settings.push(setting(INCLUDE_MIRRORS_ARG));
    }
    settings.push(setting(LOOKUP_TIMEOUT_ARG));
    settings.push(setting(REPORT_ARG));
    settings
}
