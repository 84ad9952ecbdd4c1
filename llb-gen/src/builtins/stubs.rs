//! Python stubs of build.envd's names, generated from the builtin specs,
//! for editors without the language server: Pyright and Pylance read a
//! `__builtins__.pyi` at the project's root as names every file has.

use super::spec::{Kind, Param, Params, Spec};
use super::{of_syntax, reference};
use crate::ir::Syntax;

/// Where the generated stub file of envd v0 lives in this repository.
pub const STUB_PATH: &str = "docs/stubs/__builtins__.pyi";
/// And that of envd v1.
pub const STUB_PATH_V1: &str = "docs/stubs/v1/__builtins__.pyi";

/// The whole stub file of a syntax.
pub fn stub_file_of(syntax: Syntax) -> String {
    let specs: Vec<&Spec> = of_syntax(syntax).collect();
    let mut out = String::from(
        "# build.envd's names for Python editors (Pyright, Pylance): put this file in the\n\
         # folder of build.envd (or the project's root) and open build.envd as Python.\n\
         # Generated from the builtin specs of envd-frontend's llb-gen; do not edit.\n\
         from typing import Any, Dict, List, Optional\n\n\
         build_args: Dict[str, str]\n\
         \"\"\"The build's --build-arg values (read-only).\"\"\"\n\
         _build_context_dir: str\n\
         \"\"\"The build context, \".\".\"\"\"\n\n\
         def include(git: str) -> Any:\n    \"\"\"A repository of .envd files, evaluated as one module.\"\"\"\n",
    );
    let mut namespaces: Vec<&str> = vec![];
    for spec in &specs {
        if let (None, function) = spec.split_name() {
            out.push('\n');
            out.push_str(&function_stub(spec, function, ""));
        } else if let (Some(namespace), _) = spec.split_name()
            && !namespaces.contains(&namespace)
        {
            namespaces.push(namespace);
        }
    }
    for namespace in namespaces {
        let class = format!("_{}", capitalized(namespace));
        out.push_str(&format!("\nclass {class}:\n"));
        if namespace == "data" {
            out.push_str(
                "    class _Path:\n        huggingface: str\n        dgl: str\n    path: _Path\n",
            );
        }
        for spec in &specs {
            if let (Some(ns), function) = spec.split_name()
                && ns == namespace
            {
                out.push_str(&function_stub(spec, function, "    "));
            }
        }
        out.push_str(&format!("\n{namespace}: {class}\n"));
    }
    out
}

/// `def name(...) -> None:` with the docstring, at `indent`.
fn function_stub(spec: &Spec, function: &str, indent: &str) -> String {
    let mut params: Vec<String> = vec![];
    if !indent.is_empty() {
        params.push("self".to_string());
    }
    match spec.params {
        Params::Any => params.push("*args: Any, **kwargs: Any".to_string()),
        Params::Declared(declared) => {
            let (positional, named): (Vec<&Param>, Vec<&Param>) =
                declared.iter().partition(|p| p.positional);
            // Python takes no parameter without a default after one with;
            // a parameter an alias can give is not required by name.
            let mut defaulted = false;
            for p in positional {
                defaulted |= !p.required || !p.aliases.is_empty();
                params.push(if p.required && defaulted {
                    format!("{}: {} = ...", p.name, python_type(p.kind))
                } else {
                    param_stub(p.name, p)
                });
            }
            // Named-only parameters, then the aliases envd also accepted.
            let aliases: Vec<(&str, &Param)> = declared
                .iter()
                .flat_map(|p| p.aliases.iter().map(move |a| (*a, p)))
                .collect();
            if !named.is_empty() || !aliases.is_empty() {
                params.push("*".to_string());
            }
            for p in named {
                params.push(param_stub(p.name, p));
            }
            for (alias, p) in aliases {
                params.push(format!("{alias}: {} = ...", python_type(p.kind)));
            }
        }
    }
    let doc = reference::spec_section(spec)
        .trim()
        .replace('\\', "\\\\")
        .replace("\"\"\"", "\\\"\\\"\\\"");
    let body = doc
        .lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{indent}    {line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "{indent}def {function}({}) -> None:\n{indent}    \"\"\"\n{body}\n{indent}    \"\"\"\n",
        params.join(", ")
    )
}

fn param_stub(name: &str, p: &Param) -> String {
    if p.required {
        format!("{name}: {}", python_type(p.kind))
    } else {
        format!("{name}: Optional[{}] = ...", python_type(p.kind))
    }
}

fn python_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Str => "str",
        Kind::Bool => "bool",
        Kind::Int => "int",
        Kind::StrList => "List[str]",
        Kind::StrDict => "Dict[str, str]",
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_are_python_names_once_each() {
        const KEYWORDS: &[&str] = &[
            "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
            "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
            "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
            "return", "try", "while", "with", "yield",
        ];
        for spec in super::super::ALL {
            let names: Vec<&str> = spec
                .params()
                .iter()
                .flat_map(|p| std::iter::once(p.name).chain(p.aliases.iter().copied()))
                .collect();
            for name in &names {
                assert!(!KEYWORDS.contains(name), "{}: {name}", spec.name);
                assert_eq!(
                    names.iter().filter(|n| *n == name).count(),
                    1,
                    "{}: {name}",
                    spec.name
                );
            }
        }
    }

    #[test]
    fn every_builtin_has_a_stub() {
        let stubs = stub_file_of(Syntax::V0);
        assert!(stubs.contains(
            "    def copy(self, host_path: str = ..., envd_path: str = ..., *, src: str = ..., source: str = ..., dest: str = ..., target: str = ...) -> None:"
        ), "{stubs}");
        assert!(stubs.contains("\ninstall: _Install\n"));
        assert!(stubs.contains("\ndef shell(*args: Any, **kwargs: Any) -> None:"));
        for spec in of_syntax(Syntax::V0) {
            let (_, function) = spec.split_name();
            assert!(stubs.contains(&format!("def {function}(")), "{}", spec.name);
        }
        let v1 = stub_file_of(Syntax::V1);
        assert!(
            v1.contains("def base(image: Optional[str] = ..., dev: Optional[bool] = ...) -> None:"),
            "{v1}"
        );
        assert!(!v1.contains("def system_packages("), "{v1}");
    }
}
