//! Conda environment files (YAML) on their own.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    llb_gen::fuzzing::conda_environment_file(&String::from_utf8_lossy(data));
});
