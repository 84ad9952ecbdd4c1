//! Test helpers: decode marshaled definitions back into ops.

use envd_proto::pb;
use prost::Message;

use super::state::State;

/// Every op of the state's definition with its digest, terminal last.
pub fn decode(def: &pb::Definition) -> Vec<(String, pb::Op)> {
    def.def
        .iter()
        .map(|bytes| {
            let op = pb::Op::decode(bytes.as_slice()).expect("valid op bytes");
            (super::state::digest_of(bytes), op)
        })
        .collect()
}

/// The op the state is an output of, decoded from its marshaled definition.
pub fn top_op(state: &State) -> pb::Op {
    let def = state.marshal();
    let ops = decode(&def);
    let (_, terminal) = ops.last().expect("terminal op");
    let target = &terminal.inputs[0].digest;
    ops.iter()
        .find(|(d, _)| d == target)
        .map(|(_, op)| op.clone())
        .expect("terminal input in definition")
}

/// Caps recorded for the op the state is an output of.
pub fn top_caps(state: &State) -> Vec<String> {
    let def = state.marshal();
    let ops = decode(&def);
    let target = &ops.last().expect("terminal").1.inputs[0].digest;
    def.metadata[target].caps.keys().cloned().collect()
}

pub fn exec_of(op: &pb::Op) -> &pb::ExecOp {
    match &op.op {
        Some(pb::op::Op::Exec(e)) => e,
        other => panic!("expected exec, got {other:?}"),
    }
}

pub fn file_of(op: &pb::Op) -> &pb::FileOp {
    match &op.op {
        Some(pb::op::Op::File(f)) => f,
        other => panic!("expected file, got {other:?}"),
    }
}

pub fn source_of(op: &pb::Op) -> &pb::SourceOp {
    match &op.op {
        Some(pb::op::Op::Source(s)) => s,
        other => panic!("expected source, got {other:?}"),
    }
}
