//! The build context and base images, read through BuildKit: the
//! compiler's `ContextFiles` and `BaseResolver` over the bridge. The
//! compiler is synchronous, so it runs on a blocking thread and these wait
//! on the bridge's futures from there. Lookups the compiler announces
//! (`prefetch`) start at once as tasks on the runtime, so the daemon works
//! on them together rather than one after another; from a client's folder,
//! the context paths among them are one transfer (for the lookups, the
//! client walks its folder once). A lookup that finds a small file reads
//! it too, so the compiler's read (after the base image's config, which
//! takes longer than the transfer) finds it read.

use llb_gen::limits::MAX_CONTEXT_FILE_BYTES;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use envd_proto::pb;
use llb_gen::llb::{ImageRef, Platform, ResolveMode};
use llb_gen::lower::{
    BaseResolver, ContextFiles, ContextSource, FileKind, ImageConfig, ResolvedBase,
};
use tokio::runtime::Handle;
use tokio::sync::OnceCell;
use tokio::task::JoinHandle;

use crate::bridge::{Bridge, PathKind};
use crate::options::CacheImport;

/// Files up to this size are read when they are looked up: requirements
/// files and `.dockerignore` are read next, and a small file looked up
/// only as a copy source costs one more small transfer.
const READ_WITH_LOOKUP_BYTES: u64 = 64 << 10;

/// A context file's bytes (`None`: not there), or the read's error.
type ReadResult = Result<Option<Arc<[u8]>>, String>;

/// A context path as the daemon has it.
#[derive(Clone)]
struct PathLookup {
    /// The ref of the context narrowed to it.
    reference: String,
    /// What is there, if anything.
    kind: Option<PathKind>,
    /// For a small file, its read, started as soon as the file was found:
    /// the compiler's read waits for it, a stat does not.
    read_ahead: Option<Arc<OnceCell<ReadResult>>>,
}

/// Lookups started ahead, by key, and those finished.
struct Lookups<T> {
    pending: HashMap<String, JoinHandle<Result<T, String>>>,
    done: HashMap<String, T>,
}

impl<T: Clone + Send + 'static> Lookups<T> {
    fn new() -> Mutex<Lookups<T>> {
        Mutex::new(Lookups {
            pending: HashMap::new(),
            done: HashMap::new(),
        })
    }
}

/// The result for `key`: finished, started ahead (then waited for), or
/// looked up now with `lookup`.
fn get_or_wait<T: Clone + Send + 'static>(
    lookups: &Mutex<Lookups<T>>,
    runtime: &Handle,
    key: &str,
    lookup: impl FnOnce() -> Result<T, String>,
) -> Result<T, String> {
    let pending = {
        let mut lookups = lookups.lock().map_err(|e| e.to_string())?;
        if let Some(done) = lookups.done.get(key) {
            return Ok(done.clone());
        }
        lookups.pending.remove(key)
    };
    let value = match pending {
        Some(task) => runtime
            .block_on(task)
            .map_err(|e| format!("lookup task failed: {e}"))??,
        None => lookup()?,
    };
    lookups
        .lock()
        .map_err(|e| e.to_string())?
        .done
        .insert(key.to_string(), value.clone());
    Ok(value)
}

/// Starts `task` for `key` unless it is started or done.
fn start<T: Clone + Send + 'static>(
    lookups: &Mutex<Lookups<T>>,
    runtime: &Handle,
    key: String,
    task: impl Future<Output = Result<T, String>> + Send + 'static,
) {
    // A poisoned lock only loses the head start; the lookup reports it.
    if let Ok(mut lookups) = lookups.lock()
        && !lookups.done.contains_key(&key)
        && !lookups.pending.contains_key(&key)
    {
        lookups.pending.insert(key, runtime.spawn(task));
    }
}

/// The context narrowed to some paths, and its ref once the first lookup
/// in it has solved it.
struct Transfer {
    def: pb::Definition,
    solved: OnceCell<Result<String, String>>,
}

