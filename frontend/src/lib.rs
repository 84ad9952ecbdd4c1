//! The BuildKit gateway frontend for build.envd: talks to BuildKit over
//! stdio, reads the request once, and answers it: a build (compiled with
//! `llb-gen`, solved, the image returned) or a subrequest, or a located
//! error.
//!
//! Modules, each importing only those before it (`tests/layering.rs`):
//! [`stdio`], the transport; [`options`], the frontend's options and
//! settings; [`error`] and [`locate`], errors as clients show them;
//! [`bridge`], BuildKit's `LLBBridge` calls; [`caps`], what the daemon
//! lacks; [`progress`] and [`report`], steps shown to the client;
//! [`context`], context files and base images through the bridge;
//! [`includes`], included repositories through the bridge; [`request`],
//! the request read once; [`solve`], a build; [`subrequest`], the other
//! answers. [`envd_cli`] is the host-side `envd build` drop-in.

pub mod stdio;
pub mod options;
pub mod error;
pub mod locate;
pub mod bridge;
pub mod caps;
pub mod progress;
pub mod report;
pub mod context;
pub mod includes;
pub mod request;
pub mod solve;
pub mod subrequest;
pub mod envd_cli;

use std::sync::Arc;

use llb_gen::subrequests::{self, Subrequest};

use crate::error::FrontendError;
use crate::request::{Reads, Request};

/// Runs one build over stdio with the options in the environment; returns
/// the process exit code.
pub async fn run() -> i32 {
    let timeline = report::Timeline::start_if_requested();
    let channel = match stdio::connect().await {
        Ok(channel) => channel,
        Err(e) => {
            eprintln!("envd-frontend: cannot connect to BuildKit over stdio: {e}");
            return 1;
        }
    };
    serve(channel, options::Options::from_env(), timeline).await
}

/// Runs one build over a connection to BuildKit's `LLBBridge`: pings,
/// builds, and returns the result or the error. Returns the exit code: 0
/// once BuildKit has the answer, 1 when it could not be given one (the
/// connection is gone, as when the build is cancelled).
pub async fn serve(
    channel: tonic::transport::Channel,
    options: Result<options::Options, options::OptionError>,
    mut timeline: report::Timeline,
) -> i32 {
    let lookup_timeout = options
        .as_ref()
        .map_or(options::DEFAULT_LOOKUP_TIMEOUT, |o| o.lookup_timeout);
    let bridge = match bridge::Bridge::connect(channel, lookup_timeout).await {
        Ok(bridge) => Arc::new(bridge),
        Err(e) => {
            eprintln!("envd-frontend: ping failed: {e}");
            return 1;
        }
    };
    timeline.mark("ping");
    // The build runs as a task, so a panic in it is caught at the task's
    // boundary and still answered (the image profile unwinds for this).
    let task = tokio::spawn({
        let bridge = bridge.clone();
        async move {
            let built = respond(&bridge, options, &mut timeline).await;
            (built, timeline)
        }
    });
    let (built, timeline) = task.await.unwrap_or_else(|e| {
        let error = error::FrontendError::from_join(e, "the build");
        (Err(error), report::Timeline::none())
    });
    let returned = match built {
        Ok(result) => bridge.return_result(result).await,
        Err(error) => {
            eprintln!("envd-frontend: {error}");
            let mut status = error.to_status();
            // A failed build shows no report step; the error carries it.
            if let Some(line) = timeline.render() {
                status.message = format!("{} ({line})", status.message);
            }
            bridge.return_error(status).await
        }
    };
    match returned {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("envd-frontend: return failed: {e}");
            1
        }
    }
}

/// The answer to the request: a subrequest's, or a build's.
async fn respond(
    bridge: &Arc<bridge::Bridge>,
    options: Result<options::Options, options::OptionError>,
    timeline: &mut report::Timeline,
) -> Result<envd_proto::gateway::Result, FrontendError> {
    let options = options?;
    match options.request_id.clone() {
        None => {
            // Evaluation's shared setup (Starlark's library, the builtins)
            // is built while the build file is read, not after.
            drop(tokio::task::spawn_blocking(llb_gen::lang::warm_up));
            let request = Request::read(bridge, options, Reads::Includes, timeline).await?;
            solve::build(bridge, request, timeline).await
        }
        // Unknown ones get BuildKit's "unsupported request", which clients
        // recognise.
        Some(id) => match Subrequest::from_id(&id) {
            None => Err(FrontendError::UnsupportedSubrequest(id)),
            // It reads nothing.
            Some(Subrequest::Describe) => Ok(subrequest::result_of(&subrequests::describe())),
            Some(asked) => {
                let reads = subrequest::reads(asked);
                let request = Request::read(bridge, options, reads, timeline).await?;
                subrequest::answer(bridge, asked, request).await
            }
        },
    }
}
