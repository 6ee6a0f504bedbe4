//! Workspaces: a project per client for the 2026-07-28 era over `--http`.
//!
//! That era has no MCP session (SEP-2567): any request may come from any client, and the
//! `Mcp-Session-Id` header it may still carry was issued to no one and checked by no one. So
//! per-client state travels the way the specification means it to: in a handle the server
//! mints and the client passes back as an ordinary tool argument. `connect` mints one
//! (`workspace: "ws_…"`, 128 random bits), the server keeps its SHA-256 in the shared
//! database (so it survives restarts and is never written in plain anywhere), and every
//! other tool of such a client must name it: a handle this server did not issue is refused,
//! and a call without one is refused with the step that fixes it. The workspace's project is
//! remembered under its hash ([`crate::project::current::CurrentProject::scoped`]).
//!
//! Over stdio (one process, one client) and for sessions of the 2025 era (their
//! `Mcp-Session-Id` issued and checked by the transport) nothing changes, and the tool list
//! does not carry the extra argument.

use crate::errors::{Code, ToolError};
use crate::state::StateDb;
use rmcp::model::Tool;
use std::sync::Arc;

/// The tool argument.
pub const ARG: &str = "workspace";
/// The prefix of a handle.
const PREFIX: &str = "ws_";
/// Where the issued handles' hashes are kept (`kv`).
const KEY_PREFIX: &str = "http_workspace:";

/// The scope a request works in, put in its extensions by `call_tool`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(pub String);

/// A workspace handed out by this call (`connect` without one): said in its result.
#[derive(Debug, Clone)]
pub struct Issued(pub String);

fn digest(handle: &str) -> String {
    crate::support::hashed(handle, 16)
}

/// The scope of a handle: its hash, so the handle itself is kept nowhere.
fn scope_of(handle: &str) -> Scope {
    Scope(format!("ws-{}", digest(handle)))
}

/// A workspace unused this long is forgotten (its handle refused, its project pointer gone:
/// the project stays in the library).
const IDLE_DAYS: i64 = 90;
/// At most this many workspaces are kept; past it, the least recently used go first.
const MAX_KEPT: usize = 10_000;

/// A new workspace: its handle (for the client) and its scope. Every client of a day's
/// conversations mints one, so those long unused are forgotten here, in the same transaction:
/// the state database does not grow with every `connect` for ever.
pub fn mint(db: &Arc<StateDb>) -> Result<(String, Scope), ToolError> {
    let handle = format!("{PREFIX}{}", uuid::Uuid::new_v4().simple());
    let now = chrono::Utc::now();
    db.write("could not keep the workspace", |tx| {
        crate::state::set_value(
            tx,
            &format!("{KEY_PREFIX}{}", digest(&handle)),
            &now.to_rfc3339(),
        )?;
        forget_unused(tx, now, MAX_KEPT)
    })
    .map_err(|e| ToolError::new(Code::Internal, format!("{e}")))?;
    let scope = scope_of(&handle);
    Ok((handle, scope))
}

/// Forget the workspaces unused for [`IDLE_DAYS`], and the least recently used past `keep`:
/// their record and their project pointer. How many.
fn forget_unused(
    tx: &rusqlite::Transaction<'_>,
    now: chrono::DateTime<chrono::Utc>,
    keep: usize,
) -> rusqlite::Result<usize> {
    let mut kept: Vec<(String, chrono::DateTime<chrono::Utc>)> = {
        let mut s = tx.prepare_cached("SELECT key, value FROM kv WHERE key LIKE ?1")?;
        let rows = s.query_map([format!("{KEY_PREFIX}%")], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        rows.filter_map(Result::ok)
            .map(|(key, used)| {
                // A time that does not read is as old as can be.
                let used = chrono::DateTime::parse_from_rfc3339(&used)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
                (key, used)
            })
            .collect()
    };
    kept.sort_by_key(|w| std::cmp::Reverse(w.1));
    let cutoff = now - chrono::Duration::days(IDLE_DAYS);
    let mut forgotten = 0;
    for (i, (key, used)) in kept.iter().enumerate() {
        if i < keep && *used >= cutoff {
            continue;
        }
        let Some(d) = key.strip_prefix(KEY_PREFIX) else {
            continue;
        };
        tx.execute("DELETE FROM kv WHERE key = ?1", [key])?;
        tx.execute(
            "DELETE FROM kv WHERE key = ?1",
            [format!("{}ws-{d}", crate::project::current::SCOPE_PREFIX)],
        )?;
        forgotten += 1;
    }
    Ok(forgotten)
}

/// The scope of a handle this server issued; a handle it did not issue is refused.
pub fn check(db: &Arc<StateDb>, handle: &str) -> Result<Scope, ToolError> {
    let plausible = handle.len() == PREFIX.len() + 32
        && handle.starts_with(PREFIX)
        && handle[PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit());
    let issued = plausible
        && db
            .get_value(&format!("{KEY_PREFIX}{}", digest(handle)))
            .ok()
            .flatten()
            .is_some();
    if issued {
        touch(db, handle);
    }
    if !issued {
        return Err(ToolError::new(
            Code::WorkspaceRequired,
            "this workspace was not issued by this server",
        )
        .next("call connect without a workspace: it returns a new one to pass to every tool"));
    }
    Ok(scope_of(handle))
}

/// Mark a workspace used today (one write a day at most): what [`forget_unused`] goes by.
fn touch(db: &Arc<StateDb>, handle: &str) {
    let key = format!("{KEY_PREFIX}{}", digest(handle));
    let now = chrono::Utc::now();
    let used = db
        .get_value(&key)
        .ok()
        .flatten()
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(&v).ok());
    if used.is_some_and(|t| now - t.with_timezone(&chrono::Utc) < chrono::Duration::days(1)) {
        return;
    }
    if let Err(e) = db.set_value(&key, &now.to_rfc3339()) {
        tracing::warn!("{e}");
    }
}

