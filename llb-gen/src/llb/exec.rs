//! Exec ops: a command run on a root state, with bind, cache, tmpfs, secret
//! and ssh mounts; writable bind mounts are outputs of their own.

use std::collections::BTreeSet;
use std::sync::Arc;

use envd_proto::caps::llb as caps;
use envd_proto::pb;

use super::error::{LlbError, require_absolute};
use super::state::{InputSet, OpOptions, State, Vertex, WithOpOptions};

/// Network the command sees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NetworkMode {
    /// The daemon's default (a sandboxed network).
    #[default]
    Default,
    Host,
    None,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SecurityMode {
    #[default]
    Sandbox,
    Insecure,
}

/// How concurrent builds share a cache mount.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CacheSharing {
    #[default]
    Shared,
    Private,
    Locked,
}

/// A bind mount of a state (read-write unless `readonly`).
#[derive(Clone, Debug)]
pub struct BindMount {
    dest: String,
    source: State,
    selector: Option<String>,
    readonly: bool,
}

impl BindMount {
    pub fn new(dest: impl Into<String>, source: &State) -> BindMount {
        BindMount {
            dest: dest.into(),
            source: source.clone(),
            selector: None,
            readonly: false,
        }
    }

    /// Mounts only this path of the source.
    pub fn selector(mut self, path: impl Into<String>) -> BindMount {
        self.selector = Some(path.into());
        self
    }

    pub fn readonly(mut self) -> BindMount {
        self.readonly = true;
        self
    }
}

/// A persistent cache directory, kept by the daemon across builds.
#[derive(Clone, Debug)]
pub struct CacheMount {
    dest: String,
    id: String,
    sharing: CacheSharing,
    base: Option<State>,
    selector: Option<String>,
}

impl CacheMount {
    pub fn new(dest: impl Into<String>, id: impl Into<String>) -> CacheMount {
        CacheMount {
            dest: dest.into(),
            id: id.into(),
            sharing: CacheSharing::Shared,
            base: None,
            selector: None,
        }
    }

    pub fn sharing(mut self, sharing: CacheSharing) -> CacheMount {
        self.sharing = sharing;
        self
    }

    /// Initial content of a new cache (e.g. a directory with an owner).
    pub fn base(mut self, state: &State) -> CacheMount {
        self.base = Some(state.clone());
        self
    }

    pub fn selector(mut self, path: impl Into<String>) -> CacheMount {
        self.selector = Some(path.into());
        self
    }
}

#[derive(Clone, Debug)]
pub struct TmpfsMount {
    dest: String,
    size: Option<i64>,
}

impl TmpfsMount {
    pub fn new(dest: impl Into<String>) -> TmpfsMount {
        TmpfsMount {
            dest: dest.into(),
            size: None,
        }
    }

    /// Size limit in bytes.
    pub fn size(mut self, bytes: i64) -> TmpfsMount {
        self.size = Some(bytes);
        self
    }
}

/// A file the client provides by id (secret or ssh agent socket).
#[derive(Clone, Debug)]
pub struct ClientFileMount {
    dest: String,
    id: String,
    uid: u32,
    gid: u32,
    mode: u32,
    optional: bool,
}

impl ClientFileMount {
    pub fn uid(mut self, uid: u32) -> Self {
        self.uid = uid;
        self
    }

    pub fn gid(mut self, gid: u32) -> Self {
        self.gid = gid;
        self
    }

    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    /// Run without it when the client does not provide it.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
}

/// A secret file provided by the client.
#[derive(Clone, Debug)]
pub struct SecretMount(ClientFileMount);

impl SecretMount {
    pub fn new(dest: impl Into<String>, id: impl Into<String>) -> SecretMount {
        SecretMount(ClientFileMount {
            dest: dest.into(),
            id: id.into(),
            uid: 0,
            gid: 0,
            mode: 0o400,
            optional: false,
        })
    }

