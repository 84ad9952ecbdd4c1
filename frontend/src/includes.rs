//! The repositories build.envd includes (`include(git=URL)`), fetched
//! before evaluation: BuildKit clones each as a git source (the frontend's
//! container has no network of its own), and the `*.envd` files are
//! listed with ReadDir and read with ReadFile. A site can point a URL at
//! its own mirror (`ENVD_INCLUDE_MIRRORS`). A failure is kept with its
//! URL: the evaluation reports it at the `include` call.

use std::collections::BTreeMap;

use llb_gen::lang::{
    IncludedFile, IncludedModules, bounded_files, fetched_bytes, too_many_repositories, unfetched,
};
use llb_gen::limits::{MAX_INCLUDED_BYTES, MAX_INCLUDED_FILES, MAX_INCLUDED_REPOSITORIES};
use llb_gen::llb::{Git, WithOpOptions};

use crate::bridge::{Bridge, PathKind};

/// Folders deeper than this in an included repository are not searched.
const MAX_DEPTH: usize = 16;

/// Fetches every repository the build file includes (and those they
/// include), each from its mirror if the site set one.
pub async fn fetch(
    bridge: &Bridge,
    text: &str,
    mirrors: &BTreeMap<String, String>,
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
                fetch_one(bridge, from, so_far).await.map_err(|e| {
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

async fn fetch_one(bridge: &Bridge, url: &str, so_far: usize) -> Result<Vec<IncludedFile>, String> {
    let def = Git::new(url)
        .custom_name(format!("[envd-frontend] include {url}"))
        .build()
        .map_err(|e| e.to_string())?
        .marshal();
    let reference = bridge
        .solve(def, &[])
        .await
        .map_err(|e| e.message().to_string())?;
    let mut paths = vec![];
    let mut folders = vec![(String::new(), 0)];
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
        files.push((path, bytes));
    }
    bounded_files(files, so_far)
}