pub struct BridgeContext {
    bridge: Arc<Bridge>,
    runtime: Handle,
    context: ContextSource,
    cache_imports: Vec<CacheImport>,
    paths: Mutex<Lookups<PathLookup>>,
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
            paths: Lookups::new(),
        }
    }

    /// The context narrowed to `paths`, as a definition to solve.
    fn narrowed(&self, paths: &[String]) -> Result<pb::Definition, String> {
        self.context
            .narrowed(
                paths,
                // The compiler checks its reads against .dockerignore.
                &[],
                format!("envd-frontend: look up {} in the context", listed(paths)),
                None,
            )
            .map(|state| state.marshal())
            .map_err(|e| e.to_string())
    }

    /// The context narrowed to `paths`, not solved yet.
    fn transfer(&self, paths: &[String]) -> Result<Arc<Transfer>, String> {
        Ok(Arc::new(Transfer {
            def: self.narrowed(paths)?,
            solved: OnceCell::new(),
        }))
    }

    /// Starts looking each of `paths` up in `transfer`.
    fn start_lookups(&self, transfer: &Arc<Transfer>, paths: &[String]) {
        for path in paths {
            let task = look_up_in(
                self.bridge.clone(),
                transfer.clone(),
                path.clone(),
                self.cache_imports.clone(),
            );
            start(&self.paths, &self.runtime, path.clone(), task);
        }
    }

    fn lookup(&self, path: &str) -> Result<PathLookup, String> {
        get_or_wait(&self.paths, &self.runtime, path, || {
            let transfer = self.transfer(&[path.to_string()])?;
            self.runtime.block_on(look_up_in(
                self.bridge.clone(),
                transfer,
                path.to_string(),
                self.cache_imports.clone(),
            ))
        })
    }
}

/// How lookups of `paths` share transfers: a client's folder narrowed to
/// all of them at once (a path missing from it is simply not sent); an
/// input state narrowed path by path, since its narrowing copies each
/// path and a missing one would fail the others' copy too.
fn lookup_groups(context: &ContextSource, paths: &[String]) -> Vec<Vec<String>> {
    if context.is_local() {
        vec![paths.to_vec()]
    } else {
        paths.iter().map(|p| vec![p.clone()]).collect()
    }
}

/// Paths as a step's name lists them: the first few, then how many more.
fn listed(paths: &[String]) -> String {
    const SHOWN: usize = 4;
    if paths.len() <= SHOWN {
        return paths.join(", ");
    }
    format!(
        "{} and {} more",
        paths[..SHOWN - 1].join(", "),
        paths.len() - (SHOWN - 1)
    )
}

/// Stats `path` in `transfer`, which the first lookup in it solves (each
/// lookup in it gets that solve's ref, or its error), and starts reading
/// it if it is a small file.
async fn look_up_in(
    bridge: Arc<Bridge>,
    transfer: Arc<Transfer>,
    path: String,
    cache_imports: Vec<CacheImport>,
) -> Result<PathLookup, String> {
    let reference = transfer
        .solved
        .get_or_init(|| async {
            bridge
                .solve(transfer.def.clone(), &cache_imports)
                .await
                .map_err(|e| e.message().to_string())
        })
        .await
        .clone()?;
    let stat = bridge
        .stat(&reference, &path)
        .await
        .map_err(|e| e.message().to_string())?;
    let read_ahead = match stat {
        Some((PathKind::File, size)) if size <= READ_WITH_LOOKUP_BYTES => {
            let read: Arc<OnceCell<ReadResult>> = Arc::default();
            tokio::spawn({
                let (read, reference, path) = (read.clone(), reference.clone(), path.clone());
                async move {
                    read.get_or_init(|| read_context_file(&bridge, &reference, &path))
                        .await;
                }
            });
            Some(read)
        }
        _ => None,
    };
    Ok(PathLookup {
        reference,
        kind: stat.map(|(kind, _)| kind),
        read_ahead,
    })
}

/// A context file's bytes, up to one more than the compiler accepts.
async fn read_context_file(bridge: &Bridge, reference: &str, path: &str) -> ReadResult {
    bridge
        .read_file(reference, path, MAX_CONTEXT_FILE_BYTES + 1)
        .await
        .map(|bytes| bytes.map(Arc::from))
        .map_err(|e| e.message().to_string())
}

impl ContextFiles for BridgeContext {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        let found = self.lookup(path)?;
        let read = match (found.kind, found.read_ahead) {
            (None, _) => return Ok(None),
            (Some(PathKind::Dir), _) => return Err("it is a directory".to_string()),
            // Started with the lookup, or started now if that task has
            // not begun it yet.
            (Some(PathKind::File), Some(read)) => self
                .runtime
                .block_on(
                    read.get_or_init(|| read_context_file(&self.bridge, &found.reference, path)),
                )
                .clone(),
            (Some(PathKind::File), None) => {
                self.runtime
                    .block_on(read_context_file(&self.bridge, &found.reference, path))
            }
        };
        read.map(|bytes| bytes.map(|bytes| bytes.to_vec()))
    }

    fn kind(&self, path: &str) -> Result<Option<FileKind>, String> {
        if path == "." {
            return Ok(Some(FileKind::Dir));
        }
        Ok(self.lookup(path)?.kind.map(|k| match k {
            PathKind::File => FileKind::File,
            PathKind::Dir => FileKind::Dir,
        }))
    }

    fn prefetch(&self, paths: &[String]) {
        for group in lookup_groups(&self.context, paths) {
            // Paths that cannot be narrowed together lose their head
            // start: each is looked up, and fails, on its own when asked.
            if let Ok(transfer) = self.transfer(&group) {
                self.start_lookups(&transfer, &group);
            }
        }
    }
}

