//! Brand kits, remembered: a logo, colours, fonts by name, intro and outro clips and a short
//! style text, kept in the shared state database so every host and every project of the user
//! has them. Several named kits for people who work for several clients.
//!
//! A kit is set by the user (`nemo-mcp brand set …`), not by a model: it is the user's standing
//! configuration, like the output folder, and setting it costs no tool definition the model
//! reads on every turn. Its files pass the input policy when set. `make_video` then adds the
//! kit to the video: its files to the upload (once per project: the media ledger sees them),
//! its words to the instruction, and both to the quote. Which kit: the one the instruction
//! names ("for Acme"), else the one called `default`; none when the instruction says "no brand".

use crate::state::StateDb;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

const KEY_PREFIX: &str = "brand:";

/// One brand kit.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Brand {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub colors: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fonts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outro: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
}

impl Brand {
    /// Its files, to upload with the video.
    pub fn files(&self) -> Vec<PathBuf> {
        [&self.logo, &self.intro, &self.outro]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// Its words, added to the instruction (and shown in the quote).
    pub fn words(&self) -> String {
        let name = |p: &PathBuf| {
            p.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        };
        let mut parts = Vec::new();
        if let Some(l) = &self.logo {
            parts.push(format!("put the logo ({}) in a corner throughout", name(l)));
        }
        if !self.colors.is_empty() {
            parts.push(format!("use the colours {}", self.colors.join(", ")));
        }
        if !self.fonts.is_empty() {
            parts.push(format!("set text in {}", self.fonts.join(" or ")));
        }
        if let Some(i) = &self.intro {
            parts.push(format!("open with {}", name(i)));
        }
        if let Some(o) = &self.outro {
            parts.push(format!("end with {}", name(o)));
        }
        if let Some(s) = &self.style {
            parts.push(format!("style: {s}"));
        }
        format!("brand {}: {}", self.name, parts.join("; "))
    }
}

/// A kit's name: letters, digits, `-` and `_`, 1 to 40 of them.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Keep `brand` (replacing the kit of its name).
pub fn save(db: &StateDb, brand: &Brand) -> Result<(), String> {
    let text = serde_json::to_string(brand).map_err(|e| e.to_string())?;
    db.set_value(&format!("{KEY_PREFIX}{}", brand.name.to_lowercase()), &text)
        .map_err(|e| e.to_string())
}

/// Every kit, by name.
pub fn all(db: &StateDb) -> Vec<Brand> {
    db.read("could not read the brand kits", |tx| {
        let mut s = tx.prepare("SELECT value FROM kv WHERE key LIKE 'brand:%' ORDER BY key")?;
        let rows = s.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<rusqlite::Result<Vec<String>>>()
    })
    .unwrap_or_default()
    .iter()
    .filter_map(|t| serde_json::from_str(t).ok())
    .collect()
}

/// Forget a kit; whether there was one.
pub fn remove(db: &StateDb, name: &str) -> bool {
    db.write("could not remove a brand kit", |tx| {
        tx.execute(
            "DELETE FROM kv WHERE key = ?1",
            [format!("{KEY_PREFIX}{}", name.to_lowercase())],
        )
    })
    .is_ok_and(|n| n > 0)
}

/// The kit a video uses: the one its instruction names, else `default`; none when the
/// instruction says "no brand" / "without the brand" / "不要品牌".
pub fn for_instruction(db: &StateDb, instruction: &str) -> Option<Brand> {
    let lower = instruction.to_lowercase();
    if [
        "no brand",
        "without the brand",
        "without brand",
        "unbranded",
        "不要品牌",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return None;
    }
    let kits = all(db);
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '-' && c != '_')
        .collect();
    kits.iter()
        .find(|b| b.name != "default" && words.contains(&b.name.to_lowercase().as_str()))
        .or_else(|| kits.iter().find(|b| b.name == "default"))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kits_are_kept_named_and_chosen_by_the_instruction() {
        let dir = tempfile::tempdir().unwrap();
        let db = StateDb::open(dir.path()).unwrap();
        let acme = Brand {
            name: "acme".into(),
            logo: Some("/m/acme-logo.png".into()),
            colors: vec!["#112233".into(), "#FFCC00".into()],
            fonts: vec!["Inter".into()],
            outro: Some("/m/acme-outro.mp4".into()),
            style: Some("bold, friendly".into()),
            ..Default::default()
        };
        save(&db, &acme).unwrap();
        save(
            &db,
            &Brand {
                name: "default".into(),
                colors: vec!["#000000".into()],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(all(&db).len(), 2);
        assert_eq!(
            for_instruction(&db, "a promo for ACME's spring sale")
                .unwrap()
                .name,
            "acme"
        );
        assert_eq!(for_instruction(&db, "a promo").unwrap().name, "default");
        assert!(for_instruction(&db, "a promo, no brand this time").is_none());
        let words = acme.words();
        assert!(
            words.contains("logo (acme-logo.png)")
                && words.contains("#112233")
                && words.contains("end with acme-outro.mp4"),
            "{words}"
        );
        assert_eq!(acme.files().len(), 2);
        assert!(remove(&db, "acme") && !remove(&db, "acme"));
        assert!(valid_name("client-2") && !valid_name("../x") && !valid_name(""));
    }
}
