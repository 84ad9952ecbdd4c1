//! build.envd to BuildKit LLB, with no I/O of its own (context files and
//! base image configs come through traits; [`disk`] reads a folder for the
//! offline compiler and tests).
//!
//! Modules: [`llb`], the typed LLB builder; [`diagnostics`], located
//! errors; [`checks`] and [`pep508`], checks of input text; [`ir`], the
//! plain build description; [`lower`], the machinery that turns it into
//! LLB and image config; [`builtins`], one file per envd builtin (its
//! parameters, its IR step, its lowering) and the registry; [`lang`],
//! Starlark evaluation into the IR (the only module that imports
//! `starlark`); [`compile`], the whole pipeline. `lower` never imports
//! `lang`; builtins see plain values, never Starlark ones.

pub mod builtins;
pub mod checks;
pub mod compile;
pub mod diagnostics;
pub mod disk;
pub mod ir;
pub mod lang;
pub mod llb;
pub mod lower;
pub mod pep508;

pub use compile::{CompileOptions, Compiled, compile};
