//! Evaluation in a child process with bounded memory and time, before the
//! compiler's own. Starlark checks its heap only between statements, and
//! one statement (`[0] * 100000000`) can take gigabytes before that check.
//! So a copy of the running program (the probe) evaluates build.envd first,
//! with its address space limited: a statement that builds too large a
//! value ends the probe, not the caller, and the error points at it.
//!
//! Evaluation is deterministic (the same text, target and build args give
//! the same result), so once the probe has finished, the caller evaluates
//! in-process (without the address-space limit, which would bound the
//! whole caller) and gets the same result or located error itself. A
//! program that uses the probe calls [`serve_if_asked`] first in `main`
//! and installs [`crate::allocator::EvaluationAllocator`] as its
//! allocator.
//!
//! A program that ends after one build can bound evaluation in process
//! instead (`bounded`); the probe is for one that must outlive an
//! evaluation stopped on its way (the language server).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use serde::{Deserialize, Serialize};

use crate::allocator::{self, BEFORE_ANY_STATEMENT, OUT_OF_MEMORY_MARK, OutOfMemory};
use crate::diagnostics::{Diagnostic, SourceText};
use crate::includes::IncludedModules;
use crate::lang;
use crate::limits::{
    MAX_BUILD_FILE_BYTES, MAX_EVALUATION_BYTES, MAX_EVALUATION_SECONDS, MAX_INCLUDED_BYTES,
};

/// The first argument that makes a program the probe; the second is the
/// caller's process id.
const PROBE_ARG: &str = "--envd-evaluation-probe";

/// Exit code of a probe that could not read its request or set its limit.
const PROBE_FAILED: i32 = 3;
/// Exit code of a probe in which an allocation failed. Some allocators
/// (bumpalo's, under Starlark's heap) panic rather than abort, and the
/// evaluation turns the panic into an error: the probe still fails.
const PROBE_OUT_OF_MEMORY: i32 = 4;

/// What the probe evaluates: everything evaluation depends on.
#[derive(Serialize, Deserialize)]
struct Request {
    name: String,
    text: String,
    target: Option<String>,
    build_args: BTreeMap<String, String>,
    includes: IncludedModules,
}

/// Evaluates the build file in a probe started from `program` (the
/// caller's own binary; its parent-death signal follows the calling
/// thread, which waits for it). `Ok` means the probe finished within its
/// bounds, with a result or a located error (which the caller's own
/// evaluation gives again); `Err` is the error for a probe that ran out of
/// memory or time, at the statement when known.
pub fn evaluate(
    program: &Path,
    source: &SourceText,
    target: Option<&str>,
    build_args: &BTreeMap<String, String>,
    includes: &IncludedModules,
) -> Result<(), Diagnostic> {
    let internal = |what: String| {
        Diagnostic::error(
            source,
            None,
            format!("internal error: the evaluation probe {what}"),
        )
    };
    let request = Request {
        name: source.name().to_string(),
        text: source.text().to_string(),
        target: target.map(str::to_string),
        build_args: build_args.clone(),
        includes: includes.clone(),
    };
    let request = serde_json::to_vec(&request).map_err(|e| internal(e.to_string()))?;
    let mut child = Command::new(program)
        .arg(PROBE_ARG)
        .arg(std::process::id().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| internal(format!("could not start ({}): {e}", program.display())))?;
    // The probe reads all of its request before it evaluates, so this does
    // not wait on it; a probe that died early closes the pipe.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&request);
    }
    let deadline = Instant::now() + Duration::from_secs(MAX_EVALUATION_SECONDS);
    // This process evaluates next: it builds what evaluation shares while
    // the probe runs, rather than after.
    lang::warm_up();
    let Some((status, stderr)) = wait_for(&mut child, deadline) else {
        return Err(took_too_long(source));
    };
    if status.success() {
        return Ok(());
    }
    match out_of_memory_at(&stderr) {
        Some(place) => Err(out_of_memory(source, place)),
        None => Err(internal(format!(
            "failed ({status}): {}",
            String::from_utf8_lossy(&stderr).trim()
        ))),
    }
}

/// The error for an evaluation that ran out of time.
pub(crate) fn took_too_long(source: &SourceText) -> Diagnostic {
    Diagnostic::error(
        source,
        None,
        format!("evaluating build.envd took more than {MAX_EVALUATION_SECONDS} s"),
    )
    .with_help("simplify the loops and values build.envd computes")
}

/// The error for an evaluation that ran out of memory, at the statement
/// that was running.
pub(crate) fn out_of_memory(source: &SourceText, place: OutOfMemory) -> Diagnostic {
    let bound = MAX_EVALUATION_BYTES >> 20;
    let (span, message) = match place {
        OutOfMemory::AtStatement(offset) => (
            statement_at(source.text(), offset),
            format!(
                "this statement needs more than the {bound} MiB of memory evaluating build.envd may use"
            ),
        ),
        // Starlark computes constant expressions (`"ab" * N`) while it
        // compiles the file, before the first statement runs.
        OutOfMemory::Compiling => (
            statement_at(source.text(), first_code_line(source.text())),
            format!(
                "a constant expression in build.envd (such as \"ab\" * 300000000) needs more than the {bound} MiB of memory evaluating build.envd may use"
            ),
        ),
    };
    Diagnostic::error(source, Some(span), message)
        .with_help("a build file's values are names, versions and commands; build smaller ones")
}

/// The offset of the first line that is neither blank nor a comment.
fn first_code_line(text: &str) -> usize {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let code = line.trim();
        if !code.is_empty() && !code.starts_with('#') {
            return offset + (line.len() - line.trim_start().len());
        }
        offset += line.len();
    }
    0
}

