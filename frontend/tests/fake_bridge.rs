//! The frontend against a fake `LLBBridge` (a stand-in for BuildKit, in
//! this process) that answers as BuildKit does, except for the one call a
//! test makes fail, hang, or drop the connection on. The fault tests check
//! what the client is told and that the frontend ends rather than waits;
//! the subrequest tests, the answers given without solving.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use envd_frontend::options::{LOOKUP_TIMEOUT_ARG, Options};
use envd_frontend::report::Timeline;
use envd_proto::gateway::llb_bridge_server::{LlbBridge, LlbBridgeServer};
use envd_proto::gateway::{self, result};
use envd_proto::{apicaps, caps, rpc};
use hyper_util::rt::TokioIo;
use tokio::sync::Notify;
use tonic::transport::{Channel, Endpoint, Server, Uri};
use tonic::{Request, Response, Status};

// As envd-frontend: its compile bounds evaluation on a thread, which needs
// this allocator.
#[global_allocator]
static ALLOCATOR: llb_gen::allocator::EvaluationAllocator = llb_gen::allocator::EvaluationAllocator;

const BUILD_FILE: &str =
    "def build():\n    base(os=\"ubuntu22.04\")\n    run(commands=[\"true\"])\n";

/// How a call of the fake bridge goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    Answer,
    Fail,
    NeverAnswer,
    /// The connection is closed while the call waits, as when BuildKit
    /// goes away or the client cancels the build.
    DropConnection,
}

/// A stand-in for BuildKit's gateway bridge, for fault tests only.
struct FakeBridge {
    build_file: &'static str,
    lacking: Option<&'static str>,
    read_file: Behaviour,
    resolve_image_config: Behaviour,
    /// Solves of the context narrowed for lookups.
    lookup_solve: Behaviour,
    /// Files in the context besides build.envd: path and text.
    context_files: &'static [(&'static str, &'static str)],
    /// Reads of those files.
    context_read: Behaviour,
    /// ResolveImageConfig answers only once this context file was asked
    /// for.
    resolve_after_reading: Option<&'static str>,
    /// The context files asked for, in order, announced to the waiting
    /// ResolveImageConfig.
    context_reads: Arc<(Mutex<Vec<String>>, Notify)>,
    returned: Arc<Mutex<Option<gateway::ReturnRequest>>>,
    warned: Arc<Mutex<Vec<gateway::WarnRequest>>>,
    /// Every Solve the frontend asked for, in order.
    solved: Arc<Mutex<Vec<gateway::SolveRequest>>>,
    drop_connection: Arc<Notify>,
}

impl FakeBridge {
    fn context_file(&self, path: &str) -> Option<&'static str> {
        self.context_files
            .iter()
            .find(|(file, _)| *file == path)
            .map(|(_, text)| *text)
    }

    async fn behave<T>(&self, behaviour: Behaviour, call: &str, answer: T) -> Result<T, Status> {
        match behaviour {
            Behaviour::Answer => Ok(answer),
            Behaviour::Fail => Err(Status::unavailable(format!("{call}: disk is on fire"))),
            Behaviour::NeverAnswer => std::future::pending().await,
            Behaviour::DropConnection => {
                self.drop_connection.notify_one();
                std::future::pending().await
            }
        }
    }
}

fn llb_caps() -> Vec<apicaps::ApiCap> {
    use caps::llb::*;
    [
        SOURCE_IMAGE,
        SOURCE_IMAGE_RESOLVE_MODE,
        SOURCE_LOCAL,
        SOURCE_LOCAL_UNIQUE,
        SOURCE_LOCAL_SESSION_ID,
        SOURCE_LOCAL_INCLUDE_PATTERNS,
        SOURCE_LOCAL_FOLLOW_PATHS,
        SOURCE_LOCAL_SHARED_KEY_HINT,
        SOURCE_LOCAL_DIFFER,
        SOURCE_LOCAL_EXCLUDE_PATTERNS,
        SOURCE_HTTP,
        SOURCE_HTTP_CHECKSUM,
        SOURCE_HTTP_PERM,
        SOURCE_GIT,
        SOURCE_GIT_FULL_URL,
        EXEC_META_BASE,
        EXEC_META_NETWORK,
        EXEC_MOUNT_BIND,
        EXEC_MOUNT_CACHE,
        EXEC_MOUNT_CACHE_SHARING,
        EXEC_MOUNT_SECRET,
        EXEC_MOUNT_SELECTOR,
        FILE_BASE,
        CONSTRAINTS,
        PLATFORM,
        META_IGNORE_CACHE,
        META_DESCRIPTION,
        MERGE_OP,
        DIFF_OP,
    ]
    .into_iter()
    .map(enabled)
    .collect()
}

