//! The BuildKit gateway frontend for build.envd: talks to BuildKit over
//! stdio, compiles the build file with `llb-gen`, solves, and returns the
//! image (or a located error).

pub mod bridge;
pub mod build;
pub mod caps;
pub mod context;
pub mod envd_cli;
pub mod error;
pub mod includes;
pub mod locate;
pub mod options;
pub mod progress;
pub mod report;
pub mod stdio;
pub mod subrequest;

use std::sync::Arc;

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
    // This program serves the evaluation probe too (see main.rs).
    let probe = std::env::current_exe().ok();
    serve(channel, options::Options::from_env(), probe, timeline).await
}

/// Runs one build over a connection to BuildKit's `LLBBridge`: pings,
/// builds, and returns the result or the error. Returns the exit code: 0
/// once BuildKit has the answer, 1 when it could not be given one (the
/// connection is gone, as when the build is cancelled). `probe` is the
/// program that evaluates build.envd first with bounded memory
/// (`llb_gen::probe`): envd-frontend itself.
pub async fn serve(
    channel: tonic::transport::Channel,
    options: Result<options::Options, options::OptionError>,
    probe: Option<std::path::PathBuf>,
    mut timeline: report::Timeline,
) -> i32 {
    let lookup_timeout = options
        .as_ref()
        .map_or(bridge::DEFAULT_LOOKUP_TIMEOUT, |o| o.lookup_timeout);
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
            let built = build::build(bridge, options, probe, &mut timeline).await;
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
