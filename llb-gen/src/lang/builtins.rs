//! The build.envd globals: `base`, `run`, and the `install`, `io`, `config`
//! and `runtime` namespaces. Each takes any arguments and hands them to
//! [`super::calls`], which binds them with envd's names and aliases.

use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::none::NoneType;
use starlark::values::tuple::UnpackTuple;

use super::calls::{self, Kwargs};

type Args<'v> = UnpackTuple<Value<'v>>;

#[starlark_module]
pub fn top_level(builder: &mut GlobalsBuilder) {
    fn base<'v>(
        #[starlark(args)] args: Args<'v>,
        #[starlark(kwargs)] kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::base(&args.items, &kwargs, eval)
    }

    fn run<'v>(
        #[starlark(args)] args: Args<'v>,
        #[starlark(kwargs)] kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::run(&args.items, &kwargs, eval)
    }

    fn shell<'v>(
        #[starlark(args)] _args: Args<'v>,
        #[starlark(kwargs)] _kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::dev_only("shell", eval)
    }

    fn git_config<'v>(
        #[starlark(args)] _args: Args<'v>,
        #[starlark(kwargs)] _kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::dev_only("git_config", eval)
    }
}

#[starlark_module]
pub fn install(builder: &mut GlobalsBuilder) {
    fn python_packages<'v>(
        #[starlark(args)] args: Args<'v>,
        #[starlark(kwargs)] kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::python_packages(&args.items, &kwargs, eval)
    }

    fn conda_packages<'v>(
        #[starlark(args)] args: Args<'v>,
        #[starlark(kwargs)] kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::conda_packages(&args.items, &kwargs, eval)
    }

    fn system_packages<'v>(
        #[starlark(args)] args: Args<'v>,
        #[starlark(kwargs)] kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::system_packages("install.system_packages", &args.items, &kwargs, eval)
    }

    fn apt_packages<'v>(
        #[starlark(args)] args: Args<'v>,
        #[starlark(kwargs)] kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::system_packages("install.apt_packages", &args.items, &kwargs, eval)
    }

    fn vscode_extensions<'v>(
        #[starlark(args)] _args: Args<'v>,
        #[starlark(kwargs)] _kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::dev_only("install.vscode_extensions", eval)
    }
}

#[starlark_module]
pub fn io(builder: &mut GlobalsBuilder) {
    fn copy<'v>(
        #[starlark(args)] args: Args<'v>,
        #[starlark(kwargs)] kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::copy(&args.items, &kwargs, eval)
    }
}

#[starlark_module]
pub fn config(builder: &mut GlobalsBuilder) {
    fn pip_index<'v>(
        #[starlark(args)] args: Args<'v>,
        #[starlark(kwargs)] kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::pip_index(&args.items, &kwargs, eval)
    }

    fn conda_channel<'v>(
        #[starlark(args)] args: Args<'v>,
        #[starlark(kwargs)] kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::conda_channel(&args.items, &kwargs, eval)
    }

    fn apt_source<'v>(
        #[starlark(args)] args: Args<'v>,
        #[starlark(kwargs)] kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::apt_source(&args.items, &kwargs, eval)
    }

    fn entrypoint<'v>(
        #[starlark(args)] args: Args<'v>,
        #[starlark(kwargs)] kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::entrypoint(&args.items, &kwargs, eval)
    }

    fn jupyter<'v>(
        #[starlark(args)] _args: Args<'v>,
        #[starlark(kwargs)] _kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::dev_only("config.jupyter", eval)
    }

    fn gpu<'v>(
        #[starlark(args)] _args: Args<'v>,
        #[starlark(kwargs)] _kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::dev_only("config.gpu", eval)
    }
}

#[starlark_module]
pub fn runtime(builder: &mut GlobalsBuilder) {
    fn environ<'v>(
        #[starlark(args)] args: Args<'v>,
        #[starlark(kwargs)] kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::environ(&args.items, &kwargs, eval)
    }

    fn expose<'v>(
        #[starlark(args)] _args: Args<'v>,
        #[starlark(kwargs)] _kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::dev_only("runtime.expose", eval)
    }

    fn daemon<'v>(
        #[starlark(args)] _args: Args<'v>,
        #[starlark(kwargs)] _kwargs: Kwargs<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        calls::dev_only("runtime.daemon", eval)
    }
}
