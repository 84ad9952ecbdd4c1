//! The OCI image config the build returns: the base image's, with the
//! changes build.envd makes (Env, PATH, Entrypoint, Labels, history).
//! Fields this project does not touch are kept as the base had them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::llb::Platform;

/// PATH for images whose config sets none (BuildKit's default).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: ContainerConfig,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

impl ImageConfig {
    /// The config of an image with nothing set: BuildKit's default PATH.
    pub fn empty(platform: &Platform) -> ImageConfig {
        let mut config = ImageConfig::default();
        config.set_platform(platform);
        config.config.env = Some(vec![format!("PATH={DEFAULT_PATH}")]);
        config
    }

    pub fn set_platform(&mut self, platform: &Platform) {
        self.os = platform.os.clone();
        self.architecture = platform.architecture.clone();
        self.variant = platform.variant.clone();
    }

    /// The platform the config names, when it names an OS and an
    /// architecture (OCI requires both).
    pub fn platform(&self) -> Option<Platform> {
        (!self.os.is_empty() && !self.architecture.is_empty()).then(|| Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone().filter(|v| !v.is_empty()),
        })
    }

    pub fn env(&self) -> &[String] {
        self.config.env.as_deref().unwrap_or(&[])
    }

    pub fn env_value(&self, key: &str) -> Option<&str> {
        self.env()
            .iter()
            .find_map(|kv| kv.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
    }

    /// Sets a variable, replacing it in place when present (order kept).
    pub fn set_env(&mut self, key: &str, value: &str) {
        let env = self.config.env.get_or_insert_with(Vec::new);
        let entry = format!("{key}={value}");
        match env
            .iter_mut()
            .find(|kv| kv.split_once('=').is_some_and(|(k, _)| k == key))
        {
            Some(slot) => *slot = entry,
            None => env.push(entry),
        }
    }

    /// Appends directories to PATH (starting from the default when unset).
    pub fn append_path(&mut self, dirs: &[String]) {
        let mut path = self.env_value("PATH").unwrap_or(DEFAULT_PATH).to_string();
        for dir in dirs {
            if !path.split(':').any(|p| p == dir) {
                path.push(':');
                path.push_str(dir);
            }
        }
        self.set_env("PATH", &path);
    }

    /// Setting an entrypoint clears the base image's command, as Dockerfile's ENTRYPOINT does.
    pub fn set_entrypoint(&mut self, args: &[String]) {
        self.config.entrypoint = Some(args.to_vec());
        self.clear_cmd();
    }

    /// No command: an image that runs only its entrypoint.
    pub fn clear_cmd(&mut self) {
        self.config.cmd = None;
    }

    /// Adds `port` (`8080/tcp`) to ExposedPorts.
    pub fn expose_port(&mut self, port: &str) {
        let ports = self
            .config
            .other
            .entry("ExposedPorts")
            .or_insert_with(|| Value::Object(Map::new()));
        if !ports.is_object() {
            *ports = Value::Object(Map::new());
        }
        if let Value::Object(ports) = ports {
            ports.insert(port.to_string(), Value::Object(Map::new()));
        }
    }

    pub fn set_label(&mut self, key: &str, value: &str) {
        self.config
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(key.to_string(), value.to_string());
    }

    pub fn working_dir(&self) -> &str {
        match self.config.working_dir.as_deref() {
            Some(dir) if !dir.is_empty() => dir,
            _ => "/",
        }
    }

    /// The layer chain the config lists (`rootfs.diff_ids`), empty when absent.
    pub fn diff_ids(&self) -> Vec<&str> {
        self.other
            .get("rootfs")
            .and_then(|rootfs| rootfs.get("diff_ids"))
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    pub fn add_history(&mut self, created_by: String, comment: String, empty_layer: bool) {
        self.history.push(History {
            created: None,
            created_by: Some(created_by),
            comment: Some(comment),
            empty_layer,
        });
    }
}

/// Each setting of a config under one key, with its value as text:
/// `env:NAME`, `entrypoint`, `cmd`, `workdir`, `user`, `label:NAME`,
/// `expose:PORT`, and `config:FIELD` for the fields this project does not
/// set. Two configs differ in a setting when their values under its key
/// differ.
pub fn setting_keys(config: &ImageConfig) -> BTreeMap<String, String> {
    let settings = &config.config;
    let mut keys = BTreeMap::new();
    for kv in config.env() {
        let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
        keys.insert(format!("env:{key}"), value.to_string());
    }
    let json = |value: &Option<Vec<String>>| serde_json::to_string(value).unwrap_or_default();
    keys.insert("entrypoint".into(), json(&settings.entrypoint));
    keys.insert("cmd".into(), json(&settings.cmd));
    keys.insert("workdir".into(), config.working_dir().to_string());
    keys.insert("user".into(), settings.user.clone().unwrap_or_default());
    for (key, value) in settings.labels.iter().flatten() {
        keys.insert(format!("label:{key}"), value.clone());
    }
    for (field, value) in &settings.other {
        match (field.as_str(), value) {
            ("ExposedPorts", Value::Object(ports)) => {
                for port in ports.keys() {
                    keys.insert(format!("expose:{port}"), String::new());
                }
            }
            _ => {
                keys.insert(format!("config:{field}"), value.to_string());
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unknown_fields_and_edits_env_in_place() {
        let base = r#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/opt/conda/bin:/usr/bin","LANG=C.UTF-8"],"Cmd":["bash"],"ExposedPorts":{"1888/tcp":{}}},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]}}"#;
        let mut config: ImageConfig = serde_json::from_str(base).unwrap();
        config.set_env("LANG", "en_US.UTF-8");
        config.set_env("AIGES_HOME", "/home/aiges");
        config.append_path(&["/home/aiges/bin".to_string(), "/usr/bin".to_string()]);
        config.set_entrypoint(&["python".to_string()]);
        let json: Value = serde_json::to_value(&config).unwrap();
        assert_eq!(
            json["config"]["Env"],
            serde_json::json!([
                "PATH=/opt/conda/bin:/usr/bin:/home/aiges/bin",
                "LANG=en_US.UTF-8",
                "AIGES_HOME=/home/aiges"
            ])
        );
        assert_eq!(json["config"]["Entrypoint"], serde_json::json!(["python"]));
        assert!(
            json["config"].get("Cmd").is_none(),
            "entrypoint clears the base command"
        );
        assert_eq!(
            json["config"]["ExposedPorts"],
            serde_json::json!({"1888/tcp": {}})
        );
        assert_eq!(json["rootfs"]["diff_ids"][0], "sha256:aa");
        assert_eq!(config.working_dir(), "/");
    }

    #[test]
    fn setting_keys_name_each_setting_once() {
        let base = r#"{"config":{"Env":["PATH=/usr/bin","A=b=c"],"Entrypoint":["python"],"User":"aiges","Labels":{"x":"1"},"ExposedPorts":{"80/tcp":{}},"StopSignal":"SIGINT"}}"#;
        let config: ImageConfig = serde_json::from_str(base).unwrap();
        let keys = setting_keys(&config);
        let expected: BTreeMap<String, String> = [
            ("cmd", "null"),
            ("config:StopSignal", "\"SIGINT\""),
            ("entrypoint", "[\"python\"]"),
            ("env:A", "b=c"),
            ("env:PATH", "/usr/bin"),
            ("expose:80/tcp", ""),
            ("label:x", "1"),
            ("user", "aiges"),
            ("workdir", "/"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(keys, expected);
    }

    #[test]
    fn empty_config_has_default_path_and_platform() {
        let config = ImageConfig::empty(&Platform::new("linux", "arm64"));
        assert_eq!(config.env_value("PATH"), Some(DEFAULT_PATH));
        assert_eq!(
            (config.os.as_str(), config.architecture.as_str()),
            ("linux", "arm64")
        );
    }
}
