//! The build context and base images, read through BuildKit: the
//! compiler's `ContextFiles` and `BaseResolver` over the bridge. The
//! compiler is synchronous, so it runs on a blocking thread and these wait
//! on the bridge's futures from there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use llb_gen::llb::{ImageRef, Platform, ResolveMode};
use llb_gen::lower::{
    BaseResolver, ContextFiles, ContextSource, FileKind, ImageConfig, ResolvedBase,
};
use tokio::runtime::Handle;

use crate::bridge::{Bridge, PathKind};
use crate::options::CacheImport;

pub struct BridgeContext {
    pub bridge: Arc<Bridge>,
    pub runtime: Handle,
    pub context: ContextSource,
    pub cache_imports: Vec<CacheImport>,
    /// Ref of the context narrowed to each path asked about.
    solved: Mutex<HashMap<String, String>>,
}

impl BridgeContext {
    pub fn new(
        bridge: Arc<Bridge>,
        runtime: Handle,
        context: ContextSource,
        cache_imports: Vec<CacheImport>,
    ) -> Self {
        BridgeContext {
            bridge,
            runtime,
            context,
            cache_imports,
            solved: Mutex::new(HashMap::new()),
        }
    }

    /// Solves the context narrowed to one path (the same op the build's
    /// steps use, so BuildKit transfers it once).
    fn solve_path(&self, path: &str) -> Result<String, String> {
        if let Some(reference) = self.solved.lock().map_err(|e| e.to_string())?.get(path) {
            return Ok(reference.clone());
        }
        let state = self
            .context
            .narrowed(&[path.to_string()])
            .map_err(|e| e.to_string())?;
        let reference = self
            .runtime
            .block_on(self.bridge.solve(state.marshal(), &self.cache_imports))
            .map_err(|e| e.message().to_string())?;
        self.solved
            .lock()
            .map_err(|e| e.to_string())?
            .insert(path.to_string(), reference.clone());
        Ok(reference)
    }
}

impl ContextFiles for BridgeContext {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        let reference = self.solve_path(path)?;
        match self
            .runtime
            .block_on(self.bridge.stat(&reference, path))
            .map_err(|e| e.message().to_string())?
        {
            None => Ok(None),
            Some(PathKind::Dir) => Err("it is a directory".to_string()),
            Some(PathKind::File) => self
                .runtime
                .block_on(self.bridge.read_file(&reference, path))
                .map_err(|e| e.message().to_string()),
        }
    }

    fn kind(&self, path: &str) -> Result<Option<FileKind>, String> {
        if path == "." {
            return Ok(Some(FileKind::Dir));
        }
        let reference = self.solve_path(path)?;
        let kind = self
            .runtime
            .block_on(self.bridge.stat(&reference, path))
            .map_err(|e| e.message().to_string())?;
        Ok(kind.map(|k| match k {
            PathKind::File => FileKind::File,
            PathKind::Dir => FileKind::Dir,
        }))
    }
}

/// Base image configs from BuildKit's `ResolveImageConfig`.
pub struct BridgeResolver {
    pub bridge: Arc<Bridge>,
    pub runtime: Handle,
    pub resolve_mode: ResolveMode,
    pub session_id: Option<String>,
}

impl BaseResolver for BridgeResolver {
    fn resolve(&self, reference: &str, platform: &Platform) -> Result<ResolvedBase, String> {
        let normalized = ImageRef::parse(reference)
            .map_err(|e| e.to_string())?
            .to_string();
        let mode = match self.resolve_mode {
            ResolveMode::Default => "default",
            ResolveMode::Pull => "pull",
            ResolveMode::Local => "local",
        };
        let (digest, config) = self
            .runtime
            .block_on(self.bridge.resolve_image_config(
                &normalized,
                &platform.to_pb(),
                mode,
                self.session_id.as_deref(),
            ))
            .map_err(|e| e.message().to_string())?;
        let config: ImageConfig = serde_json::from_slice(&config)
            .map_err(|e| format!("the image config is not valid JSON: {e}"))?;
        Ok(ResolvedBase {
            digest: Some(digest).filter(|d| !d.is_empty()),
            config,
        })
    }
}
