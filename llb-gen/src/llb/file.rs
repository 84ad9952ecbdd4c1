//! File ops: mkdir, mkfile and copy actions chained in one op.

use std::collections::BTreeSet;

use envd_proto::caps::llb as caps;
use envd_proto::pb;

use super::error::{LlbError, require_absolute};
use super::state::{InputSet, OpOptions, State, Vertex, WithOpOptions};

/// BuildKit's "no timestamp given" value; 0 would mean the epoch.
const NO_TIMESTAMP: i64 = -1;
/// BuildKit's "keep the source mode" value for copies.
const KEEP_MODE: i32 = -1;

#[derive(Clone, Debug)]
pub struct Mkdir {
    path: String,
    mode: u32,
    parents: bool,
}

impl Mkdir {
    pub fn new(path: impl Into<String>) -> Mkdir {
        Mkdir {
            path: path.into(),
            mode: 0o755,
            parents: false,
        }
    }

    pub fn mode(mut self, mode: u32) -> Mkdir {
        self.mode = mode;
        self
    }

    pub fn parents(mut self, parents: bool) -> Mkdir {
        self.parents = parents;
        self
    }
}

#[derive(Clone, Debug)]
pub struct Mkfile {
    path: String,
    data: Vec<u8>,
    mode: u32,
}

impl Mkfile {
    pub fn new(path: impl Into<String>, data: impl Into<Vec<u8>>) -> Mkfile {
        Mkfile {
            path: path.into(),
            data: data.into(),
            mode: 0o644,
        }
    }

    pub fn mode(mut self, mode: u32) -> Mkfile {
        self.mode = mode;
        self
    }
}

/// Copies `src` of another state to `dest` of the state being built,
/// keeping modes and owners.
#[derive(Clone, Debug)]
pub struct Copy {
    from: State,
    src: String,
    dest: String,
    contents_only: bool,
    create_dest_path: bool,
    unpack: bool,
}

impl Copy {
    pub fn new(from: &State, src: impl Into<String>, dest: impl Into<String>) -> Copy {
        Copy {
            from: from.clone(),
            src: src.into(),
            dest: dest.into(),
            contents_only: false,
            create_dest_path: false,
            unpack: false,
        }
    }

    /// For a directory `src`, copy what is in it rather than the directory.
    /// A file is copied the same either way; this project sets it for
    /// files it knows are files, so a Dockerfile export (whose COPY always
    /// copies a folder's contents) can tell nothing is nested.
    pub fn contents_only(mut self, contents: bool) -> Copy {
        self.contents_only = contents;
        self
    }

    pub fn create_dest_path(mut self, create: bool) -> Copy {
        self.create_dest_path = create;
        self
    }

    /// Docker's `ADD` of an archive: a tar `src` (plain, gzip, bzip2 or xz)
    /// is extracted into the folder `dest`; anything else is copied.
    pub fn unpack(mut self, unpack: bool) -> Copy {
        self.unpack = unpack;
        self
    }
}

#[derive(Clone, Debug)]
enum Action {
    Mkdir(Mkdir),
    Mkfile(Mkfile),
    Copy(Box<Copy>),
}

impl Action {
    fn into_pb(self) -> Result<pb::file_action::Action, LlbError> {
        Ok(match self {
            Action::Mkdir(m) => {
                require_absolute("mkdir path", &m.path)?;
                pb::file_action::Action::Mkdir(pb::FileActionMkDir {
                    path: m.path,
                    mode: m.mode as i32,
                    make_parents: m.parents,
                    owner: None,
                    timestamp: NO_TIMESTAMP,
                })
            }
            Action::Mkfile(m) => {
                require_absolute("mkfile path", &m.path)?;
                pb::file_action::Action::Mkfile(pb::FileActionMkFile {
                    path: m.path,
                    mode: m.mode as i32,
                    data: m.data,
                    owner: None,
                    timestamp: NO_TIMESTAMP,
                })
            }
            Action::Copy(c) => {
                require_absolute("copy source", &c.src)?;
                require_absolute("copy destination", &c.dest)?;
                pb::file_action::Action::Copy(pb::FileActionCopy {
                    src: c.src,
                    dest: c.dest,
                    mode: KEEP_MODE,
                    dir_copy_contents: c.contents_only,
                    create_dest_path: c.create_dest_path,
                    attempt_unpack_docker_compatibility: c.unpack,
                    timestamp: NO_TIMESTAMP,
                    ..Default::default()
                })
            }
        })
    }
}

