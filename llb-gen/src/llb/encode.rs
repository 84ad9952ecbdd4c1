//! Ops encoded as BuildKit's Go code encodes them. BuildKit 0.18 and later
//! re-encode every op a frontend sends (Go's deterministic `proto.Marshal`)
//! and name its vertex by the digest of those bytes; the source map and a
//! failed step's excerpt are found by that name. Go writes a message's
//! oneof after its other fields and every map entry with its key and
//! value, where prost writes fields by number and leaves out empty map
//! values. Encoding the way Go does keeps our digests BuildKit's.

use envd_proto::pb;
use prost::encoding::{WireType, encode_key, encode_varint, message, string};

/// `pb::Op` field numbers: its other fields, and the `op` oneof's source case.
const INPUTS_TAG: u32 = 1;
const PLATFORM_TAG: u32 = 10;
const CONSTRAINTS_TAG: u32 = 11;
const SOURCE_TAG: u32 = 3;
/// `pb::SourceOp` field numbers.
const SOURCE_IDENTIFIER_TAG: u32 = 1;
const SOURCE_ATTRS_TAG: u32 = 2;

/// The op's bytes as Go's deterministic marshal writes them: `inputs`,
/// `platform`, `constraints`, then the op itself.
pub(crate) fn op_bytes(op: &pb::Op) -> Vec<u8> {
    let mut out = vec![];
    for input in &op.inputs {
        message::encode(INPUTS_TAG, input, &mut out);
    }
    if let Some(platform) = &op.platform {
        message::encode(PLATFORM_TAG, platform, &mut out);
    }
    if let Some(constraints) = &op.constraints {
        message::encode(CONSTRAINTS_TAG, constraints, &mut out);
    }
    match &op.op {
        Some(pb::op::Op::Source(source)) => {
            let body = source_bytes(source);
            length_delimited(SOURCE_TAG, &body, &mut out);
        }
        Some(body) => body.encode(&mut out),
        None => {}
    }
    out
}

/// A source op with each attr written whole, even an empty value.
fn source_bytes(source: &pb::SourceOp) -> Vec<u8> {
    let mut out = vec![];
    if !source.identifier.is_empty() {
        string::encode(SOURCE_IDENTIFIER_TAG, &source.identifier, &mut out);
    }
    for (key, value) in &source.attrs {
        let mut entry = vec![];
        string::encode(1, key, &mut entry);
        string::encode(2, value, &mut entry);
        length_delimited(SOURCE_ATTRS_TAG, &entry, &mut out);
    }
    out
}

fn length_delimited(tag: u32, body: &[u8], out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(body.len() as u64, out);
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use std::collections::BTreeMap;

    fn platform() -> Option<pb::Platform> {
        Some(pb::Platform {
            os: "linux".into(),
            architecture: "arm64".into(),
            ..Default::default()
        })
    }

    /// Field numbers of the top-level fields, in the order written.
    fn field_order(bytes: &[u8]) -> Vec<u64> {
        let mut fields = vec![];
        let mut rest = bytes;
        while !rest.is_empty() {
            let key = prost::encoding::decode_varint(&mut rest).unwrap();
            assert_eq!(key & 7, 2, "every Op field is length-delimited");
            let len = prost::encoding::decode_varint(&mut rest).unwrap() as usize;
            rest = &rest[len..];
            fields.push(key >> 3);
        }
        fields
    }

    #[test]
    fn the_op_comes_after_platform_as_go_writes_it() {
        let op = pb::Op {
            inputs: vec![pb::Input {
                digest: "sha256:00".into(),
                index: 0,
            }],
            platform: platform(),
            constraints: None,
            op: Some(pb::op::Op::Exec(pb::ExecOp::default())),
        };
        let bytes = op_bytes(&op);
        assert_eq!(field_order(&bytes), [1, 10, 2]);
        // prost alone writes the oneof at its number: BuildKit 0.18+
        // would re-key such an op.
        assert_eq!(field_order(&op.encode_to_vec()), [1, 2, 10]);
        assert_eq!(pb::Op::decode(bytes.as_slice()).unwrap(), op);
    }

    #[test]
    fn empty_attr_values_are_written() {
        let op = pb::Op {
            platform: platform(),
            op: Some(pb::op::Op::Source(pb::SourceOp {
                identifier: "local://context".into(),
                attrs: BTreeMap::from([("a".into(), String::new()), ("b".into(), "x".into())]),
            })),
            ..Default::default()
        };
        let bytes = op_bytes(&op);
        assert_eq!(field_order(&bytes), [10, 3]);
        // The entry of "a" holds an empty value field (0x12 0x00).
        let entry_a = [0x12, 0x05, 0x0a, 0x01, b'a', 0x12, 0x00];
        assert!(bytes.windows(entry_a.len()).any(|w| w == entry_a));
        assert!(
            !op.encode_to_vec()
                .windows(entry_a.len())
                .any(|w| w == entry_a)
        );
        assert_eq!(pb::Op::decode(bytes.as_slice()).unwrap(), op);
    }
}
