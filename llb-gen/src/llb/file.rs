//! File ops: mkdir, mkfile, copy and rm actions chained in one op.

use std::collections::BTreeSet;

use envd_proto::caps::llb as caps;
use envd_proto::pb;

use super::error::{LlbError, require_absolute};
use super::state::{InputSet, OpOptions, State, Vertex, WithOpOptions};

/// BuildKit's "no timestamp given" value; 0 would mean the epoch.
const NO_TIMESTAMP: i64 = -1;
/// BuildKit's "keep the source mode" value for copies.
const KEEP_MODE: i32 = -1;

/// A user or group, by id or by name (looked up in the state's /etc files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    Id(u32),
    Name(String),
}

/// Owner of created files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub user: UserRef,
    pub group: Option<UserRef>,
}

impl Owner {
    pub fn ids(uid: u32, gid: u32) -> Owner {
        Owner {
            user: UserRef::Id(uid),
            group: Some(UserRef::Id(gid)),
        }
    }

    pub fn names(user: &str, group: &str) -> Owner {
        Owner {
            user: UserRef::Name(user.to_string()),
            group: Some(UserRef::Name(group.to_string())),
        }
    }

    fn to_pb(&self) -> pb::ChownOpt {
        let user_opt = |user: &UserRef| pb::UserOpt {
            user: Some(match user {
                UserRef::Id(id) => pb::user_opt::User::ById(*id),
                UserRef::Name(name) => pb::user_opt::User::ByName(pb::NamedUserOpt {
                    name: name.clone(),
                    input: -1,
                }),
            }),
        };
        pb::ChownOpt {
            user: Some(user_opt(&self.user)),
            group: self.group.as_ref().map(user_opt),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Mkdir {
    path: String,
    mode: u32,
    parents: bool,
    owner: Option<Owner>,
}

impl Mkdir {
    pub fn new(path: impl Into<String>) -> Mkdir {
        Mkdir {
            path: path.into(),
            mode: 0o755,
            parents: false,
            owner: None,
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

    pub fn owner(mut self, owner: Owner) -> Mkdir {
        self.owner = Some(owner);
        self
    }
}

#[derive(Clone, Debug)]
pub struct Mkfile {
    path: String,
    data: Vec<u8>,
    mode: u32,
    owner: Option<Owner>,
}

impl Mkfile {
    pub fn new(path: impl Into<String>, data: impl Into<Vec<u8>>) -> Mkfile {
        Mkfile {
            path: path.into(),
            data: data.into(),
            mode: 0o644,
            owner: None,
        }
    }

    pub fn mode(mut self, mode: u32) -> Mkfile {
        self.mode = mode;
        self
    }

    pub fn owner(mut self, owner: Owner) -> Mkfile {
        self.owner = Some(owner);
        self
    }
}

/// Copies `src` of another state to `dest` of the state being built.
#[derive(Clone, Debug)]
pub struct Copy {
    from: State,
    src: String,
    dest: String,
    owner: Option<Owner>,
    mode: Option<u32>,
    follow_symlinks: bool,
    contents_only: bool,
    create_dest_path: bool,
    allow_wildcard: bool,
    allow_empty_wildcard: bool,
    include_patterns: Vec<String>,
    exclude_patterns: Vec<String>,
}

impl Copy {
    pub fn new(from: &State, src: impl Into<String>, dest: impl Into<String>) -> Copy {
        Copy {
            from: from.clone(),
            src: src.into(),
            dest: dest.into(),
            owner: None,
            mode: None,
            follow_symlinks: false,
            contents_only: false,
            create_dest_path: false,
            allow_wildcard: false,
            allow_empty_wildcard: false,
            include_patterns: vec![],
            exclude_patterns: vec![],
        }
    }

    pub fn owner(mut self, owner: Owner) -> Copy {
        self.owner = Some(owner);
        self
    }

    pub fn mode(mut self, mode: u32) -> Copy {
        self.mode = Some(mode);
        self
    }

    pub fn follow_symlinks(mut self, follow: bool) -> Copy {
        self.follow_symlinks = follow;
        self
    }

    /// For a directory `src`, copy what is in it rather than the directory.
    pub fn contents_only(mut self, contents: bool) -> Copy {
        self.contents_only = contents;
        self
    }

    pub fn create_dest_path(mut self, create: bool) -> Copy {
        self.create_dest_path = create;
        self
    }

    pub fn allow_wildcard(mut self, allow: bool) -> Copy {
        self.allow_wildcard = allow;
        self
    }

    pub fn allow_empty_wildcard(mut self, allow: bool) -> Copy {
        self.allow_empty_wildcard = allow;
        self
    }

    pub fn include_patterns(
        mut self,
        patterns: impl IntoIterator<Item = impl Into<String>>,
    ) -> Copy {
        self.include_patterns = patterns.into_iter().map(Into::into).collect();
        self
    }

    pub fn exclude_patterns(
        mut self,
        patterns: impl IntoIterator<Item = impl Into<String>>,
    ) -> Copy {
        self.exclude_patterns = patterns.into_iter().map(Into::into).collect();
        self
    }
}

#[derive(Clone, Debug)]
pub struct Rm {
    path: String,
    allow_not_found: bool,
    allow_wildcard: bool,
}

impl Rm {
    pub fn new(path: impl Into<String>) -> Rm {
        Rm {
            path: path.into(),
            allow_not_found: false,
            allow_wildcard: false,
        }
    }

    pub fn allow_not_found(mut self, allow: bool) -> Rm {
        self.allow_not_found = allow;
        self
    }

    pub fn allow_wildcard(mut self, allow: bool) -> Rm {
        self.allow_wildcard = allow;
        self
    }
}

#[derive(Clone, Debug)]
enum Action {
    Mkdir(Mkdir),
    Mkfile(Mkfile),
    Copy(Box<Copy>),
    Rm(Rm),
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

    pub fn rm(mut self, rm: Rm) -> FileOp {
        self.actions.push(Action::Rm(rm));
        self
    }

    pub fn build(self) -> Result<State, LlbError> {
        if self.actions.is_empty() {
            return Err(LlbError::EmptyFileOp);
        }
        let mut required = BTreeSet::from([caps::FILE_BASE]);
        let mut inputs = InputSet::default();
        let base_input = inputs.index_of(&self.base);
        // Secondary inputs are collected first: an action's `input` counts past
        // the op's inputs to name an earlier action's output, so the number of
        // inputs must be known before the chain is written.
        let mut secondary = Vec::with_capacity(self.actions.len());
        for action in &self.actions {
            secondary.push(match action {
                Action::Copy(copy) => {
                    if copy.from.is_scratch() {
                        return Err(LlbError::CopyFromScratch {
                            src: copy.src.clone(),
                        });
                    }
                    inputs.index_of(&copy.from)
                }
                _ => -1,
            });
        }
        let input_count = inputs.outputs.len() as i64;
        let last = self.actions.len() - 1;
        let mut pb_actions = Vec::with_capacity(self.actions.len());
        for (i, action) in self.actions.into_iter().enumerate() {
            let body = match action {
                Action::Mkdir(m) => {
                    require_absolute("mkdir path", &m.path)?;
                    pb::file_action::Action::Mkdir(pb::FileActionMkDir {
                        path: m.path,
                        mode: m.mode as i32,
                        make_parents: m.parents,
                        owner: m.owner.as_ref().map(Owner::to_pb),
                        timestamp: NO_TIMESTAMP,
                    })
                }
                Action::Mkfile(m) => {
                    require_absolute("mkfile path", &m.path)?;
                    pb::file_action::Action::Mkfile(pb::FileActionMkFile {
                        path: m.path,
                        mode: m.mode as i32,
                        data: m.data,
                        owner: m.owner.as_ref().map(Owner::to_pb),
                        timestamp: NO_TIMESTAMP,
                    })
                }
                Action::Copy(c) => {
                    require_absolute("copy source", &c.src)?;
                    require_absolute("copy destination", &c.dest)?;
                    if !c.include_patterns.is_empty() || !c.exclude_patterns.is_empty() {
                        required.insert(caps::FILE_COPY_INCLUDE_EXCLUDE_PATTERNS);
                    }
                    pb::file_action::Action::Copy(pb::FileActionCopy {
                        src: c.src,
                        dest: c.dest,
                        owner: c.owner.as_ref().map(Owner::to_pb),
                        mode: c.mode.map_or(KEEP_MODE, |m| m as i32),
                        follow_symlink: c.follow_symlinks,
                        dir_copy_contents: c.contents_only,
                        create_dest_path: c.create_dest_path,
                        allow_wildcard: c.allow_wildcard,
                        allow_empty_wildcard: c.allow_empty_wildcard,
                        timestamp: NO_TIMESTAMP,
                        include_patterns: c.include_patterns,
                        exclude_patterns: c.exclude_patterns,
                        ..Default::default()
                    })
                }
                Action::Rm(r) => {
                    require_absolute("rm path", &r.path)?;
                    if r.allow_wildcard {
                        required.insert(caps::FILE_RM_WILDCARD);
                    }
                    pb::file_action::Action::Rm(pb::FileActionRm {
                        path: r.path,
                        allow_not_found: r.allow_not_found,
                        allow_wildcard: r.allow_wildcard,
                    })
                }
            };
            pb_actions.push(pb::FileAction {
                input: if i == 0 {
                    base_input
                } else {
                    input_count + i as i64 - 1
                },
                secondary_input: secondary[i],
                output: if i == last { 0 } else { -1 },
                action: Some(body),
            });
        }
        let options = self.options.inherit_platform(self.base.platform.as_ref());
        let platform = options.platform.clone();
        let body = pb::op::Op::File(pb::FileOp {
            actions: pb_actions,
        });
        Ok(State::from_vertex(
            Vertex::new(inputs.outputs, body, required, options),
            0,
            platform,
        ))
    }
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
            .mkfile(
                Mkfile::new("/etc/pip.conf", "[global]\n")
                    .mode(0o600)
                    .owner(Owner::names("root", "root")),
            )
            .copy(
                Copy::new(&ctx, "/detectron2", "/detectron2")
                    .create_dest_path(true)
                    .allow_wildcard(true)
                    .exclude_patterns(["**/*.pyc"]),
            )
            .copy(
                Copy::new(&other, "/bin/busybox", "/usr/bin/busybox")
                    .mode(0o755)
                    .owner(Owner::ids(0, 0)),
            )
            .rm(Rm::new("/tmp/*").allow_not_found(true).allow_wildcard(true))
            .build()
            .unwrap();
        let op = top_op(&state);
        assert_eq!(op.inputs.len(), 3, "base, context and busybox");
        let f = file_of(&op);
        let io = action_io(f);
        // First action reads input 0; later ones read the previous action's
        // output, numbered past the 3 inputs; only the last is an output.
        assert_eq!(
            io,
            [(0, -1, -1), (3, -1, -1), (4, 1, -1), (5, 2, -1), (6, -1, 0)]
        );
        match &f.actions[1].action {
            Some(pb::file_action::Action::Mkfile(m)) => {
                assert_eq!(
                    (m.path.as_str(), m.mode, m.data.as_slice()),
                    ("/etc/pip.conf", 0o600, &b"[global]\n"[..])
                );
                assert_eq!(m.timestamp, -1);
                let user = m
                    .owner
                    .as_ref()
                    .unwrap()
                    .user
                    .as_ref()
                    .unwrap()
                    .user
                    .clone();
                assert_eq!(
                    user,
                    Some(pb::user_opt::User::ByName(pb::NamedUserOpt {
                        name: "root".into(),
                        input: -1
                    }))
                );
            }
            other => panic!("{other:?}"),
        }
        match &f.actions[2].action {
            Some(pb::file_action::Action::Copy(c)) => {
                assert_eq!(
                    (c.src.as_str(), c.dest.as_str()),
                    ("/detectron2", "/detectron2")
                );
                assert!(c.create_dest_path && c.allow_wildcard && !c.dir_copy_contents);
                assert_eq!(c.mode, -1, "mode kept unless set");
                assert_eq!(c.exclude_patterns, ["**/*.pyc"]);
            }
            other => panic!("{other:?}"),
        }
        match &f.actions[3].action {
            Some(pb::file_action::Action::Copy(c)) => assert_eq!(c.mode, 0o755),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            top_caps(&state),
            [
                "file.base",
                "file.copy.includeexcludepatterns",
                "file.rm.wildcard"
            ]
        );
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
        assert_eq!(
            FileOp::new(&base).rm(Rm::new("x")).build().unwrap_err(),
            LlbError::RelativePath {
                what: "rm path",
                path: "x".into()
            }
        );
    }
}
