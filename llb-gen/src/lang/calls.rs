//! What each builtin does with its arguments: bind them, check them, and
//! record a base request or a step. Errors are located at the call.

use std::ops::Range;

use starlark::eval::Evaluator;
use starlark::values::Value;
use starlark::values::none::NoneType;
use starlark_map::small_map::SmallMap;

use super::args::{BuiltinError, Param, bind};
use super::recorder::Recorder;
use crate::ir::{BaseRequest, PythonRequest, Recorded, Step};

pub type Kwargs<'v> = SmallMap<String, Value<'v>>;
type CallResult = anyhow::Result<NoneType>;

fn record_step(eval: &Evaluator, step: Step) -> CallResult {
    Recorder::of(eval)?.record(eval, step, Recorded::Step);
    Ok(NoneType)
}

pub fn base<'v>(
    pos: &[Value<'v>],
    named: &Kwargs<'v>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> CallResult {
    const PARAMS: &[Param] = &[
        Param::positional("os"),
        Param::positional("language"),
        Param::named("image"),
    ];
    let a = bind("base", PARAMS, pos, named)?;
    let image = match (a.str("os")?, a.str("image")?) {
        (Some(os), Some(image)) if os != image => {
            return Err(BuiltinError::new(format!(
                "base(): `os` ({os:?}) and `image` ({image:?}) both name the base"
            ))
            .help("give one of them")
            .into());
        }
        (Some(image), _) | (None, Some(image)) => image,
        (None, None) => {
            return Err(
                BuiltinError::new("base(): missing argument `os` (or `image`)")
                    .help("e.g. base(os=\"aiges_cpu\", language=\"python3.8\")")
                    .into(),
            );
        }
    };
    if image.trim().is_empty() {
        return Err(BuiltinError::new("base(): the base image name is empty").into());
    }
    let python = a.str("language")?.map(|l| parse_language(&l)).transpose()?;
    Recorder::of(eval)?.record(eval, BaseRequest { image, python }, Recorded::Base);
    Ok(NoneType)
}

/// `python`, `python3`, `python3.8`, `python3.8.10` (`python` means Python 3, as in envd).
pub fn parse_language(language: &str) -> Result<PythonRequest, BuiltinError> {
    let unsupported = || {
        BuiltinError::new(format!("base(): unsupported language {language:?}"))
            .help("use \"python\", \"python3\" or \"python3.X\", e.g. language=\"python3.8\"")
    };
    let Some(version) = language.strip_prefix("python") else {
        return Err(unsupported());
    };
    if version.is_empty() {
        return Ok(PythonRequest {
            major: 3,
            minor: None,
            patch: None,
        });
    }
    let parts: Vec<&str> = version.split('.').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 4)
    {
        return Err(unsupported());
    }
    let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u32>().ok());
    let major = num(0).ok_or_else(unsupported)?;
    if major != 3 {
        return Err(
            BuiltinError::new(format!("base(): Python {major} is not supported"))
                .help("use Python 3, e.g. language=\"python3.8\""),
        );
    }
    Ok(PythonRequest {
        major,
        minor: num(1),
        patch: num(2),
    })
}

