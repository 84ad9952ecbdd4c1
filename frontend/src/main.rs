//! `envd-frontend`: the process BuildKit starts for `# syntax=aiges/envd-frontend`.

fn main() {
    let code = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(envd_frontend::run()),
        Err(e) => {
            eprintln!("envd-frontend: cannot start the runtime: {e}");
            1
        }
    };
    // Exit now: a pending stdin read would keep the runtime alive.
    std::process::exit(code);
}
