//! The length an instruction asks for, held against a table of phrases written from the seeds'
//! languages (`tests/data/lengths.tsv`), not from the parser: what a request states is what
//! the saved file is checked against (and what a fix round asks for).

#[test]
fn the_lengths_people_ask_for_are_read() {
    let table = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lengths.tsv"),
    )
    .unwrap();
    let mut wrong = Vec::new();
    let mut rows = 0;
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (phrase, want) = line.split_once('\t').expect("phrase<TAB>seconds");
        let want = want.trim();
        let want: Option<(f64, bool)> = match want.strip_prefix("<=") {
            Some(limit) => limit.parse().ok().map(|s| (s, true)),
            None => want.parse().ok().map(|s| (s, false)),
        };
        let got = nemo_mcp::testing::asked_length(phrase).map(|a| (a.seconds, a.at_most));
        rows += 1;
        if got != want {
            wrong.push(format!("{phrase:?}: read {got:?}, asked {want:?}"));
        }
    }
    assert!(rows >= 20, "{rows} rows");
    assert!(
        wrong.is_empty(),
        "{} of {rows} read wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Music and text on the picture, as requests ask for them (`tests/data/asks.tsv`): what the
/// saved file is held against besides its length.
#[test]
fn music_and_text_asked_for_are_read() {
    let table = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/asks.tsv"),
    )
    .unwrap();
    let mut wrong = Vec::new();
    let mut rows = 0;
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let [phrase, music, text] = cols[..] else {
            panic!("phrase<TAB>music<TAB>text: {line:?}");
        };
        rows += 1;
        let got = (
            nemo_mcp::testing::asks_for_music(phrase),
            nemo_mcp::testing::asks_for_text(phrase),
        );
        let want = (music == "yes", text == "yes");
        if got != want {
            wrong.push(format!("{phrase:?}: read {got:?}, asked {want:?}"));
        }
    }
    assert!(rows >= 20, "{rows} rows");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