    pub fn with(self, f: impl FnOnce(ClientFileMount) -> ClientFileMount) -> SecretMount {
        SecretMount(f(self.0))
    }
}

/// The client's ssh agent socket.
#[derive(Clone, Debug)]
pub struct SshMount(ClientFileMount);

impl SshMount {
    pub fn new(dest: impl Into<String>, id: impl Into<String>) -> SshMount {
        SshMount(ClientFileMount {
            dest: dest.into(),
            id: id.into(),
            uid: 0,
            gid: 0,
            mode: 0o600,
            optional: false,
        })
    }

    pub fn with(self, f: impl FnOnce(ClientFileMount) -> ClientFileMount) -> SshMount {
        SshMount(f(self.0))
    }
}

/// Any mount other than the root.
#[derive(Clone, Debug)]
pub enum Mount {
    Bind(BindMount),
    Cache(CacheMount),
    Tmpfs(TmpfsMount),
    Secret(SecretMount),
    Ssh(SshMount),
}

impl Mount {
    fn dest(&self) -> &str {
        match self {
            Mount::Bind(m) => &m.dest,
            Mount::Cache(m) => &m.dest,
            Mount::Tmpfs(m) => &m.dest,
            Mount::Secret(SecretMount(m)) | Mount::Ssh(SshMount(m)) => &m.dest,
        }
    }
}

macro_rules! into_mount {
    ($($ty:ident => $variant:ident),*) => {
        $(impl From<$ty> for Mount {
            fn from(m: $ty) -> Mount {
                Mount::$variant(m)
            }
        })*
    };
}
into_mount!(BindMount => Bind, CacheMount => Cache, TmpfsMount => Tmpfs, SecretMount => Secret, SshMount => Ssh);

/// Builds an exec op on a root state.
#[derive(Clone, Debug)]
pub struct Exec {
    root: State,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: String,
    user: String,
    network: NetworkMode,
    security: SecurityMode,
    mounts: Vec<Mount>,
    options: OpOptions,
}

impl Exec {
    pub fn new(root: &State, args: impl IntoIterator<Item = impl Into<String>>) -> Exec {
        Exec {
            root: root.clone(),
            args: args.into_iter().map(Into::into).collect(),
            env: vec![],
            cwd: "/".to_string(),
            user: String::new(),
            network: NetworkMode::Default,
            security: SecurityMode::Sandbox,
            mounts: vec![],
            options: OpOptions::default(),
        }
    }

