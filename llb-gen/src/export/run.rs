//! Exec ops as `RUN`: the mounts as `--mount` options, the variables as
//! `ENV` or `ARG`, the folder and the script.

use std::collections::BTreeMap;

use envd_proto::pb;

use super::graph::{Node, StateRef};
use super::stages::{ExportError, Reference, Settings, Stages, error_at};
use super::syntax;

impl Stages<'_> {
    /// An exec op as `RUN`: its mounts as `--mount` options, the variables
    /// it has that the stage does not as `ENV` (those the image keeps) or
    /// `ARG` (those only steps see), its folder with `cd`, its script as a
    /// here-document whose first line names the build file line (podman
    /// and buildah show that line with the step).
    pub(super) fn run(
        &mut self,
        node: &Node,
        exec: &pb::ExecOp,
        state: &StateRef,
        settings: &mut Settings,
        out: &mut Vec<String>,
    ) -> Result<(), ExportError> {
        let meta = exec.meta.clone().unwrap_or_default();
        if exec.security != pb::SecurityMode::Sandbox as i32 {
            return Err(error_at(
                node,
                "a step with extra privileges, which this export does not write",
            ));
        }
        let mut prelude = vec![];
        // The user first: USER changes what later steps run as.
        let user = if meta.user.is_empty() {
            "root"
        } else {
            meta.user.as_str()
        };
        let current_user = if settings.user.is_empty() {
            "root"
        } else {
            settings.user.as_str()
        };
        if user != current_user {
            out.push(format!("USER {user}"));
            settings.user = user.to_string();
        }
        let wanted: BTreeMap<String, String> = meta
            .env
            .iter()
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_string(), v.to_string())
            })
            .collect();
        for (key, value) in &wanted {
            let current = settings.env.get(key).or_else(|| settings.args.get(key));
            if current == Some(value) {
                continue;
            }
            let name = syntax::key(key).map_err(|e| error_at(node, e))?;
            if self.assumed.image_env.contains(key) || settings.env.contains_key(key) {
                // Appended to: written as an extension of what the base has,
                // so a base with its own PATH keeps it.
                let written = match settings.env.get(key) {
                    Some(old) if value.starts_with(&format!("{old}:")) => format!(
                        "\"${{{key}}}{}",
                        &syntax::quoted(&value[old.len()..]).map_err(|e| error_at(node, e))?[1..]
                    ),
                    _ => syntax::quoted(value).map_err(|e| error_at(node, e))?,
                };
                out.push(format!("ENV {name}={written}"));
                settings.env.insert(key.clone(), value.clone());
            } else {
                out.push(format!(
                    "ARG {name}={}",
                    syntax::quoted(value).map_err(|e| error_at(node, e))?
                ));
                settings.args.insert(key.clone(), value.clone());
            }
        }
        for key in settings.env.keys().chain(settings.args.keys()) {
            if !wanted.contains_key(key) {
                prelude.push(format!("unset {key}"));
            }
        }
        let cwd = if meta.cwd.is_empty() {
            "/"
        } else {
            meta.cwd.as_str()
        };
        if cwd != settings.workdir {
            prelude.push(format!("cd {}", crate::lower::shell::quote(cwd)));
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
                out.push(format!(
                    "RUN {}{}",
                    flags(&options),
                    syntax::json_array(args)
                ));
                return Ok(());
            }
            _ => {
                return Err(error_at(
                    node,
                    "a step that is not a shell script, and needs its folder or variables changed",
                ));
            }
        };
        let mut body = String::new();
        body.push_str(&format!("{}\n", self.comment(node)));
        for line in &prelude {
            body.push_str(line);
            body.push('\n');
        }
        body.push_str(&script);
        if !body.ends_with('\n') {
            body.push('\n');
        }
        let (delimiter, body) = syntax::heredoc(&body)
            .map_err(|e| error_at(node, format!("the step's script: {e}")))?;
        out.push(format!("RUN {}<<'{delimiter}'\n{body}", flags(&options)));
        Ok(())
    }

    /// A mount of an exec op as a `--mount` option.
    fn mount(&mut self, node: &Node, mount: &pb::Mount) -> Result<String, ExportError> {
        let mut fields = vec![];
        let field = syntax::mount_field;
        match pb::MountType::try_from(mount.mount_type) {
            Ok(pb::MountType::Bind) => {
                fields.push("type=bind".to_string());
                let source = node.input(mount.input).map_err(|e| error_at(node, e))?;
                match source {
                    None => {
                        return Err(error_at(
                            node,
                            "a bind mount of an empty file system, which a Dockerfile cannot say",
                        ));
                    }
                    Some(source) => match self.reference(&source)? {
                        Reference::Context => {}
                        Reference::From(name) => fields.push(field("from", &name)),
                    },
                }
                if !mount.selector.is_empty() {
                    fields.push(field("source", &mount.selector));
                }
                fields.push(field("target", &mount.dest));
                if !mount.readonly {
                    fields.push("rw".to_string());
                }
            }
            Ok(pb::MountType::Cache) => {
                let cache = mount.cache_opt.clone().unwrap_or_default();
                fields.push("type=cache".to_string());
                fields.push(field("id", &cache.id));
                fields.push(field("target", &mount.dest));
                let sharing = match pb::CacheSharingOpt::try_from(cache.sharing) {
                    Ok(pb::CacheSharingOpt::Private) => "private",
                    Ok(pb::CacheSharingOpt::Locked) => "locked",
                    _ => "shared",
                };
                fields.push(field("sharing", sharing));
            }
            Ok(pb::MountType::Secret) => {
                let secret = mount.secret_opt.clone().unwrap_or_default();
                fields.push("type=secret".to_string());
                fields.push(field("id", &secret.id));
                fields.push(field("target", &mount.dest));
                fields.push(field(
                    "required",
                    if secret.optional { "false" } else { "true" },
                ));
                // Written where they differ from the Dockerfile's defaults.
                if secret.mode != 0o400 {
                    fields.push(field("mode", &format!("0{:o}", secret.mode)));
                }
                if secret.uid != 0 {
                    fields.push(field("uid", &secret.uid.to_string()));
                }
                if secret.gid != 0 {
                    fields.push(field("gid", &secret.gid.to_string()));
                }
            }
            Ok(pb::MountType::Tmpfs) => {
                fields.push("type=tmpfs".to_string());
                fields.push(field("target", &mount.dest));
            }
            _ => {
                return Err(error_at(
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

fn flags(options: &[String]) -> String {
    options.iter().map(|o| format!("{o} ")).collect()
}
