//! Binding a builtin's positional and named arguments to its parameters
//! (with the aliases envd accepted), and converting Starlark values to plain
//! data with errors that name the builtin and the parameter.

use std::fmt;
use std::ops::Range;

use starlark::values::dict::DictRef;
use starlark::values::list::ListRef;
use starlark::values::tuple::TupleRef;
use starlark::values::{Value, ValueLike};
use starlark_map::small_map::SmallMap;

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

/// One parameter: its name, the other names envd accepted for it, and
/// whether it may be passed by position.
pub struct Param {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub positional: bool,
}

impl Param {
    pub const fn named(name: &'static str) -> Param {
        Param {
            name,
            aliases: &[],
            positional: false,
        }
    }

    pub const fn positional(name: &'static str) -> Param {
        Param {
            name,
            aliases: &[],
            positional: true,
        }
    }

    pub const fn aliases(self, aliases: &'static [&'static str]) -> Param {
        Param { aliases, ..self }
    }
}

/// Arguments matched to a builtin's parameters.
pub struct Bound<'v> {
    func: &'static str,
    params: &'static [Param],
    values: Vec<Option<Value<'v>>>,
}

pub fn bind<'v>(
    func: &'static str,
    params: &'static [Param],
    positional: &[Value<'v>],
    named: &SmallMap<String, Value<'v>>,
) -> Result<Bound<'v>, BuiltinError> {
    let mut values: Vec<Option<Value<'v>>> = vec![None; params.len()];
    let mut given_as: Vec<&str> = vec![""; params.len()];
    let positional_params: Vec<usize> = (0..params.len())
        .filter(|&i| params[i].positional)
        .collect();
    if positional.len() > positional_params.len() {
        return Err(BuiltinError::new(format!(
            "{func}() takes {} positional argument{}, {} given",
            positional_params.len(),
            if positional_params.len() == 1 {
                ""
            } else {
                "s"
            },
            positional.len()
        ))
        .help(signature(func, params)));
    }
    for (value, &index) in positional.iter().zip(&positional_params) {
        values[index] = Some(*value);
        given_as[index] = "positionally";
    }
    for (name, value) in named {
        let Some(index) = params
            .iter()
            .position(|p| p.name == name || p.aliases.contains(&name.as_str()))
        else {
            let mut err = BuiltinError::new(format!("{func}() has no parameter `{name}`"));
            let known = params
                .iter()
                .flat_map(|p| std::iter::once(p.name).chain(p.aliases.iter().copied()));
            err = match closest(name, known) {
                Some(close) => err.help(format!(
                    "did you mean `{close}`? {}",
                    signature(func, params)
                )),
                None => err.help(signature(func, params)),
            };
            return Err(err);
        };
        if values[index].is_some() {
            let first = given_as[index];
            let first = if first == "positionally" {
                first.to_string()
            } else {
                format!("as `{first}`")
            };
            return Err(BuiltinError::new(format!(
                "{func}(): `{}` is given twice ({first} and as `{name}`)",
                params[index].name
            )));
        }
        values[index] = Some(*value);
        given_as[index] = name;
    }
    Ok(Bound {
        func,
        params,
        values,
    })
}

/// `func(a, b=..., c=...)` with aliases, for help messages.
fn signature(func: &str, params: &[Param]) -> String {
    let list: Vec<String> = params
        .iter()
        .map(|p| {
            if p.aliases.is_empty() {
                p.name.to_string()
            } else {
                format!("{} (or {})", p.name, p.aliases.join(", "))
            }
        })
        .collect();
    format!("parameters: {func}({})", list.join(", "))
}

/// The closest known name within a small edit distance.
pub fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != b[j]))
                .min(row[j] + 1)
                .min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

impl<'v> Bound<'v> {
    fn index(&self, name: &str) -> usize {
        // Builtins only ask for names they declared; a miss is a bug here,
        // caught by the tests of every builtin.
        let index = self.params.iter().position(|p| p.name == name);
        debug_assert!(
            index.is_some(),
            "{} asks for undeclared `{name}`",
            self.func
        );
        index.unwrap_or(usize::MAX)
    }

    /// The value, treating an explicit `None` as not given.
    fn get(&self, name: &str) -> Option<Value<'v>> {
        self.values
            .get(self.index(name))
            .copied()
            .flatten()
            .filter(|v| !v.is_none())
    }

    fn type_error(&self, name: &str, expected: &str, value: Value<'v>) -> BuiltinError {
        BuiltinError::new(format!(
            "{}(): `{name}` must be {expected}, got {} `{}`",
            self.func,
            value.get_type(),
            truncate(&value.to_repr())
        ))
    }

    pub fn str(&self, name: &str) -> Result<Option<String>, BuiltinError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.unpack_str() {
                Some(s) => Ok(Some(s.to_string())),
                None => Err(self.type_error(name, "a string", v)),
            },
        }
    }

    pub fn required_str(&self, name: &str) -> Result<String, BuiltinError> {
        self.str(name)?
            .ok_or_else(|| BuiltinError::new(format!("{}(): missing argument `{name}`", self.func)))
    }

    pub fn bool(&self, name: &str) -> Result<bool, BuiltinError> {
        match self.get(name) {
            None => Ok(false),
            Some(v) => v
                .unpack_bool()
                .ok_or_else(|| self.type_error(name, "True or False", v)),
        }
    }

    /// A list or tuple of strings; a bare string is an error with a hint,
    /// since treating it as one item would hide a typo in the file.
    pub fn str_list(&self, name: &str) -> Result<Vec<String>, BuiltinError> {
        let Some(v) = self.get(name) else {
            return Ok(vec![]);
        };
        if let Some(s) = v.unpack_str() {
            return Err(self
                .type_error(name, "a list of strings", v)
                .help(format!("write {name}=[\"{s}\"]")));
        }
        let items: Vec<Value<'v>> = if let Some(list) = ListRef::from_value(v) {
            list.content().to_vec()
        } else if let Some(tuple) = TupleRef::from_value(v) {
            tuple.content().to_vec()
        } else {
            return Err(self.type_error(name, "a list of strings", v));
        };
        items
            .into_iter()
            .map(|item| {
                item.unpack_str()
                    .map(str::to_string)
                    .ok_or_else(|| self.type_error(name, "a list of strings", item))
            })
            .collect()
    }

    /// A dict of string keys and string values, in insertion order.
    pub fn str_dict(&self, name: &str) -> Result<Vec<(String, String)>, BuiltinError> {
        let Some(v) = self.get(name) else {
            return Ok(vec![]);
        };
        let Some(dict) = DictRef::from_value(v) else {
            return Err(self.type_error(name, "a dict of strings", v));
        };
        dict.iter()
            .map(
                |(k, val)| match (k.unpack_str(), val.to_value().unpack_str()) {
                    (Some(k), Some(val)) => Ok((k.to_string(), val.to_string())),
                    (None, _) => Err(self.type_error(name, "a dict of strings", k)),
                    (_, None) => Err(self.type_error(name, "a dict of strings", val)),
                },
            )
            .collect()
    }
}

fn truncate(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(MAX).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names() {
        assert_eq!(closest("nmae", ["name", "requirements"]), Some("name"));
        assert_eq!(
            closest("requirement", ["name", "requirements"]),
            Some("requirements")
        );
        assert_eq!(closest("xyz", ["name", "requirements"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
