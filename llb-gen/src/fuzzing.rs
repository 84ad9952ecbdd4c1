//! Entry points for the fuzz targets in `tests/fuzz`, built only with the
//! `fuzzing` feature: a build context in memory, an input format that
//! carries build.envd with its context files, and the parsers that are not
//! public API (requirements files, conda environment files).

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostics, SourceText};
use crate::llb::Platform;
use crate::lower::{
    BaseResolver, ContextFiles, FileKind, ImageConfig, ResolvedBase, conda_env, requirements,
};
use crate::{CompileOptions, Compiled, compile};

/// Marks the start of a context file in a fuzz input: `\n#--- PATH\n`.
pub const FILE_MARKER: &str = "\n#--- ";
/// The pseudo-file whose `KEY=VALUE` lines are build args.
pub const BUILD_ARGS_FILE: &str = "@build-args";

/// A fuzz input split into build.envd, its context files and build args.
/// The format is text, so fixtures make readable seeds:
/// `BUILD.ENVD\n#--- requirements.txt\nCONTENT\n#--- @build-args\nK=V\n`.
pub struct Input {
    pub build_envd: String,
    pub files: MemoryContext,
    pub build_args: BTreeMap<String, String>,
}

impl Input {
    pub fn parse(data: &[u8]) -> Input {
        let text = String::from_utf8_lossy(data);
        let mut parts = text.split(FILE_MARKER);
        let build_envd = parts.next().unwrap_or("").to_string();
        let mut files = MemoryContext::default();
        let mut build_args = BTreeMap::new();
        for part in parts {
            let (path, content) = part.split_once('\n').unwrap_or((part, ""));
            if path == BUILD_ARGS_FILE {
                for line in content.lines() {
                    if let Some((key, value)) = line.split_once('=') {
                        build_args.insert(key.to_string(), value.to_string());
                    }
                }
            } else {
                files.insert(path, content.as_bytes().to_vec());
            }
        }
        Input {
            build_envd,
            files,
            build_args,
        }
    }

    /// Compiles the input as `llb-gen` would, with every base image known.
    pub fn compile(&self) -> Result<Compiled, Diagnostics> {
        // Unbounded: libFuzzer's own memory limit stands in for the
        // evaluation's.
        let options = CompileOptions::default().build_args(self.build_args.clone());
        compile(&self.build_envd, &options, &self.files, &AnyImage)
    }

    /// Compiles the input for export and writes it as a Dockerfile.
    pub fn export(&self) -> Result<crate::export::Exported, Diagnostics> {
        let options = crate::export::compile_options(
            CompileOptions::default().build_args(self.build_args.clone()),
        );
        let compiled = compile(&self.build_envd, &options, &self.files, &AnyImage)?;
        crate::export::dockerfile(&self.build_envd, &options, &compiled)
    }
}

/// A build context in memory: files by normalized path; a folder is any
/// prefix of a file's path.
#[derive(Default)]
pub struct MemoryContext {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemoryContext {
    pub fn insert(&mut self, path: &str, bytes: Vec<u8>) {
        let path = path.trim_start_matches("./").trim_matches('/');
        self.files.insert(path.to_string(), bytes);
    }
}

impl ContextFiles for MemoryContext {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.files.get(path).cloned())
    }

    fn kind(&self, path: &str) -> Result<Option<FileKind>, String> {
        if path == "."
            || self
                .files
                .keys()
                .any(|f| f.starts_with(&format!("{path}/")))
        {
            return Ok(Some(FileKind::Dir));
        }
        Ok(self.files.contains_key(path).then_some(FileKind::File))
    }
}

/// Every image exists, with an empty config.
pub struct AnyImage;

impl BaseResolver for AnyImage {
    fn resolve(&self, _reference: &str, platform: &Platform) -> Result<ResolvedBase, String> {
        Ok(ResolvedBase {
            digest: None,
            config: ImageConfig::empty(platform),
        })
    }
}

/// Checks a requirements file (and the files it includes from `files`).
pub fn requirements_file(files: &MemoryContext, path: &str) {
    let call = SourceText::new("build.envd", "install.python_packages()");
    let _ = requirements::collect(files, &call, 0..1, path);
}

/// Parses and rewrites a conda environment file.
pub fn conda_environment_file(text: &str) {
    let _ = conda_env::rewrite(
        &SourceText::new("env.yaml", text),
        &["pytorch".to_string()],
        None,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_carry_files_and_build_args() {
        let input = Input::parse(
            b"def build():\n    base(os=\"ubuntu22.04\")\n    install.python_packages(requirements=\"r/a.txt\")\n#--- r/a.txt\nsix\n#--- @build-args\nENVD_PYTHON_VERSION=3.11\n",
        );
        assert!(input.build_envd.ends_with("r/a.txt\")"));
        assert_eq!(input.files.read("r/a.txt").unwrap(), Some(b"six".to_vec()));
        assert_eq!(input.files.kind("r").unwrap(), Some(FileKind::Dir));
        assert_eq!(input.build_args["ENVD_PYTHON_VERSION"], "3.11");
        assert!(input.compile().is_ok());
        let exported = input.export().unwrap();
        assert!(
            exported
                .dockerfile
                .contains("-r /tmp/envd-frontend/context/r/a.txt")
        );
    }
}
