//! `nemo-mcp brand set|show|remove`: the user's brand kits (`project::brand`), kept in the
//! shared state folder for every host. Files must lie in the folders uploads may come from
//! (`NEMO_ALLOWED_DIRS`), as an upload's would: checked now, and again when a video uses them.

use crate::config::Settings;
use crate::project::brand::{self, Brand};
use std::path::PathBuf;
use std::process::ExitCode;

/// What `brand set` is given.
#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// The kit's name (`default` is used when an instruction names no kit).
    #[arg(long, default_value = "default")]
    pub name: String,
    #[arg(long)]
    pub logo: Option<PathBuf>,
    /// Colours, comma-separated ("#112233,#FFCC00").
    #[arg(long, value_delimiter = ',')]
    pub colors: Vec<String>,
    /// Fonts by name, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub fonts: Vec<String>,
    #[arg(long)]
    pub intro: Option<PathBuf>,
    #[arg(long)]
    pub outro: Option<PathBuf>,
    /// A short style text ("bold, friendly, lots of white space").
    #[arg(long)]
    pub style: Option<String>,
}

fn db(settings: &Settings) -> Result<crate::state::StateDb, String> {
    crate::state::StateDb::open(&settings.client.state_dir)
}

/// A file of the kit, through the upload policy: its resolved path.
fn checked(settings: &Settings, p: &Option<PathBuf>) -> Result<Option<PathBuf>, String> {
    let Some(p) = p else { return Ok(None) };
    crate::files::paths::resolve_input(&p.to_string_lossy(), &crate::app::input_policy(settings))
        .map(Some)
        .map_err(|why| {
            format!(
                "{}: {why} (set NEMO_ALLOWED_DIRS to include its folder)",
                p.display()
            )
        })
}

pub fn set(settings: &Settings, a: SetArgs) -> ExitCode {
    let made = (|| -> Result<Brand, String> {
        if !brand::valid_name(&a.name) {
            return Err(format!(
                "{:?} is no kit name (letters, digits, - and _, at most 40)",
                a.name
            ));
        }
        let clean = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty() && s.len() <= 60)
                .collect()
        };
        let b = Brand {
            name: a.name.to_lowercase(),
            logo: checked(settings, &a.logo)?,
            colors: clean(a.colors),
            fonts: clean(a.fonts),
            intro: checked(settings, &a.intro)?,
            outro: checked(settings, &a.outro)?,
            style: a.style.map(|s| s.chars().take(300).collect()),
        };
        brand::save(&db(settings)?, &b)?;
        Ok(b)
    })();
    match made {
        Ok(b) => super::output::answer(&b.words()),
        Err(why) => {
            eprintln!("nemo-mcp brand: {why}");
            ExitCode::FAILURE
        }
    }
}

pub fn show(settings: &Settings) -> ExitCode {
    match db(settings) {
        Ok(db) => {
            let kits: Vec<String> = brand::all(&db).iter().map(|b| b.words()).collect();
            if kits.is_empty() {
                ExitCode::SUCCESS
            } else {
                super::output::answer(&kits.join("\n"))
            }
        }
        Err(why) => {
            eprintln!("nemo-mcp brand: {why}");
            ExitCode::FAILURE
        }
    }
}

pub fn remove(settings: &Settings, name: &str) -> ExitCode {
    match db(settings).map(|db| brand::remove(&db, name)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("nemo-mcp brand: no kit {name:?}");
            ExitCode::FAILURE
        }
        Err(why) => {
            eprintln!("nemo-mcp brand: {why}");
            ExitCode::FAILURE
        }
    }
}
