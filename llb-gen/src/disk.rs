//! The build context read from a folder on disk, for the offline compiler,
//! the language server and tests (symlinks that lead out of the folder are
//! refused), and the base images they assume.

use std::fs;
use std::io::Read;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::includes::{
    self, EntryKind, IncludedFile, IncludedModules, Repositories, Repository, envd_files,
};
use crate::limits::MAX_CONTEXT_FILE_BYTES;

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

/// Included repositories as folders on disk, by URL; a URL without a
/// folder cannot be fetched, for the reason `missing` gives (`{url}` in it
/// is the URL).
pub struct IncludeFolders<'a> {
    pub folders: &'a BTreeMap<String, PathBuf>,
    pub missing: &'a str,
}

impl Repositories for IncludeFolders<'_> {
    fn fetch(&self, url: &str, so_far: usize) -> Result<Vec<IncludedFile>, String> {
        match self.folders.get(url) {
            Some(dir) => envd_files(&Folder(dir), so_far),
            None => Err(self.missing.replace("{url}", url)),
        }
    }
}

/// One included repository's folder.
struct Folder<'a>(&'a Path);

impl Repository for Folder<'_> {
    fn list(&self, folder: &str) -> Result<Vec<(String, EntryKind)>, String> {
        let dir = self.0.join(folder);
        let mut listed = vec![];
        for entry in fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let entry = entry.map_err(|e| e.to_string())?;
            // Links are not followed: the file type of the entry itself.
            let kind = entry.file_type().map_err(|e| e.to_string())?;
            let kind = if kind.is_dir() {
                EntryKind::Folder
            } else if kind.is_file() {
                EntryKind::File
            } else {
                EntryKind::Other
            };
            listed.push((entry.file_name().to_string_lossy().into_owned(), kind));
        }
        Ok(listed)
    }

    fn read(&self, path: &str, limit: usize) -> Result<Vec<u8>, String> {
        let full = self.0.join(path);
        let mut bytes = vec![];
        fs::File::open(&full)
            .and_then(|file| file.take(limit as u64).read_to_end(&mut bytes))
            .map_err(|e| format!("{}: {e}", full.display()))?;
        Ok(bytes)
    }
}

/// The repositories build.envd includes (and those they include), each
/// from its folder in `folders`; a URL without a folder is an error at
/// its `include` call.
pub fn included_from_folders(
    text: &str,
    folders: &BTreeMap<String, PathBuf>,
    missing: &str,
) -> IncludedModules {
    includes::fetch(text, &IncludeFolders { folders, missing })
}