fn enabled(id: &str) -> apicaps::ApiCap {
    apicaps::ApiCap {
        id: id.to_string(),
        enabled: true,
        ..Default::default()
    }
}

fn unimplemented<T>() -> Result<Response<T>, Status> {
    Err(Status::unimplemented("not in the fake bridge"))
}

#[tonic::async_trait]
impl LlbBridge for FakeBridge {
    async fn ping(
        &self,
        _: Request<gateway::PingRequest>,
    ) -> Result<Response<gateway::PongResponse>, Status> {
        Ok(Response::new(gateway::PongResponse {
            frontend_api_caps: [
                caps::gateway::READ_FILE,
                caps::gateway::STAT_FILE,
                caps::gateway::GATEWAY_WARNINGS,
            ]
            .into_iter()
            .map(enabled)
            .collect(),
            llb_caps: llb_caps()
                .into_iter()
                .filter(|cap| Some(cap.id.as_str()) != self.lacking)
                .collect(),
            workers: vec![],
        }))
    }

    async fn solve(
        &self,
        request: Request<gateway::SolveRequest>,
    ) -> Result<Response<gateway::SolveResponse>, Status> {
        let request = request.into_inner();
        let is_lookup = step_name(&request).starts_with(LOOKUP_PREFIX);
        self.solved.lock().expect("lock").push(request);
        if is_lookup {
            self.behave(self.lookup_solve, "solve", ()).await?;
        }
        Ok(Response::new(gateway::SolveResponse {
            result: Some(gateway::Result {
                result: Some(result::Result::Ref(gateway::Ref {
                    id: "ref-1".to_string(),
                    def: None,
                })),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    async fn read_file(
        &self,
        request: Request<gateway::ReadFileRequest>,
    ) -> Result<Response<gateway::ReadFileResponse>, Status> {
        let path = request.get_ref().file_path.clone();
        if let Some(text) = self.context_file(&path) {
            self.context_reads.0.lock().expect("lock").push(path);
            self.context_reads.1.notify_waiters();
            let answer = gateway::ReadFileResponse {
                data: text.as_bytes().to_vec(),
            };
            return self
                .behave(self.context_read, "ReadFile", answer)
                .await
                .map(Response::new);
        }
        if path != "build.envd" {
            return Err(Status::not_found("no such file or directory"));
        }
        let data = self.build_file.as_bytes().to_vec();
        let answer = gateway::ReadFileResponse { data };
        self.behave(self.read_file, "ReadFile", answer)
            .await
            .map(Response::new)
    }

    async fn resolve_image_config(
        &self,
        _: Request<gateway::ResolveImageConfigRequest>,
    ) -> Result<Response<gateway::ResolveImageConfigResponse>, Status> {
        if let Some(path) = self.resolve_after_reading {
            loop {
                let announced = self.context_reads.1.notified();
                let asked = (self.context_reads.0.lock().expect("lock"))
                    .iter()
                    .any(|p| p == path);
                if asked {
                    break;
                }
                announced.await;
            }
        }
        let config = br#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
        let answer = gateway::ResolveImageConfigResponse {
            digest: format!("sha256:{}", "1".repeat(64)),
            config: config.to_vec(),
            r#ref: String::new(),
        };
        self.behave(self.resolve_image_config, "ResolveImageConfig", answer)
            .await
            .map(Response::new)
    }

    async fn r#return(
        &self,
        request: Request<gateway::ReturnRequest>,
    ) -> Result<Response<gateway::ReturnResponse>, Status> {
        if let Ok(mut returned) = self.returned.lock() {
            *returned = Some(request.into_inner());
        }
        Ok(Response::new(gateway::ReturnResponse {}))
    }

    async fn stat_file(
        &self,
        request: Request<gateway::StatFileRequest>,
    ) -> Result<Response<gateway::StatFileResponse>, Status> {
        let text = self
            .context_file(&request.get_ref().path)
            .ok_or_else(|| Status::not_found("no such file or directory"))?;
        Ok(Response::new(gateway::StatFileResponse {
            stat: Some(envd_proto::fsutil::Stat {
                path: request.into_inner().path,
                mode: 0o100644,
                size: text.len() as i64,
                ..Default::default()
            }),
        }))
    }

    async fn warn(
        &self,
        request: Request<gateway::WarnRequest>,
    ) -> Result<Response<gateway::WarnResponse>, Status> {
        if let Ok(mut warned) = self.warned.lock() {
            warned.push(request.into_inner());
        }
        Ok(Response::new(gateway::WarnResponse {}))
    }

    async fn resolve_source_meta(
        &self,
        _: Request<gateway::ResolveSourceMetaRequest>,
    ) -> Result<Response<gateway::ResolveSourceMetaResponse>, Status> {
        unimplemented()
    }

    async fn read_dir(
        &self,
        _: Request<gateway::ReadDirRequest>,
    ) -> Result<Response<gateway::ReadDirResponse>, Status> {
        unimplemented()
    }

    async fn evaluate(
        &self,
        _: Request<gateway::EvaluateRequest>,
    ) -> Result<Response<gateway::EvaluateResponse>, Status> {
        unimplemented()
    }

    async fn inputs(
        &self,
        _: Request<gateway::InputsRequest>,
    ) -> Result<Response<gateway::InputsResponse>, Status> {
        unimplemented()
    }

    async fn new_container(
        &self,
        _: Request<gateway::NewContainerRequest>,
    ) -> Result<Response<gateway::NewContainerResponse>, Status> {
        unimplemented()
    }

    async fn release_container(
        &self,
        _: Request<gateway::ReleaseContainerRequest>,
    ) -> Result<Response<gateway::ReleaseContainerResponse>, Status> {
        unimplemented()
    }

    type ExecProcessStream =
        tonic::codegen::tokio_stream::Empty<Result<gateway::ExecMessage, Status>>;

    async fn exec_process(
        &self,
        _: Request<tonic::Streaming<gateway::ExecMessage>>,
    ) -> Result<Response<Self::ExecProcessStream>, Status> {
        unimplemented()
    }

    async fn read_file_container(
        &self,
        _: Request<gateway::ReadFileRequest>,
    ) -> Result<Response<gateway::ReadFileResponse>, Status> {
        unimplemented()
    }

    async fn read_dir_container(
        &self,
        _: Request<gateway::ReadDirRequest>,
    ) -> Result<Response<gateway::ReadDirResponse>, Status> {
        unimplemented()
    }

    async fn stat_file_container(
        &self,
        _: Request<gateway::StatFileRequest>,
    ) -> Result<Response<gateway::StatFileResponse>, Status> {
        unimplemented()
    }
}

/// What a build against the fake bridge ended with.
struct Outcome {
    exit_code: i32,
    returned: Option<gateway::ReturnRequest>,
    warned: Vec<gateway::WarnRequest>,
    solved: Vec<gateway::SolveRequest>,
    /// The context files (not build.envd) the frontend asked to read.
    context_reads: Vec<String>,
}

impl Outcome {
    fn error_message(&self) -> String {
        let error: Option<&rpc::Status> = self.returned.as_ref().and_then(|r| r.error.as_ref());
        error.map(|e| e.message.clone()).unwrap_or_default()
    }
}

/// Serves one build on an in-memory connection to a fake bridge whose
/// calls behave as given, with lookups given `lookup_timeout` seconds.
/// Fails the test if the frontend has not ended within 10 s.
async fn build_against(
    read_file: Behaviour,
    resolve_image_config: Behaviour,
    lookup_timeout: &str,
) -> Outcome {
    build_with_timeline(
        read_file,
        resolve_image_config,
        lookup_timeout,
        Timeline::none(),
    )
    .await
}

async fn build_with_timeline(
    read_file: Behaviour,
    resolve_image_config: Behaviour,
    lookup_timeout: &str,
    timeline: Timeline,
) -> Outcome {
    let arg = format!("build-arg:{LOOKUP_TIMEOUT_ARG}");
    serve(Scenario {
        read_file,
        resolve_image_config,
        options: vec![(arg, lookup_timeout.to_string())],
        timeline,
        ..Scenario::default()
    })
    .await
}

/// The answer to subrequest `request` from a healthy daemon.
async fn subrequest(request: &str) -> Outcome {
    serve(Scenario {
        options: vec![("requestid".to_string(), request.to_string())],
        ..Scenario::default()
    })
    .await
}

/// One build against the fake bridge: what the daemon has and does.
struct Scenario {
    build_file: &'static str,
    read_file: Behaviour,
    resolve_image_config: Behaviour,
    lookup_solve: Behaviour,
    context_files: &'static [(&'static str, &'static str)],
    context_read: Behaviour,
    resolve_after_reading: Option<&'static str>,
    /// An LLB cap the daemon lacks.
    lacking: Option<&'static str>,
    options: Vec<(String, String)>,
    timeline: Timeline,
}

impl Default for Scenario {
    fn default() -> Scenario {
        Scenario {
            build_file: BUILD_FILE,
            read_file: Behaviour::Answer,
            resolve_image_config: Behaviour::Answer,
            lookup_solve: Behaviour::Answer,
            context_files: &[],
            context_read: Behaviour::Answer,
            resolve_after_reading: None,
            lacking: None,
            options: vec![],
            timeline: Timeline::none(),
        }
    }
}

async fn serve(scenario: Scenario) -> Outcome {
    let Scenario {
        build_file,
        read_file,
        resolve_image_config,
        lookup_solve,
        context_files,
        context_read,
        resolve_after_reading,
        lacking,
        options,
        timeline,
    } = scenario;
    // The client's end is joined to the server's by a relay; ending the
    // relay closes the connection (the server's own tasks would keep it).
    let (client_io, mut relay_to_client) = tokio::io::duplex(1 << 20);
    let (mut relay_to_server, server_io) = tokio::io::duplex(1 << 20);
    let relay = tokio::spawn(async move {
        let _ = tokio::io::copy_bidirectional(&mut relay_to_client, &mut relay_to_server).await;
    });
    let returned = Arc::new(Mutex::new(None));
    let warned = Arc::new(Mutex::new(vec![]));
    let solved = Arc::new(Mutex::new(vec![]));
    let context_reads: Arc<(Mutex<Vec<String>>, Notify)> = Arc::default();
    let drop_connection = Arc::new(Notify::new());
    let fake = FakeBridge {
        build_file,
        lacking,
        warned: warned.clone(),
        solved: solved.clone(),
        read_file,
        resolve_image_config,
        lookup_solve,
        context_files,
        context_read,
        resolve_after_reading,
        context_reads: context_reads.clone(),
        returned: returned.clone(),
        drop_connection: drop_connection.clone(),
    };
    let server = tokio::spawn(
        Server::builder()
            .add_service(LlbBridgeServer::new(fake))
            .serve_with_incoming(tonic::codegen::tokio_stream::once(Ok::<_, std::io::Error>(
                server_io,
            ))),
    );
    let dropper = tokio::spawn(async move {
        drop_connection.notified().await;
        relay.abort();
    });

    let channel = connect(client_io).await;
    let options = Options::parse(options, None);
    let serve = envd_frontend::serve(channel, options, timeline);
    let exit_code = tokio::time::timeout(Duration::from_secs(10), serve)
        .await
        .expect("the frontend ended within 10 s");
    dropper.abort();
    server.abort();
    let returned = returned.lock().expect("lock").take();
    let warned = std::mem::take(&mut *warned.lock().expect("lock"));
    let solved = std::mem::take(&mut *solved.lock().expect("lock"));
    let context_reads = std::mem::take(&mut *context_reads.0.lock().expect("lock"));
    Outcome {
        exit_code,
        returned,
        warned,
        solved,
        context_reads,
    }
}

async fn connect(io: tokio::io::DuplexStream) -> Channel {
    let io = Arc::new(Mutex::new(Some(io)));
    Endpoint::from_static("http://fake-bridge")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let io = io.lock().expect("lock").take();
            async move {
                io.map(TokioIo::new)
                    .ok_or_else(|| std::io::Error::other("connected once already"))
            }
        }))
        .await
        .expect("connect to the fake bridge")
}

#[tokio::test]
async fn a_daemon_that_answers_gets_a_result() {
    let outcome = build_against(Behaviour::Answer, Behaviour::Answer, "60").await;
    assert_eq!(outcome.exit_code, 0);
    let returned = outcome.returned.expect("the frontend returned");
    assert!(returned.error.is_none(), "{:?}", returned.error);
    let result = returned.result.expect("a result");
    assert!(matches!(result.result, Some(result::Result::Ref(ref r)) if r.id == "ref-1"));
    assert!(result.metadata.contains_key("containerimage.config"));
}

#[tokio::test]
async fn a_failing_read_file_is_an_error_that_names_the_read() {
    let outcome = build_against(Behaviour::Fail, Behaviour::Answer, "60").await;
    assert_eq!(outcome.exit_code, 0, "the error was returned");
    assert_eq!(
        outcome.error_message(),
        "reading the build file: ReadFile: disk is on fire"
    );
}

#[tokio::test]
async fn an_image_config_that_never_comes_is_an_error_at_base() {
    let outcome = build_against(Behaviour::Answer, Behaviour::NeverAnswer, "0.5").await;
    assert_eq!(outcome.exit_code, 0, "the error was returned");
    let message = outcome.error_message();
    assert!(message.starts_with("build.envd:2: "), "{message}");
    assert!(
        message.contains("BuildKit did not answer ResolveImageConfig in 0.5 s"),
        "{message}"
    );
    let returned = outcome.returned.expect("returned");
    let details = &returned.error.expect("an error").details;
    assert_eq!(details.len(), 1, "the error carries its location");
}

#[tokio::test]
async fn a_connection_lost_during_a_read_ends_the_frontend() {
    let outcome = build_against(Behaviour::DropConnection, Behaviour::Answer, "60").await;
    assert_eq!(outcome.exit_code, 1);
    assert!(outcome.returned.is_none());
}

#[tokio::test]
async fn a_build_cancelled_while_the_compiler_waits_ends_the_frontend() {
    // The compiler's thread is blocked on the image config when the
    // connection goes, as when buildx is interrupted. The lookup deadline
    // is far past the test's 10 s, so only the lost connection ends it.
    let outcome = build_against(Behaviour::Answer, Behaviour::DropConnection, "60").await;
    assert_eq!(outcome.exit_code, 1);
    assert!(outcome.returned.is_none());
}

#[tokio::test]
async fn a_failed_build_carries_the_report_when_it_is_asked_for() {
    // As with ENVD_FRONTEND_REPORT=1: a failed build has no report step.
    let outcome =
        build_with_timeline(Behaviour::Fail, Behaviour::Answer, "60", Timeline::start()).await;
    let message = outcome.error_message();
    assert!(
        message.starts_with(
            "reading the build file: ReadFile: disk is on fire (envd-frontend report: ping_ms="
        ),
        "{message}"
    );
    assert!(message.ends_with(')'), "{message}");
}

fn metadata_text(outcome: &Outcome, key: &str) -> String {
    let returned = outcome.returned.as_ref().expect("the frontend returned");
    assert!(returned.error.is_none(), "{:?}", returned.error);
    let result = returned.result.as_ref().expect("a result");
    assert!(result.result.is_none(), "a subrequest returns no image");
    String::from_utf8(result.metadata[key].clone()).expect("UTF-8")
}

#[tokio::test]
async fn describe_lists_the_subrequests_answered() {
    let outcome = subrequest("frontend.subrequests.describe").await;
    let list: serde_json::Value =
        serde_json::from_str(&metadata_text(&outcome, "result.json")).expect("JSON");
    let names: Vec<&str> = list
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "frontend.outline",
            "frontend.targets",
            "frontend.lint",
            "frontend.subrequests.describe"
        ]
    );
    assert_eq!(metadata_text(&outcome, "version"), "1.0.0");
}

