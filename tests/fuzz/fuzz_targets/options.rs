//! The frontend's options as BuildKit passes them: each line `KEY=VALUE`
//! (build args, platforms, labels, cache imports, every `ENVD_*` setting),
//! then the settings lowering reads from the build args.
#![no_main]

use envd_frontend::options::Options;
use libfuzzer_sys::fuzz_target;
use llb_gen::lower::SiteSettings;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let raw: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Ok(options) = Options::parse(raw, Some("session".to_string())) {
        let _ = SiteSettings::from_build_args(&options.build_args);
        let _ = envd_frontend::report::requested(
            options
                .build_args
                .get(envd_frontend::options::REPORT_ARG)
                .map(String::as_str),
        );
    }
});
