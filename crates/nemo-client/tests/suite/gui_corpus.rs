//! The GUI-wording corpus (`tests/data/gui.tsv`): every sentence is rewritten (or kept) exactly
//! as the corpus says, in English and Chinese; the corpus shares no sentence with the
//! simulator's agent, so the rules are not tuned to the simulator's phrases.

use nemo_client::gui::rewrite;

fn corpus() -> Vec<(String, String)> {
    include_str!("../data/gui.tsv")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (input, expected) = l.split_once('\t').expect("input<TAB>expected");
            let expected = if expected == "=" { input } else { expected };
            (input.to_string(), expected.to_string())
        })
        .collect()
}

fn is_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn every_corpus_sentence_reads_as_expected() {
    let rows = corpus();
    let chinese = rows.iter().filter(|(i, _)| is_chinese(i)).count();
    let rewritten = rows.iter().filter(|(i, e)| i != e).count();
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(input, expected)| {
            let got = rewrite(input);
            (&got != expected).then(|| format!("{input}\n   want: {expected}\n    got: {got}"))
        })
        .collect();
    println!(
        "GUI corpus: {} sentences ({} English, {chinese} Chinese), {rewritten} rewritten, {} kept; {} pass",
        rows.len(),
        rows.len() - chinese,
        rows.len() - rewritten,
        rows.len() - failures.len()
    );
    assert!(rows.len() >= 100 && chinese >= 30 && rows.len() - chinese >= 30);
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn the_corpus_is_not_the_simulators_phrases() {
    let agent: Vec<&str> = nemo_sim::GUI_SENTENCES
        .iter()
        .flat_map(|(en, zh)| [*en, *zh])
        .collect();
    assert!(
        agent.len() >= 20,
        "the agent's own list is larger than its first two phrases"
    );
    for (input, _) in corpus() {
        for phrase in &agent {
            assert!(
                !input.contains(phrase) && !phrase.contains(input.as_str()),
                "the corpus reuses the simulator's sentence {phrase:?}"
            );
        }
    }
    // Every agent sentence is a GUI instruction the rules rewrite.
    for phrase in &agent {
        let got = rewrite(phrase);
        println!("agent: {phrase} → {got}");
        assert_ne!(&got, phrase, "not rewritten: {phrase}");
    }
}
