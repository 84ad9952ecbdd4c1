//! The whole compile of a build.envd whose context files (requirements,
//! environment files) and build args come with it (`llb_gen::fuzzing::Input`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use llb_gen::fuzzing::Input;

fuzz_target!(|data: &[u8]| {
    let _ = Input::parse(data).compile();
});