/// Builds a file op: actions applied in order to a base state.
#[derive(Clone, Debug)]
pub struct FileOp {
    base: State,
    actions: Vec<Action>,
    options: OpOptions,
}

impl FileOp {
    pub fn new(base: &State) -> FileOp {
        FileOp {
            base: base.clone(),
            actions: vec![],
            options: OpOptions::default(),
        }
    }

    pub fn mkdir(mut self, mkdir: Mkdir) -> FileOp {
        self.actions.push(Action::Mkdir(mkdir));
        self
    }

    pub fn mkfile(mut self, mkfile: Mkfile) -> FileOp {
        self.actions.push(Action::Mkfile(mkfile));
        self
    }

    pub fn copy(mut self, copy: Copy) -> FileOp {
        self.actions.push(Action::Copy(Box::new(copy)));
        self
    }

    pub fn build(self) -> Result<State, LlbError> {
        if self.actions.is_empty() {
            return Err(LlbError::EmptyFileOp);
        }
        let mut inputs = InputSet::default();
        let base_input = inputs.index_of(&self.base);
        let secondary = secondary_inputs(&self.actions, &mut inputs)?;
        // Each action after the first reads the previous action's output,
        // numbered past the op's inputs; only the last is the op's output.
        let input_count = inputs.outputs.len() as i64;
        let last = self.actions.len() - 1;
        let mut pb_actions = Vec::with_capacity(self.actions.len());
        for (i, (action, secondary_input)) in self.actions.into_iter().zip(secondary).enumerate() {
            pb_actions.push(pb::FileAction {
                input: if i == 0 {
                    base_input
                } else {
                    input_count + i as i64 - 1
                },
                secondary_input,
                output: if i == last { 0 } else { -1 },
                action: Some(action.into_pb()?),
            });
        }
        let options = self.options.inherit_platform(self.base.platform.as_ref());
        let platform = options.platform.clone();
        let body = pb::op::Op::File(pb::FileOp {
            actions: pb_actions,
        });
        let required = BTreeSet::from([caps::FILE_BASE]);
        Ok(State::from_vertex(
            Vertex::new(inputs.outputs, body, required, options),
            0,
            platform,
        ))
    }
}

/// The input each action copies from (-1 for none). Collected before the
/// chain is written, since action outputs are numbered past the inputs.
fn secondary_inputs(actions: &[Action], inputs: &mut InputSet) -> Result<Vec<i64>, LlbError> {
    actions
        .iter()
        .map(|action| match action {
            Action::Copy(copy) if copy.from.is_scratch() => Err(LlbError::CopyFromScratch {
                src: copy.src.clone(),
            }),
            Action::Copy(copy) => Ok(inputs.index_of(&copy.from)),
            _ => Ok(-1),
        })
        .collect()
}

