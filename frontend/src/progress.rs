//! Lines every client shows: a step in the build's progress, named with
//! the line, that makes one small file on scratch (solved at once, so it
//! shows before the build's own steps, and costs nothing). Warnings go
//! there because buildx 0.13 shows no `Warn` messages, and the report
//! because the frontend's stderr reaches no client.

use llb_gen::diagnostics::Diagnostic;
use llb_gen::llb::{FileOp, Mkfile, State, WithOpOptions};

use crate::bridge::Bridge;

/// Warning steps one build shows; the rest are counted in one more step.
pub const MAX_WARNING_STEPS: usize = 100;

/// Shows `line` as the name of a step. The file holds the line too, so
/// each line is its own op (equal ops would show once).
pub async fn show_line(bridge: &Bridge, line: &str) -> Result<(), String> {
    let state = FileOp::new(&State::scratch())
        .mkfile(Mkfile::new("/line", line))
        .custom_name(line)
        .build()
        .map_err(|e| e.to_string())?;
    bridge
        .evaluate(state.marshal())
        .await
        .map_err(|e| e.message().to_string())
}

/// `warning: build.envd:5: shell() has no effect on an image`.
pub fn warning_line(warning: &Diagnostic) -> String {
    format!("warning: {}", warning.headline())
}

/// Shows each warning as a step (at most [`MAX_WARNING_STEPS`]).
pub async fn show_warnings(bridge: &Bridge, warnings: &[Diagnostic]) -> Result<(), String> {
    for warning in warnings.iter().take(MAX_WARNING_STEPS) {
        show_line(bridge, &warning_line(warning)).await?;
    }
    if warnings.len() > MAX_WARNING_STEPS {
        let more = warnings.len() - MAX_WARNING_STEPS;
        show_line(
            bridge,
            &format!("warning: {more} more warnings (llb-gen shows them all)"),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use llb_gen::diagnostics::SourceText;

    #[test]
    fn warning_lines_name_the_file_and_line() {
        let source = SourceText::new("build.envd", "def build():\n    shell(\"zsh\")\n");
        let warning = Diagnostic::warning(
            &llb_gen::lint::NO_EFFECT_IN_IMAGE,
            &source,
            Some(17..29),
            "shell() has no effect on an image",
        );
        assert_eq!(
            warning_line(&warning),
            "warning: build.envd:2: shell() has no effect on an image"
        );
    }
}
