//! The command line: the stdio server (default), `--http`, `doctor`, `demo`, `check`, `skill`,
//! `sim`.

pub mod brand;
pub mod check;
pub mod demo;
pub mod doctor;
pub mod output;
pub mod skill;

use crate::{app::App, config::Settings};
use clap::{Parser, Subcommand};
use nemo_client::Profile;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "nemo-mcp",
    version,
    about = "An MCP server that makes and edits videos with NemoVideo"
)]
pub struct Cli {
    /// Attribution profile: nemo-mcp, video-maker-free-website, free-video-generation-tools,
    /// maker-free or video-creator-free (also NEMO_PROFILE).
    #[arg(long, global = true, value_parser = parse_profile)]
    profile: Option<Profile>,
    /// Serve MCP over streamable HTTP on this address (e.g. 127.0.0.1:8808) instead of stdio.
    /// Every request needs `Authorization: Bearer <token>`, with the token from --token-file.
    #[arg(long)]
    http: Option<std::net::SocketAddr>,
    /// With --http: the file holding the bearer token (made, mode 0600, if missing).
    /// Default: `http-token` in the state folder.
    #[arg(long, requires = "http")]
    token_file: Option<std::path::PathBuf>,
    /// With --http: a browser origin allowed besides the loopback ones (repeatable),
    /// e.g. https://app.example.com.
    #[arg(long = "allow-origin", requires = "http")]
    allow_origins: Vec<String>,
    /// With --http: allow a non-loopback address (the bearer token still guards it).
    #[arg(long, requires = "http")]
    allow_remote: bool,
    /// Folders local files may be uploaded from, instead of NEMO_ALLOWED_DIRS (a bundle's
    /// setting arrives this way). A `${…}` a host left unexpanded is ignored; `${HOME}` is
    /// expanded.
    #[arg(long = "allowed-dirs", num_args = 0.., value_name = "DIR")]
    allowed_dirs: Vec<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Check configuration, connectivity, token, credits and folders; exit code 0 if all is well.
    Doctor,
    /// The whole quick edit against a built-in simulator: no network, no setup.
    Demo {
        /// Where to save the demo's MP4 (default: a temporary folder).
        #[arg(long)]
        output_dir: Option<std::path::PathBuf>,
    },
    /// Check a saved MP4 as an export is checked (length, picture size, sound, pictures) and
    /// print what was found as one JSON line; exit code 1 when it cannot be read.
    Check {
        /// The MP4 file.
        path: std::path::PathBuf,
    },
    /// The agent skill (how to use these tools well): `skill install --host cursor|claude-code|codex|gemini|copilot`
    /// puts it where that host loads skills from.
    Skill {
        #[command(subcommand)]
        action: SkillAction,
    },
    /// Brand kits every host's make_video uses: `brand set --name acme --logo … --colors …`,
    /// `brand show`, `brand remove --name acme`.
    Brand {
        #[command(subcommand)]
        action: BrandAction,
    },
    /// Run the NemoVideo simulator on its own (for trying things out and tests).
    Sim {
        #[arg(long, default_value_t = 8787)]
        port: u16,
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
        /// Variants as key=value (see nemo-sim --help).
        #[arg(long = "variant")]
        variants: Vec<String>,
        /// Accept requests that differ from the seeds' form (strict by default).
        #[arg(long)]
        lenient: bool,
    },
}

#[derive(Subcommand)]
enum SkillAction {
    /// Install the skill (`nemovideo/SKILL.md`) into a host's skills folder; prints its path.
    Install {
        /// The host whose skills folder it goes into.
        #[arg(long, value_enum)]
        host: skill::SkillHost,
        /// Another skills folder (a project's `.cursor/skills`, say).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// Print the skill to stdout.
    Show,
}

#[derive(Subcommand)]
enum BrandAction {
    /// Keep a kit (replacing the one of its name); prints what videos will be asked.
    Set(brand::SetArgs),
    /// Every kit.
    Show,
    /// Forget a kit.
    Remove {
        #[arg(long)]
        name: String,
    },
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    Profile::parse(s).ok_or_else(|| {
        let names: Vec<_> = Profile::ALL.iter().map(|p| p.source()).collect();
        format!("unknown profile; one of: {}", names.join(", "))
    })
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server logs its own work at info; the SDK's per-message chatter only from warn.
    let default = if cli.command.is_some() {
        "warn"
    } else {
        "info,rmcp=warn"
    };
    crate::support::logging::init(default);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nemo-mcp: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Demo { output_dir }) => return crate::cli::demo::run(output_dir).await,
        Some(Command::Skill { action }) => {
            return match action {
                SkillAction::Install { host, dir } => skill::run(host, dir),
                SkillAction::Show => output::answer(crate::mcp::skills::SKILL_MD),
            }
        }
        Some(Command::Check { path }) => {
            return tokio::task::spawn_blocking(move || check::run(&path))
                .await
                .unwrap_or(ExitCode::FAILURE)
        }
        Some(Command::Sim {
            port,
            time_scale,
            variants,
            lenient,
        }) => {
            let mut config = nemo_sim::SimConfig {
                port,
                time_scale,
                strict: !lenient,
                ..Default::default()
            };
            for v in &variants {
                if let Err(e) = config.variants.set(v) {
                    eprintln!("nemo-mcp sim: {e}");
                    return ExitCode::from(2);
                }
            }
            return nemo_sim::serve_forever(config).await;
        }
        _ => {}
    }
    let settings = match Settings::from_env(cli.profile) {
        Ok(s) => s.with_allowed_dirs_given(&cli.allowed_dirs),
        Err(e) => {
            tracing::error!("configuration: {e}");
            eprintln!("nemo-mcp: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(Command::Doctor) => return crate::cli::doctor::run(settings).await,
        Some(Command::Brand { action }) => {
            return match action {
                BrandAction::Set(a) => brand::set(&settings, a),
                BrandAction::Show => brand::show(&settings),
                BrandAction::Remove { name } => brand::remove(&settings, &name),
            }
        }
        _ => {}
    }
    let app = match App::new(settings) {
        Ok(a) => a,
        Err(e) if cli.http.is_none() => {
            // Still a server: the host lists it, and every tool says what is wrong.
            tracing::error!("starting without state: {e}");
            return match crate::mcp::serve_stdio_degraded(e).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e}");
                    ExitCode::FAILURE
                }
            };
        }
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.http {
        Some(addr) => {
            let options = crate::mcp::http::HttpOptions {
                addr,
                allow_origins: cli.allow_origins,
                token_file: cli
                    .token_file
                    .unwrap_or_else(|| app.settings.client.state_dir.join("http-token")),
                allow_remote: cli.allow_remote,
            };
            crate::run::resume_all(&app);
            crate::mcp::http::serve(app, options)
                .await
                .map_err(|e| e.to_string())
        }
        None => crate::serve_stdio(app).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
