//! `nemo-mcp skill install --host cursor|claude-code|codex|gemini|copilot [--dir FOLDER]`: the skill into a
//! host's own skills folder, where it loads `SKILL.md` folders from disk. What is written is
//! what the binary serves over MCP (`mcp::skills`), so the two never differ. An existing file
//! is replaced only when it is this skill (an older version); anything else there is left
//! alone and said.

use crate::mcp::skills::{NAME, SKILL_MD};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A host that loads skills from disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SkillHost {
    /// `~/.cursor/skills/`
    Cursor,
    /// `~/.claude/skills/`
    ClaudeCode,
    /// `$CODEX_HOME/skills/` (`~/.codex/skills/`)
    Codex,
    /// `~/.gemini/skills/` (Gemini CLI's user skills)
    Gemini,
    /// `~/.copilot/skills/` (GitHub Copilot CLI's user skills)
    Copilot,
}

/// The folder `host` loads skills from, for this user.
fn skills_folder(host: SkillHost, home: &Path) -> PathBuf {
    match host {
        SkillHost::Cursor => home.join(".cursor").join("skills"),
        SkillHost::ClaudeCode => home.join(".claude").join("skills"),
        SkillHost::Codex => std::env::var_os("CODEX_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".codex"))
            .join("skills"),
        SkillHost::Gemini => home.join(".gemini").join("skills"),
        SkillHost::Copilot => home.join(".copilot").join("skills"),
    }
}

/// Install into `folder/nemovideo/SKILL.md`; the file's path.
pub fn install_into(folder: &Path) -> Result<PathBuf, String> {
    let dir = folder.join(NAME);
    let file = dir.join("SKILL.md");
    match std::fs::symlink_metadata(&file) {
        Ok(m) if m.file_type().is_symlink() || !m.is_file() => {
            return Err(format!(
                "{} exists and is not a plain file: left alone",
                file.display()
            ))
        }
        Ok(_) => {
            // Only its head says whose it is: read no more than that of a file left there.
            let mut there = String::new();
            if let Ok(f) = std::fs::File::open(&file) {
                use std::io::Read;
                let _ = f.take(4096).read_to_string(&mut there);
            }
            let ours = there
                .lines()
                .take(5)
                .any(|l| l.trim() == format!("name: {NAME}"));
            if !ours {
                return Err(format!(
                    "{} holds another skill: left alone (remove it to install this one)",
                    file.display()
                ));
            }
        }
        Err(_) => {}
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let tmp = dir.join(".SKILL.md.part");
    std::fs::write(&tmp, SKILL_MD).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &file).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    Ok(file)
}

/// The command: the installed file's path on stdout, or the reason on stderr.
pub fn run(host: SkillHost, dir: Option<PathBuf>) -> ExitCode {
    let folder = match dir {
        Some(d) => d,
        None => match dirs::home_dir() {
            Some(home) => skills_folder(host, &home),
            None => {
                eprintln!("nemo-mcp skill: no home folder; pass --dir");
                return ExitCode::FAILURE;
            }
        },
    };
    match install_into(&folder) {
        Ok(file) => super::output::answer(&file.display().to_string()),
        Err(why) => {
            eprintln!("nemo-mcp skill: {why}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_updates_its_own_and_leaves_another_skill_alone() {
        let home = tempfile::tempdir().unwrap();
        let folder = skills_folder(SkillHost::ClaudeCode, home.path());
        let file = install_into(&folder).unwrap();
        assert_eq!(file, home.path().join(".claude/skills/nemovideo/SKILL.md"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), SKILL_MD);
        // An older version of this skill is replaced.
        std::fs::write(&file, "---\nname: nemovideo\ndescription: old\n---\nold").unwrap();
        install_into(&folder).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), SKILL_MD);
        // Someone else's file is not.
        std::fs::write(&file, "---\nname: another\n---\nmine").unwrap();
        assert!(install_into(&folder).unwrap_err().contains("another skill"));
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "---\nname: another\n---\nmine"
        );
        // Where each host loads its user's skills from (Gemini CLI 0.61 and Copilot CLI
        // 1.0.102 read from theirs, checked by the real-host runs `gemini+skill` and
        // `copilot+skill`).
        for (host, folder) in [
            (SkillHost::Cursor, ".cursor/skills"),
            (SkillHost::Gemini, ".gemini/skills"),
            (SkillHost::Copilot, ".copilot/skills"),
        ] {
            assert_eq!(skills_folder(host, home.path()), home.path().join(folder));
        }
    }
}
