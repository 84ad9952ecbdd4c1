//! `install.python_packages(name, requirements, local_wheels)`: one
//! `pip install` with the pip cache. Requirements files and wheels are
//! mounted from the context, narrowed to the files they name.

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, Param, Params, Recording, Spec, context_path,
    nothing_to_install, package_names,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::llb::BindMount;
use crate::lower::{CONTEXT_MOUNT, FileKind, Lowering, requirements, shell};

pub static SPEC: Spec = Spec {
    name: "install.python_packages",
    summary: "one `pip install` with the pip cache",
    params: Params::Declared(&[
        Param::positional("name", Kind::StrList, "requirement specifiers (`torch==1.10`)"),
        Param::named(
            "requirements",
            Kind::Str,
            "a requirements file in the context; nested `-r`/`-c` files are read too",
        ),
        Param::named("local_wheels", Kind::StrList, "`.whl` files in the context"),
    ]),
    once: false,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PythonPackages {
    pub names: Vec<String>,
    pub requirements: Option<String>,
    pub local_wheels: Vec<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let names = package_names(&SPEC, "name", args.str_list("name"), |spec| {
        crate::pep508::check(spec).is_ok()
    })?;
    let requirements = args
        .str("requirements")
        .map(|p| context_path(&SPEC, "requirements", &p))
        .transpose()?;
    let local_wheels = args
        .str_list("local_wheels")
        .iter()
        .map(|p| {
            let path = context_path(&SPEC, "local_wheels", p)?;
            if path.ends_with(".whl") {
                Ok(path)
            } else {
                Err(BuiltinError::new(format!(
                    "{}(): local wheel {p:?} is not a .whl file",
                    SPEC.name
                )))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if names.is_empty() && requirements.is_none() && local_wheels.is_empty() {
        return Err(nothing_to_install(
            &SPEC,
            "name=[...], requirements=\"...\" or local_wheels=[...]",
        ));
    }
    recording.step(
        PythonPackages {
            names,
            requirements,
            local_wheels,
        }
        .into(),
    )?;
    Ok(())
}

impl Lower for PythonPackages {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let mut args: Vec<String> = self.names.clone();
        let mut context_paths: Vec<String> = vec![];
        let mut title: Vec<String> = self.names.clone();
        if let Some(path) = &self.requirements {
            context_paths.extend(requirements::collect(
                lowering.files,
                lowering.source,
                span.range(),
                path,
            )?);
            args.extend(["-r".to_string(), format!("{CONTEXT_MOUNT}/{path}")]);
            title.push(format!("-r {path}"));
        }
        for wheel in &self.local_wheels {
            if lowering.require_kind(span, "local wheel", wheel)? != FileKind::File {
                return Err(Diagnostic::error(
                    lowering.source,
                    Some(span.range()),
                    format!("local wheel {wheel:?} is a directory"),
                ));
            }
            context_paths.push(wheel.clone());
            args.push(format!("{CONTEXT_MOUNT}/{wheel}"));
            title.push(wheel.clone());
        }
        let name = format!("{} {}", SPEC.name, title.join(", "));
        let mut mounts = vec![lowering.pip_cache()];
        if !context_paths.is_empty() {
            let context = lowering.context(span, &name, &context_paths)?;
            mounts.push(BindMount::new(CONTEXT_MOUNT, &context).into());
        }
        let script = format!(
            "set -eu\n{}\n\"$py\" -m pip install {}\n",
            lowering.find_python(span, SPEC.name),
            shell::join(&args)
        );
        lowering.exec_step(span, &name, script, mounts)
    }

    fn context_paths(&self) -> Vec<&str> {
        self.requirements
            .iter()
            .chain(&self.local_wheels)
            .map(String::as_str)
            .collect()
    }
}
