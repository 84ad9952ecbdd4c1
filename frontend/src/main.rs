//! `envd-frontend`: the process BuildKit starts for `# syntax=aiges/envd-frontend`.

#[global_allocator]
static ALLOCATOR: llb_gen::probe::ProbeAllocator = llb_gen::probe::ProbeAllocator;

fn main() {
    // Started again as the evaluation probe: evaluate and exit.
    llb_gen::probe::serve_if_asked();
    // One thread drives the gRPC I/O (non-blocking pipes); the compiler runs
    // on one blocking thread and waits on bridge calls from there.
    let code = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // The compiler's Starlark parser recurses per level of an
        // expression; llb-gen bounds the levels (lang::nesting) for a 2 MiB
        // stack, and this leaves a margin (address space, not memory).
        .thread_stack_size(8 << 20)
        .build()
    {
        Ok(runtime) => runtime.block_on(envd_frontend::run()),
        Err(e) => {
            eprintln!("envd-frontend: cannot start the runtime: {e}");
            1
        }
    };
    // Exit at once: nothing is left to do after Return.
    std::process::exit(code);
}
