//! Property: the same build.envd and context give the same definition
//! bytes, whatever the process (each has its own hash seeds) and however
//! often it is compiled. Build files are generated from a fixed seed, each
//! a random sequence of builtin calls over a random context.

// Test helpers panic on failures; that is how they report them.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;
use std::process::Command;

use envd_proto::prost::Message;
use llb_gen::disk::DiskContext;
use llb_gen::llb::Platform;
use llb_gen::lower::{BaseResolver, ImageConfig, ResolvedBase};
use llb_gen::{CompileOptions, compile};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// As `llb-gen` resolves bases: an empty config, no digest.
struct Offline;

impl BaseResolver for Offline {
    fn resolve(&self, _reference: &str, platform: &Platform) -> Result<ResolvedBase, String> {
        Ok(ResolvedBase {
            digest: None,
            config: ImageConfig::empty(platform),
        })
    }
}

/// Writes a random context into `dir` and returns a build file using it.
fn generate(rng: &mut Rng, dir: &Path) -> String {
    let packages = ["numpy", "six==1.16.0", "torch>=1.10", "requests[socks]"];
    let apt = ["curl", "procps", "libgl1-mesa-glx"];
    fs::create_dir_all(dir.join("service/conf")).unwrap();
    fs::write(dir.join("service/app.py"), "print('hi')\n").unwrap();
    fs::write(dir.join("service/conf/app.ini"), "[app]\n").unwrap();
    fs::write(dir.join("requirements.txt"), "six\n-r extra.txt\n").unwrap();
    fs::write(dir.join("extra.txt"), "numpy==1.21\n").unwrap();
    fs::write(
        dir.join("env.yaml"),
        "name: x\nchannels:\n  - defaults\ndependencies:\n  - numpy=1.21\n  - pip:\n    - six\n",
    )
    .unwrap();
    let mut calls = vec![format!(
        "base(os=\"{}\", language=\"{}\")",
        rng.pick(&["aiges_cpu", "aiges_gpu", "ubuntu22.04"]),
        rng.pick(&["python3", "python3.8", "python"])
    )];
    let mut settings = vec![
        "config.pip_index(url=\"http://127.0.0.1:8000/simple\", trust=True)".to_string(),
        "config.conda_channel(channel=\"channels:\\n  - defaults\\n\")".to_string(),
        "config.apt_source(source=\"deb http://deb.debian.org/debian bookworm main\\n\")"
            .to_string(),
        "config.entrypoint([\"python\", \"/srv/service/app.py\"])".to_string(),
    ];
    for _ in 0..rng.below(12) + 1 {
        let call = match rng.below(9) {
            0 => format!(
                "install.python_packages(name=[\"{}\"])",
                rng.pick(&packages)
            ),
            1 => "install.python_packages(requirements=\"requirements.txt\")".to_string(),
            2 => format!(
                "install.conda_packages(name=[\"{}\"])",
                rng.pick(&["numpy", "pytorch"])
            ),
            3 => "install.conda_packages(env_file=\"env.yaml\")".to_string(),
            4 => format!("install.system_packages(name=[\"{}\"])", rng.pick(&apt)),
            5 => format!(
                "io.copy(src=\"{}\", dest=\"{}\")",
                rng.pick(&["./service", "./", "service/conf/app.ini"]),
                rng.pick(&["/srv", "/home/aiges/", "/etc/app.ini"])
            ),
            6 => format!("run(commands=[\"echo {}\"])", rng.next() % 1000),
            7 => format!(
                "runtime.environ(env={{\"B\": \"{}\", \"A\": \"1\"}}, extra_path=[\"/opt/bin\"])",
                rng.next() % 10
            ),
            _ if !settings.is_empty() => settings.remove(rng.below(settings.len())),
            _ => "run(commands=[\"true\"])".to_string(),
        };
        calls.push(call);
    }
    let mut text = String::from("def build():\n");
    for call in calls {
        text.push_str(&format!("    {call}\n"));
    }
    text
}

fn compile_in_process(text: &str, dir: &Path) -> Vec<u8> {
    let options = CompileOptions::default();
    let files = DiskContext::new(dir).unwrap();
    compile(text, &options, &files, &Offline)
        .unwrap_or_else(|d| panic!("{text}\n{}", d.render()))
        .definition
        .encode_to_vec()
}

fn compile_in_a_process(dir: &Path) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_llb-gen"))
        .args(["--platform", "linux/amd64", "--format", "pb"])
        .arg(dir.join("build.envd"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn the_same_inputs_give_the_same_bytes_in_every_process() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let root = std::env::temp_dir().join(format!("llb-gen-determinism-{}", std::process::id()));
    for case in 0..24 {
        let dir = root.join(case.to_string());
        let text = generate(&mut rng, &dir);
        fs::write(dir.join("build.envd"), &text).unwrap();
        let first = compile_in_process(&text, &dir);
        assert_eq!(first, compile_in_process(&text, &dir), "{text}");
        if case % 4 == 0 {
            // Other processes have other hash seeds.
            assert_eq!(first, compile_in_a_process(&dir), "{text}");
            assert_eq!(first, compile_in_a_process(&dir), "{text}");
        }
    }
    let _ = fs::remove_dir_all(&root);
}
