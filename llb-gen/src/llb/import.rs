//! States from marshaled definitions, such as the build context a client
//! passes to a frontend as an input.

use std::collections::HashMap;
use std::sync::Arc;

use envd_proto::pb;
use prost::Message;

use super::error::LlbError;
use super::state::{Output, State, Vertex, digest_of};

impl State {
    /// The state a definition's terminal op names. Its ops keep their bytes
    /// and metadata, so they keep their digests.
    pub fn from_definition(def: &pb::Definition) -> Result<State, LlbError> {
        let invalid = |why: String| LlbError::InvalidDefinition(why);
        let Some((terminal, ops)) = def.def.split_last() else {
            return Ok(State::scratch());
        };
        let mut vertices: HashMap<String, Arc<Vertex>> = HashMap::new();
        let output_of = |vertices: &HashMap<String, Arc<Vertex>>, input: &pb::Input| {
            vertices
                .get(&input.digest)
                .map(|vertex| Output {
                    vertex: vertex.clone(),
                    index: input.index,
                })
                .ok_or_else(|| invalid(format!("op input {} comes after its use", input.digest)))
        };
        for bytes in ops {
            let op = pb::Op::decode(bytes.as_slice()).map_err(|e| invalid(e.to_string()))?;
            let digest = digest_of(bytes);
            let inputs = op
                .inputs
                .iter()
                .map(|input| output_of(&vertices, input))
                .collect::<Result<Vec<_>, _>>()?;
            let vertex = Vertex {
                inputs,
                bytes: bytes.clone(),
                metadata: def.metadata.get(&digest).cloned().unwrap_or_default(),
                locations: vec![],
                digest: digest.clone(),
            };
            vertices.insert(digest, Arc::new(vertex));
        }
        let terminal = pb::Op::decode(terminal.as_slice()).map_err(|e| invalid(e.to_string()))?;
        let input = terminal
            .inputs
            .first()
            .ok_or_else(|| invalid("the terminal op has no input".to_string()))?;
        let output = output_of(&vertices, input)?;
        Ok(State::from_vertex(output.vertex, output.index, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::{Copy, FileOp, Local, WithOpOptions};

    #[test]
    fn round_trips_a_definition() {
        let ctx = Local::new("context").session_id("s").build().unwrap();
        let state = FileOp::new(&State::scratch())
            .copy(Copy::new(&ctx, "/a", "/a"))
            .custom_name("copy")
            .build()
            .unwrap();
        let def = state.marshal();
        let imported = State::from_definition(&def).unwrap();
        assert_eq!(imported.marshal(), def);
        let on_top = FileOp::new(&imported)
            .mkdir(crate::llb::Mkdir::new("/b"))
            .build()
            .unwrap()
            .marshal();
        assert_eq!(on_top.def.len(), def.def.len() + 1);
    }

    #[test]
    fn rejects_broken_definitions() {
        assert!(
            State::from_definition(&pb::Definition::default())
                .unwrap()
                .is_scratch()
        );
        let broken = pb::Definition {
            def: vec![vec![0xff, 0xff]],
            ..Default::default()
        };
        assert!(matches!(
            State::from_definition(&broken),
            Err(LlbError::InvalidDefinition(_))
        ));
    }
}
