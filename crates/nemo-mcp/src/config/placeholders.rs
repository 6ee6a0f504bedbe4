//! Settings that arrive as the host's placeholders rather than values. A bundle's manifest
//! maps its settings into the environment with `${user_config.token}`, `${HOME}` and the like;
//! hosts have been seen passing an unset optional one through as that literal text, and a
//! default such as `${HOME}/Videos/NemoVideo` unexpanded. Such text is never a token or a
//! folder: the home folder is expanded, anything else left `${…}` is treated as unset.

use std::path::Path;

/// The home-folder names a value may start with or contain.
const HOME_NAMES: [&str; 3] = ["${HOME}", "${USERPROFILE}", "$HOME"];

/// The value of setting `name` as it should be used: `None` when empty or still a placeholder.
pub fn resolve(name: &str, raw: &str, home: Option<&Path>) -> Option<String> {
    let mut value = raw.trim().to_string();
    if value.is_empty() {
        return None;
    }
    if let Some(home) = home.and_then(Path::to_str) {
        for h in HOME_NAMES {
            value = value.replace(h, home);
        }
        if value == "~" || value.starts_with("~/") || value.starts_with("~\\") {
            value = format!("{home}{}", &value[1..]);
        }
    }
    if value.contains("${") {
        // The text is a placeholder, not a secret, but a token's name is enough to say.
        tracing::warn!(
            "{name} arrived as an unexpanded placeholder (the host did not fill it in); treated as unset"
        );
        return None;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_unset_and_the_home_folder_is_expanded() {
        let home = Path::new("/home/me");
        assert_eq!(
            resolve("NEMO_TOKEN", "${user_config.token}", Some(home)),
            None
        );
        assert_eq!(resolve("NEMO_TOKEN", "  ", Some(home)), None);
        assert_eq!(
            resolve("NEMO_PROFILE", "${user_config.profile}", Some(home)),
            None
        );
        assert_eq!(
            resolve("NEMO_OUTPUT_DIR", "${HOME}/Videos/NemoVideo", Some(home)).as_deref(),
            Some("/home/me/Videos/NemoVideo")
        );
        assert_eq!(
            resolve("NEMO_OUTPUT_DIR", "~/Videos", Some(home)).as_deref(),
            Some("/home/me/Videos")
        );
        assert_eq!(
            resolve("NEMO_ALLOWED_DIRS", "${HOME}/a:${HOME}/b", Some(home)).as_deref(),
            Some("/home/me/a:/home/me/b")
        );
        // Without a home folder, a value that needs one is unset, not a folder named `${HOME}`.
        assert_eq!(resolve("NEMO_OUTPUT_DIR", "${HOME}/Videos", None), None);
        assert_eq!(
            resolve("NEMO_TOKEN", "nmv_real-token", Some(home)).as_deref(),
            Some("nmv_real-token")
        );
        assert_eq!(resolve("X", "${__dirname}/x", Some(home)), None);
    }
}
