//! The image config the build returns, as the instructions that give it:
//! `ENV`, `ENTRYPOINT`, `CMD`, `WORKDIR`, `USER`, `EXPOSE`, `LABEL`, where
//! it differs from what the final stage has, each under the line of the
//! step that set it.

use std::collections::BTreeMap;

use super::{Finding, Settings, env_pairs, syntax, user_or_root};
use crate::lower::{ImageConfig, setting_keys};

pub(super) fn instructions(
    config: &ImageConfig,
    base: &ImageConfig,
    settings: &Settings,
    lines: &BTreeMap<String, usize>,
    filename: &str,
) -> Result<Vec<String>, Finding> {
    let wanted = setting_keys(config);
    let had = setting_keys(base);
    let mut out = vec![];
    // Each instruction under the line that set its setting; an error at it.
    let mut emit = |key: &str, instruction: Result<String, String>| {
        let line = lines.get(key).copied();
        let instruction = instruction.map_err(|message| Finding::at(line, message))?;
        out.push(String::new());
        out.push(match line {
            Some(line) => format!("# {filename}:{line}"),
            None => format!("# {filename}"),
        });
        out.push(instruction);
        Ok::<(), Finding>(())
    };
    for (key, value) in env_pairs(config.env()) {
        let current = settings.env.get(&key).map(String::as_str);
        if current == Some(value.as_str()) {
            continue;
        }
        let written = syntax::key(&key).and_then(|name| {
            Ok(format!(
                "ENV {name}={}",
                syntax::env_value(&key, current, &value)?
            ))
        });
        emit(&format!("env:{key}"), written)?;
    }
    // ENTRYPOINT resets the base's CMD: CMD follows it whenever it is set.
    let entrypoint_set = wanted.get("entrypoint") != had.get("entrypoint");
    if entrypoint_set {
        let args = config.config.entrypoint.clone().unwrap_or_default();
        emit(
            "entrypoint",
            syntax::json_array(&args).map(|args| format!("ENTRYPOINT {args}")),
        )?;
    }
    if entrypoint_set || wanted.get("cmd") != had.get("cmd") {
        match &config.config.cmd {
            Some(cmd) => emit(
                "cmd",
                syntax::json_array(cmd).map(|cmd| format!("CMD {cmd}")),
            )?,
            // Dockerfile's ENTRYPOINT already cleared it.
            None if entrypoint_set => {}
            // No Dockerfile instruction gives no command: an empty one.
            None => emit("cmd", Ok("CMD []".to_string()))?,
        }
    }
    let workdir = config.working_dir();
    if workdir != settings.workdir {
        emit(
            "workdir",
            syntax::line_word(workdir).map(|dir| format!("WORKDIR {dir}")),
        )?;
    }
    let user = config.config.user.clone().unwrap_or_default();
    if user_or_root(&settings.user) != user_or_root(&user) {
        emit(
            "user",
            syntax::word("the user", user_or_root(&user)).map(|user| format!("USER {user}")),
        )?;
    }
    for (key, value) in &wanted {
        if had.get(key) == Some(value) {
            continue;
        }
        if let Some(port) = key.strip_prefix("expose:") {
            emit(
                key,
                syntax::word("the port", port).map(|port| format!("EXPOSE {port}")),
            )?;
        } else if let Some(label) = key.strip_prefix("label:") {
            let written = syntax::key(label)
                .and_then(|name| Ok(format!("LABEL {name}={}", syntax::quoted(value)?)));
            emit(key, written)?;
        } else if let Some(field) = key.strip_prefix("config:") {
            let message = format!(
                "the image config's {field} ({value}) differs from the base image's, which this export does not write"
            );
            return Err(Finding::at(lines.get(key).copied(), message));
        }
    }
    if let Some(key) = had
        .keys()
        .find(|key| !wanted.contains_key(*key) && !key.starts_with("env:"))
    {
        return Err(Finding::at(
            lines.get(key).copied(),
            format!("the build removes the base image's {key}, which a Dockerfile cannot"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> ImageConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_bases_user_is_put_back_after_steps_ran_as_root() {
        let base = config(r#"{"config":{"User":"aiges","Cmd":["bash"]}}"#);
        let mut image = base.clone();
        image.set_entrypoint(&["python".to_string(), "serve.py".to_string()]);
        let settings = Settings {
            user: "root".to_string(),
            workdir: "/".to_string(),
            ..Settings::default()
        };
        let lines = BTreeMap::from([("entrypoint".to_string(), 9)]);
        let text = instructions(&image, &base, &settings, &lines, "build.envd")
            .unwrap()
            .join("\n");
        assert_eq!(
            text,
            "\n# build.envd:9\nENTRYPOINT [\"python\",\"serve.py\"]\n\n# build.envd\nUSER aiges"
        );
    }

    #[test]
    fn a_setting_a_dockerfile_cannot_hold_is_an_error_at_its_line() {
        let base = config(r#"{"config":{}}"#);
        let mut image = base.clone();
        image.set_env("NOTE", "two\nlines");
        let lines = BTreeMap::from([("env:NOTE".to_string(), 4)]);
        let error =
            instructions(&image, &base, &Settings::default(), &lines, "build.envd").unwrap_err();
        assert_eq!(error.line, Some(4));
        assert!(error.message.contains("spans lines"), "{}", error.message);
    }
}