    /// Sets a variable; setting one again replaces it in place.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Exec {
        let key = key.into();
        let value = value.into();
        match self.env.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.env.push((key, value)),
        }
        self
    }

    pub fn cwd(mut self, cwd: impl Into<String>) -> Exec {
        self.cwd = cwd.into();
        self
    }

    pub fn user(mut self, user: impl Into<String>) -> Exec {
        self.user = user.into();
        self
    }

    pub fn network(mut self, mode: NetworkMode) -> Exec {
        self.network = mode;
        self
    }

    pub fn security(mut self, mode: SecurityMode) -> Exec {
        self.security = mode;
        self
    }

    pub fn mount(mut self, mount: impl Into<Mount>) -> Exec {
        self.mounts.push(mount.into());
        self
    }

    pub fn build(self) -> Result<ExecState, LlbError> {
        if self.args.is_empty() {
            return Err(LlbError::EmptyArgs);
        }
        require_absolute("working directory", &self.cwd)?;
        for (key, _) in &self.env {
            if key.is_empty() || key.contains('=') {
                return Err(LlbError::InvalidEnvName(key.clone()));
            }
        }
        let mut mounts = self.mounts;
        // Sorting by destination makes the op independent of the order mounts
        // were added, and mounts parents before children.
        mounts.sort_by(|a, b| a.dest().cmp(b.dest()));
        for pair in mounts.windows(2) {
            if pair[0].dest() == pair[1].dest() {
                return Err(LlbError::DuplicateMount(pair[0].dest().to_string()));
            }
        }

        let mut required = BTreeSet::from([caps::EXEC_META_BASE]);
        let mut inputs = InputSet::default();
        let root_input = inputs.index_of(&self.root);
        let mut pb_mounts = vec![pb::Mount {
            input: root_input,
            dest: "/".to_string(),
            output: 0,
            ..Default::default()
        }];
        let mut next_output = 1;
        let mut outputs = vec![];
        for mount in &mounts {
            let dest = mount.dest();
            require_absolute("mount destination", dest)?;
            if dest == "/" {
                return Err(LlbError::MountOverRoot);
            }
            let mut pm = pb::Mount {
                dest: dest.to_string(),
                output: -1,
                ..Default::default()
            };
            match mount {
                Mount::Bind(m) => {
                    required.insert(caps::EXEC_MOUNT_BIND);
                    pm.input = inputs.index_of(&m.source);
                    pm.readonly = m.readonly;
                    set_selector(&mut pm, &m.selector, &mut required)?;
                    if !m.readonly {
                        pm.output = next_output;
                        outputs.push((dest.to_string(), next_output));
                        next_output += 1;
                    }
                }
                Mount::Cache(m) => {
                    if m.id.is_empty() {
                        return Err(LlbError::CacheMountWithoutId {
                            dest: dest.to_string(),
                        });
                    }
                    required.extend([caps::EXEC_MOUNT_CACHE, caps::EXEC_MOUNT_CACHE_SHARING]);
                    pm.mount_type = pb::MountType::Cache as i32;
                    pm.input = m.base.as_ref().map_or(-1, |base| inputs.index_of(base));
                    set_selector(&mut pm, &m.selector, &mut required)?;
                    let sharing = match m.sharing {
                        CacheSharing::Shared => pb::CacheSharingOpt::Shared,
                        CacheSharing::Private => pb::CacheSharingOpt::Private,
                        CacheSharing::Locked => pb::CacheSharingOpt::Locked,
                    };
                    pm.cache_opt = Some(pb::CacheOpt {
                        id: m.id.clone(),
                        sharing: sharing as i32,
                    });
                }
                Mount::Tmpfs(m) => {
                    required.insert(caps::EXEC_MOUNT_TMPFS);
                    pm.input = -1;
                    pm.mount_type = pb::MountType::Tmpfs as i32;
                    if m.size.is_some() {
                        required.insert(caps::EXEC_MOUNT_TMPFS_SIZE);
                    }
                    pm.tmpfs_opt = Some(pb::TmpfsOpt {
                        size: m.size.unwrap_or(0),
                    });
                }
                Mount::Secret(SecretMount(m)) => {
                    if m.id.is_empty() {
                        return Err(LlbError::SecretWithoutId {
                            dest: dest.to_string(),
                        });
                    }
                    required.insert(caps::EXEC_MOUNT_SECRET);
                    pm.input = -1;
                    pm.mount_type = pb::MountType::Secret as i32;
                    pm.secret_opt = Some(pb::SecretOpt {
                        id: m.id.clone(),
                        uid: m.uid,
                        gid: m.gid,
                        mode: m.mode,
                        optional: m.optional,
                    });
                }
                Mount::Ssh(SshMount(m)) => {
                    if m.id.is_empty() {
                        return Err(LlbError::SshWithoutId {
                            dest: dest.to_string(),
                        });
                    }
                    required.insert(caps::EXEC_MOUNT_SSH);
                    pm.input = -1;
                    pm.mount_type = pb::MountType::Ssh as i32;
                    pm.ssh_opt = Some(pb::SshOpt {
                        id: m.id.clone(),
                        uid: m.uid,
                        gid: m.gid,
                        mode: m.mode,
                        optional: m.optional,
                    });
                }
            }
            pb_mounts.push(pm);
        }

        let network = match self.network {
            NetworkMode::Default => pb::NetMode::Unset,
            NetworkMode::Host => pb::NetMode::Host,
            NetworkMode::None => pb::NetMode::None,
        };
        if network != pb::NetMode::Unset {
            required.insert(caps::EXEC_META_NETWORK);
        }
        let security = match self.security {
            SecurityMode::Sandbox => pb::SecurityMode::Sandbox,
            SecurityMode::Insecure => pb::SecurityMode::Insecure,
        };
        if security != pb::SecurityMode::Sandbox {
            required.insert(caps::EXEC_META_SECURITY);
        }
        let body = pb::op::Op::Exec(pb::ExecOp {
            meta: Some(pb::Meta {
                args: self.args,
                env: self.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                cwd: self.cwd,
                user: self.user,
                ..Default::default()
            }),
            mounts: pb_mounts,
            network: network as i32,
            security: security as i32,
            ..Default::default()
        });
        let options = self.options.inherit_platform(self.root.platform.as_ref());
        let platform = options.platform.clone();
        let vertex = Vertex::new(inputs.outputs, body, required, options);
        Ok(ExecState {
            vertex,
            platform,
            outputs,
        })
    }
}

