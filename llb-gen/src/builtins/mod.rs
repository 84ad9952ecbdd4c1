//! The envd builtins, one file each (`install/python_packages.rs`), with
//! its aliases and twins (envd v1's form of a call) beside it. A file
//! declares its builtin's [`Spec`] (name, parameters as data, syntaxes),
//! records what a call asks for,
//! and lowers the step it records. The registry below makes each known to
//! the language ([`ALL`], [`of_syntax`]), the IR ([`Step`]) and the
//! lowering ([`Step::lower`]). Adding a builtin is one file, one registry
//! line and one fixture.

pub mod reference;
mod spec;
pub mod stubs;

use serde::Serialize;

use crate::diagnostics::Diagnostic;
use crate::ir::{Span, Syntax};
use crate::lint;
use crate::lower::Lowering;
use crate::validate::join_relative;

pub use spec::{
    ArgValue, Args, BOTH, BuiltinError, Kind, Lower, ONLY_V0, ONLY_V1, Param, Params, Recording,
    Spec, Tool,
};

/// The registry: a folder block per namespace (`globals` holds the
/// top-level functions), a line per file, `=> Variant` for the ones that
/// record a step of their own, and `+ OTHER` for each further builtin the
/// file implements (an alias, a twin), which the file declares as a
/// `static OTHER: Spec` beside its `SPEC`.
macro_rules! registry {
    ($( $namespace:ident { $( $name:ident $( => $variant:ident )? $( + $other:ident )* ; )* } )*) => {
        $( pub mod $namespace { $( pub mod $name; )* } )*

        /// Every builtin, in the order the reference lists them.
        pub static ALL: &[&Spec] = &[
            $( $( &$namespace::$name::SPEC, $( &$namespace::$name::$other, )* )* )*
        ];

        /// One image-changing call, in source order.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum Step {
            $( $( $( $variant($namespace::$name::$variant), )? )* )*
        }

        impl Step {
            /// The builtin that recorded this step.
            pub fn spec(&self) -> &'static Spec {
                match self {
                    $( $( $( Step::$variant(step) => {
                        step.builtin().unwrap_or(&$namespace::$name::SPEC)
                    } )? )* )*
                }
            }

            pub fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
                match self {
                    $( $( $( Step::$variant(step) => step.lower(lowering, span), )? )* )*
                }
            }

            /// Context paths the step reads.
            pub fn context_paths(&self) -> Vec<&str> {
                match self {
                    $( $( $( Step::$variant(step) => step.context_paths(), )? )* )*
                }
            }
        }

        $( $( $(
            impl From<$namespace::$name::$variant> for Step {
                fn from(step: $namespace::$name::$variant) -> Step {
                    Step::$variant(step)
                }
            }
        )? )* )*
    };
}

registry! {
    globals {
        base + V1;
        run => Run + V1;
        shell;
        git_config;
    }
    install {
        python_packages => PythonPackages;
        conda_packages => CondaPackages + V1;
        system_packages => SystemPackages + APT_PACKAGES;
        r_packages => RPackages;
        julia_packages => JuliaPackages + V1;
        cuda + V1;
        vscode_extensions;
        python => Python;
        conda => Conda;
        uv => Uv;
        pixi => Pixi;
        go => Go;
        nodejs => NodeJs;
        julia => Julia;
        codex => Codex;
        rust => Rust;
        r_lang => RLang;
    }
    io {
        copy => Copy + V1;
        http => Http;
    }
    config {
        pip_index => PipIndex;
        conda_channel => CondaChannel + V1;
        apt_source => AptSource;
        entrypoint => Entrypoint;
        repo => Repo;
        package_mirror => PackageMirror + JULIA_PKG_SERVER;
        jupyter + V1;
        gpu;
        shm_size;
        rstudio_server;
        owner => Owner;
    }
    runtime {
        environ => Environ;
        expose => Expose;
        daemon;
        command;
        mount;
        init;
    }
    data {
        envd;
    }
}

/// The builtins of one syntax, in the registry's order.
pub fn of_syntax(syntax: Syntax) -> impl Iterator<Item = &'static Spec> {
    ALL.iter()
        .copied()
        .filter(move |spec| spec.syntaxes.contains(&syntax))
}

/// The syntax a file is most likely in, from its text alone, for editors
/// (the compile decides by evaluating, `lang::evaluate`): the one line 1
/// names, else v1 when the file calls a builtin only v1 has or passes
/// `dev=`, else v0.
pub fn syntax_from_text(text: &str) -> Syntax {
    if let Some(syntax) = Syntax::declared(text) {
        return syntax;
    }
    let v0_names: Vec<&str> = of_syntax(Syntax::V0).map(|spec| spec.name).collect();
    let calls_v1_only = of_syntax(Syntax::V1)
        .filter(|spec| !v0_names.contains(&spec.name))
        .any(|spec| text.contains(&format!("{}(", spec.name)));
    if calls_v1_only || text.contains("dev=True") {
        Syntax::V1
    } else {
        Syntax::V0
    }
}

