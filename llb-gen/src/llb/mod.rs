//! A typed LLB builder: immutable [`State`]s built by source, exec, file,
//! merge and diff ops, marshaled deterministically with [`State::marshal`].
//! It holds what lowering uses, and no more.
//!
//! ```
//! use llb_gen::llb::{CacheMount, Exec, Image, WithOpOptions};
//! let base = Image::new("python:3.11").build()?;
//! let installed = Exec::new(&base, ["pip", "install", "six"])
//!     .mount(CacheMount::new("/root/.cache/pip", "pip"))
//!     .custom_name("pip install six")
//!     .build()?
//!     .root();
//! let definition = installed.marshal();
//! assert_eq!(definition.def.len(), 3); // image, exec, terminal
//! # Ok::<(), llb_gen::llb::LlbError>(())
//! ```

mod dump;
mod encode;
mod error;
mod exec;
mod file;
mod import;
mod layers;
mod marshal;
mod platform;
mod reference;
mod source;
mod sourcemap;
mod state;
#[cfg(test)]
mod testutil;

pub use dump::definition_to_json;
pub use error::LlbError;
pub use exec::{
    BindMount, CacheMount, CacheSharing, Exec, ExecState, Mount, NetworkMode, SecretMount,
};
pub use file::{Copy, FileOp, Mkdir, Mkfile};
pub use layers::{Diff, Merge};
pub use platform::Platform;
pub use reference::ImageRef;
pub use source::{Git, Http, Image, Local, ResolveMode};
pub(crate) use source::{HTTP_CHECKSUM, HTTP_FILENAME, HTTP_PERM, LOCAL_INCLUDE_PATTERNS};
pub use sourcemap::{SourceFile, SourceLocation, SourcePosition, SourceRange};
pub(crate) use state::digest_of;
pub use state::{OpOptions, State, WithOpOptions, sha256_hex};
