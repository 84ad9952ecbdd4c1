//! Decodes a marshaled definition into JSON, one object per op in definition
//! order, in the spirit of `buildctl debug dump-llb`. For people, snapshots
//! and tests; BuildKit only ever sees the protobuf bytes.

use envd_proto::pb;
use prost::Message;
use serde_json::{Map, Value, json};

use super::state::digest_of;

/// One JSON object per op: `{"digest", "op", "metadata"?, "locations"?}`.
pub fn definition_to_json(def: &pb::Definition) -> Result<Vec<Value>, prost::DecodeError> {
    def.def
        .iter()
        .map(|bytes| {
            let op = pb::Op::decode(bytes.as_slice())?;
            let digest = digest_of(bytes);
            let mut entry = Map::new();
            entry.insert("digest".into(), json!(digest));
            entry.insert("op".into(), op_json(&op));
            if let Some(md) = def.metadata.get(&digest) {
                entry.insert("metadata".into(), metadata_json(md));
            }
            if let Some(source) = &def.source
                && let Some(locs) = source.locations.get(&digest)
            {
                entry.insert("locations".into(), locations_json(source, locs));
            }
            Ok(Value::Object(entry))
        })
        .collect()
}

fn op_json(op: &pb::Op) -> Value {
    let mut out = Map::new();
    let inputs: Vec<Value> = op
        .inputs
        .iter()
        .map(|i| json!({"digest": i.digest, "index": i.index}))
        .collect();
    if !inputs.is_empty() {
        out.insert("inputs".into(), Value::Array(inputs));
    }
    if let Some(p) = &op.platform {
        let mut platform = json!({"os": p.os, "architecture": p.architecture});
        if !p.variant.is_empty() {
            platform["variant"] = json!(p.variant);
        }
        out.insert("platform".into(), platform);
    }
    let (kind, body) = match &op.op {
        None => return Value::Object(out),
        Some(pb::op::Op::Source(s)) => (
            "source",
            json!({"identifier": s.identifier, "attrs": s.attrs}),
        ),
        Some(pb::op::Op::Exec(e)) => ("exec", exec_json(e)),
        Some(pb::op::Op::File(f)) => (
            "file",
            json!(f.actions.iter().map(file_action_json).collect::<Vec<_>>()),
        ),
        Some(pb::op::Op::Merge(m)) => (
            "merge",
            json!(m.inputs.iter().map(|i| i.input).collect::<Vec<_>>()),
        ),
        Some(pb::op::Op::Diff(d)) => (
            "diff",
            json!({
                "lower": d.lower.as_ref().map(|l| l.input),
                "upper": d.upper.as_ref().map(|u| u.input),
            }),
        ),
        Some(pb::op::Op::Build(_)) => ("build", json!({})),
    };
    out.insert(kind.into(), body);
    Value::Object(out)
}

fn exec_json(e: &pb::ExecOp) -> Value {
    let meta = e.meta.clone().unwrap_or_default();
    let mut out = json!({
        "args": meta.args,
        "env": meta.env,
        "cwd": meta.cwd,
        "mounts": e.mounts.iter().map(mount_json).collect::<Vec<_>>(),
    });
    if !meta.user.is_empty() {
        out["user"] = json!(meta.user);
    }
    if let Some(net) = pb::NetMode::try_from(e.network)
        .ok()
        .filter(|n| *n != pb::NetMode::Unset)
    {
        out["network"] = json!(net.as_str_name());
    }
    if e.security == pb::SecurityMode::Insecure as i32 {
        out["security"] = json!("INSECURE");
    }
    out
}

fn mount_json(m: &pb::Mount) -> Value {
    let kind = pb::MountType::try_from(m.mount_type).map_or("UNKNOWN", |t| t.as_str_name());
    let mut out = json!({"type": kind, "dest": m.dest, "input": m.input, "output": m.output});
    if !m.selector.is_empty() {
        out["selector"] = json!(m.selector);
    }
    if m.readonly {
        out["readonly"] = json!(true);
    }
    if let Some(c) = &m.cache_opt {
        let sharing =
            pb::CacheSharingOpt::try_from(c.sharing).map_or("UNKNOWN", |s| s.as_str_name());
        out["cache"] = json!({"id": c.id, "sharing": sharing});
    }
    if let Some(t) = &m.tmpfs_opt {
        out["tmpfs"] = json!({"size": t.size});
    }
    if let Some(s) = &m.secret_opt {
        out["secret"] = json!({"id": s.id, "uid": s.uid, "gid": s.gid, "mode": format!("{:o}", s.mode), "optional": s.optional});
    }
    if let Some(s) = &m.ssh_opt {
        out["ssh"] = json!({"id": s.id, "uid": s.uid, "gid": s.gid, "mode": format!("{:o}", s.mode), "optional": s.optional});
    }
    out
}

