//! The one bounded fix round of `make_video(fix: true)`: when the saved file differs from what
//! was asked (`run::held`) in a way an edit can change, one more paid instruction written from
//! the differences ("Make the video 30 seconds long (it came out at 20 seconds). Keep
//! everything else as it is."), then one more export (free), checked again. The round is
//! journaled in the plan before it starts and is keyed, so a restart follows it and never
//! sends it twice; there is never a second round. Its cost is in the original quote as a
//! maximum.

use super::held::Difference;

/// The fix round's instruction: every difference an edit can change, then "keep everything
/// else".
pub fn instruction(differences: &[Difference]) -> String {
    let asks: Vec<&str> = differences
        .iter()
        .filter(|d| d.kind.fixable())
        .map(|d| d.fix.as_str())
        .collect();
    format!("{} Keep everything else as it is.", asks.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::held::Kind;

    #[test]
    fn the_round_asks_only_what_an_edit_can_change() {
        let d = |kind, fix: &str| Difference {
            kind,
            said: String::new(),
            fix: fix.into(),
        };
        let i = instruction(&[
            d(Kind::Length, "Make the video 30 seconds long."),
            d(Kind::Resolution, "Render it larger."),
            d(Kind::Text, "Add the text that was asked for."),
        ]);
        assert_eq!(
            i,
            "Make the video 30 seconds long. Add the text that was asked for. Keep everything else as it is."
        );
    }
}
