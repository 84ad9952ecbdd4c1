//! The graph as Dockerfile stages. The final image is one chain of ops from
//! its base: each exec op a `RUN`, each file op `COPY`s. A state a step
//! reads from elsewhere (a download, a tool image, a file written for a
//! mount) becomes a stage of its own, written before the stage that reads
//! it. An op a Dockerfile cannot say is an error at its line.

use std::collections::HashMap;

use envd_proto::pb;

use super::files::http_add;
use super::graph::{Graph, Node, StateRef};
use super::{Assumed, Finding, Settings, syntax};
use crate::llb::{LOCAL_INCLUDE_PATTERNS, Platform};

/// A finding at the line of the op `node`.
pub(super) fn finding_at(node: &Node, message: impl Into<String>) -> Finding {
    Finding::at(node.line, message)
}

/// How an instruction names a state it reads.
#[derive(Clone, Debug)]
pub(super) enum Reference {
    /// The build context (`COPY src dest`, a bind mount without `from`).
    Context,
    /// A stage (`--from=NAME`).
    From(String),
}

/// Where a chain of ops starts.
enum Start<'g> {
    Scratch,
    Image(&'g Node, String),
    /// The build context narrowed to these paths (empty: all of it).
    Context(&'g Node, Vec<String>),
    /// A file fetched over HTTP.
    Http(&'g Node, &'g pb::SourceOp),
}

/// A chain's start, and its ops (with the state each makes) in order.
type Chain<'g> = (Start<'g>, Vec<(&'g Node, StateRef)>);

pub(super) struct Stages<'g> {
    graph: &'g Graph,
    filename: &'g str,
    pub(super) platform: String,
    pub(super) assumed: &'g Assumed,
    /// Finished stages, in the order they must be written.
    pub(super) written: Vec<String>,
    /// Stages named so far: each name is numbered once.
    named: usize,
    names: HashMap<StateRef, Reference>,
    /// The image's base, as its stage's FROM names it: archives are
    /// unpacked with its tar.
    pub(super) base_image: Option<String>,
    /// A step reads the whole build context (`COPY .`, a bind mount of it):
    /// the Dockerfile must not be in the context, or the image gets it.
    pub(super) reads_whole_context: bool,
    /// Steps a builder may do differently, for the caller to report.
    pub(super) warnings: Vec<Finding>,
}

impl<'g> Stages<'g> {
    pub(super) fn new(
        graph: &'g Graph,
        filename: &'g str,
        platform: String,
        assumed: &'g Assumed,
    ) -> Stages<'g> {
        Stages {
            graph,
            filename,
            platform,
            assumed,
            written: vec![],
            named: 0,
            names: HashMap::new(),
            base_image: None,
            reads_whole_context: false,
            warnings: vec![],
        }
    }

    /// The final stage: the image's chain, and the settings it ends with.
    pub(super) fn image(&mut self, state: &StateRef) -> Result<(Vec<String>, Settings), Finding> {
        self.chain(state, None)
    }

    /// How instructions refer to `state`, writing its stage first if needed.
    /// The whole context is the builder's own; a context narrowed to some
    /// paths is a stage of those paths, so a step that reads them (a
    /// requirements file) runs again only when they change, as under
    /// envd-frontend.
    pub(super) fn reference(&mut self, state: &StateRef) -> Result<Reference, Finding> {
        if let Some(found) = self.names.get(state) {
            return Ok(found.clone());
        }
        let node = self.graph.node(state).map_err(|e| Finding::at(None, e))?;
        let reference = match &node.op.op {
            Some(pb::op::Op::Source(source))
                if source.identifier.starts_with("local://")
                    && !source.attrs.contains_key(LOCAL_INCLUDE_PATTERNS) =>
            {
                Reference::Context
            }
            _ => {
                let name = self.stage_name(state);
                let (lines, _) = self.chain(state, Some(&name))?;
                self.written.push(lines.join("\n"));
                Reference::From(name)
            }
        };
        self.names.insert(state.clone(), reference.clone());
        Ok(reference)
    }

    /// A name for a new stage from its op's progress name (`download uv
    /// 0.9` -> `download-uv-0-9-3`), numbered to be unique.
    pub(super) fn stage_name(&mut self, state: &StateRef) -> String {
        let name = self.graph.name(state).unwrap_or("stage").to_string();
        self.new_stage_name(&name)
    }

    pub(super) fn new_stage_name(&mut self, name: &str) -> String {
        let words: String = name
            .chars()
            .take_while(|c| *c != '(')
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let words: Vec<&str> = words.split('-').filter(|w| !w.is_empty()).take(4).collect();
        let stem = if words.is_empty() {
            "stage".to_string()
        } else {
            words.join("-")
        };
        self.named += 1;
        format!("{stem}-{}", self.named)
    }

    /// Writes the chain of ops that ends at `state` as a stage named
    /// `name` (the final stage when `None`).
    fn chain(
        &mut self,
        state: &StateRef,
        name: Option<&str>,
    ) -> Result<(Vec<String>, Settings), Finding> {
        let (start, steps) = self.walk(state)?;
        let mut out = vec![];
        let alias = name.map(|n| format!(" AS {n}")).unwrap_or_default();
        let mut settings = Settings {
            workdir: "/".to_string(),
            ..Settings::default()
        };
        match start {
            Start::Scratch => out.push(format!("FROM scratch{alias}")),
            Start::Image(node, reference) => {
                let platform = node
                    .op
                    .platform
                    .as_ref()
                    .map_or(self.platform.clone(), |p| Platform::from_pb(p).to_string());
                let mut reference = reference;
                out.push(self.comment(node));
                // The image's own chain starts at its base, whose settings
                // the compile saw.
                if name.is_none() {
                    if let Some(why) = &self.assumed.base_refused {
                        return Err(finding_at(node, why.clone()));
                    }
                    settings = self.assumed.settings.clone();
                    if let Some((tag, digest)) = reference.split_once("@sha256:")
                        && !self.assumed.base_pinned
                    {
                        if let Some(comment) = out.last_mut() {
                            comment
                                .push_str(&format!(" (resolved to sha256:{digest} when exported)"));
                        }
                        reference = tag.to_string();
                    }
                    self.base_image = Some(reference.clone());
                }
                out.push(format!("FROM --platform={platform} {reference}{alias}"));
            }
            Start::Context(node, paths) => {
                out.push(format!("FROM scratch{alias}"));
                out.push(self.comment(node));
                if paths.is_empty() {
                    self.reads_whole_context = true;
                    out.push("COPY . /".to_string());
                }
                for path in paths {
                    let args = syntax::paths(&[&path, &format!("/{path}")])
                        .map_err(|e| finding_at(node, e))?;
                    out.push(format!("COPY {args}"));
                }
            }
            Start::Http(node, source) => {
                out.push(format!("FROM scratch{alias}"));
                out.push(self.comment(node));
                out.push(http_add(node, source)?);
            }
        }
        let mut last_line = None;
        for (node, step_state) in steps {
            if node.line != last_line || matches!(node.op.op, Some(pb::op::Op::Exec(_))) {
                out.push(String::new());
                out.push(self.comment(node));
                last_line = node.line;
            }
            match &node.op.op {
                Some(pb::op::Op::Exec(exec)) => {
                    self.run(node, exec, &step_state, &mut settings, &mut out)?;
                }
                Some(pb::op::Op::File(file)) => self.file(node, file, &mut out)?,
                _ => return Err(finding_at(node, "an op a Dockerfile cannot say")),
            }
        }
        Ok((out, settings))
    }

    /// `# build.envd:LINE`: where an instruction comes from.
    pub(super) fn comment(&self, node: &Node) -> String {
        match node.line {
            Some(line) => format!("# {}:{line}", self.filename),
            None => format!("# {}", self.filename),
        }
    }

    /// The ops from the chain's start to `state`, first first.
    fn walk(&self, state: &StateRef) -> Result<Chain<'g>, Finding> {
        let mut steps = vec![];
        let mut current = Some(state.clone());
        let start = loop {
            let Some(at) = current else {
                break Start::Scratch;
            };
            let node = self.graph.node(&at).map_err(|e| Finding::at(None, e))?;
            let next = match &node.op.op {
                Some(pb::op::Op::Source(source)) => break start_of(node, source)?,
                Some(pb::op::Op::Exec(exec)) => {
                    let root = exec
                        .mounts
                        .iter()
                        .find(|m| m.dest == "/" && m.output == at.index)
                        .ok_or_else(|| {
                            finding_at(node, "a step's result other than its root file system, which a Dockerfile's RUN cannot keep")
                        })?;
                    node.input(root.input).map_err(|e| finding_at(node, e))?
                }
                Some(pb::op::Op::File(file)) => {
                    let first = chained_actions(node, file, at.index)?;
                    node.input(first).map_err(|e| finding_at(node, e))?
                }
                Some(pb::op::Op::Merge(_)) | Some(pb::op::Op::Diff(_)) => {
                    return Err(finding_at(
                        node,
                        "this build merges and diffs layers (a base family, ENVD_INSTALL_BASE: steps run on the install base and their changes are moved onto the runtime base), which a Dockerfile cannot say; export the build without ENVD_INSTALL_BASE, or build it with envd-frontend",
                    ));
                }
                _ => return Err(finding_at(node, "an op a Dockerfile cannot say")),
            };
            steps.push((node, at));
            current = next;
        };
        steps.reverse();
        Ok((start, steps))
    }
}

