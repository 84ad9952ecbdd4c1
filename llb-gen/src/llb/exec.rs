//! Exec ops: a command run on a root state, with bind mounts of other
//! states (read-only, or writable with the writes thrown away) and
//! persistent cache mounts.

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

/// How concurrent builds share a cache mount.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CacheSharing {
    /// Used by every build at once.
    #[default]
    Shared,
    /// One build at a time; the others wait.
    Locked,
}

/// A bind mount of a state: read-only unless made writable.
#[derive(Clone, Debug)]
pub struct BindMount {
    dest: String,
    source: State,
    writable: bool,
}

impl BindMount {
    pub fn new(dest: impl Into<String>, source: &State) -> BindMount {
        BindMount {
            dest: dest.into(),
            source: source.clone(),
            writable: false,
        }
    }

    /// The command may write into the mount; its writes are thrown away
    /// with the mount (it is not an output of the op).
    pub fn writable(mut self) -> BindMount {
        self.writable = true;
        self
    }
}

/// A persistent cache directory, kept by the daemon across builds.
#[derive(Clone, Debug)]
pub struct CacheMount {
    dest: String,
    id: String,
    sharing: CacheSharing,
}

impl CacheMount {
    pub fn new(dest: impl Into<String>, id: impl Into<String>) -> CacheMount {
        CacheMount {
            dest: dest.into(),
            id: id.into(),
            sharing: CacheSharing::Shared,
        }
    }

    pub fn sharing(mut self, sharing: CacheSharing) -> CacheMount {
        self.sharing = sharing;
        self
    }
}

/// A secret the client gives (`--secret id=ID,...`), as a file readable by
/// root only, for the one step: it is in no layer, and its content in no
/// cache key. Optional: without it the step runs without the file.
#[derive(Clone, Debug)]
pub struct SecretMount {
    dest: String,
    id: String,
}

impl SecretMount {
    pub fn new(dest: impl Into<String>, id: impl Into<String>) -> SecretMount {
        SecretMount {
            dest: dest.into(),
            id: id.into(),
        }
    }
}

/// Any mount other than the root.
#[derive(Clone, Debug)]
pub enum Mount {
    Bind(BindMount),
    Cache(CacheMount),
    Secret(SecretMount),
}

impl Mount {
    fn dest(&self) -> &str {
        match self {
            Mount::Bind(m) => &m.dest,
            Mount::Cache(m) => &m.dest,
            Mount::Secret(m) => &m.dest,
        }
    }
}

impl From<SecretMount> for Mount {
    fn from(m: SecretMount) -> Mount {
        Mount::Secret(m)
    }
}

impl From<BindMount> for Mount {
    fn from(m: BindMount) -> Mount {
        Mount::Bind(m)
    }
}

impl From<CacheMount> for Mount {
    fn from(m: CacheMount) -> Mount {
        Mount::Cache(m)
    }
}

/// Builds an exec op on a root state.
#[derive(Clone, Debug)]
pub struct Exec {
    root: State,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: String,
    /// The user the process runs as; empty: the image's default, root.
    user: String,
    network: NetworkMode,
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

    /// Runs the process as `user` (a name or `uid[:gid]`).
    pub fn user(mut self, user: impl Into<String>) -> Exec {
        self.user = user.into();
        self
    }

    pub fn network(mut self, mode: NetworkMode) -> Exec {
        self.network = mode;
        self
    }

    pub fn mount(mut self, mount: impl Into<Mount>) -> Exec {
        self.mounts.push(mount.into());
        self
    }

    pub fn build(self) -> Result<ExecState, LlbError> {
        self.check_meta()?;
        let mounts = sorted_mounts(self.mounts)?;
        let mut required = BTreeSet::from([caps::EXEC_META_BASE]);
        let mut inputs = InputSet::default();
        let root = pb::Mount {
            input: inputs.index_of(&self.root),
            dest: "/".to_string(),
            output: 0,
            ..Default::default()
        };
        let mut pb_mounts = vec![root];
        for mount in &mounts {
            pb_mounts.push(mount_to_pb(mount, &mut inputs, &mut required)?);
        }
        let network = match self.network {
            NetworkMode::Default => pb::NetMode::Unset,
            NetworkMode::Host => pb::NetMode::Host,
            NetworkMode::None => pb::NetMode::None,
        };
        if network != pb::NetMode::Unset {
            required.insert(caps::EXEC_META_NETWORK);
        }
        let body = pb::op::Op::Exec(pb::ExecOp {
            meta: Some(pb::Meta {
                args: self.args,
                env: self.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                cwd: self.cwd,
                user: self.user,
                // The folders BuildKit makes for mount points are removed
                // with their empty parents after the step, as BuildKit's
                // own client asks (no cap: older daemons ignore the field
                // and remove the mount point alone). Without it, images kept
                // empty /tmp/envd-frontend and /var/cache/envd-frontend.
                remove_mount_stubs_recursive: true,
                ..Default::default()
            }),
            mounts: pb_mounts,
            network: network as i32,
            ..Default::default()
        });
        let options = self.options.inherit_platform(self.root.platform.as_ref());
        let platform = options.platform.clone();
        let vertex = Vertex::new(inputs.outputs, body, required, options);
        Ok(ExecState { vertex, platform })
    }