#[tokio::test]
async fn targets_and_lint_read_the_build_file_and_solve_nothing_else() {
    let targets = subrequest("frontend.targets").await;
    assert_eq!(
        metadata_text(&targets, "result.txt"),
        "TARGET          DESCRIPTION\nbuild (default) \n"
    );
    assert_eq!(solved_names(&targets), [LOAD_BUILD_FILE]);
    let lint = subrequest("frontend.lint").await;
    assert_eq!(
        metadata_text(&lint, "result.txt"),
        "Check complete, no warnings found.\n"
    );
    assert_eq!(metadata_text(&lint, "result.statuscode"), "0");
    // Lint compiles as a build does: it looks files up in the context
    // (a narrowed Solve), and never solves the build's graph.
    let lint_solved = solved_names(&lint);
    assert_eq!(lint_solved[0], LOAD_BUILD_FILE);
    assert!(lint_solved.iter().all(|n| is_lookup(n)), "{lint_solved:?}");
    // A build, by contrast, solves its graph too.
    let built = solved_names(&serve(Scenario::default()).await);
    assert_eq!(
        built.iter().filter(|n| !is_lookup(n)).count(),
        1,
        "{built:?}"
    );
}

#[tokio::test]
async fn the_context_paths_a_build_reads_are_looked_up_in_one_transfer() {
    let outcome = serve(Scenario {
        build_file: "def build():\n    base(os=\"ubuntu22.04\")\n    io.copy(host_path=\"service\", envd_path=\"/srv\")\n    io.copy(host_path=\"models\", envd_path=\"/models\")\n",
        ..Scenario::default()
    })
    .await;
    // This daemon's context has neither path: the build fails at the copy.
    assert!(
        outcome
            .error_message()
            .contains("does not exist in the build context"),
        "{}",
        outcome.error_message()
    );
    assert_eq!(
        solved_names(&outcome),
        [
            LOAD_BUILD_FILE,
            "envd-frontend: look up .dockerignore, service, models in the context"
        ]
    );
}

