//! The frontend's own cost, for benchmarks: with `--build-arg
//! ENVD_FRONTEND_REPORT=1` the build shows one more progress step, named
//! with the time to each stage, the CPU time used by then, and peak memory.
//! The frontend's stderr does not reach the client, and warnings reach only
//! newer clients; a step's name reaches every client.

use std::time::{Duration, Instant};

use envd_proto::opts;

use crate::bridge::Bridge;
use crate::options::{OptionError, REPORT_ARG, raw_from_env};

/// Prefix of the report step's name, for tools that parse it.
pub const REPORT_PREFIX: &str = "envd-frontend report:";

/// Times since the frontend started, and CPU time it used by then, by
/// stage; when the report is not asked for, nothing is measured.
#[derive(Debug)]
pub struct Timeline(Option<Measured>);

#[derive(Debug)]
struct Measured {
    start: Instant,
    /// CPU time of the process before the frontend's code ran: the
    /// container's init (runc) runs in the same task before it execs us.
    cpu_at_start: Option<Duration>,
    marks: Vec<(&'static str, Duration, Option<Duration>)>,
}

impl Timeline {
    /// Starts measuring when the build args in the environment ask for the
    /// report (a bad value is reported when the options are read).
    pub fn start_if_requested() -> Timeline {
        let key = format!("{}{REPORT_ARG}", opts::BUILD_ARG_PREFIX);
        // The last value wins, as when the options are read.
        let value = raw_from_env()
            .into_iter()
            .rev()
            .find_map(|(k, v)| (k == key).then_some(v));
        if requested(value.as_deref()) == Ok(true) {
            Timeline::start()
        } else {
            Timeline(None)
        }
    }

    /// A timeline that measures nothing.
    pub fn none() -> Timeline {
        Timeline(None)
    }

    /// A timeline that measures.
    pub fn start() -> Timeline {
        Timeline(Some(Measured {
            start: Instant::now(),
            cpu_at_start: cpu_time(),
            marks: vec![],
        }))
    }

    /// Records that `stage` ended now.
    pub fn mark(&mut self, stage: &'static str) {
        if let Some(measured) = &mut self.0 {
            let cpu = cpu_time()
                .zip(measured.cpu_at_start)
                .map(|(now, start)| now.saturating_sub(start));
            measured.marks.push((stage, measured.start.elapsed(), cpu));
        }
    }

    /// One line: stage times, CPU time by each stage, and peak resident
    /// memory; `None` when nothing was measured.
    pub fn render(&self) -> Option<String> {
        self.0.as_ref().map(Measured::render)
    }
}

impl Measured {
    fn render(&self) -> String {
        let ms = |d: &Duration| d.as_secs_f64() * 1e3;
        let mut parts: Vec<String> = vec![];
        for (stage, at, cpu) in &self.marks {
            parts.push(format!("{stage}_ms={:.2}", ms(at)));
            if let Some(cpu) = cpu {
                parts.push(format!("{stage}_cpu_ms={:.2}", ms(cpu)));
            }
        }
        if let Some(cpu) = self.cpu_at_start {
            parts.push(format!("before_start_cpu_ms={:.2}", ms(&cpu)));
        }
        if let Some(kib) = peak_rss_kib() {
            parts.push(format!("peak_rss_kib={kib}"));
        }
        format!("{REPORT_PREFIX} {}", parts.join(" "))
    }
}

/// Shows the report line as a step (see [`crate::progress`]).
pub async fn show(bridge: &Bridge, line: &str) -> Result<(), String> {
    crate::progress::show_line(bridge, line).await
}

/// Whether the build args ask for the report (`1`/`true`; `0`/`false` or unset: no).
pub fn requested(value: Option<&str>) -> Result<bool, OptionError> {
    match value {
        None | Some("0" | "false" | "") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(other) => Err(OptionError::Invalid {
            key: format!("build-arg:{REPORT_ARG}"),
            value: other.to_string(),
            reason: "expected 1, true, 0 or false".to_string(),
        }),
    }
}

/// CPU time of every live thread of this process, from the scheduler's
/// nanosecond counters (`/proc/self/stat` counts in 10 ms ticks). A thread
/// that exits while it is read is skipped.
fn cpu_time() -> Option<Duration> {
    let total: u64 = std::fs::read_dir("/proc/self/task")
        .ok()?
        .filter_map(|task| {
            let text = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            text.split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum();
    Some(Duration::from_nanos(total))
}

/// Peak resident set size (`VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lists_stages_cpu_and_memory() {
        let mut timeline = Timeline::start();
        timeline.mark("ping");
        timeline.mark("return");
        let report = timeline.render().unwrap();
        assert!(
            report.starts_with("envd-frontend report: ping_ms="),
            "{report}"
        );
        assert!(report.contains(" return_ms="), "{report}");
        let field = |name: &str| -> f64 {
            report
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix(name))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} in {report}"))
        };
        assert!(field("return_cpu_ms=") >= 0.0);
        assert!(
            field("before_start_cpu_ms=") > 0.0,
            "a test binary has run by now"
        );
        assert!(field("peak_rss_kib=") > 100.0);
    }

    #[test]
    fn an_unrequested_timeline_measures_nothing() {
        let mut timeline = Timeline(None);
        timeline.mark("ping");
        assert_eq!(timeline.render(), None);
    }

    #[test]
    fn only_clear_values_ask_for_the_report() {
        assert_eq!(requested(None), Ok(false));
        assert_eq!(requested(Some("1")), Ok(true));
        assert_eq!(requested(Some("false")), Ok(false));
        assert!(requested(Some("yes")).is_err());
    }
}
