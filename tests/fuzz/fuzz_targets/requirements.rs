//! Requirements files on their own, with nested `-r`/`-c` files: the input
//! is `requirements.txt` followed by more files (`llb_gen::fuzzing::Input`
//! format, without the build file).
#![no_main]

use libfuzzer_sys::fuzz_target;
use llb_gen::fuzzing::{Input, requirements_file};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::parse(data);
    input
        .files
        .insert("requirements.txt", input.build_envd.into_bytes());
    requirements_file(&input.files, "requirements.txt");
});
