//! What a builtin declares and what it is handed: its spec (name,
//! parameters as data, whether it may be called once), the arguments bound
//! to those parameters as plain values, the errors it reports, and the
//! recorder it writes a base request, a step or a warning into.

use std::fmt;
use std::ops::Range;

use crate::diagnostics::Diagnostic;
use crate::ir::{BaseRequest, CudaRequest, Span, Syntax};
use crate::lint::Rule;
use crate::validate::closest;

use super::Step;
use crate::lower::Lowering;

/// A builtin as the language, the IR, the lowering and the docs see it.
pub struct Spec {
    /// As users write it: `run`, `io.copy`.
    pub name: &'static str,
    /// What it does to the image, one line (the README table, the reference).
    pub summary: &'static str,
    pub params: Params,
    /// A setting that replaces the image's: calling it twice is an error.
    pub once: bool,
    /// The package managers its step runs or configures: the site's mirror
    /// setting for each applies to it.
    pub tools: &'static [Tool],
    /// The envd syntaxes it belongs to ([`ONLY_V0`], [`ONLY_V1`], [`BOTH`]).
    pub syntaxes: &'static [Syntax],
    /// Checks the bound arguments and records what the call asks for.
    pub record: fn(&Args, &mut dyn Recording) -> Result<(), BuiltinError>,
}

/// A builtin of envd v0 only (envd 0.x).
pub const ONLY_V0: &[Syntax] = &[Syntax::V0];
/// A builtin of envd v1 only (envd 1.x).
pub const ONLY_V1: &[Syntax] = &[Syntax::V1];
/// A builtin both syntaxes have, with the same meaning.
pub const BOTH: &[Syntax] = &[Syntax::V0, Syntax::V1];

/// What a builtin fetches whose mirror a site can set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Pip,
    Conda,
    /// envd v1's pinned releases and tool images (`ENVD_DOWNLOAD_MIRRORS`).
    Download,
}

/// The parameters a builtin takes.
#[derive(Clone, Copy, Debug)]
pub enum Params {
    Declared(&'static [Param]),
    /// Anything: builtins kept only so envd files still load.
    Any,
}

/// One parameter: its name, the other names envd accepted for it, whether
/// it may be passed by position, its type, whether a call must give it,
/// and what it means.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub positional: bool,
    pub kind: Kind,
    pub required: bool,
    pub doc: &'static str,
}

/// The types a parameter can take. `None` always means "not given".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Str,
    Bool,
    Int,
    StrList,
    StrDict,
}

impl Kind {
    /// As error messages and the reference say it.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::Bool => "True or False",
            Kind::Int => "an integer",
            Kind::StrList => "a list of strings",
            Kind::StrDict => "a dict of strings",
        }
    }

    /// The value a parameter has when it is not given.
    pub fn default_shown(self) -> &'static str {
        match self {
            Kind::Str => "None",
            Kind::Bool => "False",
            Kind::Int => "None",
            Kind::StrList => "[]",
            Kind::StrDict => "{}",
        }
    }
}

impl Param {
    pub const fn positional(name: &'static str, kind: Kind, doc: &'static str) -> Param {
        Param {
            name,
            aliases: &[],
            positional: true,
            kind,
            required: false,
            doc,
        }
    }

    pub const fn named(name: &'static str, kind: Kind, doc: &'static str) -> Param {
        Param {
            positional: false,
            ..Param::positional(name, kind, doc)
        }
    }

    pub const fn aliases(self, aliases: &'static [&'static str]) -> Param {
        Param { aliases, ..self }
    }

    pub const fn required(self) -> Param {
        Param {
            required: true,
            ..self
        }
    }

    fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }
}

