//! `runtime.expose(envd_port, host_port, service, listen_addr)`: the port
//! the service listens on, as the image's `ExposedPorts`. Where envd
//! published it on the host is for whoever runs the image.

use serde::Serialize;

use crate::builtins::{Args, BOTH, BuiltinError, Kind, Lower, Param, Params, Recording, Spec};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;

pub static SPEC: Spec = Spec {
    name: "runtime.expose",
    summary: "image ExposedPorts",
    params: Params::Declared(&[
        Param::positional(
            "envd_port",
            Kind::Int,
            "the TCP port the service listens on, 1 to 65535",
        )
        .required(),
        Param::positional(
            "host_port",
            Kind::Int,
            "no effect on an image: the host port envd published it on",
        ),
        Param::positional(
            "service",
            Kind::Str,
            "no effect on an image: a name envd showed",
        ),
        Param::positional(
            "listen_addr",
            Kind::Str,
            "no effect on an image: the host address envd published it on",
        ),
    ]),
    once: false,
    tools: &[],
    syntaxes: BOTH,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expose {
    pub port: u16,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let func = SPEC.name;
    let given = args.int("envd_port").unwrap_or(0);
    let port = u16::try_from(given)
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| {
            BuiltinError::new(format!(
                "{func}(): `envd_port` {given} is not a TCP port (1 to 65535)"
            ))
        })?;
    let run_time: Vec<&str> = [
        ("host_port", args.int("host_port").is_some_and(|p| p != 0)),
        ("service", args.str("service").is_some()),
        ("listen_addr", args.str("listen_addr").is_some()),
    ]
    .into_iter()
    .filter_map(|(name, given)| given.then_some(name))
    .collect();
    if !run_time.is_empty() {
        recording.warn(
            &crate::lint::IGNORED_PARAMETER,
            format!(
                "{func}(): {} {} no effect on an image",
                run_time
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if run_time.len() == 1 { "has" } else { "have" }
            ),
            "envd used it when it ran the environment; publish the port when you run the image (docker run -p)",
        );
    }
    recording.step(Expose { port }.into())?;
    Ok(())
}

impl Lower for Expose {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let port = format!("{}/tcp", self.port);
        lowering.config.expose_port(&port);
        lowering.history(span, &format!("{} {port}", SPEC.name), true);
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}
