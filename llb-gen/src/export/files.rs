//! File ops as `COPY` (here-documents for written files, `--from` for
//! copies out of other stages), downloads as `ADD --checksum`, and
//! archives unpacked in a stage of their own.

use envd_proto::pb;
use pb::file_action::Action;

use super::graph::{Node, StateRef};
use super::stages::{Reference, Stages, finding_at};
use super::{Finding, syntax};
use crate::llb::{HTTP_CHECKSUM, HTTP_FILENAME, HTTP_PERM};
use crate::lower::parent_folder;

/// Where an unpacking stage mounts the download, and unpacks it.
const DOWNLOADED: &str = "/tmp/envd-frontend/download";
const UNPACKED: &str = "/tmp/envd-frontend/unpacked";

impl Stages<'_> {
    /// A file op's actions as instructions.
    pub(super) fn file(
        &mut self,
        node: &Node,
        file: &pb::FileOp,
        out: &mut Vec<String>,
    ) -> Result<(), Finding> {
        let actions = &file.actions;
        for (i, action) in actions.iter().enumerate() {
            match &action.action {
                Some(Action::Mkdir(mkdir)) => {
                    // A config file's folder, made as COPY makes a file's
                    // parents (mode 755, root's).
                    let makes_parent = mkdir.make_parents
                        && mkdir.mode == 0o755
                        && mkdir.owner.is_none()
                        && actions.get(i + 1).is_some_and(|next| match &next.action {
                            Some(Action::Mkfile(mkfile)) => {
                                parent_folder(&mkfile.path) == folder(&mkdir.path)
                            }
                            _ => false,
                        });
                    if !makes_parent {
                        return Err(finding_at(
                            node,
                            format!(
                                "making the folder {} alone, which this export does not write",
                                mkdir.path
                            ),
                        ));
                    }
                }
                Some(Action::Mkfile(mkfile)) => out.push(written_file(node, mkfile)?),
                Some(Action::Copy(copy)) => {
                    let source = node
                        .input(action.secondary_input)
                        .map_err(|e| finding_at(node, e))?;
                    let Some(source) = source else {
                        return Err(finding_at(node, "a copy from an empty file system"));
                    };
                    out.push(self.copy(node, copy, &source)?);
                }
                Some(Action::Rm(rm)) => {
                    return Err(finding_at(
                        node,
                        format!("removing {}, which this export does not write", rm.path),
                    ));
                }
                Some(Action::Symlink(link)) => {
                    return Err(finding_at(
                        node,
                        format!(
                            "a link at {}, which this export does not write",
                            link.newpath
                        ),
                    ));
                }
                None => {}
            }
        }
        Ok(())
    }

    /// A copy action as `COPY`.
    fn copy(
        &mut self,
        node: &Node,
        copy: &pb::FileActionCopy,
        source: &StateRef,
    ) -> Result<String, Finding> {
        if !copy.include_patterns.is_empty() || !copy.exclude_patterns.is_empty() {
            return Err(finding_at(
                node,
                "a copy with patterns, which this export does not write",
            ));
        }
        let mut flags = vec![];
        let mut src = if copy.src.is_empty() {
            "/".to_string()
        } else {
            copy.src.clone()
        };
        match self.reference(source)? {
            Reference::Context => {
                // A context path is relative to the context's root.
                src = match src.trim_start_matches('/') {
                    "" => {
                        self.reads_whole_context = true;
                        ".".to_string()
                    }
                    path => path.to_string(),
                };
            }
            Reference::From(name) if copy.attempt_unpack_docker_compatibility => {
                // ADD unpacks only the context's archives: the base's tar
                // unpacks this one in a stage of its own.
                let unpacked = self.unpack_stage(node, &name, &src)?;
                flags.push(format!("--from={unpacked}"));
                src = format!("{UNPACKED}/");
            }
            Reference::From(name) => flags.push(format!("--from={name}")),
        }
        if copy.mode >= 0 {
            flags.push(format!("--chmod={:o}", copy.mode));
        }
        flags.extend(chown(node, copy.owner.as_ref())?);
        if !copy.dir_copy_contents && src != "." && !copy.attempt_unpack_docker_compatibility {
            self.warnings.push(finding_at(
                node,
                format!(
                    "if {src} is a folder, the Dockerfile's COPY puts its contents at {dest}, where this build puts the folder itself inside {dest} when {dest} is a folder on the image",
                    dest = copy.dest
                ),
            ));
        }
        if src.contains(['*', '?', '[']) {
            return Err(finding_at(
                node,
                format!("copying {src}, whose name COPY would read as a pattern"),
            ));
        }
        let args = syntax::paths(&[&src, &copy.dest]).map_err(|e| finding_at(node, e))?;
        Ok(format!("COPY {}{args}", syntax::flags(&flags)))
    }

    /// A stage on the image's base that unpacks `archive` of stage `from`
    /// into [`UNPACKED`], as root, as BuildKit's unpacking copy does.
    fn unpack_stage(&mut self, node: &Node, from: &str, archive: &str) -> Result<String, Finding> {
        let Some(base) = self.base_image.clone() else {
            return Err(finding_at(
                node,
                "unpacking an archive before the image's base is known",
            ));
        };
        let name = self.new_stage_name("unpack");
        let script = format!(
            "{}\nset -eu\nmkdir -p {UNPACKED}\ntar -xf {} -C {UNPACKED}\n",
            self.comment(node),
            crate::lower::shell::quote(&format!("{DOWNLOADED}{archive}")),
        );
        let (delimiter, body) = syntax::heredoc(&script).map_err(|e| finding_at(node, e))?;
        let mount = [
            "type=bind".to_string(),
            syntax::mount_field("from", from).map_err(|e| finding_at(node, e))?,
            syntax::mount_field("target", DOWNLOADED).map_err(|e| finding_at(node, e))?,
        ];
        self.written.push(format!(
            "{comment}\nFROM --platform={} {base} AS {name}\nUSER root\nRUN --mount={} <<'{delimiter}'\n{body}",
            self.platform,
            mount.join(","),
            comment = self.comment(node),
        ));
        Ok(name)
    }
}

