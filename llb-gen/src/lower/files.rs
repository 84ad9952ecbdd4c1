//! Steps that put files in the image without running anything: `io.copy`
//! from the context (a layer built on scratch and merged on, independent of
//! the base) and config files (pip.conf, .condarc, sources.list: written on
//! scratch, then copied onto the image).

use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::llb::{Copy, FileOp, Mkdir, Mkfile, WithOpOptions};

use super::Lowering;
use super::context::{FileKind, require_kind};

impl Lowering<'_> {
    /// Copies like `cp -r SRC DEST/`: a directory lands at `DEST/<name>`
    /// (the context root's contents land in DEST); a file at DEST, or at
    /// `DEST/<name>` when DEST ends with `/`.
    pub(super) fn copy(&mut self, span: &Span, src: &str, dest: &str) -> Result<(), Diagnostic> {
        let kind = require_kind(self.files, self.source, span.range(), "io.copy source", src)?;
        let name = src.rsplit('/').next().unwrap_or(src);
        let target = match (kind, src) {
            (FileKind::Dir, ".") => dest.to_string(),
            (FileKind::Dir, _) => join(dest, name),
            (FileKind::File, _) if dest.ends_with('/') => join(dest, name),
            (FileKind::File, _) => dest.to_string(),
        };
        let context = self
            .options
            .context
            .narrowed(&[src.to_string()])
            .map_err(|e| self.llb_error(span, e))?;
        let from = if src == "." {
            "/".to_string()
        } else {
            format!("/{src}")
        };
        let title = format!(
            "io.copy {} -> {dest}",
            if src == "." {
                "./".to_string()
            } else {
                format!("./{src}")
            }
        );
        self.add_layer(span, &title, |op| {
            op.copy(
                Copy::new(&context, from, target)
                    .contents_only(kind == FileKind::Dir)
                    .create_dest_path(true),
            )
        })
    }

    /// Writes a config file. The file is made on scratch (the same op for
    /// every base, so variants share it) and copied onto the image. It is
    /// not merged on: a merge in the chain makes every later merge (each
    /// `io.copy`) several times slower in BuildKit.
    pub(super) fn config_file(
        &mut self,
        span: &Span,
        builtin: &str,
        path: &str,
        content: String,
    ) -> Result<(), Diagnostic> {
        let title = format!("{builtin} {path}");
        // Scratch has no /etc, and an image may have no /etc/conda.
        let parent = path
            .rsplit_once('/')
            .map_or("/", |(dir, _)| if dir.is_empty() { "/" } else { dir });
        let write = |op: FileOp| {
            op.mkdir(Mkdir::new(parent).parents(true).mode(0o755))
                .mkfile(Mkfile::new(path, content).mode(0o644))
        };
        if !self.options.merge_layers {
            return self.add_layer(span, &title, write);
        }
        let layer = write(FileOp::new(&self.scratch()))
            .custom_name(&title)
            .location(self.location(span))
            .build()
            .map_err(|e| self.llb_error(span, e))?;
        self.state = FileOp::new(&self.state)
            .copy(Copy::new(&layer, path, path).create_dest_path(true))
            .custom_name(format!("{title} (copy onto the image)"))
            .location(self.location(span))
            .build()
            .map_err(|e| self.llb_error(span, e))?;
        self.history(span, &title, false);
        Ok(())
    }

    /// `/etc/pip.conf`, kept in the image; later pip and run steps also get
    /// the settings as `PIP_*` variables, which a base image's own user-level
    /// pip config cannot override.
    pub(super) fn pip_index(
        &mut self,
        span: &Span,
        url: &str,
        extra_url: Option<&str>,
        trust: bool,
    ) -> Result<(), Diagnostic> {
        // A site mirror (ENVD_PIP_INDEX) replaces the file's indexes.
        let site = self.site.pip_index.clone();
        let (url, extra_url, trust) = match &site {
            Some(mirror) => (
                mirror.as_str(),
                None,
                trust || mirror.starts_with("http://"),
            ),
            None => (url, extra_url, trust),
        };
        let mut conf = format!("[global]\nindex-url = {url}\n");
        self.pip_env = vec![("PIP_INDEX_URL".to_string(), url.to_string())];
        if let Some(extra) = extra_url {
            conf.push_str(&format!("extra-index-url = {extra}\n"));
            self.pip_env
                .push(("PIP_EXTRA_INDEX_URL".to_string(), extra.to_string()));
        }
        if trust {
            let mut hosts: Vec<&str> = vec![host_of(url)];
            if let Some(extra) = extra_url
                && !hosts.contains(&host_of(extra))
            {
                hosts.push(host_of(extra));
            }
            conf.push_str(&format!("trusted-host = {}\n", hosts.join(" ")));
            self.pip_env
                .push(("PIP_TRUSTED_HOST".to_string(), hosts.join(" ")));
        }
        self.config_file(span, "config.pip_index", "/etc/pip.conf", conf)
    }
}

fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

/// `host[:port]` of an http(s) URL (what pip's trusted-host takes).
pub(super) fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_joins() {
        assert_eq!(
            host_of("https://pypi.tuna.tsinghua.edu.cn/simple"),
            "pypi.tuna.tsinghua.edu.cn"
        );
        assert_eq!(
            host_of("http://user:pw@127.0.0.1:8000/simple/"),
            "127.0.0.1:8000"
        );
        assert_eq!(join("/", "detectron2"), "/detectron2");
        assert_eq!(join("/home/aiges/", "wrapper"), "/home/aiges/wrapper");
    }
}
