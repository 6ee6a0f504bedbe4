//! Which project `connect` opens, chosen from its arguments: the current one, a new one, or
//! one reopened by its id, each in the language asked for. A wrong combination or a malformed
//! id is an error that says what to give; nothing is opened then.

use crate::errors::ToolError;
use nemo_client::SessionId;

/// The project to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// The process's current project (made if there is none).
    Current,
    /// A new project in place of the current one.
    New,
    /// A project of the library (or any the account has), by its id.
    Reopen(SessionId),
}

/// What `connect` was asked to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub opening: Opening,
    /// A language code, checked (`None`: the host's).
    pub language: Option<String>,
}

/// The choice `connect`'s arguments make.
pub fn choose(
    new_project: Option<bool>,
    project_id: Option<&str>,
    language: Option<&str>,
) -> Result<Choice, ToolError> {
    let language = match language.map(super::language::parse_argument) {
        None => None,
        Some(Some(l)) => Some(l),
        Some(None) => {
            return Err(ToolError::invalid(
                "language must be a language code such as en, zh-CN, ja or es",
            ))
        }
    };
    let new_project = new_project.unwrap_or(false);
    let opening = match project_id.map(str::trim).filter(|s| !s.is_empty()) {
        None if new_project => Opening::New,
        None => Opening::Current,
        Some(_) if new_project => {
            return Err(ToolError::invalid(
                "give either new_project or project_id, not both",
            ))
        }
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) => Opening::Reopen(SessionId::new(n)),
            Err(_) => {
                return Err(ToolError::invalid("project_id must be a project's number")
                    .next("call list_projects to see the projects and their ids"))
            }
        },
    };
    Ok(Choice { opening, language })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_combination_of_arguments_opens_one_project_or_says_why_not() {
        let opening = |new, id| choose(new, id, None).map(|c| c.opening);
        assert_eq!(opening(None, None), Ok(Opening::Current));
        assert_eq!(opening(Some(false), Some("  ")), Ok(Opening::Current));
        assert_eq!(opening(Some(true), None), Ok(Opening::New));
        assert_eq!(
            opening(None, Some(" 42 ")),
            Ok(Opening::Reopen(SessionId::new(42)))
        );
        let both = opening(Some(true), Some("42")).unwrap_err();
        assert!(both.message.contains("not both"), "{both:?}");
        let bad = opening(None, Some("../42")).unwrap_err();
        assert!(bad.message.contains("project's number"), "{bad:?}");
        assert!(bad
            .next_step
            .as_deref()
            .is_some_and(|n| n.contains("list_projects")));
    }

    #[test]
    fn a_language_is_checked_before_anything_opens() {
        let c = choose(Some(true), None, Some("zh-CN")).unwrap();
        assert_eq!(c.language.as_deref(), Some("zh-CN"));
        let e = choose(None, None, Some("<script>")).unwrap_err();
        assert!(e.message.contains("language code"), "{e:?}");
    }
}