pub fn python_packages<'v>(
    pos: &[Value<'v>],
    named: &Kwargs<'v>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> CallResult {
    const F: &str = "install.python_packages";
    const PARAMS: &[Param] = &[
        Param::positional("name"),
        Param::named("requirements"),
        Param::named("local_wheels"),
    ];
    let a = bind(F, PARAMS, pos, named)?;
    let names = package_names(F, "name", a.str_list("name")?, is_pip_requirement)?;
    let requirements = a
        .str("requirements")?
        .map(|p| context_path(F, "requirements", &p))
        .transpose()?;
    let local_wheels = a
        .str_list("local_wheels")?
        .iter()
        .map(|p| {
            let path = context_path(F, "local_wheels", p)?;
            if path.ends_with(".whl") {
                Ok(path)
            } else {
                Err(BuiltinError::new(format!(
                    "{F}(): local wheel {p:?} is not a .whl file"
                )))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if names.is_empty() && requirements.is_none() && local_wheels.is_empty() {
        return Err(nothing_to_install(
            F,
            "name=[...], requirements=\"...\" or local_wheels=[...]",
        )
        .into());
    }
    record_step(
        eval,
        Step::PythonPackages {
            names,
            requirements,
            local_wheels,
        },
    )
}

pub fn conda_packages<'v>(
    pos: &[Value<'v>],
    named: &Kwargs<'v>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> CallResult {
    const F: &str = "install.conda_packages";
    const PARAMS: &[Param] = &[
        Param::positional("name"),
        Param::named("channel"),
        Param::named("env_file"),
    ];
    let a = bind(F, PARAMS, pos, named)?;
    let names = package_names(F, "name", a.str_list("name")?, is_conda_spec)?;
    let channels = a.str_list("channel")?;
    if let Some(bad) = channels
        .iter()
        .find(|c| c.trim().is_empty() || c.contains(char::is_whitespace))
    {
        return Err(BuiltinError::new(format!("{F}(): invalid channel {bad:?}")).into());
    }
    let env_file = a
        .str("env_file")?
        .map(|p| context_path(F, "env_file", &p))
        .transpose()?;
    if names.is_empty() && env_file.is_none() {
        return Err(nothing_to_install(F, "name=[...] or env_file=\"env.yaml\"").into());
    }
    record_step(
        eval,
        Step::CondaPackages {
            names,
            channels,
            env_file,
        },
    )
}

pub fn system_packages<'v>(
    func: &'static str,
    pos: &[Value<'v>],
    named: &Kwargs<'v>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> CallResult {
    const PARAMS: &[Param] = &[Param::positional("name")];
    let a = bind(func, PARAMS, pos, named)?;
    let names = package_names(func, "name", a.str_list("name")?, is_apt_package)?;
    if names.is_empty() {
        return Err(nothing_to_install(func, "name=[...]").into());
    }
    record_step(eval, Step::SystemPackages { names })
}

pub fn copy<'v>(
    pos: &[Value<'v>],
    named: &Kwargs<'v>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> CallResult {
    const F: &str = "io.copy";
    const PARAMS: &[Param] = &[
        Param::positional("src").aliases(&["host_path", "source"]),
        Param::positional("dest").aliases(&["envd_path", "target"]),
    ];
    let a = bind(F, PARAMS, pos, named)?;
    let src = context_path(F, "src", &a.required_str("src")?)?;
    let dest = a.required_str("dest")?;
    if !dest.starts_with('/') {
        return Err(BuiltinError::new(format!(
            "{F}(): `dest` {dest:?} must be an absolute path in the image"
        ))
        .help(format!("e.g. dest=\"/{}\"", dest.trim_start_matches("./")))
        .into());
    }
    record_step(eval, Step::Copy { src, dest })
}

pub fn run<'v>(
    pos: &[Value<'v>],
    named: &Kwargs<'v>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> CallResult {
    const PARAMS: &[Param] = &[Param::positional("commands")];
    let a = bind("run", PARAMS, pos, named)?;
    let commands = a.str_list("commands")?;
    if commands.is_empty() {
        return Err(BuiltinError::new("run(): `commands` is empty")
            .help("e.g. run(commands=[\"pip install -e /detectron2\"])")
            .into());
    }
    if commands.iter().any(|c| c.trim().is_empty()) {
        return Err(BuiltinError::new("run(): a command is empty").into());
    }
    let recorder = Recorder::of(eval)?;
    for command in commands {
        recorder.record(eval, Step::Run { command }, Recorded::Step);
    }
    Ok(NoneType)
}

pub fn pip_index<'v>(
    pos: &[Value<'v>],
    named: &Kwargs<'v>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> CallResult {
    const F: &str = "config.pip_index";
    const PARAMS: &[Param] = &[
        Param::positional("url"),
        Param::named("extra_url"),
        Param::named("trust"),
        Param::named("mode"),
    ];
    let a = bind(F, PARAMS, pos, named)?;
    let url = http_url(F, "url", &a.required_str("url")?)?;
    let extra_url = match a.str("extra_url")? {
        Some(extra) if !extra.is_empty() => Some(http_url(F, "extra_url", &extra)?),
        _ => None,
    };
    let trust = a.bool("trust")?;
    warn_mode(F, a.str("mode")?, eval)?;
    record_step(
        eval,
        Step::PipIndex {
            url,
            extra_url,
            trust,
        },
    )
}

pub fn conda_channel<'v>(
    pos: &[Value<'v>],
    named: &Kwargs<'v>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> CallResult {
    const F: &str = "config.conda_channel";
    const PARAMS: &[Param] = &[Param::positional("channel")];
    let a = bind(F, PARAMS, pos, named)?;
    let condarc = a.required_str("channel")?;
    let recorder = Recorder::of(eval)?;
    validate_condarc(&condarc, |index| {
        // Point into the string literal when its text appears verbatim in the call.
        let span = recorder.span(eval);
        let call = recorder.source.text().get(span.range()).unwrap_or("");
        call.find(condarc.as_str()).map(|at| {
            // An error at the end of the text (an unclosed bracket) belongs
            // to the last line of the string, not the closing quotes.
            let offset = span.start + at + index.min(condarc.len());
            recorder.source.span_before(if index >= condarc.len() {
                offset.saturating_sub(1)
            } else {
                offset
            })
        })
    })?;
    record_step(eval, Step::CondaChannel { condarc })
}

/// A `.condarc` must be a YAML mapping; errors point at the line in build.envd.
/// `locate` maps a byte index in the YAML text to a span in build.envd.
fn validate_condarc(
    text: &str,
    locate: impl FnOnce(usize) -> Option<Range<usize>>,
) -> Result<(), BuiltinError> {
    const F: &str = "config.conda_channel";
    match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text) {
        Ok(serde_yaml_ng::Value::Mapping(map)) if !map.is_empty() => Ok(()),
        Ok(_) => Err(BuiltinError::new(format!(
            "{F}(): `channel` must be .condarc YAML: a mapping such as `channels: [defaults]`"
        ))),
        Err(err) => {
            let mut error = BuiltinError::new(format!(
                "{F}(): `channel` is not valid YAML: {}",
                yaml_message(&err)
            ));
            error.span = err.location().and_then(|l| locate(l.index()));
            Err(error)
        }
    }
}

/// serde_yaml's message without its trailing " at line X column Y".
pub fn yaml_message(err: &serde_yaml_ng::Error) -> String {
    let message = err.to_string();
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    }
}

pub fn apt_source<'v>(
    pos: &[Value<'v>],
    named: &Kwargs<'v>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> CallResult {
    const F: &str = "config.apt_source";
    const PARAMS: &[Param] = &[Param::positional("source"), Param::named("mode")];
    let a = bind(F, PARAMS, pos, named)?;
    let source = a.required_str("source")?;
    if source.trim().is_empty() {
        return Err(BuiltinError::new(format!("{F}(): `source` is empty")).into());
    }
    warn_mode(F, a.str("mode")?, eval)?;
    record_step(eval, Step::AptSource { source })
}

pub fn environ<'v>(
    pos: &[Value<'v>],
    named: &Kwargs<'v>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> CallResult {
    const F: &str = "runtime.environ";
    const PARAMS: &[Param] = &[Param::positional("env"), Param::named("extra_path")];
    let a = bind(F, PARAMS, pos, named)?;
    let env = a.str_dict("env")?;
    if let Some((key, _)) = env.iter().find(|(k, _)| !is_env_name(k)) {
        return Err(BuiltinError::new(format!(
            "{F}(): {key:?} is not a valid environment variable name"
        ))
        .into());
    }
    if let Some((key, _)) = env.iter().find(|(k, _)| k == "PATH") {
        return Err(BuiltinError::new(format!(
            "{F}(): set {key} with extra_path=[...], which keeps the image's PATH"
        ))
        .into());
    }
    let extra_path = a.str_list("extra_path")?;
    if let Some(bad) = extra_path
        .iter()
        .find(|p| !p.starts_with('/') || p.contains(':'))
    {
        return Err(BuiltinError::new(format!(
            "{F}(): extra_path entry {bad:?} must be an absolute directory without ':'"
        ))
        .into());
    }
    if env.is_empty() && extra_path.is_empty() {
        return Err(BuiltinError::new(format!("{F}(): nothing to set"))
            .help("pass env={...} or extra_path=[...]")
            .into());
    }
    record_step(eval, Step::Environ { env, extra_path })
}

pub fn entrypoint<'v>(
    pos: &[Value<'v>],
    named: &Kwargs<'v>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> CallResult {
    const F: &str = "config.entrypoint";
    const PARAMS: &[Param] = &[Param::positional("args")];
    let a = bind(F, PARAMS, pos, named)?;
    let args = a.str_list("args")?;
    if args.is_empty() || args[0].is_empty() {
        return Err(
            BuiltinError::new(format!("{F}(): `args` must name a program"))
                .help("e.g. config.entrypoint([\"python\", \"/app/main.py\"])")
                .into(),
        );
    }
    record_step(eval, Step::Entrypoint { args })
}

/// envd functions that only configure its interactive environments.
pub fn dev_only(func: &'static str, eval: &mut Evaluator) -> CallResult {
    Recorder::of(eval)?.warn(
        eval,
        format!("{func}() has no effect on an image"),
        "it configures envd's interactive development environment; remove it or keep it for envd",
    );
    Ok(NoneType)
}

fn warn_mode(
    func: &'static str,
    mode: Option<String>,
    eval: &Evaluator,
) -> Result<(), BuiltinError> {
    if let Some(mode) = mode {
        Recorder::of(eval)?.warn(
            eval,
            format!("{func}(): `mode` ({mode:?}) has no effect"),
            "envd accepted `mode` but never implemented it",
        );
    }
    Ok(())
}

fn nothing_to_install(func: &str, what: &str) -> BuiltinError {
    BuiltinError::new(format!("{func}(): nothing to install")).help(format!("pass {what}"))
}

fn package_names(
    func: &str,
    param: &str,
    names: Vec<String>,
    valid: fn(&str) -> bool,
) -> Result<Vec<String>, BuiltinError> {
    match names.iter().find(|n| !valid(n)) {
        Some(bad) => Err(BuiltinError::new(format!(
            "{func}(): {bad:?} in `{param}` is not a package name or specifier"
        ))),
        None => Ok(names),
    }
}

fn is_pip_requirement(spec: &str) -> bool {
    crate::pep508::check(spec).is_ok()
}

/// `name`, `name=1.2`, `name>=1.2`, `channel::name`.
fn is_conda_spec(spec: &str) -> bool {
    !spec.is_empty()
        && spec
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && spec.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '.' | '_' | '-' | '=' | '<' | '>' | '!' | '*' | ':' | ',' | '/'
                )
        })
}

