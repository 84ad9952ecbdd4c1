//! STAND-IN for benchmarks, never shipped: the floor a frontend image
//! cannot beat on a daemon. It pings, solves one file made on scratch and
//! returns it with an image config; it reads no build file. Benchmarks
//! compare envd-frontend's no-change rebuild with a build through this.

use std::collections::HashMap;

use envd_frontend::{bridge::Bridge, stdio};
use envd_proto::{gateway, metadata};
use llb_gen::llb::{FileOp, Mkfile, State};

fn main() {
    let code = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("floor-frontend: cannot start the runtime: {e}");
            1
        }
    };
    std::process::exit(code);
}

async fn run() -> i32 {
    match floor().await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("floor-frontend: {e}");
            1
        }
    }
}

async fn floor() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let bridge = Bridge::connect(stdio::connect().await?).await?;
    let state = FileOp::new(&State::scratch())
        .mkfile(Mkfile::new("/floor", "floor\n"))
        .build()?;
    let reference = bridge.solve(state.marshal(), &[]).await?;
    let config = br#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let result = gateway::Result {
        metadata: HashMap::from([(
            metadata::CONTAINER_IMAGE_CONFIG.to_string(),
            config.to_vec(),
        )]),
        result: Some(gateway::result::Result::Ref(gateway::Ref {
            id: reference,
            def: None,
        })),
        ..Default::default()
    };
    bridge.return_result(result).await?;
    Ok(())
}
