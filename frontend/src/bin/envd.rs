//! `envd`: the `envd build` drop-in (see `envd_frontend::envd_cli`). Runs
//! `docker buildx build` and exits with its status.

use std::process::{Command as Process, ExitCode};

use clap::Parser;
use clap::error::ErrorKind;
use envd_frontend::envd_cli::{
    Cli, Command, buildx_args, dockerfile_export, export_folder, refused_flag,
};

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    if let Some(refused) = refused_flag(&argv) {
        eprintln!("{refused}");
        return ExitCode::from(2);
    }
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            let invalid_command = e.kind() == ErrorKind::InvalidSubcommand;
            let _ = e.print();
            if invalid_command {
                eprintln!(
                    "\nThis envd builds images through envd-frontend: it answers `envd build` only (envd up, run and the others manage envd's development environments)."
                );
            }
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let Command::Build(build) = &cli.command;
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(e) => {
            eprintln!("envd build: cannot read the current folder: {e}");
            return ExitCode::from(2);
        }
    };
    let env_names: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .collect();
    let args = match buildx_args(
        build,
        cli.debug,
        &|name| std::env::var(name).ok(),
        &env_names,
        &cwd,
    ) {
        Ok(args) => args,
        Err(refused) => {
            eprintln!("{refused}");
            return ExitCode::from(2);
        }
    };
    if build.force {
        eprintln!(
            "envd build: --force: docker buildx always builds; steps whose inputs did not change come from BuildKit's cache (--no-cache runs them all)"
        );
    }
    eprintln!("envd build: docker {}", args.join(" "));
    match Process::new("docker").args(&args).status() {
        Ok(status) if status.success() => match dockerfile_export(build) {
            Ok(Some(dest)) => move_export(&dest),
            _ => ExitCode::SUCCESS,
        },
        Ok(status) => {
            // A failed export leaves no folder behind.
            if let Ok(Some(dest)) = dockerfile_export(build) {
                let _ = std::fs::remove_dir_all(export_folder(&dest));
            }
            ExitCode::from(
                status
                    .code()
                    .and_then(|c| u8::try_from(c).ok())
                    .unwrap_or(1),
            )
        }
        Err(e) => {
            eprintln!("envd build: cannot run docker: {e}");
            ExitCode::from(127)
        }
    }
}

/// Moves the exported Dockerfile from the exporter's folder to `dest`.
fn move_export(dest: &std::path::Path) -> ExitCode {
    let folder = export_folder(dest);
    if dest.is_dir() {
        eprintln!(
            "envd build: --output type=dockerfile,dest={}: that is a folder; name the file to write (the Dockerfile is in {})",
            dest.display(),
            folder.display()
        );
        return ExitCode::from(1);
    }
    let moved = std::fs::rename(folder.join("Dockerfile"), dest)
        .and_then(|()| std::fs::remove_dir_all(&folder));
    match moved {
        Ok(()) => {
            eprintln!("envd build: wrote {}", dest.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "envd build: cannot move the exported Dockerfile from {} to {}: {e}",
                folder.display(),
                dest.display()
            );
            ExitCode::from(1)
        }
    }
}