fn start_of<'g>(node: &'g Node, source: &'g pb::SourceOp) -> Result<Start<'g>, Finding> {
    let identifier = source.identifier.as_str();
    if let Some(reference) = identifier.strip_prefix("docker-image://") {
        return Ok(Start::Image(node, reference.to_string()));
    }
    if identifier.starts_with("local://") {
        let paths = match source.attrs.get(LOCAL_INCLUDE_PATTERNS) {
            Some(json) => serde_json::from_str::<Vec<String>>(json)
                .map_err(|e| finding_at(node, format!("the context's paths: {e}")))?,
            None => vec![],
        };
        return Ok(Start::Context(node, paths));
    }
    if identifier.starts_with("https://") || identifier.starts_with("http://") {
        return Ok(Start::Http(node, source));
    }
    Err(finding_at(
        node,
        format!("the source {identifier}, which this export does not write"),
    ))
}

/// The first action's input of a file op whose actions each build on the
/// one before, as this project's file ops do, and whose last action is
/// the output `index`.
fn chained_actions(node: &Node, file: &pb::FileOp, index: i64) -> Result<i64, Finding> {
    let inputs = node.op.inputs.len() as i64;
    let chained = file
        .actions
        .iter()
        .enumerate()
        .skip(1)
        .all(|(i, action)| action.input == inputs + i as i64 - 1);
    match (file.actions.first(), file.actions.last()) {
        (Some(first), Some(last)) if chained && last.output == index => Ok(first.input),
        _ => Err(finding_at(
            node,
            "file actions that do not build one on another",
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::export::{Assumed, Finding, Settings};
    use crate::llb::{
        BindMount, Exec, FileOp, Http, Image, Merge, Mkdir, Mkfile, SourceFile, SourceRange, State,
        WithOpOptions,
    };

    /// The image chain of `state` as a Dockerfile's lines (stages first),
    /// with a base whose env is `PATH=/usr/bin` and `HOME=/root`.
    fn export(state: &State, image_env: &[&str]) -> Result<String, Finding> {
        let graph = Graph::decode(&state.marshal()).unwrap();
        let assumed = Assumed {
            settings: Settings {
                env: BTreeMap::from([
                    ("PATH".to_string(), "/usr/bin".to_string()),
                    ("HOME".to_string(), "/root".to_string()),
                ]),
                workdir: "/".to_string(),
                ..Settings::default()
            },
            base_pinned: false,
            image_env: image_env.iter().map(|k| k.to_string()).collect(),
            base_refused: None,
        };
        let mut stages = Stages::new(&graph, "build.envd", "linux/amd64".into(), &assumed);
        let (image, _) = stages.image(graph.root.as_ref().unwrap())?;
        let mut text = stages.written.join("\n\n");
        text.push_str("\n\n");
        text.push_str(&image.join("\n"));
        Ok(text)
    }

    fn at_line(line: u32) -> crate::llb::SourceLocation {
        SourceFile::new("build.envd", "x\n".repeat(20), "starlark")
            .location([SourceRange::lines(line, line)])
    }

    fn base() -> State {
        Image::new("docker.io/library/debian:12").build().unwrap()
    }

    #[test]
    fn steps_variables_are_written_as_changes_of_the_stages() {
        let step = Exec::new(&base(), ["/bin/sh", "-c", "echo hi\n"])
            .env("PATH", "/usr/bin:/opt/tool/bin")
            .env("PIP_CACHE_DIR", "/cache")
            .cwd("/srv")
            .location(at_line(3))
            .build()
            .unwrap()
            .root();
        let text = export(&step, &["PATH"]).unwrap();
        // PATH is the image's: extended, so a base's own PATH is kept; the
        // cache folder is the step's only; HOME is not the step's; the
        // folder is made when missing, as BuildKit makes it.
        assert!(text.contains("# build.envd:3\nENV PATH=\"${PATH}:/opt/tool/bin\"\nARG PIP_CACHE_DIR=\"/cache\"\nRUN <<'ENVD'\n# build.envd:3\nunset HOME\ncd -- /srv 2>/dev/null || { mkdir -p -- /srv && cd -- /srv; } || exit 1\necho hi\nENVD"), "{text}");
    }

    #[test]
    fn steps_run_as_root_on_a_base_with_another_user() {
        let graph_state = Exec::new(&base(), ["/bin/sh", "-c", "id\n"])
            .env("PATH", "/usr/bin")
            .env("HOME", "/root")
            .build()
            .unwrap()
            .root();
        let graph = Graph::decode(&graph_state.marshal()).unwrap();
        let assumed = Assumed {
            settings: Settings {
                env: BTreeMap::from([
                    ("PATH".to_string(), "/usr/bin".to_string()),
                    ("HOME".to_string(), "/root".to_string()),
                ]),
                workdir: "/".to_string(),
                user: "aiges".to_string(),
                ..Settings::default()
            },
            base_pinned: false,
            image_env: BTreeSet::new(),
            base_refused: None,
        };
        let mut stages = Stages::new(&graph, "build.envd", "linux/amd64".into(), &assumed);
        let (image, settings) = stages.image(graph.root.as_ref().unwrap()).unwrap();
        assert!(
            image.join("\n").contains("USER root\nRUN <<'ENVD'"),
            "{image:?}"
        );
        assert_eq!(settings.user, "root");
    }

    #[test]
    fn a_file_a_step_mounts_is_a_stage_of_its_own() {
        let file = FileOp::new(&State::scratch())
            .mkfile(Mkfile::new("/environment.yml", "name: x\n"))
            .custom_name("install.conda_packages env.yaml")
            .location(at_line(5))
            .build()
            .unwrap();
        let step = Exec::new(&base(), ["/bin/sh", "-c", "conda env update\n"])
            .env("PATH", "/usr/bin")
            .env("HOME", "/root")
            .mount(BindMount::new("/tmp/env", &file))
            .location(at_line(5))
            .build()
            .unwrap()
            .root();
        let text = export(&step, &["PATH", "HOME"]).unwrap();
        assert!(
            text.starts_with("FROM scratch AS install-conda-packages-env-1\n\n# build.envd:5\nCOPY --chmod=644 <<'ENVD' /environment.yml\nname: x\nENVD\n\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "RUN --mount=type=bind,from=install-conda-packages-env-1,target=/tmp/env <<'ENVD'"
            ),
            "{text}"
        );
    }

    #[test]
    fn files_a_step_reads_from_the_context_are_a_stage_of_just_them() {
        let context = crate::llb::Local::new("context")
            .include_patterns(["reqs/a.txt".to_string()])
            .custom_name("install.python_packages (context)")
            .build()
            .unwrap();
        let step = Exec::new(
            &base(),
            ["/bin/sh", "-c", "pip install -r /ctx/reqs/a.txt\n"],
        )
        .env("PATH", "/usr/bin")
        .env("HOME", "/root")
        .mount(BindMount::new("/ctx", &context))
        .location(at_line(6))
        .build()
        .unwrap()
        .root();
        let text = export(&step, &[]).unwrap();
        assert!(
            text.starts_with("FROM scratch AS install-python-packages-1\n# build.envd\nCOPY reqs/a.txt /reqs/a.txt\n"),
            "{text}"
        );
        assert!(
            text.contains("--mount=type=bind,from=install-python-packages-1,target=/ctx"),
            "{text}"
        );
    }

    #[test]
    fn a_download_is_added_with_its_checksum() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let download = Http::new("https://example.com/tool")
            .filename("tool")
            .perm(0o755)
            .checksum(digest.clone())
            .location(at_line(7))
            .build()
            .unwrap();
        let step = FileOp::new(&base())
            .copy(crate::llb::Copy::new(&download, "/tool", "/usr/bin/tool").contents_only(true))
            .location(at_line(7))
            .build()
            .unwrap();
        let text = export(&step, &[]).unwrap();
        assert!(
            text.contains(&format!(
                "ADD --chmod=755 --checksum={digest} https://example.com/tool /tool"
            )),
            "{text}"
        );
        assert!(
            text.contains("COPY --from=stage-1 /tool /usr/bin/tool"),
            "{text}"
        );
    }

    #[test]
    fn images_files_are_copied_from_a_stage_of_their_platform_each_named_once() {
        let arm64 = crate::llb::Platform::new("linux", "arm64");
        let tool = |name: &str| {
            Image::new(format!("docker.io/library/{name}:1"))
                .platform(arm64.clone())
                .custom_name("image tool")
                .build()
                .unwrap()
        };
        let step = FileOp::new(&base())
            .copy(crate::llb::Copy::new(&tool("a"), "/bin/a", "/usr/bin/a").contents_only(true))
            .copy(crate::llb::Copy::new(&tool("b"), "/bin/b", "/usr/bin/b").contents_only(true))
            .copy(crate::llb::Copy::new(&tool("a"), "/bin/c", "/usr/bin/c").contents_only(true))
            .build()
            .unwrap();
        let text = export(&step, &[]).unwrap();
        assert!(
            text.contains("FROM --platform=linux/arm64 docker.io/library/a:1 AS image-tool-1\n"),
            "{text}"
        );
        assert!(
            text.contains("FROM --platform=linux/arm64 docker.io/library/b:1 AS image-tool-2\n"),
            "{text}"
        );
        assert!(text.contains("COPY --from=image-tool-1 /bin/a /usr/bin/a\nCOPY --from=image-tool-2 /bin/b /usr/bin/b\nCOPY --from=image-tool-1 /bin/c /usr/bin/c"), "{text}");
        assert_eq!(
            text.matches(" AS image-tool-").count(),
            2,
            "one stage per image: {text}"
        );
    }

    #[test]
    fn what_a_dockerfile_cannot_say_is_an_error_at_its_line() {
        let other = Image::new("docker.io/library/busybox:1").build().unwrap();
        let merged = Merge::new([base(), other]).location(at_line(9)).build();
        let error = export(&merged, &[]).unwrap_err();
        assert_eq!(error.line, Some(9));
        assert!(
            error.message.contains("merges and diffs layers"),
            "{}",
            error.message
        );

        let folder = FileOp::new(&base())
            .mkdir(Mkdir::new("/data"))
            .location(at_line(11))
            .build()
            .unwrap();
        let error = export(&folder, &[]).unwrap_err();
        assert_eq!(error.line, Some(11));
        assert!(
            error.message.contains("making the folder /data alone"),
            "{}",
            error.message
        );

        let context = crate::llb::Local::new("context").build().unwrap();
        let pattern = FileOp::new(&base())
            .copy(crate::llb::Copy::new(&context, "/data[1].csv", "/srv/").contents_only(true))
            .location(at_line(13))
            .build()
            .unwrap();
        let error = export(&pattern, &[]).unwrap_err();
        assert_eq!(error.line, Some(13));
        assert!(
            error.message.contains("read as a pattern"),
            "{}",
            error.message
        );
    }
}
