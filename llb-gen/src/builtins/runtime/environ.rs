//! `runtime.environ(env, extra_path)`: variables and PATH entries for the
//! image and for the steps after the call.

use serde::Serialize;

use crate::builtins::{Args, BOTH, BuiltinError, Kind, Lower, Param, Params, Recording, Spec};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;

pub static SPEC: Spec = Spec {
    name: "runtime.environ",
    summary: "image Env and PATH",
    params: Params::Declared(&[
        Param::positional("env", Kind::StrDict, "variables to set"),
        Param::named(
            "extra_path",
            Kind::StrList,
            "absolute folders appended to PATH",
        ),
    ]),
    once: false,
    tools: &[],
    syntaxes: BOTH,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Environ {
    pub env: Vec<(String, String)>,
    pub extra_path: Vec<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let func = SPEC.name;
    let env = args.str_dict("env");
    if let Some((key, _)) = env.iter().find(|(k, _)| !is_env_name(k)) {
        return Err(BuiltinError::new(format!(
            "{func}(): {key:?} is not a valid environment variable name"
        )));
    }
    if let Some((key, _)) = env.iter().find(|(k, _)| k == "PATH") {
        return Err(BuiltinError::new(format!(
            "{func}(): set {key} with extra_path=[...], which keeps the image's PATH"
        )));
    }
    let extra_path = args.str_list("extra_path");
    if let Some(bad) = extra_path
        .iter()
        .find(|p| !p.starts_with('/') || p.contains(':'))
    {
        return Err(BuiltinError::new(format!(
            "{func}(): extra_path entry {bad:?} must be an absolute directory without ':'"
        )));
    }
    if env.is_empty() && extra_path.is_empty() {
        return Err(BuiltinError::new(format!("{func}(): nothing to set"))
            .help("pass env={...} or extra_path=[...]"));
    }
    recording.step(Environ { env, extra_path }.into())?;
    Ok(())
}

fn is_env_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Lower for Environ {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        for config in [&mut lowering.config, &mut lowering.exec_config] {
            for (key, value) in &self.env {
                config.set_env(key, value);
            }
            config.append_path(&self.extra_path);
        }
        let mut names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        if !self.extra_path.is_empty() {
            names.push("PATH");
        }
        lowering.history(span, &format!("{} {}", SPEC.name, names.join(", ")), true);
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