/// Base image configs from BuildKit's `ResolveImageConfig`.
pub struct BridgeResolver {
    bridge: Arc<Bridge>,
    runtime: Handle,
    resolve_mode: ResolveMode,
    session_id: Option<String>,
    images: Mutex<Lookups<ResolvedBase>>,
}

impl BridgeResolver {
    pub fn new(
        bridge: Arc<Bridge>,
        runtime: Handle,
        resolve_mode: ResolveMode,
        session_id: Option<String>,
    ) -> Self {
        BridgeResolver {
            bridge,
            runtime,
            resolve_mode,
            session_id,
            images: Lookups::new(),
        }
    }

    fn task(
        &self,
        reference: &str,
        platform: &Platform,
    ) -> impl Future<Output = Result<ResolvedBase, String>> + Send + 'static {
        let bridge = self.bridge.clone();
        let reference = reference.to_string();
        let platform = platform.to_pb();
        let mode = match self.resolve_mode {
            ResolveMode::Default => "default",
            ResolveMode::Pull => "pull",
            ResolveMode::Local => "local",
        };
        let session_id = self.session_id.clone();
        async move {
            let normalized = ImageRef::parse(&reference)
                .map_err(|e| e.to_string())?
                .to_string();
            let (digest, config) = bridge
                .resolve_image_config(&normalized, &platform, mode, session_id.as_deref())
                .await
                .map_err(|e| e.message().to_string())?;
            let config: ImageConfig = serde_json::from_slice(&config)
                .map_err(|e| format!("the image config is not valid JSON: {e}"))?;
            Ok(ResolvedBase {
                digest: Some(digest).filter(|d| !d.is_empty()),
                config,
            })
        }
    }
}

fn image_key(reference: &str, platform: &Platform) -> String {
    format!("{reference} {platform}")
}

impl BaseResolver for BridgeResolver {
    fn resolve(&self, reference: &str, platform: &Platform) -> Result<ResolvedBase, String> {
        let key = image_key(reference, platform);
        get_or_wait(&self.images, &self.runtime, &key, || {
            self.runtime.block_on(self.task(reference, platform))
        })
    }

    fn prefetch(&self, reference: &str, platform: &Platform) {
        let task = self.task(reference, platform);
        start(
            &self.images,
            &self.runtime,
            image_key(reference, platform),
            task,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_folder_is_one_transfer_and_an_input_state_one_per_path() {
        let paths = vec![".dockerignore".to_string(), "requirements.txt".to_string()];
        assert_eq!(
            lookup_groups(&ContextSource::default(), &paths),
            [[".dockerignore", "requirements.txt"]]
        );
        let state = ContextSource::State(llb_gen::llb::State::scratch());
        assert_eq!(
            lookup_groups(&state, &paths),
            [[".dockerignore"], ["requirements.txt"]]
        );
    }

    #[test]
    fn a_lookup_names_its_first_paths() {
        let paths = |n: usize| (1..=n).map(|i| format!("p{i}")).collect::<Vec<_>>();
        assert_eq!(listed(&paths(1)), "p1");
        assert_eq!(listed(&paths(4)), "p1, p2, p3, p4");
        assert_eq!(listed(&paths(9)), "p1, p2, p3 and 6 more");
    }

    #[test]
    fn started_lookups_are_waited_for_and_kept() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let handle = runtime.handle().clone();
        let lookups: Arc<Mutex<Lookups<u32>>> = Arc::new(Lookups::new());
        runtime.block_on(async {
            let found = tokio::task::spawn_blocking(move || {
                start(&lookups, &handle, "a".to_string(), async { Ok(1) });
                let first = get_or_wait(&lookups, &handle, "a", || Err("not started".into()));
                let again = get_or_wait(&lookups, &handle, "a", || Err("not kept".into()));
                let now = get_or_wait(&lookups, &handle, "b", || Ok(2));
                start(&lookups, &handle, "b".to_string(), async {
                    Err("restarted".to_string())
                });
                let kept = get_or_wait(&lookups, &handle, "b", || Err("not kept".into()));
                [first, again, now, kept]
            })
            .await
            .unwrap();
            assert_eq!(found, [Ok(1), Ok(1), Ok(2), Ok(2)]);
        });
    }
}
