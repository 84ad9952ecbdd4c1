//! A typed wrapper over BuildKit's `LLBBridge` client: the calls this
//! frontend makes, with the caps the daemon reported at `Ping`, and a
//! deadline on the calls that only look things up.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use envd_proto::gateway::llb_bridge_client::LlbBridgeClient;
use envd_proto::gateway::{self, result};
use envd_proto::{caps, pb, rpc};
use tonic::transport::Channel;

use crate::options::CacheImport;
use crate::stdio::MAX_MESSAGE_BYTES;

pub struct Bridge {
    client: LlbBridgeClient<Channel>,
    llb_caps: BTreeSet<String>,
    gateway_caps: BTreeSet<String>,
    lookup_timeout: Duration,
}

/// Whether a path in a solved ref is a file or a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathKind {
    File,
    Dir,
}

/// A warning as `Warn` carries it: the message, lines of detail, a link
/// to its documentation, and the file with the ranges to show.
pub struct Warning {
    pub message: String,
    pub detail: Vec<String>,
    pub url: String,
    pub info: Option<pb::SourceInfo>,
    pub ranges: Vec<pb::Range>,
}

impl Bridge {
    /// Pings the daemon and records its caps.
    pub async fn connect(
        channel: Channel,
        lookup_timeout: Duration,
    ) -> Result<Bridge, tonic::Status> {
        let mut client = LlbBridgeClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let pong = within(lookup_timeout, "ping", client.ping(gateway::PingRequest {}))
            .await?
            .into_inner();
        let enabled = |caps: Vec<envd_proto::apicaps::ApiCap>| {
            caps.into_iter()
                .filter(|c| c.enabled)
                .map(|c| c.id)
                .collect()
        };
        Ok(Bridge {
            client,
            llb_caps: enabled(pong.llb_caps),
            gateway_caps: enabled(pong.frontend_api_caps),
            lookup_timeout,
        })
    }

    pub fn has_llb_cap(&self, cap: &str) -> bool {
        self.llb_caps.contains(cap)
    }

    pub fn has_gateway_cap(&self, cap: &str) -> bool {
        self.gateway_caps.contains(cap)
    }

    /// Fails, naming the cap and the releases that have it, when the
    /// daemon lacks gateway call `cap`: the daemon's own answer would be
    /// a bare `Unimplemented`.
    fn require_gateway_cap(&self, cap: &str, call: &str) -> Result<(), tonic::Status> {
        if self.has_gateway_cap(cap) {
            return Ok(());
        }
        Err(tonic::Status::failed_precondition(format!(
            "this daemon lacks BuildKit's {call} call, cap {}; upgrade Docker or BuildKit",
            caps::describe(cap)
        )))
    }

    /// Whether layers can be merged onto images (merge and diff ops). Docker
    /// 23.0.0 and 23.0.1 advertise them on the graph-driver image store,
    /// where they do not work (23.0.2 stopped advertising them); requiring
    /// BuildKit 0.11's Evaluate too leaves those releases out.
    pub fn merges_layers(&self) -> bool {
        self.has_llb_cap(caps::llb::MERGE_OP)
            && self.has_llb_cap(caps::llb::DIFF_OP)
            && self.has_gateway_cap(caps::gateway::GATEWAY_EVALUATE)
    }

