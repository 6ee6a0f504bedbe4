//! The length an instruction asks for, held against a table of phrases written from the seeds'
//! languages (`tests/data/lengths.tsv`), not from the parser: what a request states is what
//! the saved file is checked against (and what a fix round asks for).

/// The rows of a table in `tests/data` (tab-separated; `#` lines and blank lines left out).
fn rows(name: &str) -> Vec<Vec<String>> {
    let table = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap();
    let rows: Vec<Vec<String>> = table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    assert!(rows.len() >= 20, "{name}: {} rows", rows.len());
    rows
}

#[test]
fn the_lengths_people_ask_for_are_read() {
    let rows = rows("lengths.tsv");
    let mut wrong = Vec::new();
    for row in &rows {
        let [phrase, want] = &row[..] else {
            panic!("phrase<TAB>seconds: {row:?}");
        };
        let want = want.trim();
        let want: Option<(f64, bool)> = match want.strip_prefix("<=") {
            Some(limit) => limit.parse().ok().map(|s| (s, true)),
            None => want.parse().ok().map(|s| (s, false)),
        };
        let got = nemo_mcp::testing::asked_length(phrase).map(|a| (a.seconds, a.at_most));
        if got != want {
            wrong.push(format!("{phrase:?}: read {got:?}, asked {want:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} read wrong:\n{}",
        wrong.len(),
        rows.len(),
        wrong.join("\n")
    );
}

/// Music, text on the picture and black, as requests ask for them (`tests/data/asks.tsv`):
/// what the saved file is held against besides its length.
#[test]
fn music_text_and_black_asked_for_are_read() {
    let mut wrong = Vec::new();
    for row in rows("asks.tsv") {
        let [phrase, music, text, black] = &row[..] else {
            panic!("phrase<TAB>music<TAB>text<TAB>black: {row:?}");
        };
        let got = (
            nemo_mcp::testing::asks_for_music(phrase),
            nemo_mcp::testing::asks_for_text(phrase),
            nemo_mcp::testing::asks_for_black(phrase),
        );
        let want = (music == "yes", text == "yes", black == "yes");
        if got != want {
            wrong.push(format!("{phrase:?}: read {got:?}, asked {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
