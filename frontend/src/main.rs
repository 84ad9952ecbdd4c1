//! `envd-frontend`: the process BuildKit starts for `# syntax=aiges/envd-frontend`.

// It bounds the memory of build.envd's evaluation (`llb_gen::bounded`).
#[global_allocator]
static ALLOCATOR: llb_gen::allocator::EvaluationAllocator = llb_gen::allocator::EvaluationAllocator;

fn main() {
    // One thread drives the gRPC I/O (non-blocking pipes); the compiler runs
    // on one blocking thread and waits on bridge calls from there.
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // The compiler's Starlark parser recurses per level of an
        // expression; llb-gen bounds the levels (lang::nesting) for a 2 MiB
        // stack, and this leaves a margin (address space, not memory).
        .thread_stack_size(8 << 20)
        .build()
    {
        Ok(runtime) => {
            let code = runtime.block_on(envd_frontend::run());
            // Exit at once, with the runtime still up: nothing is left to
            // do after Return, and dropping the runtime would wait for its
            // blocking threads, one of which could be waiting on something
            // an evaluation stopped by its bounds holds for good (its
            // thread is left behind).
            std::process::exit(code)
        }
        Err(e) => {
            eprintln!("envd-frontend: cannot start the runtime: {e}");
            std::process::exit(1)
        }
    }
}