impl Spec {
    /// The declared parameters (none for [`Params::Any`]).
    pub fn params(&self) -> &'static [Param] {
        match self.params {
            Params::Declared(params) => params,
            Params::Any => &[],
        }
    }

    /// The namespace (`io`) and the function name (`copy`).
    pub fn split_name(&self) -> (Option<&'static str>, &'static str) {
        match self.name.split_once('.') {
            Some((namespace, function)) => (Some(namespace), function),
            None => (None, self.name),
        }
    }

    /// Matches positional and named arguments to the parameters: each
    /// given value with the parameter it binds. Values are whatever the
    /// language holds; only names and counts are checked here.
    pub fn bind<V>(
        &'static self,
        positional: Vec<V>,
        named: Vec<(String, V)>,
    ) -> Result<Vec<(&'static Param, V)>, BuiltinError> {
        let Params::Declared(params) = self.params else {
            return Ok(vec![]);
        };
        let func = self.name;
        let positional_params: Vec<&'static Param> =
            params.iter().filter(|p| p.positional).collect();
        if positional.len() > positional_params.len() {
            let count = positional_params.len();
            return Err(BuiltinError::new(format!(
                "{func}() takes {count} positional argument{}, {} given",
                if count == 1 { "" } else { "s" },
                positional.len()
            ))
            .help(self.signature()));
        }
        // Each value with its parameter and the name it was given by (none
        // when positional).
        let mut bound: Vec<(&'static Param, V, Option<String>)> = positional
            .into_iter()
            .zip(positional_params)
            .map(|(value, param)| (param, value, None))
            .collect();
        for (name, value) in named {
            let Some(param) = params.iter().find(|p| p.answers_to(&name)) else {
                let known = params
                    .iter()
                    .flat_map(|p| std::iter::once(p.name).chain(p.aliases.iter().copied()));
                let err = BuiltinError::new(format!("{func}() has no parameter `{name}`"));
                return Err(match closest(&name, known) {
                    Some(close) => {
                        err.help(format!("did you mean `{close}`? {}", self.signature()))
                    }
                    None => err.help(self.signature()),
                });
            };
            if let Some((_, _, first)) = bound.iter().find(|(p, _, _)| p.name == param.name) {
                let first = match first {
                    Some(name) => format!("as `{name}`"),
                    None => "positionally".to_string(),
                };
                return Err(BuiltinError::new(format!(
                    "{func}(): `{}` is given twice ({first} and as `{name}`)",
                    param.name
                )));
            }
            bound.push((param, value, Some(name)));
        }
        Ok(bound.into_iter().map(|(p, v, _)| (p, v)).collect())
    }

    /// The names among `given` that are aliases, each with the parameter's
    /// name.
    pub fn aliases_given<'a>(
        &self,
        given: impl Iterator<Item = &'a str>,
    ) -> Vec<(String, &'static str)> {
        given
            .filter_map(|name| {
                let param = self.params().iter().find(|p| p.aliases.contains(&name))?;
                Some((name.to_string(), param.name))
            })
            .collect()
    }

    /// `func(a, b)`: the parameters by their names, without aliases.
    pub fn signature_plain(&self) -> String {
        let names: Vec<&str> = self.params().iter().map(|p| p.name).collect();
        format!("{}({})", self.name, names.join(", "))
    }

    /// `func(a, b=..., c=...)` with aliases, for help messages.
    pub fn signature(&self) -> String {
        let list: Vec<String> = self
            .params()
            .iter()
            .map(|p| {
                if p.aliases.is_empty() {
                    p.name.to_string()
                } else {
                    format!("{} (or {})", p.name, p.aliases.join(", "))
                }
            })
            .collect();
        format!("parameters: {}({})", self.name, list.join(", "))
    }
}

/// A bound argument as plain data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgValue {
    Str(String),
    Bool(bool),
    Int(i64),
    StrList(Vec<String>),
    StrDict(Vec<(String, String)>),
}

/// The arguments of one call, bound to the builtin's parameters. Getters
/// name declared parameters; a parameter not given has its kind's default.
pub struct Args {
    spec: &'static Spec,
    values: Vec<(&'static str, ArgValue)>,
}

impl Args {
    /// The builtin called (an alias's own spec, when it was the alias).
    pub fn spec(&self) -> &'static Spec {
        self.spec
    }

