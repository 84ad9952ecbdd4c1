//! The repositories build.envd includes (`include(git=URL)`), fetched
//! before evaluation: BuildKit clones each as a git source (the frontend's
//! container has no network of its own), and the `*.envd` files are
//! listed with ReadDir and read with ReadFile. A site can point a URL at
//! its own mirror, or at a folder of the build context
//! (`ENVD_INCLUDE_MIRRORS="URL=MIRROR URL=context:FOLDER"`). A failure is
//! kept with its URL: the evaluation reports it at the `include` call.

use std::collections::BTreeMap;
use std::sync::Arc;

use envd_proto::pb;
use llb_gen::includes::{
    self, EntryKind, IncludedFile, IncludedModules, Repositories, Repository, envd_files,
};
use llb_gen::llb::{Git, WithOpOptions};
use llb_gen::lower::ContextSource;
use llb_gen::validate::join_relative;
use tokio::runtime::Handle;

use crate::bridge::{Bridge, PathKind};

/// Fetches every repository the build file includes (and those they
/// include), each from its mirror if the site set one. The fetch loop is
/// llb-gen's, on a blocking thread that waits on the bridge.
pub async fn fetch(
    bridge: &Arc<Bridge>,
    text: &str,
    mirrors: &BTreeMap<String, String>,
    context: &ContextSource,
) -> IncludedModules {
    let urls = includes::urls(text);
    if urls.is_empty() {
        return IncludedModules::new();
    }
    let site = Site {
        bridge: bridge.clone(),
        runtime: Handle::current(),
        mirrors: mirrors.clone(),
        context: context.clone(),
    };
    let text = text.to_string();
    let fetched = tokio::task::spawn_blocking(move || includes::fetch(&text, &site)).await;
    // A fetch that panicked is reported at each include call.
    fetched.unwrap_or_else(|e| {
        urls.into_iter()
            .map(|url| (url, Err(format!("internal error while fetching: {e}"))))
            .collect()
    })
}

/// The repositories as BuildKit fetches them: git sources, or folders of
/// the context, where the site's mirrors say.
struct Site {
    bridge: Arc<Bridge>,
    runtime: Handle,
    mirrors: BTreeMap<String, String>,
    context: ContextSource,
}

impl Repositories for Site {
    fn fetch(&self, url: &str, so_far: usize) -> Result<Vec<IncludedFile>, String> {
        let from = self.mirrors.get(url).map_or(url, String::as_str);
        let opened = match from.strip_prefix(CONTEXT_PREFIX) {
            Some(folder) => in_context(&self.context, folder, url),
            None => in_git(from),
        };
        let files = opened.and_then(|(def, root)| {
            let reference = self
                .runtime
                .block_on(self.bridge.solve(def, &[]))
                .map_err(|e| e.message().to_string())?;
            let solved = Solved {
                site: self,
                reference,
                root,
            };
            envd_files(&solved, so_far)
        });
        files.map_err(|e| {
            if from == url {
                e
            } else {
                format!("from its mirror {from}: {e}")
            }
        })
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

/// A solved repository: its files under `root` of the ref.
struct Solved<'a> {
    site: &'a Site,
    reference: String,
    root: String,
}

impl Solved<'_> {
    fn path(&self, relative: &str) -> String {
        match (self.root.is_empty(), relative.is_empty()) {
            (true, _) => relative.to_string(),
            (false, true) => self.root.clone(),
            (false, false) => format!("{}/{relative}", self.root),
        }
    }
}

impl Repository for Solved<'_> {
    fn list(&self, folder: &str) -> Result<Vec<(String, EntryKind)>, String> {
        let path = self.path(folder);
        let listed = self
            .site
            .runtime
            .block_on(
                self.site
                    .bridge
                    .read_dir(&self.reference, if path.is_empty() { "/" } else { &path }),
            )
            .map_err(|e| e.message().to_string())?;
        Ok(listed
            .into_iter()
            .map(|(name, kind)| {
                let kind = match kind {
                    PathKind::Dir => EntryKind::Folder,
                    PathKind::File => EntryKind::File,
                };
                (name, kind)
            })
            .collect())
    }

    fn read(&self, path: &str, limit: usize) -> Result<Vec<u8>, String> {
        let bytes = self
            .site
            .runtime
            .block_on(
                self.site
                    .bridge
                    .read_file(&self.reference, &self.path(path), limit),
            )
            .map_err(|e| e.message().to_string())?;
        Ok(bytes.unwrap_or_default())
    }
}
