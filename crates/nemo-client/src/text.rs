//! Words of the backend's replies: GUI wording (in [`crate::gui`]) and the trailing
//! "temporary issue" line.

/// Rewrite the sentences that tell the user to operate a GUI (see [`crate::gui`]).
pub fn translate_gui(text: &str) -> String {
    crate::gui::rewrite(text)
}

/// Whether a reply is the backend's trailing "temporary issue" line, to be dropped when earlier
/// text was normal.
pub fn is_temporary_issue(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("encountered a temporary issue") || text.contains("遇到了临时问题")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_issue_line() {
        assert!(is_temporary_issue(
            "I encountered a temporary issue. Please try again later."
        ));
        assert!(!is_temporary_issue("All done."));
    }
}
