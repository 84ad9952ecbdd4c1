//! The build context read from a folder on disk, for the offline compiler,
//! the language server and tests (symlinks that lead out of the folder are
//! refused), and the base images they assume.

use std::fs;
use std::io::Read;

use crate::lang::{
    IncludedFile, IncludedModules, bounded_files, fetched_bytes, too_many_repositories, unfetched,
};
use crate::limits::{MAX_CONTEXT_FILE_BYTES, MAX_INCLUDED_FILES, MAX_INCLUDED_REPOSITORIES};
use std::path::{Path, PathBuf};

use crate::llb::Platform;
use crate::lower::{BaseResolver, ContextFiles, FileKind, ImageConfig, ResolvedBase};

/// Stand-in for BuildKit's image resolution: the offline compiler reaches
/// no registry, so every base gets an empty config (BuildKit's default PATH)
/// and no pinned digest. The frontend resolves real configs.
pub struct OfflineResolver;

impl BaseResolver for OfflineResolver {
    fn resolve(&self, _reference: &str, platform: &Platform) -> Result<ResolvedBase, String> {
        Ok(ResolvedBase {
            digest: None,
            config: ImageConfig::empty(platform),
        })
    }
}

/// At most one byte past the bound on context files: enough to refuse a
/// longer file without reading all of it.
fn read_prefix(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![];
    fs::File::open(path)?
        .take(MAX_CONTEXT_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

pub struct DiskContext {
    root: PathBuf,
}

impl DiskContext {
    pub fn new(root: &Path) -> std::io::Result<DiskContext> {
        Ok(DiskContext {
            root: root.canonicalize()?,
        })
    }

    /// The path on disk, if it exists and stays inside the context.
    fn resolve(&self, path: &str) -> Result<Option<PathBuf>, String> {
        let full = self.root.join(path);
        match full.canonicalize() {
            Ok(real) if real.starts_with(&self.root) => Ok(Some(real)),
            Ok(_) => Err("it is a link to a place outside the build context".to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
}

impl ContextFiles for DiskContext {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        match self.resolve(path)? {
            Some(real) if real.is_file() => read_prefix(&real).map(Some).map_err(|e| e.to_string()),
            Some(_) => Err("it is a directory".to_string()),
            None => Ok(None),
        }
    }

    fn kind(&self, path: &str) -> Result<Option<FileKind>, String> {
        Ok(self.resolve(path)?.map(|real| {
            if real.is_dir() {
                FileKind::Dir
            } else {
                FileKind::File
            }
        }))
    }
}

/// The `*.envd` files under `dir`, as an included repository's files
/// (paths relative to `dir`), within the bounds on includes with
/// `so_far` bytes fetched already.
pub fn included_files(dir: &Path, so_far: usize) -> Result<Vec<IncludedFile>, String> {
    let mut paths = vec![];
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = fs::read_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| e.to_string())?;
            let kind = entry.file_type().map_err(|e| e.to_string())?;
            let path = entry.path();
            if kind.is_dir() && entry.file_name() != ".git" {
                folders.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "envd") {
                paths.push(path);
            }
        }
        if paths.len() > MAX_INCLUDED_FILES {
            return Err(format!("it has more than {MAX_INCLUDED_FILES} .envd files"));
        }
    }
    let mut files = vec![];
    for path in paths {
        let bytes = read_prefix(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        let relative = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        files.push((relative, bytes));
    }
    bounded_files(files, so_far)
}

/// The repositories build.envd includes (and those they include), each
/// from its folder in `folders`; a URL without a folder is an error at
/// its `include` call.
pub fn included_from_folders(
    text: &str,
    folders: &std::collections::BTreeMap<String, PathBuf>,
    missing: &str,
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
                match folders.get(&url) {
                    Some(folder) => included_files(folder, fetched_bytes(&fetched)),
                    None => Err(missing.replace("{url}", &url)),
                }
            };
            fetched.insert(url, files);
        }
    }
}