/// The refusal of a call that names no workspace.
pub fn required(tool: &str) -> ToolError {
    ToolError::new(
        Code::WorkspaceRequired,
        format!("{tool} needs a workspace: this server is shared over HTTP, and each client works in a workspace of its own"),
    )
    .next("call connect (it returns `workspace`), then pass that workspace to every tool")
}

/// The tools as a 2026-07-28 client over `--http` reads them: each with the `workspace`
/// argument, required by all but `connect` (which hands one out).
pub fn add_to_listing(tools: &mut [Tool]) {
    for tool in tools {
        let mut schema = (*tool.input_schema).clone();
        let properties = schema
            .entry("properties")
            .or_insert_with(|| serde_json::json!({}));
        if let Some(p) = properties.as_object_mut() {
            p.insert(
                ARG.into(),
                serde_json::json!({
                    "type": "string",
                    "description": "Your workspace on this shared server, from connect."
                }),
            );
        }
        if tool.name != "connect" {
            let required = schema
                .entry("required")
                .or_insert_with(|| serde_json::json!([]));
            if let Some(r) = required.as_array_mut() {
                r.push(ARG.into());
            }
        }
        tool.input_schema = Arc::new(schema);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workspace_is_checked_by_what_was_issued_never_by_its_look() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(StateDb::open(dir.path()).unwrap());
        let (handle, scope) = mint(&db).unwrap();
        assert_eq!(check(&db, &handle).unwrap(), scope);
        // Well formed but never issued; a session id; another's hash as a handle.
        for forged in [
            "ws_0123456789abcdef0123456789abcdef".to_string(),
            "3f2c7a1e-0000-4000-8000-000000000001".to_string(),
            scope.0.clone(),
        ] {
            let e = check(&db, &forged).unwrap_err();
            assert_eq!(e.code, Code::WorkspaceRequired, "{forged}");
        }
        // Two workspaces, two scopes; the handle is not what is stored.
        let (other, other_scope) = mint(&db).unwrap();
        assert_ne!(scope, other_scope);
        assert!(!scope.0.contains(&handle[3..]) && !other_scope.0.contains(&other[3..]));
    }

    #[test]
    fn the_listing_requires_it_of_every_tool_but_connect() {
        let mut tools = crate::mcp::server::NemoServer::lean_router().list_all();
        add_to_listing(&mut tools);
        for t in &tools {
            let required = t.input_schema.get("required").cloned().unwrap_or_default();
            let has = required
                .as_array()
                .is_some_and(|r| r.iter().any(|x| x == ARG));
            assert_eq!(has, t.name != "connect", "{}", t.name);
            assert!(t.input_schema["properties"].get(ARG).is_some());
        }
    }

    /// Workspaces long unused, and the oldest past the cap, are forgotten with their project
    /// pointers when a new one is minted; one in use is kept.
    #[test]
    fn unused_workspaces_are_forgotten_with_their_pointers() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(StateDb::open(dir.path()).unwrap());
        let (old, old_scope) = mint(&db).unwrap();
        let (used, used_scope) = mint(&db).unwrap();
        let long_ago = (chrono::Utc::now() - chrono::Duration::days(IDLE_DAYS + 1)).to_rfc3339();
        for (handle, scope) in [(&old, &old_scope), (&used, &used_scope)] {
            db.set_value(&format!("{KEY_PREFIX}{}", digest(handle)), &long_ago)
                .unwrap();
            db.set_value(
                &format!("{}{}", crate::project::current::SCOPE_PREFIX, scope.0),
                "{}",
            )
            .unwrap();
        }
        // Used today (a call names it): kept.
        check(&db, &used).unwrap();
        let (fresh, _) = mint(&db).unwrap();
        assert_eq!(check(&db, &old).unwrap_err().code, Code::WorkspaceRequired);
        let pointer = |scope: &Scope| {
            db.get_value(&format!(
                "{}{}",
                crate::project::current::SCOPE_PREFIX,
                scope.0
            ))
            .unwrap()
        };
        assert_eq!(pointer(&old_scope), None);
        assert!(pointer(&used_scope).is_some());
        assert!(check(&db, &used).is_ok() && check(&db, &fresh).is_ok());
        // Past the cap, the least recently used go first.
        let forgotten = db
            .write("", |tx| forget_unused(tx, chrono::Utc::now(), 1))
            .unwrap();
        assert_eq!(forgotten, 1);
        assert_eq!(
            [check(&db, &used).is_ok(), check(&db, &fresh).is_ok()]
                .iter()
                .filter(|ok| **ok)
                .count(),
            1
        );
    }
}
