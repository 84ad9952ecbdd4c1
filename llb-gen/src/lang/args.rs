//! Starlark values to the plain argument values builtins take, by each
//! parameter's declared kind, with errors that name the builtin and the
//! parameter.

use starlark::values::dict::DictRef;
use starlark::values::list::ListRef;
use starlark::values::tuple::TupleRef;
use starlark::values::{Value, ValueLike};

use crate::builtins::{ArgValue, BuiltinError, Kind, Param, Spec};

/// The value as the parameter's kind, or a type error.
pub fn convert(spec: &Spec, param: &Param, value: Value) -> Result<ArgValue, BuiltinError> {
    let type_error = |value: Value| {
        BuiltinError::new(format!(
            "{}(): `{}` must be {}, got {} `{}`",
            spec.name,
            param.name,
            param.kind.describe(),
            value.get_type(),
            truncate(&value.to_repr())
        ))
    };
    match param.kind {
        Kind::Str => value
            .unpack_str()
            .map(|s| ArgValue::Str(s.to_string()))
            .ok_or_else(|| type_error(value)),
        Kind::Bool => value
            .unpack_bool()
            .map(ArgValue::Bool)
            .ok_or_else(|| type_error(value)),
        // Starlark's `True` is not an integer here, though Python's is.
        Kind::Int if value.unpack_bool().is_some() => Err(type_error(value)),
        Kind::Int => value
            .unpack_i32()
            .map(|n| ArgValue::Int(n.into()))
            .ok_or_else(|| type_error(value)),
        Kind::StrList => {
            // A bare string is an error with a hint: treating it as one
            // item would hide a typo in the file.
            if let Some(s) = value.unpack_str() {
                return Err(type_error(value).help(format!("write {}=[\"{s}\"]", param.name)));
            }
            let items: Vec<Value> = if let Some(list) = ListRef::from_value(value) {
                list.content().to_vec()
            } else if let Some(tuple) = TupleRef::from_value(value) {
                tuple.content().to_vec()
            } else {
                return Err(type_error(value));
            };
            items
                .into_iter()
                .map(|item| {
                    item.unpack_str()
                        .map(str::to_string)
                        .ok_or_else(|| type_error(item))
                })
                .collect::<Result<Vec<String>, BuiltinError>>()
                .map(ArgValue::StrList)
        }
        Kind::StrDict => {
            let Some(dict) = DictRef::from_value(value) else {
                return Err(type_error(value));
            };
            dict.iter()
                .map(|(k, v)| match (k.unpack_str(), v.to_value().unpack_str()) {
                    (Some(k), Some(v)) => Ok((k.to_string(), v.to_string())),
                    (None, _) => Err(type_error(k)),
                    (_, None) => Err(type_error(v)),
                })
                .collect::<Result<Vec<(String, String)>, BuiltinError>>()
                .map(ArgValue::StrDict)
        }
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