    /// Arguments, working directory and variable names BuildKit accepts.
    fn check_meta(&self) -> Result<(), LlbError> {
        if self.args.is_empty() {
            return Err(LlbError::EmptyArgs);
        }
        require_absolute("working directory", &self.cwd)?;
        match self
            .env
            .iter()
            .find(|(key, _)| key.is_empty() || key.contains('='))
        {
            Some((key, _)) => Err(LlbError::InvalidEnvName(key.clone())),
            None => Ok(()),
        }
    }
}

/// Mounts sorted by destination, which makes the op independent of the
/// order they were added and mounts parents before children.
fn sorted_mounts(mut mounts: Vec<Mount>) -> Result<Vec<Mount>, LlbError> {
    mounts.sort_by(|a, b| a.dest().cmp(b.dest()));
    for pair in mounts.windows(2) {
        if pair[0].dest() == pair[1].dest() {
            return Err(LlbError::DuplicateMount(pair[0].dest().to_string()));
        }
    }
    Ok(mounts)
}

fn mount_to_pb(
    mount: &Mount,
    inputs: &mut InputSet,
    required: &mut BTreeSet<&'static str>,
) -> Result<pb::Mount, LlbError> {
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
            pm.readonly = !m.writable;
        }
        Mount::Cache(m) => {
            if m.id.is_empty() {
                return Err(LlbError::CacheMountWithoutId {
                    dest: dest.to_string(),
                });
            }
            required.extend([caps::EXEC_MOUNT_CACHE, caps::EXEC_MOUNT_CACHE_SHARING]);
            pm.mount_type = pb::MountType::Cache as i32;
            pm.input = -1;
            let sharing = match m.sharing {
                CacheSharing::Shared => pb::CacheSharingOpt::Shared,
                CacheSharing::Locked => pb::CacheSharingOpt::Locked,
            };
            pm.cache_opt = Some(pb::CacheOpt {
                id: m.id.clone(),
                sharing: sharing as i32,
            });
        }
        Mount::Secret(m) => {
            if m.id.is_empty() {
                return Err(LlbError::SecretMountWithoutId {
                    dest: dest.to_string(),
                });
            }
            required.insert(caps::EXEC_MOUNT_SECRET);
            pm.mount_type = pb::MountType::Secret as i32;
            pm.input = -1;
            pm.secret_opt = Some(pb::SecretOpt {
                id: m.id.clone(),
                uid: 0,
                gid: 0,
                mode: 0o400,
                optional: true,
            });
        }
    }
    Ok(pm)
}

impl WithOpOptions for Exec {
    fn op_options(&mut self) -> &mut OpOptions {
        &mut self.options
    }
}

/// The result of an exec: its root filesystem.
#[derive(Clone, Debug)]
pub struct ExecState {
    vertex: Arc<Vertex>,
    platform: Option<super::platform::Platform>,
}