    /// LLB caps a definition needs that the daemon lacks (the terminal op's
    /// metadata lists every cap the graph uses).
    pub fn missing_llb_caps(&self, def: &pb::Definition) -> Vec<String> {
        def.metadata
            .values()
            .flat_map(|md| md.caps.keys())
            .filter(|cap| !self.llb_caps.contains(*cap))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// Definitions the client passed as frontend inputs, by name.
    pub async fn inputs(&self) -> Result<HashMap<String, pb::Definition>, tonic::Status> {
        if !self.has_gateway_cap(caps::gateway::FRONTEND_INPUTS) {
            return Ok(HashMap::new());
        }
        let mut client = self.client.clone();
        let inputs = client.inputs(gateway::InputsRequest {});
        Ok(self
            .lookup("reading frontend inputs", inputs)
            .await?
            .into_inner()
            .definitions)
    }

    /// Solves a definition and returns the ref id.
    pub async fn solve(
        &self,
        def: pb::Definition,
        cache_imports: &[CacheImport],
    ) -> Result<String, tonic::Status> {
        let request = gateway::SolveRequest {
            definition: Some(def),
            allow_result_return: true,
            allow_result_array_ref: true,
            cache_imports: cache_imports
                .iter()
                .map(|c| gateway::CacheOptionsEntry {
                    r#type: c.kind.clone(),
                    attrs: c.attrs.clone().into_iter().collect(),
                })
                .collect(),
            ..Default::default()
        };
        let response = self.client.clone().solve(request).await?.into_inner();
        match response.result.and_then(|r| r.result) {
            Some(result::Result::Ref(r)) => Ok(r.id),
            Some(result::Result::RefDeprecated(id)) => Ok(id),
            _ if !response.r#ref.is_empty() => Ok(response.r#ref),
            _ => Err(tonic::Status::internal("solve returned no ref")),
        }
    }

    /// Solves a definition now (not when the result is exported).
    pub async fn evaluate(&self, def: pb::Definition) -> Result<(), tonic::Status> {
        let request = gateway::SolveRequest {
            definition: Some(def),
            evaluate: true,
            ..Default::default()
        };
        self.client.clone().solve(request).await.map(|_| ())
    }

    /// The file's first `max_bytes` bytes, or `None` when it does not
    /// exist. Callers ask for one byte more than they accept, to tell a
    /// file that is too long without transferring all of it.
    pub async fn read_file(
        &self,
        reference: &str,
        path: &str,
        max_bytes: usize,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        self.require_gateway_cap(caps::gateway::READ_FILE, "ReadFile")?;
        let request = gateway::ReadFileRequest {
            r#ref: reference.to_string(),
            file_path: path.to_string(),
            range: Some(gateway::FileRange {
                offset: 0,
                length: i64::try_from(max_bytes).unwrap_or(i64::MAX),
            }),
            ..Default::default()
        };
        let mut client = self.client.clone();
        match self.lookup("ReadFile", client.read_file(request)).await {
            Ok(response) => Ok(Some(response.into_inner().data)),
            Err(status) if is_not_found(&status) => Ok(None),
            Err(status) => Err(status),
        }
    }

    /// The entries of a folder in a solved ref: (name, kind).
    pub async fn read_dir(
        &self,
        reference: &str,
        path: &str,
    ) -> Result<Vec<(String, PathKind)>, tonic::Status> {
        self.require_gateway_cap(caps::gateway::READ_DIR, "ReadDir")?;
        let request = gateway::ReadDirRequest {
            r#ref: reference.to_string(),
            dir_path: path.to_string(),
            ..Default::default()
        };
        let mut client = self.client.clone();
        let response = self.lookup("ReadDir", client.read_dir(request)).await?;
        Ok(response
            .into_inner()
            .entries
            .into_iter()
            .map(|stat| (stat.path, kind_of_mode(stat.mode)))
            .collect())
    }

    /// What is at `path` in a solved ref, and its size in bytes; `None`
    /// when nothing is.
    pub async fn stat(
        &self,
        reference: &str,
        path: &str,
    ) -> Result<Option<(PathKind, u64)>, tonic::Status> {
        self.require_gateway_cap(caps::gateway::STAT_FILE, "StatFile")?;
        let request = gateway::StatFileRequest {
            r#ref: reference.to_string(),
            path: path.to_string(),
            ..Default::default()
        };
        let mut client = self.client.clone();
        match self.lookup("StatFile", client.stat_file(request)).await {
            Ok(response) => {
                let stat = response.into_inner().stat;
                let mode = stat.as_ref().map_or(0, |s| s.mode);
                // A size the daemon did not give counts as large.
                let size = stat
                    .and_then(|s| u64::try_from(s.size).ok())
                    .unwrap_or(u64::MAX);
                Ok(Some((kind_of_mode(mode), size)))
            }
            Err(status) if is_not_found(&status) => Ok(None),
            Err(status) => Err(status),
        }
    }

    /// The image's digest and config JSON for a platform.
    pub async fn resolve_image_config(
        &self,
        reference: &str,
        platform: &pb::Platform,
        resolve_mode: &str,
        session_id: Option<&str>,
    ) -> Result<(String, Vec<u8>), tonic::Status> {
        let request = gateway::ResolveImageConfigRequest {
            r#ref: reference.to_string(),
            platform: Some(platform.clone()),
            resolve_mode: resolve_mode.to_string(),
            log_name: format!("[envd-frontend] resolve image config for {reference}"),
            session_id: session_id.unwrap_or_default().to_string(),
            ..Default::default()
        };
        let mut client = self.client.clone();
        let response = self
            .lookup("ResolveImageConfig", client.resolve_image_config(request))
            .await?
            .into_inner();
        Ok((response.digest, response.config))
    }

    /// Shows a warning in the client's output, where the daemon supports it.
    /// Sends a warning to clients that show them (`Warn`, BuildKit 0.10);
    /// without the cap it goes to the frontend's log only (progress steps
    /// show warnings to every client, see `progress`).
    pub async fn warn(&self, warning: Warning) {
        let Warning {
            message,
            detail,
            url,
            info,
            ranges,
        } = warning;
        if !self.has_gateway_cap(caps::gateway::GATEWAY_WARNINGS) {
            eprintln!("envd-frontend: warning: {message}");
            return;
        }
        let request = gateway::WarnRequest {
            level: 1,
            short: message.as_bytes().to_vec(),
            detail: detail.into_iter().map(String::into_bytes).collect(),
            url,
            info,
            ranges,
            ..Default::default()
        };
        if let Err(e) = self.client.clone().warn(request).await {
            eprintln!("envd-frontend: warning not delivered ({e}): {message}");
        }
    }

    pub async fn return_result(&self, result: gateway::Result) -> Result<(), tonic::Status> {
        let request = gateway::ReturnRequest {
            result: Some(result),
            error: None,
        };
        self.client.clone().r#return(request).await.map(|_| ())
    }

    pub async fn return_error(&self, error: rpc::Status) -> Result<(), tonic::Status> {
        let request = gateway::ReturnRequest {
            result: None,
            error: Some(error),
        };
        self.client.clone().r#return(request).await.map(|_| ())
    }

    async fn lookup<T>(
        &self,
        call: &str,
        future: impl Future<Output = Result<T, tonic::Status>>,
    ) -> Result<T, tonic::Status> {
        within(self.lookup_timeout, call, future).await
    }
}

/// The call's answer, or `DeadlineExceeded` once `timeout` has passed.
async fn within<T>(
    timeout: Duration,
    call: &str,
    future: impl Future<Output = Result<T, tonic::Status>>,
) -> Result<T, tonic::Status> {
    tokio::time::timeout(timeout, future)
        .await
        .unwrap_or_else(|_| {
            Err(tonic::Status::deadline_exceeded(format!(
                "BuildKit did not answer {call} in {}",
                describe_duration(timeout)
            )))
        })
}

/// `300 s`, `0.2 s`.
pub fn describe_duration(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

/// A file or a folder, from fsutil's mode: Go's `os.FileMode` bits (ModeDir
/// is the top bit), or Unix's.
fn kind_of_mode(mode: u32) -> PathKind {
    const S_IFDIR: u32 = 0o040000;
    const GO_MODE_DIR: u32 = 1 << 31;
    if mode & (GO_MODE_DIR | S_IFDIR) != 0 {
        PathKind::Dir
    } else {
        PathKind::File
    }
}

fn is_not_found(status: &tonic::Status) -> bool {
    status.code() == tonic::Code::NotFound
        || status.message().contains("no such file or directory")
        || status.message().contains("not found")
}
