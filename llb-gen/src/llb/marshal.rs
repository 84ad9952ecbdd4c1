//! Marshals a state's graph into a `pb::Definition`: dependencies before
//! dependents, each op once, the terminal op last, metadata and source map
//! keyed by digest. Equal graphs give equal bytes.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use envd_proto::pb;
use prost::Message;

use super::sourcemap::SourceFile;
use super::state::{State, Vertex, digest_of};

impl State {
    /// The definition BuildKit solves to this state. Scratch gives an empty
    /// definition, which solves to an empty result.
    pub fn marshal(&self) -> pb::Definition {
        let Some(output) = &self.output else {
            return pb::Definition::default();
        };
        let mut m = Marshaller::default();
        m.visit(&output.vertex);

        // The terminal op names the result; its caps are the union of all
        // ops' caps, so a client can check the whole graph in one place.
        let terminal = pb::Op {
            inputs: vec![pb::Input {
                digest: output.vertex.digest.clone(),
                index: output.index,
            }],
            ..Default::default()
        };
        let bytes = terminal.encode_to_vec();
        let caps = m
            .metadata
            .values()
            .flat_map(|md| md.caps.keys().cloned())
            .map(|cap| (cap, true))
            .collect();
        m.metadata.insert(
            digest_of(&bytes),
            pb::OpMetadata {
                caps,
                ..Default::default()
            },
        );
        m.def.push(bytes);

        let source = (!m.locations.is_empty()).then(|| pb::Source {
            locations: m.locations,
            infos: m
                .files
                .iter()
                .map(|f| pb::SourceInfo {
                    filename: f.filename().to_string(),
                    data: f.data().to_vec(),
                    language: f.language().to_string(),
                    definition: None,
                })
                .collect(),
        });
        pb::Definition {
            def: m.def,
            metadata: m.metadata,
            source,
        }
    }
}

#[derive(Default)]
struct Marshaller {
    visited: HashSet<String>,
    def: Vec<Vec<u8>>,
    metadata: BTreeMap<String, pb::OpMetadata>,
    files: Vec<SourceFile>,
    locations: BTreeMap<String, pb::Locations>,
}

impl Marshaller {
    /// Post-order walk; an explicit stack keeps deep graphs (thousands of
    /// steps) off the call stack.
    fn visit(&mut self, root: &Arc<Vertex>) {
        let mut stack: Vec<(&Arc<Vertex>, bool)> = vec![(root, false)];
        while let Some((vertex, inputs_done)) = stack.pop() {
            if inputs_done {
                self.emit(vertex);
                continue;
            }
            if self.visited.contains(&vertex.digest) {
                // Equal op built twice: keep the first bytes, merge what the
                // second copy adds to its metadata.
                self.merge_metadata(vertex);
                continue;
            }
            stack.push((vertex, true));
            for input in vertex.inputs.iter().rev() {
                stack.push((&input.vertex, false));
            }
        }
    }

    fn emit(&mut self, vertex: &Vertex) {
        if !self.visited.insert(vertex.digest.clone()) {
            self.merge_metadata(vertex);
            return;
        }
        self.def.push(vertex.bytes.clone());
        self.metadata
            .insert(vertex.digest.clone(), vertex.metadata.clone());
        self.add_locations(vertex);
    }

    fn merge_metadata(&mut self, vertex: &Vertex) {
        if let Some(md) = self.metadata.get_mut(&vertex.digest) {
            md.ignore_cache |= vertex.metadata.ignore_cache;
            for (key, value) in &vertex.metadata.description {
                md.description
                    .entry(key.clone())
                    .or_insert_with(|| value.clone());
            }
            md.caps.extend(vertex.metadata.caps.clone());
        }
        self.add_locations(vertex);
    }

    fn add_locations(&mut self, vertex: &Vertex) {
        for location in &vertex.locations {
            let source_index = match self.files.iter().position(|f| *f == location.file) {
                Some(i) => i,
                None => {
                    self.files.push(location.file.clone());
                    self.files.len() - 1
                }
            } as i32;
            let entry = pb::Location {
                source_index,
                ranges: location
                    .ranges
                    .iter()
                    .map(|r| pb::Range {
                        start: Some(pb::Position {
                            line: r.start.line as i32,
                            character: r.start.character as i32,
                        }),
                        end: Some(pb::Position {
                            line: r.end.line as i32,
                            character: r.end.character as i32,
                        }),
                    })
                    .collect(),
            };
            let list = &mut self
                .locations
                .entry(vertex.digest.clone())
                .or_default()
                .locations;
            if !list.contains(&entry) {
                list.push(entry);
            }
        }
    }
}
