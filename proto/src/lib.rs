//! The BuildKit wire contract: protobuf bindings under stable names, and the
//! constants (caps, opt keys, metadata keys, error details) a frontend needs.
//!
//! No logic lives here beyond (de)serialising the JSON error details.

pub mod caps;
pub mod errdefs;
pub mod metadata;
pub mod opts;

pub use prost;

/// LLB ops and `Definition` (`solver/pb/ops.proto`).
pub use bollard_buildkit_proto::pb;

/// The gateway API (`LLBBridge`) a frontend speaks over stdio.
pub use bollard_buildkit_proto::moby::buildkit::v1::frontend as gateway;

/// Capability lists returned by `Ping`.
pub use bollard_buildkit_proto::moby::buildkit::v1::apicaps;

/// Worker descriptions returned by `Ping`.
pub use bollard_buildkit_proto::moby::buildkit::v1::types;

/// File metadata, as the gateway's `StatFile` and `ReadDir` answer it.
pub use bollard_buildkit_proto::fsutil::types as fsutil;

/// `google.rpc.Status`, the error a frontend returns.
pub use bollard_buildkit_proto::google::rpc;

/// `google.protobuf.Any`, the carrier of error details.
pub use bollard_buildkit_proto::google::protobuf;
