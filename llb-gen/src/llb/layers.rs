//! Merge and diff ops: stacking independent layers and extracting the
//! changes between two states.

use std::collections::BTreeSet;

use envd_proto::caps::llb as caps;
use envd_proto::pb;

use super::state::{InputSet, OpOptions, State, Vertex, WithOpOptions};

/// Stacks states, later ones on top. Layers built without the base (the
/// `COPY --link` pattern) stay cacheable when the base changes.
#[derive(Clone, Debug)]
pub struct Merge {
    states: Vec<State>,
    options: OpOptions,
}

impl Merge {
    pub fn new(states: impl IntoIterator<Item = State>) -> Merge {
        Merge {
            states: states.into_iter().collect(),
            options: OpOptions::default(),
        }
    }

    /// Scratch inputs add nothing and are dropped; with fewer than two inputs
    /// left there is nothing to merge and that input (or scratch) is returned.
    pub fn build(self) -> State {
        let mut layers: Vec<State> = self
            .states
            .into_iter()
            .filter(|s| !s.is_scratch())
            .collect();
        if layers.len() < 2 {
            return layers.pop().unwrap_or_default();
        }
        let options = self.options.inherit_platform(layers[0].platform.as_ref());
        let platform = options.platform.clone();
        let mut inputs = InputSet::default();
        let merge_inputs = layers
            .iter()
            .map(|layer| pb::MergeInput {
                input: inputs.index_of(layer),
            })
            .collect();
        let body = pb::op::Op::Merge(pb::MergeOp {
            inputs: merge_inputs,
        });
        let required = BTreeSet::from([caps::MERGE_OP]);
        State::from_vertex(
            Vertex::new(inputs.outputs, body, required, options),
            0,
            platform,
        )
    }
}

impl WithOpOptions for Merge {
    fn op_options(&mut self) -> &mut OpOptions {
        &mut self.options
    }
}

/// The changes that turn `lower` into `upper`, as a state of their own.
#[derive(Clone, Debug)]
pub struct Diff {
    lower: State,
    upper: State,
    options: OpOptions,
}

impl Diff {
    pub fn new(lower: &State, upper: &State) -> Diff {
        Diff {
            lower: lower.clone(),
            upper: upper.clone(),
            options: OpOptions::default(),
        }
    }

    /// The diff of two scratch states is scratch; no op is needed.
    pub fn build(self) -> State {
        if self.lower.is_scratch() && self.upper.is_scratch() {
            return State::scratch();
        }
        let options = self.options.inherit_platform(self.upper.platform.as_ref());
        let platform = options.platform.clone();
        let mut inputs = InputSet::default();
        let body = pb::op::Op::Diff(pb::DiffOp {
            lower: Some(pb::LowerDiffInput {
                input: inputs.index_of(&self.lower),
            }),
            upper: Some(pb::UpperDiffInput {
                input: inputs.index_of(&self.upper),
            }),
        });
        let required = BTreeSet::from([caps::DIFF_OP]);
        State::from_vertex(
            Vertex::new(inputs.outputs, body, required, options),
            0,
            platform,
        )
    }
}

impl WithOpOptions for Diff {
    fn op_options(&mut self) -> &mut OpOptions {
        &mut self.options
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::testutil::{top_caps, top_op};
    use crate::llb::{FileOp, Image, Local, Mkfile};

    fn layer(path: &str) -> State {
        FileOp::new(&State::scratch())
            .mkfile(Mkfile::new(path, "x"))
            .build()
            .unwrap()
    }

    #[test]
    fn merge_stacks_non_scratch_inputs() {
        let base = Image::new("aiges_gpu").build().unwrap();
        let state = Merge::new([base, State::scratch(), layer("/a"), layer("/b")]).build();
        let op = top_op(&state);
        assert_eq!(op.inputs.len(), 3);
        match op.op {
            Some(pb::op::Op::Merge(m)) => {
                assert_eq!(
                    m.inputs.iter().map(|i| i.input).collect::<Vec<_>>(),
                    [0, 1, 2]
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(top_caps(&state), ["mergeop"]);
    }

    #[test]
    fn merge_of_fewer_than_two_layers_is_no_op() {
        assert!(Merge::new([]).build().is_scratch());
        let only = layer("/a");
        let merged = Merge::new([State::scratch(), only.clone()]).build();
        assert_eq!(merged.marshal(), only.marshal());
    }

    #[test]
    fn diff_names_lower_and_upper() {
        let lower = Local::new("a").build().unwrap();
        let upper = layer("/x");
        let op = top_op(&Diff::new(&lower, &upper).build());
        match op.op {
            Some(pb::op::Op::Diff(d)) => {
                assert_eq!((d.lower.unwrap().input, d.upper.unwrap().input), (0, 1));
            }
            other => panic!("{other:?}"),
        }
        let from_scratch = Diff::new(&State::scratch(), &upper).build();
        match top_op(&from_scratch).op {
            Some(pb::op::Op::Diff(d)) => {
                assert_eq!((d.lower.unwrap().input, d.upper.unwrap().input), (-1, 0));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(top_caps(&from_scratch), ["diffop"]);
        assert!(
            Diff::new(&State::scratch(), &State::scratch())
                .build()
                .is_scratch()
        );
    }
}