/// A build file that reads requirements.txt from the context.
const READS_REQUIREMENTS: &str = "def build():\n    base(os=\"ubuntu22.04\", language=\"python3\")\n    install.python_packages(requirements=\"requirements.txt\")\n";

#[tokio::test]
async fn a_small_context_file_is_read_with_its_lookup_not_after_the_base_image() {
    // This daemon resolves the base image only once requirements.txt has
    // been asked for: a frontend that read it after resolving would wait
    // for good (and the test fail at its 10 s bound).
    let outcome = serve(Scenario {
        build_file: READS_REQUIREMENTS,
        context_files: &[("requirements.txt", "six\n")],
        resolve_after_reading: Some("requirements.txt"),
        ..Scenario::default()
    })
    .await;
    assert_eq!(outcome.context_reads, ["requirements.txt"], "read once");
    let returned = outcome.returned.expect("the frontend returned");
    assert!(returned.error.is_none(), "{:?}", returned.error);
}

#[tokio::test]
async fn a_failed_read_ahead_is_the_reads_error_once() {
    let outcome = serve(Scenario {
        build_file: READS_REQUIREMENTS,
        context_files: &[("requirements.txt", "six\n")],
        context_read: Behaviour::Fail,
        ..Scenario::default()
    })
    .await;
    assert_eq!(outcome.context_reads, ["requirements.txt"], "asked once");
    let message = outcome.error_message();
    assert!(
        message.contains("requirements.txt") && message.contains("ReadFile: disk is on fire"),
        "{message}"
    );
}

