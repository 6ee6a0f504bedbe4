//! The quick edit with the library alone, against an embedded nemo-sim:
//! upload two images, ask for a promo, read the timeline, export, download.
//!
//! `cargo run -p nemo-client --example quick_edit`

use futures_util::StreamExt;
use nemo_client::{validate, Client, Config, RenderWait, TimelineDiff, Timeouts, TurnReply};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = nemo_sim::Sim::start(nemo_sim::SimConfig::fast()).await?;
    let dir = tempfile::tempdir()?;
    let config = Config::new(sim.base_url(), dir.path().join("state"))
        .with_web_url(sim.web_url())
        .with_client_id_file(dir.path().join("client_id"))
        .with_timeouts(Timeouts::fast());
    let client = Client::new(config)?;

    let mut files = Vec::new();
    for name in ["product.png", "logo.png"] {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x02\x80\0\0\x01\xe0",
        )?;
        files.push(validate::validate_media_file(
            &path,
            client.config().profile.max_upload_bytes(),
        )?);
    }
    let project = client.create_project("en").await?.handle(&client);
    let uploaded = project.upload(&files, None).await?;
    eprintln!("uploaded {} files", uploaded.assets.len());

    let before = project.state().await?;
    let mut stream = project
        .send("combine these images into a 30-second promo video with music and text overlays")
        .await?;
    let mut reply = TurnReply::default();
    while let Some(event) = stream.next().await {
        reply.push(&event?);
    }
    let after = project.state().await?;
    eprintln!(
        "agent: {}",
        if reply.reply().is_empty() {
            "(said nothing)".into()
        } else {
            reply.reply()
        }
    );
    eprintln!(
        "changes: {}",
        TimelineDiff::between(&before.timeline, &after.timeline).describe()
    );
    eprintln!("{}", after.timeline.summary());

    let id = project.submit_render(&after.draft).await?;
    let done = client
        .wait_render(
            &id,
            &RenderWait::new(Duration::from_millis(50), Duration::from_secs(60)),
            |s| eprintln!("render: {:?} {}%", s.state, s.progress.unwrap_or(0)),
        )
        .await?;
    let dest = std::env::temp_dir().join("nemo-quick-edit.mp4");
    let bytes = client.download_render(&id, &done, &dest, |_, _| {}).await?;
    eprintln!("saved {} ({bytes} bytes)", dest.display());
    Ok(())
}