impl WithOpOptions for Exec {
    fn op_options(&mut self) -> &mut OpOptions {
        &mut self.options
    }
}

fn set_selector(
    mount: &mut pb::Mount,
    selector: &Option<String>,
    required: &mut BTreeSet<&'static str>,
) -> Result<(), LlbError> {
    if let Some(selector) = selector {
        require_absolute("mount selector", selector)?;
        mount.selector = selector.clone();
        required.insert(caps::EXEC_MOUNT_SELECTOR);
    }
    Ok(())
}

/// The result of an exec: its root filesystem and its writable mounts.
#[derive(Clone, Debug)]
pub struct ExecState {
    vertex: Arc<Vertex>,
    platform: Option<super::platform::Platform>,
    outputs: Vec<(String, i64)>,
}

impl ExecState {
    /// The root filesystem after the command ran.
    pub fn root(&self) -> State {
        State::from_vertex(self.vertex.clone(), 0, self.platform.clone())
    }

    /// The content of the writable bind mount at `dest` after the command ran.
    pub fn mount(&self, dest: &str) -> Result<State, LlbError> {
        self.outputs
            .iter()
            .find(|(d, _)| d == dest)
            .map(|(_, index)| {
                State::from_vertex(self.vertex.clone(), *index, self.platform.clone())
            })
            .ok_or_else(|| LlbError::NoMountOutput(dest.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::testutil::{exec_of, top_caps, top_op};
    use crate::llb::{Image, Local, Platform, WithOpOptions};

    fn base() -> State {
        Image::new("aiges_cpu")
            .platform(Platform::new("linux", "amd64"))
            .build()
            .unwrap()
    }

    #[test]
    fn mounts_are_sorted_with_inputs_and_outputs_assigned() {
        let src = Local::new("context").build().unwrap();
        let exec = Exec::new(&base(), ["sh", "-c", "make"])
            .mount(TmpfsMount::new("/tmp").size(1 << 20))
            .mount(
                BindMount::new("/src", &src)
                    .selector("/detectron2")
                    .readonly(),
            )
            .mount(CacheMount::new("/root/.cache/pip", "pip"))
            .mount(BindMount::new("/out", &src))
            .mount(CacheMount::new("/var/cache/apt", "apt-cache").sharing(CacheSharing::Locked))
            .mount(SecretMount::new("/run/secrets/token", "token"))
            .mount(SshMount::new("/run/buildkit/ssh_agent.0", "default").with(|m| m.optional()))
            .build()
            .unwrap();
        let op = top_op(&exec.root());
        let e = exec_of(&op);
        let dests: Vec<&str> = e.mounts.iter().map(|m| m.dest.as_str()).collect();
        assert_eq!(
            dests,
            [
                "/",
                "/out",
                "/root/.cache/pip",
                "/run/buildkit/ssh_agent.0",
                "/run/secrets/token",
                "/src",
                "/tmp",
                "/var/cache/apt"
            ]
        );
        // root: input 0 (the image), output 0; the context is input 1 once.
        assert_eq!(op.inputs.len(), 2);
        let io: Vec<(i64, i64)> = e.mounts.iter().map(|m| (m.input, m.output)).collect();
        assert_eq!(
            io,
            [
                (0, 0),
                (1, 1),
                (-1, -1),
                (-1, -1),
                (-1, -1),
                (1, -1),
                (-1, -1),
                (-1, -1)
            ]
        );
        let by_dest = |d: &str| e.mounts.iter().find(|m| m.dest == d).unwrap();
        let pip = by_dest("/root/.cache/pip");
        assert_eq!(pip.mount_type, pb::MountType::Cache as i32);
        let pip_cache = pip.cache_opt.as_ref().unwrap();
        assert_eq!(
            (pip_cache.id.as_str(), pip_cache.sharing),
            ("pip", pb::CacheSharingOpt::Shared as i32)
        );
        let apt = by_dest("/var/cache/apt").cache_opt.as_ref().unwrap();
        assert_eq!(
            (apt.id.as_str(), apt.sharing),
            ("apt-cache", pb::CacheSharingOpt::Locked as i32)
        );
        let src_mount = by_dest("/src");
        assert!(src_mount.readonly);
        assert_eq!(src_mount.selector, "/detectron2");
        assert_eq!(src_mount.mount_type, pb::MountType::Bind as i32);
        assert_eq!(
            by_dest("/tmp").tmpfs_opt,
            Some(pb::TmpfsOpt { size: 1 << 20 })
        );
        let secret = by_dest("/run/secrets/token").secret_opt.clone().unwrap();
        assert_eq!(
            (secret.id.as_str(), secret.mode, secret.optional),
            ("token", 0o400, false)
        );
        let ssh = by_dest("/run/buildkit/ssh_agent.0")
            .ssh_opt
            .clone()
            .unwrap();
        assert_eq!(
            (ssh.id.as_str(), ssh.mode, ssh.optional),
            ("default", 0o600, true)
        );
        assert_eq!(
            top_caps(&exec.root()),
            [
                "exec.meta.base",
                "exec.mount.bind",
                "exec.mount.cache",
                "exec.mount.cache.sharing",
                "exec.mount.secret",
                "exec.mount.selector",
                "exec.mount.ssh",
                "exec.mount.tmpfs",
                "exec.mount.tmpfs.size",
                "platform",
            ]
        );
        // The writable bind mount is an output of its own.
        let out = exec.mount("/out").unwrap();
        assert_eq!(out.output.as_ref().unwrap().index, 1);
        assert_eq!(
            exec.mount("/src").unwrap_err(),
            LlbError::NoMountOutput("/src".into())
        );
    }

    #[test]
    fn meta_env_order_network_and_security() {
        let exec = Exec::new(&base(), ["python", "-V"])
            .env("PATH", "/usr/bin")
            .env("PIP_NO_INPUT", "1")
            .env("PATH", "/opt/conda/bin:/usr/bin")
            .cwd("/work")
            .user("aiges")
            .network(NetworkMode::Host)
            .security(SecurityMode::Insecure)
            .build()
            .unwrap();
        let op = top_op(&exec.root());
        let e = exec_of(&op);
        let meta = e.meta.as_ref().unwrap();
        assert_eq!(meta.args, ["python", "-V"]);
        assert_eq!(meta.env, ["PATH=/opt/conda/bin:/usr/bin", "PIP_NO_INPUT=1"]);
        assert_eq!((meta.cwd.as_str(), meta.user.as_str()), ("/work", "aiges"));
        assert_eq!(e.network, pb::NetMode::Host as i32);
        assert_eq!(e.security, pb::SecurityMode::Insecure as i32);
        assert_eq!(
            op.platform.unwrap().architecture,
            "amd64",
            "exec inherits the root's platform"
        );
        assert_eq!(
            top_caps(&exec.root()),
            [
                "exec.meta.base",
                "exec.meta.network",
                "exec.meta.security",
                "platform"
            ]
        );
        let none = Exec::new(&base(), ["true"])
            .network(NetworkMode::None)
            .build()
            .unwrap();
        assert_eq!(
            exec_of(&top_op(&none.root())).network,
            pb::NetMode::None as i32
        );
    }

    #[test]
    fn cache_mount_with_base_state_and_scratch_root() {
        let owned = crate::llb::FileOp::new(&State::scratch())
            .mkdir(crate::llb::Mkdir::new("/cache").owner(crate::llb::Owner::ids(1000, 1000)))
            .build()
            .unwrap();
        let exec = Exec::new(&State::scratch(), ["/bin/true"])
            .mount(
                CacheMount::new("/cache", "c")
                    .base(&owned)
                    .selector("/cache"),
            )
            .build()
            .unwrap();
        let op = top_op(&exec.root());
        let e = exec_of(&op);
        assert_eq!(e.mounts[0].input, -1, "scratch root has no input");
        assert_eq!(
            e.mounts[1].input, 0,
            "the cache's base state is the only input"
        );
        assert_eq!(e.mounts[1].selector, "/cache");
        assert_eq!(op.inputs.len(), 1);
    }

    #[test]
    fn mount_order_does_not_change_the_op() {
        let a = Exec::new(&base(), ["true"])
            .mount(CacheMount::new("/a", "a"))
            .mount(TmpfsMount::new("/b"))
            .build()
            .unwrap()
            .root();
        let b = Exec::new(&base(), ["true"])
            .mount(TmpfsMount::new("/b"))
            .mount(CacheMount::new("/a", "a"))
            .build()
            .unwrap()
            .root();
        assert_eq!(a.marshal(), b.marshal());
    }

    #[test]
    fn invalid_input_is_a_typed_error() {
        let empty: [&str; 0] = [];
        let err = |e: Exec| e.build().unwrap_err();
        assert_eq!(err(Exec::new(&base(), empty)), LlbError::EmptyArgs);
        assert_eq!(
            err(Exec::new(&base(), ["x"]).mount(TmpfsMount::new("tmp"))),
            LlbError::RelativePath {
                what: "mount destination",
                path: "tmp".into()
            }
        );
        assert_eq!(
            err(Exec::new(&base(), ["x"]).cwd("work")),
            LlbError::RelativePath {
                what: "working directory",
                path: "work".into()
            }
        );
        assert_eq!(
            err(Exec::new(&base(), ["x"]).mount(CacheMount::new("/c", ""))),
            LlbError::CacheMountWithoutId { dest: "/c".into() }
        );
        assert_eq!(
            err(Exec::new(&base(), ["x"]).mount(SecretMount::new("/s", ""))),
            LlbError::SecretWithoutId { dest: "/s".into() }
        );
        assert_eq!(
            err(Exec::new(&base(), ["x"]).mount(SshMount::new("/s", ""))),
            LlbError::SshWithoutId { dest: "/s".into() }
        );
        assert_eq!(
            err(Exec::new(&base(), ["x"])
                .mount(TmpfsMount::new("/t"))
                .mount(CacheMount::new("/t", "t"))),
            LlbError::DuplicateMount("/t".into())
        );
        assert_eq!(
            err(Exec::new(&base(), ["x"]).mount(TmpfsMount::new("/"))),
            LlbError::MountOverRoot
        );
        assert_eq!(
            err(Exec::new(&base(), ["x"]).env("A=B", "c")),
            LlbError::InvalidEnvName("A=B".into())
        );
        assert_eq!(
            err(Exec::new(&base(), ["x"]).mount(BindMount::new("/m", &base()).selector("rel"))),
            LlbError::RelativePath {
                what: "mount selector",
                path: "rel".into()
            }
        );
    }
}
