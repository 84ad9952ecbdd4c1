//! Bounds on what the compiler reads, so no input can make it crash, hang
//! or grow without bound: each is an error located at its cause. The
//! Starlark evaluation's own bounds (statements, heap, call depth) are in
//! `lang::budget`, the nesting bounds in `lang::nesting`.

/// Bytes of build.envd.
pub const MAX_BUILD_FILE_BYTES: usize = 1 << 20;
/// Bytes of each context file the compiler reads (requirements files,
/// environment files).
pub const MAX_CONTEXT_FILE_BYTES: usize = 4 << 20;
/// Steps one build may make. Real files make tens; each step is an op in
/// the definition sent to BuildKit (20,000 exceeded its message size).
pub const MAX_STEPS: usize = 1_000;
/// Requirements files included in a chain (`-r` in a file named by `-r`).
pub const MAX_REQUIREMENTS_DEPTH: usize = 16;
/// Brackets (`[`, `{`) open at once in a YAML text: the YAML scanner's
/// time grows with the square of this depth.
pub const MAX_YAML_FLOW_DEPTH: usize = 64;

/// Repositories one build includes (directly or through included files),
/// `*.envd` files in each, and the bytes of all of them together.
pub const MAX_INCLUDED_REPOSITORIES: usize = 8;
pub const MAX_INCLUDED_FILES: usize = 256;
pub const MAX_INCLUDED_BYTES: usize = 2 << 20;
/// Folders deep in an included repository that are searched for `*.envd`
/// files.
pub const MAX_INCLUDED_DEPTH: usize = 16;

/// Memory build.envd's evaluation may hold at once: the allocations of
/// the thread that evaluates it (`bounded`), or the address space of the
/// process that evaluates it first (`probe`). One Starlark statement can
/// build a value of any size before the heap check after it, and this is
/// what stops it.
pub const MAX_EVALUATION_BYTES: usize = 256 << 20;
/// Time that evaluation may take; the statement and tick bounds stop loops
/// well within it.
pub const MAX_EVALUATION_SECONDS: u64 = 10;

/// One bound as the documentation lists it: what is bounded, its value,
/// and where its error points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    pub what: &'static str,
    pub value: String,
    pub error_at: &'static str,
}

impl Bound {
    pub fn new(what: &'static str, value: String, error_at: &'static str) -> Bound {
        Bound {
            what,
            value,
            error_at,
        }
    }
}

/// The bounds of this module, for the documentation's table.
pub fn bounds() -> Vec<Bound> {
    vec![
        Bound::new(
            "build.envd's size",
            describe_bytes(MAX_BUILD_FILE_BYTES),
            "the line that passes it",
        ),
        Bound::new(
            "a context file the compiler reads (requirements, env.yaml)",
            format!(
                "{} (no more is read)",
                describe_bytes(MAX_CONTEXT_FILE_BYTES)
            ),
            "the call that names it",
        ),
        Bound::new(
            "steps in one build",
            MAX_STEPS.to_string(),
            "the call that passes it",
        ),
        Bound::new(
            "requirements files including each other",
            format!("{MAX_REQUIREMENTS_DEPTH} deep"),
            "the including line",
        ),
        Bound::new(
            "brackets open at once in YAML (`.condarc` texts, env.yaml)",
            MAX_YAML_FLOW_DEPTH.to_string(),
            "the bracket",
        ),
        Bound::new(
            "repositories one build includes",
            MAX_INCLUDED_REPOSITORIES.to_string(),
            "the `include` call",
        ),
        Bound::new(
            "`.envd` files of one included repository",
            MAX_INCLUDED_FILES.to_string(),
            "the `include` call",
        ),
        Bound::new(
            "bytes of all included `.envd` files together",
            describe_bytes(MAX_INCLUDED_BYTES),
            "the `include` call",
        ),
        Bound::new(
            "folders searched in an included repository",
            format!("{MAX_INCLUDED_DEPTH} deep"),
            "(deeper ones are not searched)",
        ),
        Bound::new(
            "memory of the evaluation (what its thread holds at once; the language server's probe: its address space)",
            describe_bytes(MAX_EVALUATION_BYTES),
            "the statement that ran out",
        ),
        Bound::new(
            "time of the evaluation",
            format!("{MAX_EVALUATION_SECONDS} s"),
            "the file",
        ),
    ]
}

/// "1 MiB", "4 MiB": a bound as the errors say it.
pub fn describe_bytes(bytes: usize) -> String {
    format!("{} MiB", bytes >> 20)
}