/// Whether `text` is made of the characters versions and release tags
/// use (digits, letters, `.`, `-`, `_`), so it can go into a URL or a
/// command line as it is.
fn is_version_word(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// The version a v1 download builtin asks for: the release's own when
/// none is given; else one of digits, letters, `.`, `-` and `_` (it goes
/// into the release's URL), e.g. `example`.
fn release_version(
    spec: &Spec,
    args: &Args,
    release: &crate::lower::downloads::Release,
    example: &str,
) -> Result<String, BuiltinError> {
    match args.str("version").filter(|v| !v.is_empty()) {
        None => Ok(release.version.to_string()),
        Some(v) if is_version_word(&v) && !v.starts_with(['.', '-']) => Ok(v),
        Some(v) => Err(BuiltinError::new(format!(
            "{}(): `version` {v:?} is no {} version",
            spec.name, release.tool
        ))
        .help(format!("e.g. {}(version={example:?})", spec.name))),
    }
}

/// The record of builtins that only configure envd's interactive
/// environments: a warning, nothing in the image.
fn dev_only(spec: &Spec, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    recording.warn(
        &lint::NO_EFFECT_IN_IMAGE,
        format!("{}() has no effect on an image", spec.name),
        "it configures envd's interactive development environment; remove it or keep it for envd",
    );
    Ok(())
}

/// Parameters given by an alias: envd's names from before 0.2 or from its
/// v1 syntax, which envd 0.4 does not read.
pub fn warn_aliases(
    spec: &Spec,
    aliases: &[(String, &'static str)],
    recording: &mut dyn Recording,
) {
    if aliases.is_empty() {
        return;
    }
    let list = |names: Vec<String>| names.join(", ");
    recording.warn(
        &lint::DEPRECATED_ALIAS,
        format!(
            "{}(): {} {} {}, the {} envd 0.4 reads",
            spec.name,
            list(
                aliases
                    .iter()
                    .map(|(given, _)| format!("`{given}`"))
                    .collect()
            ),
            if aliases.len() == 1 {
                "is an alias of"
            } else {
                "are aliases of"
            },
            list(
                aliases
                    .iter()
                    .map(|(_, name)| format!("`{name}`"))
                    .collect()
            ),
            if aliases.len() == 1 { "name" } else { "names" },
        ),
        &format!("write {}", spec.signature_plain()),
    );
}

/// envd accepted `mode` on some config builtins and never implemented it.
fn warn_unused_mode(spec: &Spec, args: &Args, recording: &mut dyn Recording) {
    if let Some(mode) = args.str("mode") {
        recording.warn(
            &lint::IGNORED_PARAMETER,
            format!("{}(): `mode` ({mode:?}) has no effect", spec.name),
            "envd accepted `mode` but never implemented it",
        );
    }
}

/// The `name` parameter of the builtins that install Debian packages.
const DEBIAN_PACKAGES: Param = Param::positional(
    "name",
    Kind::StrList,
    "Debian package names, optionally `=version` or `/release`",
);

/// The checked `name` list of a Debian package builtin's call.
fn debian_packages(spec: &Spec, args: &Args) -> Result<Vec<String>, BuiltinError> {
    package_names(
        spec,
        "name",
        args.str_list("name"),
        crate::validate::is_debian_package,
    )
}

/// An install call with nothing to install: envd 0.4 accepted it and
/// skipped it, so it is a warning and no step. `what` is what it takes.
fn nothing_to_install(spec: &Spec, what: &str, recording: &mut dyn Recording) {
    recording.warn(
        &lint::EMPTY_INSTALL,
        format!("{}() installs nothing: envd skipped it", spec.name),
        &format!("pass {what}, or remove the call"),
    );
}

/// The names, or an error naming the first that `valid` refuses.
fn package_names(
    spec: &Spec,
    param: &str,
    names: Vec<String>,
    valid: fn(&str) -> bool,
) -> Result<Vec<String>, BuiltinError> {
    // A URL requirement (`pkg @ https://...`, a conda channel URL) goes
    // into the step's command: refused with a login in it.
    for name in &names {
        for (_, url) in crate::validate::urls_in(name) {
            let message = if spec.name.starts_with("install.conda") {
                crate::lower::conda_login_in_url(&format!("{}(): `{param}` entry", spec.name), url)
            } else {
                crate::lower::login_in_url(&format!("{}(): `{param}` entry", spec.name), url)
            };
            if let Some(message) = message {
                return Err(BuiltinError::new(message).help(crate::lower::LOGIN_HELP));
            }
        }
    }
    match names.iter().find(|n| !valid(n)) {
        Some(bad) => Err(BuiltinError::new(format!(
            "{}(): {bad:?} in `{param}` is not a package name or specifier",
            spec.name
        ))),
        None => Ok(names),
    }
}

/// An `http(s)` URL argument, or an error naming the parameter.
fn http_url(spec: &Spec, param: &str, url: &str) -> Result<String, BuiltinError> {
    // The login first: the other message quotes the URL.
    without_login(spec, &format!("`{param}`"), url)?;
    if !crate::validate::is_http_url(url) {
        return Err(BuiltinError::new(format!(
            "{}(): `{param}` {url:?} is not an http(s) URL",
            spec.name
        )));
    }
    Ok(url.to_string())
}

/// A URL a builtin takes, refused when it carries a login: the URL is
/// kept in the build's definition and the image (`crate::lower::secrets`).
fn without_login(spec: &Spec, what: &str, url: &str) -> Result<(), BuiltinError> {
    let what = format!("{}(): {what}", spec.name);
    // To conda, a token path is a login too.
    let refusal = if spec.name.contains("conda") {
        crate::lower::conda_login_in_url(&what, url)
    } else {
        crate::lower::login_in_url(&what, url)
    };
    match refusal {
        Some(message) => Err(BuiltinError::new(message).help(if spec.name == "io.http" {
            "io.http's download is BuildKit's own and takes no login: serve the file without one, or fetch it in run() with `curl --netrc-file \"$NETRC\"` and the netrc secret (--secret id=netrc,src=$HOME/.netrc)"
        } else {
            crate::lower::LOGIN_HELP
        })),
        None => Ok(()),
    }
}

/// The checked URL of a package-mirror builtin (`config.cran_mirror`): it
/// goes into a quoted string of the install command.
fn mirror_url(spec: &Spec, args: &Args) -> Result<String, BuiltinError> {
    let url = http_url(spec, "url", &args.required_str("url")?)?;
    if url.contains(['"', '\'', '\\']) {
        return Err(BuiltinError::new(format!(
            "{}(): `url` {url:?} has quotes or backslashes",
            spec.name
        )));
    }
    Ok(url)
}

/// Sets a package mirror for the installs of its kind after it.
fn lower_mirror(
    lowering: &mut Lowering<'_>,
    span: &Span,
    spec: &Spec,
    kind: &'static str,
    url: &str,
) -> Result<(), Diagnostic> {
    lowering.set_mirror(kind, url, span, spec.name)?;
    lowering.history(span, &format!("{} {url}", spec.name), true);
    Ok(())
}

/// A path inside the build context, normalized (`./a/../b` -> `b`, `./` -> `.`).
fn context_path(spec: &Spec, param: &str, path: &str) -> Result<String, BuiltinError> {
    let func = spec.name;
    let bytes = path.as_bytes();
    let is_windows_absolute =
        bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic();
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
    // Paths written on Windows use `\`; the context is a Linux tree.
    match join_relative("", &path.replace('\\', "/")) {
        Some(normalized) if normalized.is_empty() => Ok(".".to_string()),
        Some(normalized) => Ok(normalized),
        None => Err(BuiltinError::new(format!(
            "{func}(): `{param}` {path:?} is outside the build context"
        ))
        .help("only files in the build context can be used; move them into it")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_paths() {
        let p = |s: &str| context_path(&io::copy::SPEC, "src", s);
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
    fn names_are_unique_and_parameters_are_well_formed() {
        for syntax in [Syntax::V0, Syntax::V1] {
            let names: Vec<&str> = of_syntax(syntax).map(|spec| spec.name).collect();
            for (i, name) in names.iter().enumerate() {
                assert!(
                    !names[..i].contains(name),
                    "{name} is registered twice in {}",
                    syntax.name()
                );
            }
        }
        for spec in ALL {
            assert!(!spec.summary.is_empty(), "{} has no summary", spec.name);
            let params = spec.params();
            for (j, param) in params.iter().enumerate() {
                assert!(
                    !param.doc.is_empty(),
                    "{}: {} has no doc",
                    spec.name,
                    param.name
                );
                for name in std::iter::once(param.name).chain(param.aliases.iter().copied()) {
                    assert!(
                        params[..j]
                            .iter()
                            .all(|p| p.name != name && !p.aliases.contains(&name)),
                        "{}: {name} names two parameters",
                        spec.name
                    );
                }
            }
        }
    }
}
