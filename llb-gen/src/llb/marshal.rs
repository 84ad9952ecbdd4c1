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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::testutil::decode;
    use crate::llb::{
        CacheMount, CacheSharing, Copy, Exec, FileOp, Image, Local, Merge, Mkfile, Platform,
        SourceFile, SourceRange, WithOpOptions, definition_to_json,
    };

    /// A small wrapper-image graph: base, pip install with a cache, a
    /// base-independent config layer and context copy merged on top.
    fn wrapper(config_first: bool) -> State {
        let file = SourceFile::new(
            "build.envd",
            "def build():\n    base()\n    run()\n",
            "starlark",
        );
        let amd64 = Platform::new("linux", "amd64");
        let base = Image::new("aiges_cpu:1.0")
            .platform(amd64.clone())
            .location(file.location([SourceRange::lines(2, 2)]))
            .build()
            .unwrap();
        let ctx = Local::new("context")
            .follow_paths(["detectron2"])
            .shared_key_hint("context")
            .build()
            .unwrap();
        let build_config = || {
            FileOp::new(&State::scratch().with_platform(amd64.clone()))
                .mkfile(Mkfile::new(
                    "/etc/pip.conf",
                    "[global]\nindex-url = http://127.0.0.1:8000/simple\n",
                ))
                .custom_name("write /etc/pip.conf")
                .build()
                .unwrap()
        };
        let build_copy = || {
            FileOp::new(&State::scratch().with_platform(amd64.clone()))
                .copy(Copy::new(&ctx, "/detectron2", "/detectron2").create_dest_path(true))
                .custom_name("io.copy ./detectron2 -> /")
                .build()
                .unwrap()
        };
        // Building the independent layers in either order must not matter.
        let (config, copy) = if config_first {
            let config = build_config();
            (config, build_copy())
        } else {
            let copy = build_copy();
            (build_config(), copy)
        };
        let with_layers = Merge::new([base, config, copy])
            .custom_name("merge")
            .build();
        Exec::new(
            &with_layers,
            ["/bin/sh", "-c", "pip install -e /detectron2"],
        )
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .mount(CacheMount::new("/root/.cache/pip", "envd-pip").sharing(CacheSharing::Shared))
        .custom_name("run pip install -e /detectron2")
        .location(file.location([SourceRange::lines(3, 3)]))
        .build()
        .unwrap()
        .root()
    }

    #[test]
    fn dependencies_come_first_and_the_terminal_last() {
        let def = wrapper(true).marshal();
        let ops = decode(&def);
        let mut seen = HashSet::new();
        for (digest, op) in &ops {
            for input in &op.inputs {
                assert!(
                    seen.contains(&input.digest),
                    "{digest} reads {} before it is defined",
                    input.digest
                );
            }
            seen.insert(digest.clone());
        }
        assert_eq!(seen.len(), ops.len(), "no op is written twice");
        let (_, terminal) = ops.last().unwrap();
        assert!(terminal.op.is_none() && terminal.inputs.len() == 1 && terminal.platform.is_none());
        // Every op has metadata keyed by its digest.
        for (digest, _) in &ops {
            assert!(def.metadata.contains_key(digest));
        }
    }

    #[test]
    fn terminal_metadata_lists_every_cap_used() {
        let def = wrapper(true).marshal();
        let ops = decode(&def);
        let terminal = &def.metadata[&ops.last().unwrap().0];
        let caps: Vec<&str> = terminal.caps.keys().map(String::as_str).collect();
        assert_eq!(
            caps,
            [
                "exec.meta.base",
                "exec.mount.cache",
                "exec.mount.cache.sharing",
                "file.base",
                "mergeop",
                "meta.description",
                "platform",
                "source.image",
                "source.local",
                "source.local.followpaths",
                "source.local.sharedkeyhint",
            ]
        );
    }

    #[test]
    fn marshal_is_deterministic_across_runs_and_construction_orders() {
        let first = wrapper(true).marshal();
        let again = wrapper(true).marshal();
        let other_order = wrapper(false).marshal();
        let bytes = |d: &pb::Definition| d.encode_to_vec();
        assert_eq!(bytes(&first), bytes(&again));
        assert_eq!(bytes(&first), bytes(&other_order));
        let digests =
            |d: &pb::Definition| decode(d).into_iter().map(|(d, _)| d).collect::<Vec<_>>();
        assert_eq!(digests(&first), digests(&other_order));
    }

    #[test]
    fn equal_ops_built_twice_are_written_once() {
        let a = Image::new("ubuntu").build().unwrap();
        let b = Image::new("docker.io/library/ubuntu:latest")
            .build()
            .unwrap();
        let merged = Merge::new([
            Exec::new(&a, ["a"]).build().unwrap().root(),
            Exec::new(&b, ["b"]).build().unwrap().root(),
        ])
        .build();
        let ops = decode(&merged.marshal());
        let sources = ops
            .iter()
            .filter(|(_, op)| matches!(op.op, Some(pb::op::Op::Source(_))))
            .count();
        assert_eq!(sources, 1);
        assert_eq!(ops.len(), 5, "image, two execs, merge, terminal");
    }

    #[test]
    fn metadata_and_source_map() {
        let def = wrapper(true).marshal();
        let ops = decode(&def);
        let (exec_digest, _) = &ops[ops.len() - 2];
        let md = &def.metadata[exec_digest];
        assert_eq!(
            md.description["llb.customname"],
            "run pip install -e /detectron2"
        );
        let source = def.source.as_ref().unwrap();
        assert_eq!(source.infos.len(), 1, "one file, shared by all locations");
        assert_eq!(source.infos[0].filename, "build.envd");
        assert_eq!(source.infos[0].language, "starlark");
        let loc = &source.locations[exec_digest].locations[0];
        assert_eq!(loc.source_index, 0);
        assert_eq!(loc.ranges[0].start.unwrap().line, 3);
        assert_eq!(
            source.locations.len(),
            2,
            "the image and the exec carry locations"
        );
    }

    #[test]
    fn ignore_cache_is_recorded_with_its_cap() {
        let state = Exec::new(&Image::new("ubuntu").build().unwrap(), ["date"])
            .ignore_cache(true)
            .build()
            .unwrap()
            .root();
        let def = state.marshal();
        let ops = decode(&def);
        let md = &def.metadata[&ops[1].0];
        assert!(md.ignore_cache);
        assert!(md.caps.contains_key("meta.ignorecache"));
    }

    #[test]
    fn scratch_marshals_to_an_empty_definition() {
        assert_eq!(State::scratch().marshal(), pb::Definition::default());
    }

    fn pretty(def: &pb::Definition) -> String {
        let ops = definition_to_json(def).unwrap();
        serde_json::to_string_pretty(&ops).unwrap()
    }

    #[test]
    fn snapshot_wrapper_definition() {
        insta::assert_snapshot!(pretty(&wrapper(true).marshal()));
    }

    #[test]
    fn snapshot_exec_with_both_mount_kinds() {
        use crate::llb::{BindMount, NetworkMode};
        let base = Image::new("aiges_gpu").build().unwrap();
        let ctx = Local::new("context").build().unwrap();
        let state = Exec::new(&base, ["/bin/sh", "-c", "true"])
            .mount(BindMount::new("/ctx", &ctx))
            .mount(
                CacheMount::new("/var/cache/apt", "envd-apt-cache").sharing(CacheSharing::Locked),
            )
            .network(NetworkMode::Host)
            .build()
            .unwrap()
            .root();
        insta::assert_snapshot!(pretty(&state.marshal()));
    }
}