/// Debian package names (policy 5.6.1), optionally `=version` or `/release`.
fn is_apt_package(spec: &str) -> bool {
    let name = spec.split(['=', '/']).next().unwrap_or("");
    name.len() >= 2
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | ':')
        })
        && spec.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | ':' | '=' | '/' | '~' | '_')
        })
}

fn is_env_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn http_url(func: &str, param: &str, url: &str) -> Result<String, BuiltinError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty() && !rest.starts_with('/') && !url.contains(char::is_whitespace) =>
        {
            Ok(url.to_string())
        }
        _ => Err(BuiltinError::new(format!(
            "{func}(): `{param}` {url:?} is not an http(s) URL"
        ))),
    }
}

/// A path inside the build context, normalized (`./a/../b` -> `b`, `./` -> `.`).
pub fn context_path(func: &str, param: &str, path: &str) -> Result<String, BuiltinError> {
    let is_windows_absolute =
        path.len() >= 2 && path.as_bytes()[1] == b':' && path.as_bytes()[0].is_ascii_alphabetic();
    if path.starts_with('/') || path.starts_with('\\') || is_windows_absolute {
        return Err(BuiltinError::new(format!(
            "{func}(): `{param}` {path:?} is an absolute host path"
        ))
        .help(
            "paths are relative to the build context (the folder given to `docker buildx build`)",
        ));
    }
    if path.is_empty() {
        return Err(BuiltinError::new(format!("{func}(): `{param}` is empty")));
    }
    if path.contains(['*', '?', '[']) {
        return Err(BuiltinError::new(format!(
            "{func}(): `{param}` {path:?} has wildcards, which are not supported"
        )));
    }
    let mut parts: Vec<&str> = vec![];
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(BuiltinError::new(format!(
                        "{func}(): `{param}` {path:?} is outside the build context"
                    ))
                    .help("only files in the build context can be used; move them into it"));
                }
            }
            part => parts.push(part),
        }
    }
    Ok(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages() {
        let v = |s: &str| parse_language(s).map(|p| p.version());
        assert_eq!(v("python").unwrap(), "3");
        assert_eq!(v("python3").unwrap(), "3");
        assert_eq!(v("python3.8").unwrap(), "3.8");
        assert_eq!(v("python3.10.4").unwrap(), "3.10.4");
        for bad in [
            "r",
            "julia",
            "python3.",
            "python3.x",
            "python 3",
            "python3.8.1.2",
            "Python3",
        ] {
            assert!(parse_language(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_language("python2.7").unwrap_err().message,
            "base(): Python 2 is not supported"
        );
    }

    #[test]
    fn context_paths() {
        let p = |s: &str| context_path("io.copy", "src", s);
        assert_eq!(p("./detectron2").unwrap(), "detectron2");
        assert_eq!(p("./").unwrap(), ".");
        assert_eq!(p(".").unwrap(), ".");
        assert_eq!(p("a/./b/../c/").unwrap(), "a/c");
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "C:\\data",
            "\\\\host\\share",
            "",
            "*.txt",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn package_name_checks() {
        for ok in [
            "numpy",
            "torch==1.10",
            "mmcv-full>=1.3,<2",
            "requests[socks]",
            "a.b_c",
        ] {
            assert!(is_pip_requirement(ok), "{ok}");
        }
        for bad in ["", "-r x", "numpy; rm -rf /", "$(id)"] {
            assert!(!is_pip_requirement(bad), "{bad}");
        }
        for ok in [
            "libgl1-mesa-glx",
            "g++",
            "python3.11",
            "curl=7.88.1-10+deb12u5",
            "nginx/bookworm-backports",
        ] {
            assert!(is_apt_package(ok), "{ok}");
        }
        for bad in ["", "A", "Foo", "x y", "a;b", "-y"] {
            assert!(!is_apt_package(bad), "{bad}");
        }
        for ok in [
            "pytorch",
            "numpy=1.21",
            "conda-forge::opencv",
            "python>=3.8,<3.9",
        ] {
            assert!(is_conda_spec(ok), "{ok}");
        }
        assert!(!is_conda_spec("x y"));
    }

    #[test]
    fn condarc_must_be_a_mapping_and_errors_point_into_the_literal() {
        assert!(validate_condarc("channels:\n  - defaults\n", |_| None).is_ok());
        assert!(validate_condarc("- a\n- b\n", |_| None).is_err());
        assert!(validate_condarc("", |_| None).is_err());
        let err = validate_condarc("channels: [a\n", |i| Some(100 + i..101 + i)).unwrap_err();
        assert!(err.message.contains("not valid YAML"), "{}", err.message);
        assert!(err.span.unwrap().start >= 100);
    }
}
