//! Where an op of the graph came from in build.envd, from the graph's
//! source map (for caps the daemon lacks). A failed step needs none of
//! this: its shell names its line (see `lower::Lowering::exec`).

use envd_proto::pb;

/// The 1-based build.envd line of the op with `digest`.
pub fn line_of(def: &pb::Definition, digest: &str) -> Option<usize> {
    let location = def
        .source
        .as_ref()?
        .locations
        .get(digest)?
        .locations
        .first()?;
    let start = location.ranges.first()?.start.as_ref()?;
    usize::try_from(start.line).ok().filter(|line| *line > 0)
}

/// The digests of the graph's ops, in the graph's order.
pub fn op_digests(def: &pb::Definition) -> impl Iterator<Item = String> + '_ {
    def.def
        .iter()
        .map(|op| format!("sha256:{}", llb_gen::llb::sha256_hex(op)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn the_line_of_an_op_from_the_source_map() {
        let position = pb::Position {
            line: 4,
            character: 0,
        };
        let def = pb::Definition {
            source: Some(pb::Source {
                locations: BTreeMap::from([(
                    "sha256:abc".to_string(),
                    pb::Locations {
                        locations: vec![pb::Location {
                            source_index: 0,
                            ranges: vec![pb::Range {
                                start: Some(position),
                                end: Some(position),
                            }],
                        }],
                    },
                )]),
                infos: vec![],
            }),
            ..Default::default()
        };
        assert_eq!(line_of(&def, "sha256:abc"), Some(4));
        assert_eq!(line_of(&def, "sha256:other"), None);
    }
}
