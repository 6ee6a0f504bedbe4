//! The skill, the seeds' successor: `skills/nemovideo/SKILL.md` (Agent Skills format), which
//! teaches an agent the habits the seed documents taught by hand (the quick edit in one call,
//! estimate and confirm before spending, look at the frames, refine, export, what each error
//! code asks for). Compiled into the binary and given three ways:
//!
//! - over MCP, through the Skills extension (SEP-2640): `skills/list`, `skills/get`, and the
//!   file itself as the resource `skill://nemovideo/SKILL.md`, for hosts that load skills from
//!   servers;
//! - into a host's own skills folder by `nemo-mcp skill install --host …` (Cursor, Claude
//!   Code, Codex load `SKILL.md` folders from disk);
//! - in the MCPB bundle, beside the binary.

use rmcp::model::{
    ListSkillsResult, ReadResourceResult, ResourceContents, Skill, SkillFrontmatter, SkillResource,
    SkillResources,
};

/// The skill's text, as shipped.
pub const SKILL_MD: &str = include_str!("../../../../skills/nemovideo/SKILL.md");
/// Its name (the folder it is installed in).
pub const NAME: &str = "nemovideo";
/// Where an MCP client reads it.
pub const URI: &str = "skill://nemovideo/SKILL.md";

/// A frontmatter field of the skill (`name`, `description`), from its `---` block.
pub fn field(name: &str) -> Option<String> {
    let block = SKILL_MD.strip_prefix("---\n")?.split("\n---").next()?;
    block.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|r| r.strip_prefix(':'))
            .map(|v| v.trim().to_string())
    })
}

/// The skill as `skills/list` and `skills/get` give it: its frontmatter and its one file with
/// its digest.
pub fn skill() -> Skill {
    let frontmatter = SkillFrontmatter::new(
        field("name").unwrap_or_else(|| NAME.into()),
        field("description").unwrap_or_default(),
    );
    Skill::new(
        URI,
        frontmatter,
        SkillResources::Files(vec![SkillResource::from_bytes(URI, SKILL_MD.as_bytes())]),
    )
}

pub fn list() -> ListSkillsResult {
    ListSkillsResult::with_all_items(vec![skill()])
}

/// The file, when `uri` names it.
pub fn read(uri: &str) -> Option<ReadResourceResult> {
    (uri == URI).then(|| {
        ReadResourceResult::new(vec![
            ResourceContents::text(SKILL_MD, URI).with_mime_type("text/markdown")
        ])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_skill_is_valid_and_names_itself() {
        let s = skill();
        s.validate().unwrap();
        assert_eq!(s.name(), NAME);
        assert!(field("description").is_some_and(|d| d.len() > 40));
        // At most about 2,000 tokens (4 characters a token, with room).
        assert!(SKILL_MD.len() < 7_000, "{} bytes", SKILL_MD.len());
    }

    /// Every tool and error code the skill names exists today: the skill never sends an agent
    /// to a tool that is gone.
    #[test]
    fn every_tool_and_code_the_skill_names_exists() {
        let tools: Vec<String> = crate::mcp::server::NemoServer::lean_router()
            .list_all()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect();
        let named: Vec<&str> = SKILL_MD
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_') && w.contains('_'))
            .collect();
        let is_code =
            |w: &str| serde_json::from_value::<crate::errors::Code>(serde_json::json!(w)).is_ok();
        let arguments = [
            "make_video",
            "request_id",
            "max_credits",
            "new_project",
            "project_id",
            "next_cursor",
            "job_id",
            "cancel_job",
        ];
        for w in &named {
            let known = tools.iter().any(|t| t == w) || is_code(w) || arguments.contains(w);
            assert!(
                known,
                "the skill names `{w}`, which is no tool, argument or error code today"
            );
        }
        // The tools it teaches are all there.
        for t in [
            "make_video",
            "get_job",
            "generate",
            "export_video",
            "get_timeline",
            "connect",
            "get_credits",
            "list_jobs",
            "list_projects",
        ] {
            assert!(
                SKILL_MD.contains(&format!("`{t}`")) || SKILL_MD.contains(&format!("**`{t}`**")),
                "{t}"
            );
            assert!(tools.iter().any(|x| x == t), "{t}");
        }
    }
}
