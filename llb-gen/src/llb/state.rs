//! Immutable build states, the vertices behind them, and the options every op
//! takes (progress name, platform, cache control, source location).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use envd_proto::caps::llb as caps;
use envd_proto::metadata::CUSTOM_NAME;
use envd_proto::pb;
use sha2::{Digest, Sha256};

use super::platform::Platform;
use super::sourcemap::SourceLocation;

/// A filesystem state: the output of an op, or empty (scratch). Cheap to
/// clone; building on a state never changes it.
#[derive(Clone, Debug, Default)]
pub struct State {
    pub(crate) output: Option<Output>,
    pub(crate) platform: Option<Platform>,
}

impl State {
    /// The empty filesystem.
    pub fn scratch() -> State {
        State::default()
    }

    pub fn is_scratch(&self) -> bool {
        self.output.is_none()
    }

    /// The platform ops built on this state run for.
    pub fn platform(&self) -> Option<&Platform> {
        self.platform.as_ref()
    }

    /// Sets the platform later ops built on this state default to.
    pub fn with_platform(mut self, platform: Platform) -> State {
        self.platform = Some(platform);
        self
    }

    pub(crate) fn from_vertex(
        vertex: Arc<Vertex>,
        index: i64,
        platform: Option<Platform>,
    ) -> State {
        State {
            output: Some(Output { vertex, index }),
            platform,
        }
    }
}

/// One output of a vertex.
#[derive(Clone, Debug)]
pub(crate) struct Output {
    pub vertex: Arc<Vertex>,
    pub index: i64,
}

/// An op, encoded once when built: its inputs exist before it, so its bytes
/// and digest are final. Equal ops have equal digests however they were built.
#[derive(Debug)]
pub(crate) struct Vertex {
    pub inputs: Vec<Output>,
    pub bytes: Vec<u8>,
    pub digest: String,
    pub metadata: pb::OpMetadata,
    pub locations: Vec<SourceLocation>,
}

impl Drop for Vertex {
    /// Unlinks the inputs one by one: dropping a long chain the default way
    /// recurses once per op (the last reference to an input drops its own
    /// inputs) and overflows the stack.
    fn drop(&mut self) {
        let mut pending: Vec<Output> = std::mem::take(&mut self.inputs);
        while let Some(output) = pending.pop() {
            if let Ok(mut vertex) = Arc::try_unwrap(output.vertex) {
                pending.append(&mut vertex.inputs);
            }
        }
    }
}

impl Vertex {
    pub fn new(
        inputs: Vec<Output>,
        body: pb::op::Op,
        mut required_caps: BTreeSet<&'static str>,
        options: OpOptions,
    ) -> Arc<Vertex> {
        let mut description = BTreeMap::new();
        if let Some(name) = options.custom_name {
            description.insert(CUSTOM_NAME.to_string(), name);
        }
        if !description.is_empty() {
            required_caps.insert(caps::META_DESCRIPTION);
        }
        if options.ignore_cache {
            required_caps.insert(caps::META_IGNORE_CACHE);
        }
        if options.platform.is_some() {
            required_caps.insert(caps::PLATFORM);
        }
        let metadata = pb::OpMetadata {
            ignore_cache: options.ignore_cache,
            description,
            caps: required_caps
                .into_iter()
                .map(|c| (c.to_string(), true))
                .collect(),
            progress_group: None,
            export_cache: None,
        };
        let op = pb::Op {
            inputs: inputs
                .iter()
                .map(|o| pb::Input {
                    digest: o.vertex.digest.clone(),
                    index: o.index,
                })
                .collect(),
            platform: options.platform.as_ref().map(Platform::to_pb),
            constraints: None,
            op: Some(body),
        };
        let bytes = super::encode::op_bytes(&op);
        Arc::new(Vertex {
            inputs,
            digest: digest_of(&bytes),
            bytes,
            metadata,
            locations: options.locations,
        })
    }
}

/// `sha256:` + hex of the SHA-256 of `bytes`, BuildKit's vertex digest.
pub(crate) fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// Lowercase hex of the SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Options every op accepts.
#[derive(Clone, Debug, Default)]
pub struct OpOptions {
    pub(crate) custom_name: Option<String>,
    pub(crate) platform: Option<Platform>,
    pub(crate) ignore_cache: bool,
    pub(crate) locations: Vec<SourceLocation>,
}

impl OpOptions {
    /// Fills the platform from the state the op builds on, unless set.
    pub(crate) fn inherit_platform(mut self, from: Option<&Platform>) -> OpOptions {
        if self.platform.is_none() {
            self.platform = from.cloned();
        }
        self
    }
}

/// Builder methods for [`OpOptions`], shared by every op builder.
pub trait WithOpOptions: Sized {
    fn op_options(&mut self) -> &mut OpOptions;

    /// The name progress output shows for the op (`llb.customname`).
    fn custom_name(mut self, name: impl Into<String>) -> Self {
        self.op_options().custom_name = Some(name.into());
        self
    }

    fn platform(mut self, platform: Platform) -> Self {
        self.op_options().platform = Some(platform);
        self
    }

    /// Runs the op even when a cached result exists.
    fn ignore_cache(mut self, ignore: bool) -> Self {
        self.op_options().ignore_cache = ignore;
        self
    }

    /// Where in a build file this op comes from.
    fn location(mut self, location: SourceLocation) -> Self {
        self.op_options().locations.push(location);
        self
    }
}

/// Collects the distinct non-scratch states an op reads, returning each
/// state's input index (-1 for scratch).
#[derive(Default)]
pub(crate) struct InputSet {
    pub outputs: Vec<Output>,
}

impl InputSet {
    pub fn index_of(&mut self, state: &State) -> i64 {
        let Some(output) = &state.output else {
            return -1;
        };
        let found = self
            .outputs
            .iter()
            .position(|o| o.vertex.digest == output.vertex.digest && o.index == output.index);
        let index = found.unwrap_or_else(|| {
            self.outputs.push(output.clone());
            self.outputs.len() - 1
        });
        index as i64
    }
}

#[cfg(test)]
mod tests {
    use crate::llb::{FileOp, Mkdir, State};

    #[test]
    fn a_long_chain_drops_on_a_small_stack() {
        let dropped = std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(|| {
                let mut state = State::scratch();
                for i in 0..20_000 {
                    state = FileOp::new(&state)
                        .mkdir(Mkdir::new(format!("/d{i}")))
                        .build()
                        .unwrap();
                }
                drop(state);
            })
            .unwrap()
            .join();
        assert!(dropped.is_ok());
    }
}
