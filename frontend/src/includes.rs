//! The repositories build.envd includes (`include(git=URL)`), fetched
//! before evaluation: BuildKit clones each as a git source (the frontend's
//! container has no network of its own), and the `*.envd` files are
//! listed with ReadDir and read with ReadFile. A site can point a URL at
//! its own mirror, or at a folder of the build context
//! (`ENVD_INCLUDE_MIRRORS="URL=MIRROR URL=context:FOLDER"`). A failure is
//! kept with its URL: the evaluation reports it at the `include` call.

use std::collections::BTreeMap;

use envd_proto::pb;
use llb_gen::checks::join_relative;
use llb_gen::lang::{
    IncludedFile, IncludedModules, bounded_files, fetched_bytes, too_many_repositories, unfetched,
};
use llb_gen::limits::{MAX_INCLUDED_BYTES, MAX_INCLUDED_FILES, MAX_INCLUDED_REPOSITORIES};
use llb_gen::llb::{Git, WithOpOptions};
use llb_gen::lower::ContextSource;

use crate::bridge::{Bridge, PathKind};

/// Folders deeper than this in an included repository are not searched.
const MAX_DEPTH: usize = 16;

/// Fetches every repository the build file includes (and those they
/// include), each from its mirror if the site set one.
pub async fn fetch(
    bridge: &Bridge,
    text: &str,
    mirrors: &BTreeMap<String, String>,
    context: &ContextSource,
) -> IncludedModules {
    let mut fetched = IncludedModules::new();
    loop {
        let next = unfetched(text, &fetched);
        if next.is_empty() {
            return fetched;
        }
        for url in next {
            let files = if fetched.len() >= MAX_INCLUDED_REPOSITORIES {
                Err(too_many_repositories())
            } else {
                let from = mirrors.get(&url).unwrap_or(&url);
                let so_far = fetched_bytes(&fetched);
                let source = match from.strip_prefix(CONTEXT_PREFIX) {
                    Some(folder) => in_context(context, folder, &url),
                    None => in_git(from),
                };
                let fetched_files = match source {
                    Ok((def, root)) => read_envd_files(bridge, def, &root, so_far).await,
                    Err(e) => Err(e),
                };
                fetched_files.map_err(|e| {
                    if from == &url {
                        e
                    } else {
                        format!("from its mirror {from}: {e}")
                    }
                })
            };
            fetched.insert(url, files);
        }
    }
}

/// A mirror value naming a folder of the build context.
const CONTEXT_PREFIX: &str = "context:";

/// The repository as BuildKit clones it, and the folder its files are in.
fn in_git(url: &str) -> Result<(pb::Definition, String), String> {
    let def = Git::new(url)
        .custom_name(format!("[envd-frontend] include {url}"))
        .build()
        .map_err(|e| e.to_string())?
        .marshal();
    Ok((def, String::new()))
}

/// A folder of the build context standing in for the repository.
fn in_context(
    context: &ContextSource,
    folder: &str,
    url: &str,
) -> Result<(pb::Definition, String), String> {
    let folder = join_relative("", folder)
        .filter(|f| !f.is_empty() && f != ".")
        .ok_or_else(|| {
            format!("{CONTEXT_PREFIX}{folder} is not a folder inside the build context")
        })?;
    let def = context
        .narrowed(
            std::slice::from_ref(&folder),
            &[],
            format!("[envd-frontend] include {url} from the context's {folder}"),
            None,
        )
        .map_err(|e| e.to_string())?
        .marshal();
    Ok((def, folder))
}

/// The `*.envd` files under `root` of the solved definition, bounded.
async fn read_envd_files(
    bridge: &Bridge,
    def: pb::Definition,
    root: &str,
    so_far: usize,
) -> Result<Vec<IncludedFile>, String> {
    let reference = bridge
        .solve(def, &[])
        .await
        .map_err(|e| e.message().to_string())?;
    let mut paths = vec![];
    let mut folders = vec![(root.to_string(), 0)];
    while let Some((folder, depth)) = folders.pop() {
        let listed = bridge
            .read_dir(&reference, if folder.is_empty() { "/" } else { &folder })
            .await
            .map_err(|e| e.message().to_string())?;
        for (name, kind) in listed {
            let path = if folder.is_empty() {
                name.clone()
            } else {
                format!("{folder}/{name}")
            };
            match kind {
                PathKind::Dir if name != ".git" && depth < MAX_DEPTH => {
                    folders.push((path, depth + 1))
                }
                PathKind::File if name.ends_with(".envd") => paths.push(path),
                _ => {}
            }
        }
        if paths.len() > MAX_INCLUDED_FILES {
            return Err(format!("it has more than {MAX_INCLUDED_FILES} .envd files"));
        }
    }
    let mut files = vec![];
    for path in paths {
        let bytes = bridge
            .read_file(&reference, &path, MAX_INCLUDED_BYTES + 1)
            .await
            .map_err(|e| e.message().to_string())?
            .unwrap_or_default();
        // Paths in the repository: the context folder is its root.
        let relative = path
            .strip_prefix(root)
            .map_or(path.as_str(), |p| p.trim_start_matches('/'))
            .to_string();
        files.push((relative, bytes));
    }
    bounded_files(files, so_far)
}