#[tokio::test]
async fn a_failed_context_transfer_fails_every_lookup_in_it_once() {
    let outcome = serve(Scenario {
        build_file: "def build():\n    base(os=\"ubuntu22.04\")\n    io.copy(host_path=\"service\", envd_path=\"/srv\")\n    io.copy(host_path=\"models\", envd_path=\"/models\")\n",
        lookup_solve: Behaviour::Fail,
        ..Scenario::default()
    })
    .await;
    assert_eq!(outcome.exit_code, 0, "the client got the error");
    // .dockerignore, read first, is where the build stops.
    let message = outcome.error_message();
    assert!(
        message.contains(".dockerignore") && message.contains("solve: disk is on fire"),
        "{message}"
    );
    let lookups = solved_names(&outcome)
        .into_iter()
        .filter(|name| name.starts_with(LOOKUP_PREFIX))
        .count();
    assert_eq!(lookups, 1, "one transfer, solved once");
}

/// A Solve that reads the build file or looks a context path up.
fn is_lookup(name: &str) -> bool {
    name == LOAD_BUILD_FILE || name.starts_with(LOOKUP_PREFIX)
}

/// How the progress names of context lookups start.
const LOOKUP_PREFIX: &str = "envd-frontend: look up ";

/// The progress name of the Solve that loads the build file.
const LOAD_BUILD_FILE: &str = "[envd-frontend] load build definition from build.envd";

