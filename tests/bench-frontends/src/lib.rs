//! STAND-INS for the build benchmark, never shipped. Two frontend images
//! that do less than envd-frontend, so the benchmark can show what its own
//! work costs:
//! - `floor-frontend`: pings, solves one file made on scratch, returns it.
//! - `replay-frontend`: solves and returns the definition and image config
//!   envd-frontend produces for the benchmark's project, computed ahead of
//!   time with llb-gen and baked into its image: the same steps to solve
//!   and export, without reading, evaluating or resolving anything.

use std::collections::HashMap;
use std::future::Future;

use envd_frontend::bridge::Bridge;
use envd_proto::{gateway, metadata};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Runs a frontend's one build on a single-threaded runtime and exits.
pub fn main_of<F: Future<Output = Result<(), BoxError>>>(name: &str, run: F) -> ! {
    let code = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => match runtime.block_on(run) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("{name}: {e}");
                1
            }
        },
        Err(e) => {
            eprintln!("{name}: cannot start the runtime: {e}");
            1
        }
    };
    std::process::exit(code);
}

/// Returns one solved ref as the image, with its config.
pub async fn return_image(
    bridge: &Bridge,
    reference: String,
    config: Vec<u8>,
) -> Result<(), BoxError> {
    let result = gateway::Result {
        metadata: HashMap::from([(metadata::CONTAINER_IMAGE_CONFIG.to_string(), config)]),
        result: Some(gateway::result::Result::Ref(gateway::Ref {
            id: reference,
            def: None,
        })),
        ..Default::default()
    };
    bridge.return_result(result).await?;
    Ok(())
}
