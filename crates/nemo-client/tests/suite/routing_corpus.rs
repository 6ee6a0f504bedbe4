//! The routing corpus (`tests/data/routing.tsv`) must route 100%: every wholly-local request is
//! answered locally, and nothing else is.

use nemo_client::routing::{route, Intent};

#[test]
fn the_routing_corpus_routes_100_percent() {
    let corpus = include_str!("../data/routing.tsv");
    let (mut total, mut wrong) = (0, Vec::new());
    let mut langs = (0, 0);
    for line in corpus
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (expected, phrase) = line.split_once('\t').expect("expected<TAB>phrase");
        total += 1;
        if phrase
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        {
            langs.1 += 1;
        } else {
            langs.0 += 1;
        }
        let r = route(phrase);
        let got = match (r.intent, r.also_export) {
            (Intent::Agent, true) => "agent+export".to_string(),
            (i, _) => i.name().to_string(),
        };
        if got != expected {
            wrong.push(format!("{phrase:?}: expected {expected}, got {got}"));
        }
    }
    println!(
        "routing corpus: {total} phrases ({} English, {} Chinese), {} wrong",
        langs.0,
        langs.1,
        wrong.len()
    );
    assert!(total >= 80, "the corpus must hold at least 80 phrases");
    assert!(langs.1 >= 20, "and Chinese ones");
    assert!(wrong.is_empty(), "misrouted:\n{}", wrong.join("\n"));
}