/// The progress name of each graph solved (of the op its terminal op
/// selects), in order.
fn solved_names(outcome: &Outcome) -> Vec<String> {
    outcome.solved.iter().map(step_name).collect()
}

/// The progress name of the graph a Solve asks for (of the op its
/// terminal op selects).
fn step_name(request: &gateway::SolveRequest) -> String {
    use envd_proto::prost::Message;
    let definition = request.definition.as_ref().expect("a definition");
    let terminal =
        envd_proto::pb::Op::decode(definition.def.last().expect("a terminal op").as_slice())
            .expect("an op");
    let selected = &terminal.inputs.first().expect("an input").digest;
    definition.metadata[selected]
        .description
        .get("llb.customname")
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn an_unknown_subrequest_is_the_error_clients_recognise() {
    let outcome = subrequest("frontend.convertllb").await;
    let returned = outcome.returned.expect("returned");
    let error = returned.error.expect("an error");
    assert_eq!(error.message, "unsupported request frontend.convertllb");
    assert_eq!(
        error.details[0].type_url,
        "github.com/moby/buildkit/errdefs.Subrequest+json"
    );
    assert_eq!(error.details[0].value, br#"{"name":"frontend.convertllb"}"#);
}

#[tokio::test]
async fn warnings_reach_a_daemon_that_takes_them_with_their_excerpt() {
    let file = "def build():\n    base(os=\"ubuntu22.04\")\n    shell(\"zsh\")\n";
    let outcome = serve(Scenario {
        build_file: file,
        ..Scenario::default()
    })
    .await;
    assert_eq!(outcome.exit_code, 0);
    let [warning] = outcome.warned.as_slice() else {
        panic!("one Warn call, got {:?}", outcome.warned)
    };
    assert_eq!(warning.short, b"shell() has no effect on an image");
    let info = warning.info.as_ref().expect("the file");
    assert_eq!(info.filename, "build.envd");
    assert_eq!(info.data, file.as_bytes());
    let start = warning.ranges[0].start.as_ref().expect("a start");
    assert_eq!(start.line, 3);
    assert_eq!(warning.url, "docs/build-envd-reference.md#noeffectinimage");
    assert_eq!(warning.detail.len(), 1, "the help line");
}

#[tokio::test]
async fn a_cap_the_daemon_lacks_is_an_error_at_the_call_that_needs_it() {
    let file = "def build():\n    base(os=\"ubuntu22.04\")\n    run(commands=[\"true\"])\n    io.http(url=\"https://example.invalid/model.bin\", checksum=\"sha256:0000000000000000000000000000000000000000000000000000000000000000\")\n";
    let outcome = serve(Scenario {
        build_file: file,
        lacking: Some(caps::llb::SOURCE_HTTP_CHECKSUM),
        ..Scenario::default()
    })
    .await;
    assert_eq!(outcome.exit_code, 0, "the error was returned");
    assert_eq!(
        outcome.error_message(),
        "build.envd:4: this step needs BuildKit cap `source.http.checksum` (BuildKit 0.3, Docker 18.09), which this daemon lacks"
    );
    let returned = outcome.returned.expect("returned");
    assert_eq!(
        returned.error.expect("an error").details.len(),
        1,
        "located"
    );
}