    /// The given values; fails when a required parameter is missing.
    pub fn new(
        spec: &'static Spec,
        values: Vec<(&'static Param, ArgValue)>,
    ) -> Result<Args, BuiltinError> {
        if let Some(missing) = spec
            .params()
            .iter()
            .find(|p| p.required && !values.iter().any(|(given, _)| given.name == p.name))
        {
            return Err(BuiltinError::new(format!(
                "{}(): missing argument `{}`",
                spec.name, missing.name
            )));
        }
        Ok(Args {
            spec,
            values: values.into_iter().map(|(p, v)| (p.name, v)).collect(),
        })
    }

    /// The value of a parameter the spec declares with this kind; asking
    /// for another is a bug in the builtin, caught by its fixtures.
    fn get(&self, name: &str, kind: Kind) -> Option<&ArgValue> {
        debug_assert!(
            self.spec
                .params()
                .iter()
                .any(|p| p.name == name && p.kind == kind),
            "{} asks for `{name}` as {kind:?}, which it does not declare",
            self.spec.name
        );
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn str(&self, name: &str) -> Option<String> {
        match self.get(name, Kind::Str) {
            Some(ArgValue::Str(s)) => Some(s.clone()),
            _ => None,
        }
    }

    /// A string the spec marks required; the error only shows a spec that
    /// forgot to.
    pub fn required_str(&self, name: &str) -> Result<String, BuiltinError> {
        self.str(name).ok_or_else(|| {
            BuiltinError::new(format!("{}(): missing argument `{name}`", self.spec.name))
        })
    }

    pub fn bool(&self, name: &str) -> bool {
        matches!(self.get(name, Kind::Bool), Some(ArgValue::Bool(true)))
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name, Kind::Int) {
            Some(ArgValue::Int(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn str_list(&self, name: &str) -> Vec<String> {
        match self.get(name, Kind::StrList) {
            Some(ArgValue::StrList(items)) => items.clone(),
            _ => vec![],
        }
    }

    pub fn str_dict(&self, name: &str) -> Vec<(String, String)> {
        match self.get(name, Kind::StrDict) {
            Some(ArgValue::StrDict(items)) => items.clone(),
            _ => vec![],
        }
    }
}

/// An error a builtin reports about its call. Located at the call unless
/// `span` points somewhere more precise (e.g. inside a string argument).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinError {
    pub message: String,
    pub help: Option<String>,
    pub span: Option<Range<usize>>,
}

impl BuiltinError {
    pub fn new(message: impl Into<String>) -> BuiltinError {
        BuiltinError {
            message: message.into(),
            help: None,
            span: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> BuiltinError {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for BuiltinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BuiltinError {}

/// Where a builtin writes what its call asks for; the language implements
/// it and locates each record at the call.
pub trait Recording {
    fn base(&mut self, base: BaseRequest);
    /// `install.cuda()`: the CUDA variant of the base.
    fn cuda(&mut self, cuda: CudaRequest);
    /// Fails past the bound on steps in one build.
    fn step(&mut self, step: Step) -> Result<(), BuiltinError>;
    /// A finding of lint rule `rule` at the call.
    fn warn(&mut self, rule: &'static Rule, message: String, help: &str) {
        self.warn_at(rule, None, message, help);
    }
    /// A finding of lint rule `rule` at `at` in build.envd (from
    /// [`Recording::locate_in_argument`]), or at the call when `None`.
    fn warn_at(
        &mut self,
        rule: &'static Rule,
        at: Option<Range<usize>>,
        message: String,
        help: &str,
    );
    /// Where byte `index` of the string argument `literal` is in build.envd,
    /// when the text appears verbatim in the call.
    fn locate_in_argument(&self, literal: &str, index: usize) -> Option<Range<usize>>;
}

/// How a step becomes LLB and image config.
pub trait Lower {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic>;
    /// Context paths the step reads, so lookups can start early (required:
    /// a step that forgot would read them one by one, later).
    fn context_paths(&self) -> Vec<&str>;
    /// The builtin that recorded the step, when its file holds several (an
    /// alias, a twin); `None` means the file's `SPEC` ([`super::Step::spec`]).
    fn builtin(&self) -> Option<&'static Spec> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(_: &Args, _: &mut dyn Recording) -> Result<(), BuiltinError> {
        Ok(())
    }

    static COPY: Spec = Spec {
        name: "io.copy",
        summary: "",
        params: Params::Declared(&[
            Param::positional("src", Kind::Str, "").aliases(&["host_path"]),
            Param::positional("dest", Kind::Str, "").required(),
        ]),
        once: false,
        tools: &[],
        syntaxes: ONLY_V0,
        record,
    };

    fn names(bound: Vec<(&'static Param, i32)>) -> Vec<(&'static str, i32)> {
        bound.into_iter().map(|(p, v)| (p.name, v)).collect()
    }

    #[test]
    fn binds_positions_names_and_aliases() {
        let bound = COPY.bind(vec![1], vec![("dest".to_string(), 2)]).unwrap();
        assert_eq!(names(bound), [("src", 1), ("dest", 2)]);
        let bound = COPY
            .bind(vec![], vec![("host_path".to_string(), 3)])
            .unwrap();
        assert_eq!(names(bound), [("src", 3)]);
    }

    #[test]
    fn binding_errors_name_the_parameter() {
        let err = COPY.bind(vec![1, 2, 3], vec![]).unwrap_err();
        assert_eq!(
            err.message,
            "io.copy() takes 2 positional arguments, 3 given"
        );
        let err = COPY
            .bind(vec![1], vec![("host_path".to_string(), 2)])
            .unwrap_err();
        assert_eq!(
            err.message,
            "io.copy(): `src` is given twice (positionally and as `host_path`)"
        );
        let err = COPY
            .bind(vec![], vec![("dset".to_string(), 1)])
            .unwrap_err();
        assert_eq!(err.message, "io.copy() has no parameter `dset`");
        assert_eq!(
            err.help.as_deref(),
            Some("did you mean `dest`? parameters: io.copy(src (or host_path), dest)")
        );
        let missing = Args::new(&COPY, vec![]).err().unwrap();
        assert_eq!(missing.message, "io.copy(): missing argument `dest`");
    }
}
