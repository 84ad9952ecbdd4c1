//! The build context read from a folder on disk, for the offline compiler
//! and tests. Symlinks that lead out of the folder are refused.

use std::fs;
use std::io::Read;

use crate::lang::IncludedFile;
use crate::limits::{MAX_CONTEXT_FILE_BYTES, MAX_INCLUDED_BYTES, MAX_INCLUDED_FILES};
use std::path::{Path, PathBuf};

use crate::lower::{ContextFiles, FileKind};

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

/// The `*.envd` files under `dir`, as an included repository's files:
/// paths relative to `dir`, in path order, within the bounds on includes.
pub fn included_files(dir: &Path) -> Result<Vec<IncludedFile>, String> {
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
    let mut total = 0;
    for path in paths {
        let bytes = read_prefix(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        total += bytes.len();
        if total > MAX_INCLUDED_BYTES {
            return Err(format!(
                "its .envd files are more than {}",
                crate::limits::describe_bytes(MAX_INCLUDED_BYTES)
            ));
        }
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        let relative = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let text = String::from_utf8(bytes).map_err(|_| format!("{relative} is not UTF-8 text"))?;
        files.push(IncludedFile {
            path: relative,
            text,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
