//! The build context read from a folder on disk, for the offline compiler
//! and tests. Symlinks that lead out of the folder are refused.

use std::fs;
use std::io::Read;

use crate::limits::MAX_CONTEXT_FILE_BYTES;
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
