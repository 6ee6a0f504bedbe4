//! Stretches of a saved video that a person would want to know about before sharing it: black
//! pictures, a picture that does not change, no sound. Found by decoding the file (its pictures
//! in `previews::contact_sheet`, its sound in `sound`), kept as facts (the result's structured
//! content, the journal) and said as sentences; what they mean against what was asked is
//! decided where the file is held against the request (`run::held`).

use crate::support::clock;
use serde::{Deserialize, Serialize};

/// What a stretch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StretchKind {
    /// Black pictures for a second or more.
    Black,
    /// One picture, unchanged, for ten seconds or more.
    Still,
    /// No sound for five seconds or more in a sound track that is not silent throughout.
    Quiet,
}

/// One stretch, from `from_s` to `to_s` seconds into the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stretch {
    pub kind: StretchKind,
    pub from_s: f64,
    pub to_s: f64,
}

impl Stretch {
    pub fn new(kind: StretchKind, from_s: f64, to_s: f64) -> Stretch {
        Stretch {
            kind,
            from_s: round1(from_s),
            to_s: round1(to_s),
        }
    }

    /// The stretch as a sentence ("The picture is black from 0:09 to 0:20.").
    pub fn said(&self) -> String {
        let p = self.phrase();
        let mut c = p.chars();
        match c.next() {
            Some(first) => format!("{}{}.", first.to_uppercase(), c.as_str()),
            None => p,
        }
    }

    /// The stretch as a phrase, to go into a list ("the picture is black from 0:09 to 0:20").
    pub fn phrase(&self) -> String {
        let (a, b) = (clock(self.from_s), clock(self.to_s));
        match self.kind {
            StretchKind::Black => format!("the picture is black from {a} to {b}"),
            StretchKind::Still => format!("the picture does not change from {a} to {b}"),
            StretchKind::Quiet => format!("no sound from {a} to {b}"),
        }
    }

    /// Where it is, as people read times in a video ("0:09–0:20").
    pub fn span(&self) -> String {
        format!("{}–{}", clock(self.from_s), clock(self.to_s))
    }
}

fn round1(s: f64) -> f64 {
    (s * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stretch_is_said_as_people_read_times() {
        let s = Stretch::new(StretchKind::Black, 9.04, 20.0);
        assert_eq!(s.said(), "The picture is black from 0:09 to 0:20.");
        assert_eq!(s.phrase(), "the picture is black from 0:09 to 0:20");
        assert_eq!(s.span(), "0:09–0:20");
        assert_eq!(
            Stretch::new(StretchKind::Quiet, 61.0, 67.0).said(),
            "No sound from 1:01 to 1:07."
        );
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#"{"kind":"black","from_s":9.0,"to_s":20.0}"#);
    }
}