impl WithOpOptions for FileOp {
    fn op_options(&mut self) -> &mut OpOptions {
        &mut self.options
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::testutil::{file_of, top_caps, top_op};

    /// (input, secondary input, output) of each action.
    fn action_io(f: &pb::FileOp) -> Vec<(i64, i64, i64)> {
        f.actions
            .iter()
            .map(|a| (a.input, a.secondary_input, a.output))
            .collect()
    }
    use crate::llb::{Image, Local};

    #[test]
    fn chained_actions_refer_to_inputs_and_earlier_outputs() {
        let base = Image::new("aiges_cpu").build().unwrap();
        let ctx = Local::new("context").build().unwrap();
        let other = Image::new("busybox").build().unwrap();
        let state = FileOp::new(&base)
            .mkdir(Mkdir::new("/etc/conda").parents(true))
            .mkfile(Mkfile::new("/etc/pip.conf", "[global]\n").mode(0o600))
            .copy(Copy::new(&ctx, "/detectron2", "/detectron2").create_dest_path(true))
            .copy(Copy::new(&other, "/bin/busybox", "/usr/bin/busybox"))
            .build()
            .unwrap();
        let op = top_op(&state);
        assert_eq!(op.inputs.len(), 3, "base, context and busybox");
        let f = file_of(&op);
        let io = action_io(f);
        // First action reads input 0; later ones read the previous action's
        // output, numbered past the 3 inputs; only the last is an output.
        assert_eq!(io, [(0, -1, -1), (3, -1, -1), (4, 1, -1), (5, 2, 0)]);
        match &f.actions[1].action {
            Some(pb::file_action::Action::Mkfile(m)) => {
                assert_eq!(
                    (m.path.as_str(), m.mode, m.data.as_slice()),
                    ("/etc/pip.conf", 0o600, &b"[global]\n"[..])
                );
                assert_eq!(m.timestamp, -1);
            }
            other => panic!("{other:?}"),
        }
        match &f.actions[2].action {
            Some(pb::file_action::Action::Copy(c)) => {
                assert_eq!(
                    (c.src.as_str(), c.dest.as_str()),
                    ("/detectron2", "/detectron2")
                );
                assert!(c.create_dest_path && !c.dir_copy_contents);
                assert!(!c.attempt_unpack_docker_compatibility);
                assert_eq!(c.mode, -1, "modes are kept");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(top_caps(&state), ["file.base"]);
    }

    #[test]
    fn an_unpacking_copy_asks_buildkit_to_extract() {
        let archive = Local::new("context").build().unwrap();
        let state = FileOp::new(&State::scratch())
            .copy(Copy::new(&archive, "/uv.tar.gz", "/").unpack(true))
            .build()
            .unwrap();
        match &file_of(&top_op(&state)).actions[0].action {
            Some(pb::file_action::Action::Copy(c)) => {
                assert!(c.attempt_unpack_docker_compatibility);
                assert_eq!((c.src.as_str(), c.dest.as_str()), ("/uv.tar.gz", "/"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scratch_base_and_repeated_sources() {
        let ctx = Local::new("context").build().unwrap();
        let state = FileOp::new(&State::scratch())
            .copy(Copy::new(&ctx, "/a", "/a"))
            .copy(Copy::new(&ctx, "/b", "/b").contents_only(true))
            .build()
            .unwrap();
        let op = top_op(&state);
        assert_eq!(op.inputs.len(), 1, "the context is one input");
        let f = file_of(&op);
        let io = action_io(f);
        assert_eq!(io, [(-1, 0, -1), (1, 0, 0)]);
        assert_eq!(top_caps(&state), ["file.base"]);
    }

    #[test]
    fn invalid_input_is_a_typed_error() {
        let base = State::scratch();
        assert_eq!(
            FileOp::new(&base).build().unwrap_err(),
            LlbError::EmptyFileOp
        );
        assert_eq!(
            FileOp::new(&base)
                .mkdir(Mkdir::new("etc"))
                .build()
                .unwrap_err(),
            LlbError::RelativePath {
                what: "mkdir path",
                path: "etc".into()
            }
        );
        assert_eq!(
            FileOp::new(&base)
                .copy(Copy::new(&base, "/a", "/b"))
                .build()
                .unwrap_err(),
            LlbError::CopyFromScratch { src: "/a".into() }
        );
        let ctx = Local::new("context").build().unwrap();
        assert_eq!(
            FileOp::new(&base)
                .copy(Copy::new(&ctx, "a", "/b"))
                .build()
                .unwrap_err(),
            LlbError::RelativePath {
                what: "copy source",
                path: "a".into()
            }
        );
    }
}
