//! A marshaled definition decoded for reading: each op by digest, with its
//! progress name and the build file line it comes from.

use std::collections::HashMap;

use envd_proto::metadata::CUSTOM_NAME;
use envd_proto::pb;
use prost::Message;

use crate::llb::digest_of;

/// One output of an op: the states the Dockerfile's stages are made of.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StateRef {
    pub digest: String,
    pub index: i64,
}

pub struct Node {
    pub op: pb::Op,
    /// The first line of the first location the op has.
    pub line: Option<usize>,
}

impl Node {
    /// The state an op's input `index` names; `None` for scratch (-1).
    pub fn input(&self, index: i64) -> Result<Option<StateRef>, String> {
        if index < 0 {
            return Ok(None);
        }
        let input = usize::try_from(index)
            .ok()
            .and_then(|i| self.op.inputs.get(i))
            .ok_or_else(|| format!("an op names input {index}, which it does not have"))?;
        Ok(Some(StateRef {
            digest: input.digest.clone(),
            index: input.index,
        }))
    }
}

pub struct Graph {
    nodes: HashMap<String, Node>,
    /// The state the definition builds; `None` for an empty definition.
    pub root: Option<StateRef>,
    /// Progress names by digest (they are not part of the op).
    names: HashMap<String, String>,
}

impl Graph {
    pub fn decode(definition: &pb::Definition) -> Result<Graph, String> {
        let mut nodes = HashMap::new();
        let mut last = None;
        for bytes in &definition.def {
            let op = pb::Op::decode(bytes.as_slice())
                .map_err(|e| format!("the definition holds an op that does not decode: {e}"))?;
            let digest = digest_of(bytes);
            let line = definition
                .source
                .as_ref()
                .and_then(|source| source.locations.get(&digest))
                .and_then(|locations| locations.locations.first())
                .and_then(|location| location.ranges.first())
                .and_then(|range| range.start.as_ref())
                .and_then(|start| usize::try_from(start.line).ok());
            last = Some(digest.clone());
            nodes.insert(digest, Node { op, line });
        }
        // The terminal op, last, names the result through its one input.
        let root = match last.and_then(|digest| nodes.remove(&digest)) {
            Some(terminal) => terminal.input(0)?,
            None => None,
        };
        let names = definition
            .metadata
            .iter()
            .filter_map(|(digest, md)| {
                md.description
                    .get(CUSTOM_NAME)
                    .map(|name| (digest.clone(), name.clone()))
            })
            .collect();
        Ok(Graph { nodes, root, names })
    }

    pub fn node(&self, state: &StateRef) -> Result<&Node, String> {
        self.nodes
            .get(&state.digest)
            .ok_or_else(|| format!("the definition lacks the op {}", state.digest))
    }

    /// The progress name of the op behind `state`, if it has one.
    pub fn name(&self, state: &StateRef) -> Option<&str> {
        self.names.get(&state.digest).map(String::as_str)
    }
}
