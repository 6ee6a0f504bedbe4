//! A brand kit set once is every host's: set with `nemo-mcp brand set` on the shared state
//! folder, then used by another host's `make_video` (its logo uploaded with the media, its
//! words in the instruction, shown in the quote), left out when the instruction says so or
//! `brand: false`.
//! Counted on nemo-sim: paid messages and credits.

use e2e::world::World;
use e2e::{call, follow};
use nemo_sim::SimConfig;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brand_set_in_one_place_is_used_by_another_host_s_make_video() {
    let mut sim = SimConfig::fast();
    sim.starting_credits = 500;
    let w = World::new(sim).await;
    let logo = w.media("acme-logo.png");
    // Set as the user does, on the state folder every host shares.
    let set = std::process::Command::new(e2e::binary())
        .args([
            "brand",
            "set",
            "--name",
            "acme",
            "--logo",
            &logo,
            "--colors",
            "#112233,#FFCC00",
            "--fonts",
            "Inter",
            "--style",
            "bold, friendly",
        ])
        .env("HOME", w.home.path())
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("NEMO_STATE_DIR")
        .env("NEMO_ALLOWED_DIRS", w.path("media"))
        .output()
        .unwrap();
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    assert!(
        String::from_utf8_lossy(&set.stdout).contains("brand acme: put the logo (acme-logo.png)")
    );
    // A file outside the allowed folders is refused when set.
    let outside = std::process::Command::new(e2e::binary())
        .args(["brand", "set", "--name", "evil", "--logo", "/etc/hostname"])
        .env("HOME", w.home.path())
        .env_remove("XDG_CONFIG_HOME")
        .env("NEMO_ALLOWED_DIRS", w.path("media"))
        .output()
        .unwrap();
    assert!(!outside.status.success());
    // Another host: it knows the kit, and its make_video for Acme carries it.
    let b = w.host(&[]).await;
    let (c, _) = call(&b.client, "connect", json!({})).await;
    assert!(c["brands"].to_string().contains("brand acme"), "{c}");
    let photo = w.media("p1.png");
    let (quote, refused) = call(
        &b.client,
        "make_video",
        json!({"instruction": "a 10-second promo for Acme with music", "paths": [photo], "max_credits": 1}),
    )
    .await;
    assert!(
        refused && quote.to_string().contains("brand acme"),
        "the quote shows the kit: {quote}"
    );
    let (v, err) = call(
        &b.client,
        "make_video",
        json!({"instruction": "a 10-second promo for Acme with music", "paths": [photo], "wait_s": 0, "confirm": true}),
    )
    .await;
    assert!(!err, "{v}");
    let (done, _) = follow(&b.client, v).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let messages = w.sim.control().messages();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].contains("brand acme") && messages[0].contains("#112233"),
        "{}",
        messages[0]
    );
    assert_eq!(
        done["result"]["uploaded"], 2,
        "the photo and the logo: {done}"
    );
    // Without the brand, when the instruction says so.
    let (v, _) = call(
        &b.client,
        "make_video",
        json!({"instruction": "a 10-second teaser, no brand", "paths": [photo], "wait_s": 0, "confirm": true}),
    )
    .await;
    let (done, _) = follow(&b.client, v).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let messages = w.sim.control().messages();
    assert!(!messages[1].contains("brand acme"), "{}", messages[1]);
    // Without the brand by the parameter, whatever the instruction says.
    let (v, _) = call(
        &b.client,
        "make_video",
        json!({"instruction": "a 10-second teaser for Acme", "paths": [photo], "wait_s": 0, "confirm": true, "brand": false}),
    )
    .await;
    let (done, _) = follow(&b.client, v).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let messages = w.sim.control().messages();
    assert!(!messages[2].contains("brand acme"), "{}", messages[2]);
    // `brand: true` with the only kit not named: that kit (shown in the quote; nothing sent).
    let (quote, refused) = call(
        &b.client,
        "make_video",
        json!({"instruction": "a 10-second teaser", "paths": [photo], "max_credits": 1, "brand": true}),
    )
    .await;
    assert!(
        refused && quote.to_string().contains("brand acme"),
        "{quote}"
    );
    let (m, credits, _) = w.counts();
    assert_eq!((m, credits), (3, 150));
}
