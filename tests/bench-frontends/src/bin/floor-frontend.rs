//! STAND-IN for benchmarks, never shipped: the floor a frontend image
//! cannot beat on a daemon. It pings, solves one file made on scratch and
//! returns it with an image config; it reads no build file.

use envd_bench_frontends::{BoxError, main_of, return_image};
use envd_frontend::bridge::Bridge;
use envd_frontend::options::DEFAULT_LOOKUP_TIMEOUT;
use envd_frontend::stdio;
use llb_gen::llb::{FileOp, Mkfile, State};

fn main() {
    main_of("floor-frontend", floor())
}

async fn floor() -> Result<(), BoxError> {
    let bridge = Bridge::connect(stdio::connect().await?, DEFAULT_LOOKUP_TIMEOUT).await?;
    let state = FileOp::new(&State::scratch())
        .mkfile(Mkfile::new("/floor", "floor\n"))
        .build()?;
    let reference = bridge.solve(state.marshal(), &[]).await?;
    let config = br#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    return_image(&bridge, reference, config.to_vec()).await
}