impl ExecState {
    /// The root filesystem after the command ran.
    pub fn root(&self) -> State {
        State::from_vertex(self.vertex.clone(), 0, self.platform.clone())
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
    fn mounts_are_sorted_with_inputs_assigned() {
        let src = Local::new("context").build().unwrap();
        let exec = Exec::new(&base(), ["sh", "-c", "make"])
            .mount(BindMount::new("/src", &src))
            .mount(CacheMount::new("/root/.cache/pip", "pip"))
            .mount(BindMount::new("/also-src", &src).writable())
            .mount(CacheMount::new("/var/cache/apt", "apt-cache").sharing(CacheSharing::Locked))
            .build()
            .unwrap();
        let op = top_op(&exec.root());
        let e = exec_of(&op);
        let dests: Vec<&str> = e.mounts.iter().map(|m| m.dest.as_str()).collect();
        assert_eq!(
            dests,
            [
                "/",
                "/also-src",
                "/root/.cache/pip",
                "/src",
                "/var/cache/apt"
            ]
        );
        // root: input 0 (the image), output 0; the context is input 1 once;
        // no other mount is an output.
        assert_eq!(op.inputs.len(), 2);
        let io: Vec<(i64, i64)> = e.mounts.iter().map(|m| (m.input, m.output)).collect();
        assert_eq!(io, [(0, 0), (1, -1), (-1, -1), (1, -1), (-1, -1)]);
        let by_dest = |d: &str| e.mounts.iter().find(|m| m.dest == d).unwrap();
        assert!(by_dest("/src").readonly);
        // Writable, and still not an output: the writes are thrown away.
        assert!(!by_dest("/also-src").readonly);
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
        assert_eq!(src_mount.mount_type, pb::MountType::Bind as i32);
        assert_eq!(
            top_caps(&exec.root()),
            [
                "exec.meta.base",
                "exec.mount.bind",
                "exec.mount.cache",
                "exec.mount.cache.sharing",
                "platform",
            ]
        );
    }

    #[test]
    fn meta_env_order_and_network() {
        let exec = Exec::new(&base(), ["python", "-V"])
            .env("PATH", "/usr/bin")
            .env("PIP_NO_INPUT", "1")
            .env("PATH", "/opt/conda/bin:/usr/bin")
            .cwd("/work")
            .network(NetworkMode::Host)
            .build()
            .unwrap();
        let op = top_op(&exec.root());
        let e = exec_of(&op);
        let meta = e.meta.as_ref().unwrap();
        assert_eq!(meta.args, ["python", "-V"]);
        assert_eq!(meta.env, ["PATH=/opt/conda/bin:/usr/bin", "PIP_NO_INPUT=1"]);
        assert_eq!(meta.cwd, "/work");
        assert!(
            meta.remove_mount_stubs_recursive,
            "mount points' empty parents are removed, as BuildKit's client asks"
        );
        assert_eq!(e.network, pb::NetMode::Host as i32);
        assert_eq!(
            op.platform.unwrap().architecture,
            "amd64",
            "exec inherits the root's platform"
        );
        assert_eq!(
            top_caps(&exec.root()),
            ["exec.meta.base", "exec.meta.network", "platform"]
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
    fn scratch_root_has_no_input() {
        let exec = Exec::new(&State::scratch(), ["/bin/true"])
            .mount(CacheMount::new("/cache", "c"))
            .build()
            .unwrap();
        let op = top_op(&exec.root());
        assert_eq!(exec_of(&op).mounts[0].input, -1);
        assert!(op.inputs.is_empty());
    }

    #[test]
    fn mount_order_does_not_change_the_op() {
        let src = Local::new("context").build().unwrap();
        let a = Exec::new(&base(), ["true"])
            .mount(CacheMount::new("/a", "a"))
            .mount(BindMount::new("/b", &src))
            .build()
            .unwrap()
            .root();
        let b = Exec::new(&base(), ["true"])
            .mount(BindMount::new("/b", &src))
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
            err(Exec::new(&base(), ["x"]).mount(CacheMount::new("tmp", "t"))),
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
            err(Exec::new(&base(), ["x"])
                .mount(BindMount::new("/t", &base()))
                .mount(CacheMount::new("/t", "t"))),
            LlbError::DuplicateMount("/t".into())
        );
        assert_eq!(
            err(Exec::new(&base(), ["x"]).mount(CacheMount::new("/", "root"))),
            LlbError::MountOverRoot
        );
        assert_eq!(
            err(Exec::new(&base(), ["x"]).env("A=B", "c")),
            LlbError::InvalidEnvName("A=B".into())
        );
    }

    #[test]
    fn secret_mounts_are_optional_root_only_files() {
        let exec = Exec::new(&base(), ["pip", "install", "x"])
            .mount(SecretMount::new("/run/secrets/netrc", "netrc"))
            .build()
            .unwrap();
        let op = top_op(&exec.root());
        let exec_op = exec_of(&op);
        let secret = &exec_op.mounts[1];
        assert_eq!(secret.mount_type, pb::MountType::Secret as i32);
        assert_eq!((secret.input, secret.output), (-1, -1));
        let opt = secret.secret_opt.as_ref().unwrap();
        assert_eq!(
            (opt.id.as_str(), opt.mode, opt.optional),
            ("netrc", 0o400, true)
        );
        assert!(top_caps(&exec.root()).contains(&caps::EXEC_MOUNT_SECRET.to_string()));
        assert_eq!(
            Exec::new(&base(), ["x"])
                .mount(SecretMount::new("/s", ""))
                .build()
                .err(),
            Some(LlbError::SecretMountWithoutId {
                dest: "/s".to_string()
            })
        );
    }
}
