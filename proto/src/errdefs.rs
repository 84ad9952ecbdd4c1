//! Typed error details BuildKit reads from a `google.rpc.Status` returned by a
//! frontend. BuildKit packs each detail as an `Any` whose value is the JSON
//! encoding (Go `encoding/json`) of the detail message, with a `+json` type URL
//! (`util/grpcerrors/grpcerrors.go`, `solver/errdefs`).

use serde::{Deserialize, Serialize};

use crate::protobuf::Any;

/// Type URL of the source-location detail buildx renders as a file excerpt.
pub const SOURCE_TYPE_URL: &str = "github.com/moby/buildkit/errdefs.Source+json";

/// Type URL of the detail that marks an unsupported subrequest; buildx
/// recognises it (`errdefs.IsUnsupportedSubrequest`).
pub const SUBREQUEST_TYPE_URL: &str = "github.com/moby/buildkit/errdefs.Subrequest+json";

/// `errdefs.Subrequest`: the subrequest a frontend does not answer.
pub fn unsupported_subrequest(name: &str) -> Any {
    Any {
        type_url: SUBREQUEST_TYPE_URL.to_string(),
        value: serde_json::json!({ "name": name }).to_string().into_bytes(),
    }
}

/// `errdefs.Source`: the file an error is in and the ranges to highlight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub info: SourceInfo,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
}

/// `pb.SourceInfo` as Go's JSON encoding writes it (`data` is base64).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub filename: String,
    #[serde(with = "base64_bytes", default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<u8>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub language: String,
}

/// A range of 1-based lines; `character` is a 0-based column as in `pb.Position`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

/// `pb.Position`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub line: i32,
    #[serde(default)]
    pub character: i32,
}

impl Source {
    /// Packs this detail the way BuildKit expects it in `Status.details`.
    pub fn to_any(&self) -> Any {
        Any {
            type_url: SOURCE_TYPE_URL.to_string(),
            // Serialising plain strings, numbers and vectors cannot fail.
            value: serde_json::to_vec(self).unwrap_or_default(),
        }
    }

    /// Reads a detail back; `None` for other type URLs or malformed JSON.
    pub fn from_any(any: &Any) -> Option<Source> {
        if any.type_url != SOURCE_TYPE_URL {
            return None;
        }
        serde_json::from_slice(&any.value).ok()
    }
}

/// Go encodes `[]byte` as standard base64 with padding.
mod base64_bytes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        decode(&text).ok_or_else(|| D::Error::custom("invalid base64"))
    }

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').collect();
        let mut out = Vec::with_capacity(digits.len() * 3 / 4);
        for chunk in digits.chunks(4) {
            let mut n = 0u32;
            for (i, &c) in chunk.iter().enumerate() {
                let v = ALPHABET.iter().position(|&a| a == c)? as u32;
                n |= v << (18 - 6 * i);
            }
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out.extend_from_slice(&bytes[..chunk.len().checked_sub(1)?]);
        }
        Some(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn matches_go_standard_encoding() {
            assert_eq!(encode(b""), "");
            assert_eq!(encode(b"f"), "Zg==");
            assert_eq!(encode(b"fo"), "Zm8=");
            assert_eq!(encode(b"foo"), "Zm9v");
            assert_eq!(encode(b"def build():\n"), "ZGVmIGJ1aWxkKCk6Cg==");
            for s in ["", "a", "ab", "abc", "abcd", "build.envd\n\tx"] {
                assert_eq!(decode(&encode(s.as_bytes())).as_deref(), Some(s.as_bytes()));
            }
            assert_eq!(decode("Z!=="), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_detail_is_the_json_buildkit_reads() {
        let detail = Source {
            info: SourceInfo {
                filename: "build.envd".into(),
                data: b"def build():\n".to_vec(),
                language: "starlark".into(),
            },
            ranges: vec![Range {
                start: Position {
                    line: 1,
                    character: 0,
                },
                end: Position {
                    line: 1,
                    character: 12,
                },
            }],
        };
        let any = detail.to_any();
        assert_eq!(any.type_url, "github.com/moby/buildkit/errdefs.Source+json");
        let json: serde_json::Value = serde_json::from_slice(&any.value).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "info": {"filename": "build.envd", "data": "ZGVmIGJ1aWxkKCk6Cg==", "language": "starlark"},
                "ranges": [{"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 12}}]
            })
        );
        assert_eq!(Source::from_any(&any), Some(detail));
    }
}
