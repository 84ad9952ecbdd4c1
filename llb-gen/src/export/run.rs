//! Exec ops as `RUN`: the user as `USER`, the variables as `ENV` or `ARG`,
//! the mounts as `--mount` options, and the script as a here-document
//! that starts in the step's folder.

use std::collections::BTreeMap;

use envd_proto::pb;

use super::graph::{Node, StateRef};
use super::stages::{Reference, Stages, finding_at};
use super::{Finding, Settings, env_pairs, syntax, user_or_root};

impl Stages<'_> {
    /// An exec op as `RUN`. What the step has and the stage does not is
    /// written first: its user (`USER`), its variables (`ENV` for those the
    /// image keeps, `ARG` for those only steps see, `unset` in the script
    /// for those it lacks), its folder (`cd` in the script). The script is
    /// a here-document whose first line names the build file line (Podman
    /// and Buildah show that line with the step).
    pub(super) fn run(
        &mut self,
        node: &Node,
        exec: &pb::ExecOp,
        state: &StateRef,
        settings: &mut Settings,
        out: &mut Vec<String>,
    ) -> Result<(), Finding> {
        let meta = exec.meta.clone().unwrap_or_default();
        check_unwritten(node, exec, &meta)?;
        let user = user_or_root(&meta.user);
        if user != user_or_root(&settings.user) {
            let word = syntax::word("the user", user).map_err(|e| finding_at(node, e))?;
            out.push(format!("USER {word}"));
            settings.user = user.to_string();
        }
        let pairs = env_pairs(&meta.env);
        let wanted: BTreeMap<String, String> = pairs.iter().cloned().collect();
        // In the step's order, each variable once (its last value).
        let mut seen = std::collections::BTreeSet::new();
        for (key, _) in pairs {
            if !seen.insert(key.clone()) {
                continue;
            }
            let value = &wanted[&key];
            let current = settings.env.get(&key).or_else(|| settings.args.get(&key));
            if current == Some(value) {
                continue;
            }
            let name = syntax::key(&key).map_err(|e| finding_at(node, e))?;
            if self.assumed.image_env.contains(&key) || settings.env.contains_key(&key) {
                let old = settings.env.get(&key).map(String::as_str);
                let written =
                    syntax::env_value(&key, old, value).map_err(|e| finding_at(node, e))?;
                out.push(format!("ENV {name}={written}"));
                settings.env.insert(key.clone(), value.clone());
            } else {
                let written = syntax::quoted(value).map_err(|e| finding_at(node, e))?;
                out.push(format!("ARG {name}={written}"));
                settings.args.insert(key.clone(), value.clone());
            }
        }
        let mut prelude: Vec<String> = settings
            .env
            .keys()
            .chain(settings.args.keys())
            .filter(|key| !wanted.contains_key(*key))
            .map(|key| format!("unset {}\n", crate::lower::shell::quote(key)))
            .collect();
        // The step's folder, made when missing, as BuildKit makes it for a
        // step (not WORKDIR: the image's own folder, unknown offline, would
        // have to be put back after).
        let cwd = if meta.cwd.is_empty() { "/" } else { &meta.cwd };
        if cwd != settings.workdir {
            let dir = crate::lower::shell::quote(cwd);
            prelude.push(format!(
                "cd -- {dir} 2>/dev/null || {{ mkdir -p -- {dir} && cd -- {dir}; }} || exit 1\n"
            ));
        }
        let mut options = vec![];
        match exec.network {
            n if n == pb::NetMode::Host as i32 => options.push("--network=host".to_string()),
            n if n == pb::NetMode::None as i32 => options.push("--network=none".to_string()),
            _ => {}
        }
        for mount in &exec.mounts {
            if mount.dest == "/" && mount.output == state.index {
                continue;
            }
            options.push(self.mount(node, mount)?);
        }
        let script = match meta.args.as_slice() {
            [shell, flag, script] if shell == "/bin/sh" && flag == "-c" => script.clone(),
            args if prelude.is_empty() => {
                let args = syntax::json_array(args).map_err(|e| finding_at(node, e))?;
                out.push(format!("RUN {}{args}", syntax::flags(&options)));
                return Ok(());
            }
            _ => {
                return Err(finding_at(
                    node,
                    "a step that is not a shell script, and needs its folder or variables changed",
                ));
            }
        };
        let mut body = format!("{}\n{}{script}", self.comment(node), prelude.concat());
        if !body.ends_with('\n') {
            body.push('\n');
        }
        let (delimiter, body) = syntax::heredoc(&body)
            .map_err(|e| finding_at(node, format!("the step's script: {e}")))?;
        out.push(format!(
            "RUN {}<<'{delimiter}'\n{body}",
            syntax::flags(&options)
        ));
        Ok(())
    }

    /// A mount of an exec op as a `--mount` option.
    fn mount(&mut self, node: &Node, mount: &pb::Mount) -> Result<String, Finding> {
        let field = |key: &str, value: &str| {
            syntax::mount_field(key, value).map_err(|e| finding_at(node, e))
        };
        let mut fields = vec![];
        match pb::MountType::try_from(mount.mount_type) {
            Ok(pb::MountType::Bind) => {
                fields.push("type=bind".to_string());
                let Some(source) = node.input(mount.input).map_err(|e| finding_at(node, e))? else {
                    return Err(finding_at(
                        node,
                        "a bind mount of an empty file system, which a Dockerfile cannot say",
                    ));
                };
                match self.reference(&source)? {
                    Reference::Context if mount.selector.is_empty() => {
                        self.reads_whole_context = true;
                    }
                    Reference::Context => {}
                    Reference::From(name) => fields.push(field("from", &name)?),
                }
                if !mount.selector.is_empty() {
                    fields.push(field("source", &mount.selector)?);
                }
                fields.push(field("target", &mount.dest)?);
                if !mount.readonly {
                    fields.push("rw".to_string());
                }
            }
            Ok(pb::MountType::Cache) => {
                let cache = mount.cache_opt.clone().unwrap_or_default();
                if mount.input >= 0 {
                    return Err(finding_at(
                        node,
                        "a cache mount that starts from a file system, which this export does not write",
                    ));
                }
                fields.push("type=cache".to_string());
                fields.push(field("id", &cache.id)?);
                fields.push(field("target", &mount.dest)?);
                let sharing = match pb::CacheSharingOpt::try_from(cache.sharing) {
                    Ok(pb::CacheSharingOpt::Private) => "private",
                    Ok(pb::CacheSharingOpt::Locked) => "locked",
                    _ => "shared",
                };
                fields.push(field("sharing", sharing)?);
            }
            Ok(pb::MountType::Secret) => {
                let secret = mount.secret_opt.clone().unwrap_or_default();
                fields.push("type=secret".to_string());
                fields.push(field("id", &secret.id)?);
                fields.push(field("target", &mount.dest)?);
                fields.push(field(
                    "required",
                    if secret.optional { "false" } else { "true" },
                )?);
                // Written where they differ from the Dockerfile's defaults.
                if secret.mode != 0o400 {
                    fields.push(field("mode", &format!("0{:o}", secret.mode))?);
                }
                if secret.uid != 0 {
                    fields.push(field("uid", &secret.uid.to_string())?);
                }
                if secret.gid != 0 {
                    fields.push(field("gid", &secret.gid.to_string())?);
                }
            }
            Ok(pb::MountType::Tmpfs) if mount.tmpfs_opt.as_ref().is_none_or(|t| t.size == 0) => {
                fields.push("type=tmpfs".to_string());
                fields.push(field("target", &mount.dest)?);
            }
            _ => {
                return Err(finding_at(
                    node,
                    format!(
                        "a mount at {} of a kind this export does not write",
                        mount.dest
                    ),
                ));
            }
        }
        Ok(format!("--mount={}", fields.join(",")))
    }
}

/// An error for what a step has that `RUN` does not write (none of this
/// project's steps has any of it).
fn check_unwritten(node: &Node, exec: &pb::ExecOp, meta: &pb::Meta) -> Result<(), Finding> {
    let unwritten = [
        (
            exec.security != pb::SecurityMode::Sandbox as i32,
            "extra privileges",
        ),
        (!meta.hostname.is_empty(), "a host name"),
        (!meta.extra_hosts.is_empty(), "extra hosts"),
        (!meta.ulimit.is_empty(), "limits"),
        (!meta.valid_exit_codes.is_empty(), "exit codes other than 0"),
        (meta.proxy_env.is_some(), "proxy settings"),
        (!meta.cgroup_parent.is_empty(), "a cgroup parent"),
        (!exec.secretenv.is_empty(), "secrets as variables"),
        (!exec.cdi_devices.is_empty(), "devices"),
    ];
    match unwritten.iter().find(|(has, _)| *has) {
        Some((_, what)) => Err(finding_at(
            node,
            format!("a step with {what}, which this export does not write"),
        )),
        None => Ok(()),
    }
}
