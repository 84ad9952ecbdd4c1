//! PEP 508 requirement specifiers on their own.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = llb_gen::pep508::check(&String::from_utf8_lossy(data));
});
