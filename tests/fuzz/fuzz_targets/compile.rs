//! The whole compile of a build.envd whose context files (requirements,
//! environment files) and build args come with it (`llb_gen::fuzzing::Input`),
//! the answers to `--call targets` and `--call check` for it, and its
//! export as a Dockerfile.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llb_gen::fuzzing::Input;

fuzz_target!(|data: &[u8]| {
    let input = Input::parse(data);
    let compiled = input.compile();
    let _ = llb_gen::subrequests::targets("build.envd", &input.build_envd);
    let _ = llb_gen::subrequests::lint(compiled.as_ref().map(|c| c.warnings.as_slice()));
    if compiled.is_ok() {
        let _ = input.export();
    }
});
