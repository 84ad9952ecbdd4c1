//! A builtin as a Starlark value. Calling it binds the arguments to the
//! builtin's declared parameters, turns them into plain values, and runs
//! the builtin's record function with a recorder located at the call.

// `derive(ProvidesStaticType)` expands to an `unsafe impl` starlark needs
// for values it stores; no unsafe code of ours.
#![allow(unsafe_code)]

use std::fmt;

use allocative::Allocative;
use starlark::any::ProvidesStaticType;
use starlark::eval::{Arguments, Evaluator};
use starlark::starlark_simple_value;
use starlark::values::starlark_value;
use starlark::values::{NoSerialize, StarlarkValue, Value};

use super::args::convert;
use super::recorder::Recorder;
use crate::builtins::{self, ArgValue, Args, BuiltinError, Param, Spec};

#[derive(ProvidesStaticType, NoSerialize, Allocative)]
pub struct EnvdFunction {
    #[allocative(skip)]
    spec: &'static Spec,
}

impl EnvdFunction {
    pub fn new(spec: &'static Spec) -> EnvdFunction {
        EnvdFunction { spec }
    }
}

impl fmt::Debug for EnvdFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnvdFunction({})", self.spec.name)
    }
}

impl fmt::Display for EnvdFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.spec.split_name().1)
    }
}

starlark_simple_value!(EnvdFunction);

#[starlark_value(type = "function")]
impl<'v> StarlarkValue<'v> for EnvdFunction {
    fn invoke(
        &self,
        _me: Value<'v>,
        args: &Arguments<'v, '_>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        let positional: Vec<Value<'v>> = args.positions(eval.heap())?.collect();
        let named: Vec<(String, Value<'v>)> = args
            .names_map()?
            .into_iter()
            .map(|(name, value)| (name.as_str().to_string(), value))
            .collect();
        call(self.spec, positional, named, eval).map_err(starlark::Error::new_other)?;
        Ok(Value::new_none())
    }
}

fn call<'v>(
    spec: &'static Spec,
    positional: Vec<Value<'v>>,
    named: Vec<(String, Value<'v>)>,
    eval: &Evaluator<'v, '_, '_>,
) -> Result<(), BuiltinError> {
    let aliases = spec.aliases_given(named.iter().map(|(name, _)| name.as_str()));
    let values = spec
        .bind(positional, named)?
        .into_iter()
        // An explicit `None` means "not given", as in envd.
        .filter(|(_, value)| !value.is_none())
        .map(|(param, value)| Ok((param, convert(spec, param, value)?)))
        .collect::<Result<Vec<(&'static Param, ArgValue)>, BuiltinError>>()?;
    let args = Args::new(spec, values)?;
    let mut recording = Recorder::of(eval)?.at_call(eval);
    (spec.record)(&args, &mut recording)?;
    builtins::warn_aliases(spec, &aliases, &mut recording);
    Ok(())
}