/// A file a step writes, as a `COPY` here-document.
fn written_file(node: &Node, mkfile: &pb::FileActionMkFile) -> Result<String, Finding> {
    let text = std::str::from_utf8(&mkfile.data).map_err(|_| {
        finding_at(
            node,
            format!(
                "the file {} is not text, which a Dockerfile here-document cannot hold",
                mkfile.path
            ),
        )
    })?;
    let (delimiter, body) = syntax::heredoc(text)
        .map_err(|e| finding_at(node, format!("the file {}: {e}", mkfile.path)))?;
    let mut flags = vec![format!("--chmod={:o}", mkfile.mode)];
    flags.extend(chown(node, mkfile.owner.as_ref())?);
    let path = syntax::word("the file", &mkfile.path).map_err(|e| finding_at(node, e))?;
    Ok(format!(
        "COPY {}<<'{delimiter}' {path}\n{body}",
        syntax::flags(&flags)
    ))
}

/// A download as `ADD`, checked as the build checks it.
pub(super) fn http_add(node: &Node, source: &pb::SourceOp) -> Result<String, Finding> {
    let mut flags = vec![];
    if let Some(perm) = source.attrs.get(HTTP_PERM) {
        flags.push(format!("--chmod={}", perm.trim_start_matches('0')));
    }
    if let Some(checksum) = source.attrs.get(HTTP_CHECKSUM) {
        flags.push(format!("--checksum={checksum}"));
    }
    let name = source
        .attrs
        .get(HTTP_FILENAME)
        .cloned()
        .unwrap_or_else(|| crate::lower::downloads::file_name(&source.identifier).to_string());
    let args = syntax::paths(&[&source.identifier, &format!("/{name}")])
        .map_err(|e| finding_at(node, e))?;
    Ok(format!("ADD {}{args}", syntax::flags(&flags)))
}

/// `--chown=USER[:GROUP]` for an owner given by ids or names.
fn chown(node: &Node, owner: Option<&pb::ChownOpt>) -> Result<Option<String>, Finding> {
    let Some(owner) = owner else {
        return Ok(None);
    };
    let word = |opt: &Option<pb::UserOpt>| -> Result<Option<String>, Finding> {
        match opt.as_ref().and_then(|o| o.user.as_ref()) {
            None => Ok(None),
            Some(pb::user_opt::User::ById(id)) => Ok(Some(id.to_string())),
            Some(pb::user_opt::User::ByName(named)) if named.input < 0 => {
                syntax::word("the owner", &named.name)
                    .map(Some)
                    .map_err(|e| finding_at(node, e))
            }
            Some(pb::user_opt::User::ByName(_)) => Err(finding_at(
                node,
                "an owner looked up in another file system",
            )),
        }
    };
    match (word(&owner.user)?, word(&owner.group)?) {
        (Some(user), Some(group)) => Ok(Some(format!("--chown={user}:{group}"))),
        (Some(user), None) => Ok(Some(format!("--chown={user}"))),
        (None, None) => Ok(None),
        (None, Some(_)) => Err(finding_at(
            node,
            "a group owner without a user, which a Dockerfile's --chown cannot say",
        )),
    }
}

/// A folder's path without its trailing slashes (`/` for the root).
fn folder(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    }
}
