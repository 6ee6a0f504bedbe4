//! The host's language, read once from its locale: a project started before any instruction
//! (by an upload) is created in it.

/// The language when nothing says otherwise.
pub const FALLBACK: &str = "en";

/// The language of a POSIX locale (`zh_CN.UTF-8` → `zh-CN`, `ja_JP` → `ja`, `C` → none), looked
/// up as the C library does: `LC_ALL`, then `LC_MESSAGES`, then `LANG`; an empty variable counts
/// as unset.
pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| var(k))
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())?;
    // language[_territory][.codeset][@modifier]
    let name = locale.split(['.', '@']).next().unwrap_or_default();
    let (lang, region) = match name.split_once(['_', '-']) {
        Some((l, r)) => (l, Some(r)),
        None => (name, None),
    };
    let lang = lang.to_ascii_lowercase();
    if lang.is_empty()
        || lang == "c"
        || lang == "posix"
        || lang.len() > 3
        || !lang.bytes().all(|b| b.is_ascii_lowercase())
    {
        return None;
    }
    Some(match (lang.as_str(), region.map(str::to_ascii_uppercase)) {
        ("zh", Some(r)) if ["TW", "HK", "MO"].contains(&r.as_str()) => "zh-TW".into(),
        ("zh", _) => "zh-CN".into(),
        _ => lang,
    })
}

/// The language the host's locale names, else `en`.
pub fn of_host() -> String {
    from_locale(|k| std::env::var(k).ok()).unwrap_or_else(|| FALLBACK.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn locales() {
        assert_eq!(
            from_locale(env(&[("LANG", "zh_CN.UTF-8")])),
            Some("zh-CN".into())
        );
        assert_eq!(
            from_locale(env(&[("LANG", "zh_TW.UTF-8")])),
            Some("zh-TW".into())
        );
        assert_eq!(
            from_locale(env(&[("LANG", "ja_JP.UTF-8")])),
            Some("ja".into())
        );
        assert_eq!(
            from_locale(env(&[("LANG", "de_DE@euro")])),
            Some("de".into())
        );
        assert_eq!(from_locale(env(&[("LANG", "C.UTF-8")])), None);
        assert_eq!(from_locale(env(&[("LANG", "POSIX")])), None);
        assert_eq!(from_locale(env(&[])), None);
        // LC_ALL wins over LANG; an empty LC_ALL does not count.
        assert_eq!(
            from_locale(env(&[("LC_ALL", "es_ES.UTF-8"), ("LANG", "en_US.UTF-8")])),
            Some("es".into())
        );
        assert_eq!(
            from_locale(env(&[("LC_ALL", ""), ("LANG", "fr_FR.UTF-8")])),
            Some("fr".into())
        );
        assert_eq!(
            from_locale(env(&[("LC_MESSAGES", "ko_KR"), ("LANG", "en_US")])),
            Some("ko".into())
        );
    }
}
