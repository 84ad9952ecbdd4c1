//! STAND-IN for benchmarks, never shipped: solves and returns a definition
//! and image config baked into its image (`/replay/definition.pb`,
//! `/replay/config.json`), which the benchmark computed ahead of time for
//! its project. It reads no build file, evaluates nothing and resolves no
//! image: what is left is the cost of the graph itself.

use envd_bench_frontends::{BoxError, main_of, return_image};
use envd_frontend::bridge::Bridge;
use envd_frontend::options::DEFAULT_LOOKUP_TIMEOUT;
use envd_frontend::stdio;
use envd_proto::pb;
use envd_proto::prost::Message;

const DEFINITION: &str = "/replay/definition.pb";
const CONFIG: &str = "/replay/config.json";

fn main() {
    main_of("replay-frontend", replay())
}

async fn replay() -> Result<(), BoxError> {
    let bridge = Bridge::connect(stdio::connect().await?, DEFAULT_LOOKUP_TIMEOUT).await?;
    let definition = pb::Definition::decode(std::fs::read(DEFINITION)?.as_slice())?;
    let config = std::fs::read(CONFIG)?;
    let reference = bridge.solve(definition, &[]).await?;
    return_image(&bridge, reference, config).await
}