fn owner_json(owner: &Option<pb::ChownOpt>) -> Value {
    let user = |u: &Option<pb::UserOpt>| match u.as_ref().and_then(|u| u.user.as_ref()) {
        Some(pb::user_opt::User::ById(id)) => json!(id),
        Some(pb::user_opt::User::ByName(n)) => json!(n.name),
        None => Value::Null,
    };
    match owner {
        Some(o) => json!({"user": user(&o.user), "group": user(&o.group)}),
        None => Value::Null,
    }
}

fn file_action_json(a: &pb::FileAction) -> Value {
    let mut out =
        json!({"input": a.input, "secondaryInput": a.secondary_input, "output": a.output});
    let (kind, body) = match &a.action {
        Some(pb::file_action::Action::Mkdir(m)) => (
            "mkdir",
            json!({"path": m.path, "mode": format!("{:o}", m.mode), "makeParents": m.make_parents, "owner": owner_json(&m.owner)}),
        ),
        Some(pb::file_action::Action::Mkfile(m)) => (
            "mkfile",
            json!({"path": m.path, "mode": format!("{:o}", m.mode), "data": String::from_utf8_lossy(&m.data), "owner": owner_json(&m.owner)}),
        ),
        Some(pb::file_action::Action::Copy(c)) => (
            "copy",
            json!({
                "src": c.src, "dest": c.dest, "owner": owner_json(&c.owner),
                "mode": if c.mode < 0 { Value::Null } else { json!(format!("{:o}", c.mode)) },
                "followSymlink": c.follow_symlink, "dirCopyContents": c.dir_copy_contents,
                "createDestPath": c.create_dest_path, "allowWildcard": c.allow_wildcard,
                "allowEmptyWildcard": c.allow_empty_wildcard,
                "includePatterns": c.include_patterns, "excludePatterns": c.exclude_patterns,
            }),
        ),
        Some(pb::file_action::Action::Rm(r)) => (
            "rm",
            json!({"path": r.path, "allowNotFound": r.allow_not_found, "allowWildcard": r.allow_wildcard}),
        ),
        Some(pb::file_action::Action::Symlink(s)) => (
            "symlink",
            json!({"oldpath": s.oldpath, "newpath": s.newpath}),
        ),
        None => return out,
    };
    out[kind] = body;
    // Shown only when asked, so snapshots of plain copies stay as they were.
    if let Some(pb::file_action::Action::Copy(c)) = &a.action
        && c.attempt_unpack_docker_compatibility
    {
        out[kind]["attemptUnpack"] = json!(true);
    }
    out
}

fn metadata_json(md: &pb::OpMetadata) -> Value {
    let mut out = json!({"caps": md.caps.keys().collect::<Vec<_>>()});
    if !md.description.is_empty() {
        out["description"] = json!(md.description);
    }
    if md.ignore_cache {
        out["ignoreCache"] = json!(true);
    }
    if let Some(g) = &md.progress_group {
        out["progressGroup"] = json!({"id": g.id, "name": g.name, "weak": g.weak});
    }
    out
}

fn locations_json(source: &pb::Source, locs: &pb::Locations) -> Value {
    let pos = |p: &Option<pb::Position>| p.as_ref().map(|p| json!([p.line, p.character]));
    json!(
        locs.locations
            .iter()
            .map(|l| {
                let file = usize::try_from(l.source_index)
                    .ok()
                    .and_then(|i| source.infos.get(i))
                    .map(|info| info.filename.clone());
                json!({
                    "file": file,
                    "ranges": l.ranges.iter().map(|r| json!({"start": pos(&r.start), "end": pos(&r.end)})).collect::<Vec<_>>(),
                })
            })
            .collect::<Vec<_>>()
    )
}