/// Waits for the child until `deadline`, reading its stderr (the first
/// 64 KiB) as it comes; kills it and returns `None` at the deadline. The
/// child closes stderr when it exits, so waiting on the pipe wakes up at
/// once.
fn wait_for(child: &mut Child, deadline: Instant) -> Option<(ExitStatus, Vec<u8>)> {
    let mut output = Vec::new();
    if let Some(mut pipe) = child.stderr.take() {
        let mut chunk = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            let wait = Timespec {
                tv_sec: left.as_secs().try_into().unwrap_or(i64::MAX),
                tv_nsec: left.subsec_nanos().into(),
            };
            let mut fds = [PollFd::new(&pipe, PollFlags::IN)];
            match poll(&mut fds, Some(&wait)) {
                Ok(0) | Err(rustix::io::Errno::INTR) => continue,
                Ok(_) => match pipe.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) if output.len() < 64 << 10 => output.extend_from_slice(&chunk[..n]),
                    Ok(_) => {}
                },
                Err(_) => {
                    let _ = child.kill();
                    break;
                }
            }
        }
    }
    child.wait().ok().map(|status| (status, output))
}

/// Where the probe's out-of-memory report says it ran out.
fn out_of_memory_at(stderr: &[u8]) -> Option<OutOfMemory> {
    // The last report: earlier ones may be allocations retried smaller.
    let at = stderr
        .windows(OUT_OF_MEMORY_MARK.len())
        .rposition(|w| w == OUT_OF_MEMORY_MARK)?;
    let rest = &stderr[at + OUT_OF_MEMORY_MARK.len()..];
    if rest.starts_with(BEFORE_ANY_STATEMENT) {
        return Some(OutOfMemory::Compiling);
    }
    let digits: String = rest
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| char::from(b))
        .collect();
    digits.parse().ok().map(OutOfMemory::AtStatement)
}

/// From the statement's start to the end of its line.
fn statement_at(text: &str, offset: usize) -> std::ops::Range<usize> {
    let start = offset.min(text.len());
    let start = (0..=start)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
    start..end
}

/// Makes this process the probe when it was started as one: evaluates the
/// request on stdin under the bounds and exits. Call it first in `main`.
pub fn serve_if_asked() {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == PROBE_ARG)
    {
        std::process::exit(serve());
    }
}

fn serve() -> i32 {
    allocator::report_failed_allocations();
    // A panic says only its message: symbolizing a backtrace (with
    // RUST_BACKTRACE set) needs more memory than the probe may have, and
    // running out while printing one deadlocks the process.
    std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
    // If the caller dies (a cancelled build), so does the probe; a caller
    // that died before this was set is no longer the parent.
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    let caller = std::env::args()
        .nth(2)
        .and_then(|pid| pid.parse::<i32>().ok());
    if rustix::process::getppid().map(|pid| pid.as_raw_nonzero().get()) != caller {
        return PROBE_FAILED;
    }
    let limit = |resource, value: u64| {
        rustix::process::setrlimit(
            resource,
            rustix::process::Rlimit {
                current: Some(value),
                maximum: Some(value),
            },
        )
    };
    // Memory, and CPU time as a backstop to the caller's deadline.
    let bounded = limit(rustix::process::Resource::As, MAX_EVALUATION_BYTES as u64)
        .and_then(|()| limit(rustix::process::Resource::Cpu, 2 * MAX_EVALUATION_SECONDS));
    if let Err(e) = bounded {
        eprintln!("cannot set its limits: {e}");
        return PROBE_FAILED;
    }
    // Evaluation's shared setup is built while the request is written.
    lang::warm_up();
    let mut input = Vec::new();
    // The request is the build file and the build args, as JSON.
    let bound = (MAX_BUILD_FILE_BYTES * 8 + MAX_INCLUDED_BYTES * 8) as u64;
    if let Err(e) = std::io::stdin().take(bound).read_to_end(&mut input) {
        eprintln!("cannot read its request: {e}");
        return PROBE_FAILED;
    }
    let request: Request = match serde_json::from_slice(&input) {
        Ok(request) => request,
        Err(e) => {
            eprintln!("cannot read its request: {e}");
            return PROBE_FAILED;
        }
    };
    let source = SourceText::new(request.name, request.text);
    // A result or a located error: either way the evaluation finished,
    // unless it failed because memory ran out. (bumpalo retries a refused
    // chunk with a smaller one, so a failed allocation alone is not that.)
    match lang::evaluate(
        &source,
        request.target.as_deref(),
        &request.build_args,
        &request.includes,
    ) {
        Err(_) if allocator::an_allocation_failed() => PROBE_OUT_OF_MEMORY,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_names_the_statement() {
        let stderr = b"envd-evaluation-probe: out of memory at byte 42\nmemory allocation of 800000000 bytes failed\n";
        assert_eq!(out_of_memory_at(stderr), Some(OutOfMemory::AtStatement(42)));
        assert_eq!(
            out_of_memory_at(b"envd-evaluation-probe: out of memory at byte none\n"),
            Some(OutOfMemory::Compiling)
        );
        assert_eq!(out_of_memory_at(b"Aborted"), None);
        assert_eq!(first_code_line("# syntax=v0\n\n  def build():\n"), 15);
        let text = "def build():\n    x = [0] * 100000000\n";
        let span = statement_at(text, 17);
        assert_eq!(&text[span], "x = [0] * 100000000");
        assert_eq!(statement_at(text, 999), text.len()..text.len());
    }
}
