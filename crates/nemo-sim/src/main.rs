//! `nemo-sim --port PORT [--time-scale F] [--variant key=value ...]`
use clap::Parser;

#[derive(Parser)]
#[command(version, about = "A stateful simulator of the NemoVideo backend API")]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Multiplies every duration (heartbeats, generation, renders): 0.01 runs 100x faster.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Response variants, e.g. envelope=success, render=data, events=simple, heartbeat=json,
    /// session_id=number, partial, snake_case, multiline, render_without_url, token_without_user,
    /// no_user_id, errors=code|status|both. Where none is given, `no_user_id` and `errors` are
    /// chosen per run (`NEMO_SIM_SEED` repeats a choice).
    #[arg(long = "variant")]
    variants: Vec<String>,
    /// Accept requests that differ from the seeds' form: extra or missing fields, missing
    /// attribution headers, files whose bytes are not their type. Strict by default.
    #[arg(long)]
    lenient: bool,
    /// Where uploads and renders are kept (a temporary directory by default).
    #[arg(long)]
    data_dir: Option<std::path::PathBuf>,
    /// A realistic render profile: each render takes LO to HI seconds (before the time scale),
    /// with uneven progress, e.g. `--render-secs 30-90` (the contract's range).
    #[arg(long, value_parser = parse_range)]
    render_secs: Option<(f64, f64)>,
    /// Credits a new anonymous user starts with (the real backend: 100).
    #[arg(long, default_value_t = 100)]
    starting_credits: i64,
    /// Use the built-in encoder even when ffmpeg is installed.
    #[arg(long)]
    builtin_renderer: bool,
    /// The origin clients reach this instance by, when a front (TLS, a reverse proxy) stands
    /// before it, e.g. `https://localhost:8443`: the URLs it hands out use it.
    #[arg(long)]
    public_url: Option<String>,
    /// With ffmpeg: render at this constant video bitrate in kbit/s (exports as large as real
    /// ones), e.g. `--render-kbps 32000` makes a 10-second export about 40 MB.
    #[arg(long)]
    render_kbps: Option<u32>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let mut config = nemo_sim::SimConfig {
        port: args.port,
        time_scale: args.time_scale,
        data_dir: args.data_dir,
        strict: !args.lenient,
        render_secs: args.render_secs,
        starting_credits: args.starting_credits,
        public_url: args.public_url.map(|u| u.trim_end_matches('/').to_string()),
        render_kbps: args.render_kbps,
        ..Default::default()
    };
    if args.builtin_renderer {
        config.renderer = nemo_sim::Renderer::Builtin;
    }
    for v in &args.variants {
        if let Err(e) = config.variants.set(v) {
            eprintln!("nemo-sim: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    nemo_sim::serve_forever(config).await
}

fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let (lo, hi) = s.split_once('-').ok_or("expected LO-HI, e.g. 30-90")?;
    let lo: f64 = lo.trim().parse().map_err(|e| format!("{lo}: {e}"))?;
    let hi: f64 = hi.trim().parse().map_err(|e| format!("{hi}: {e}"))?;
    if lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi {
        Ok((lo, hi))
    } else {
        Err("LO and HI must be numbers with 0 <= LO <= HI".into())
    }
}
