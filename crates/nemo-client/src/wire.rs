//! Lenient pieces for the serde types of the backend's bodies. The contract leaves open whether
//! a number comes as a JSON number, a float or a string, and whether an id is a string or a
//! number; these types accept every form the contract lists and turn them into one strict value,
//! so each request and answer is a plain `#[derive(Deserialize)]` type with `#[serde(alias)]`
//! for a camelCase spelling of a field (read through [`from_value`], which keeps the snake_case
//! one when both come), and separate fields, read in order, for names that differ otherwise.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Text that may arrive as a JSON string or a number (ids); empty text counts as absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Text(s)),
            Value::Number(n) => Ok(Text(n.to_string())),
            _ => Err(serde::de::Error::custom("expected text")),
        }
    }
}

/// A whole number that may arrive as an integer, a float (truncated) or numeric text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let n = v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .or_else(|| v.as_str()?.trim().parse().ok());
        n.map(Int)
            .ok_or_else(|| serde::de::Error::custom("expected a number"))
    }
}

/// A field that is dropped (as absent) when it does not parse, instead of failing the whole
/// answer: for the optional extras a backend may send in a shape we do not know.
pub fn lenient<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

/// A request body as JSON.
pub(crate) fn to_value(body: &impl Serialize) -> Result<Value> {
    serde_json::to_value(body).map_err(|e| Error::Protocol {
        message: format!("request body: {e}"),
    })
}

/// An answer's `data` as the type `T`; `what` names it in the error.
pub(crate) fn from_value<T: DeserializeOwned>(mut data: Value, what: &str) -> Result<T> {
    drop_camel_twins(&mut data);
    serde_json::from_value(data).map_err(|e| Error::Protocol {
        message: format!("{what}: unexpected shape ({e})"),
    })
}

/// Serde refuses an object that carries a field under its name and its `alias` at once
/// ("duplicate field"), which would fail a good answer from a backend that sends both
/// spellings. The contract's spelling is snake_case: when both are present, the camelCase
/// twin goes, so the aliases in this crate only ever see one of the two.
fn drop_camel_twins(data: &mut Value) {
    let Value::Object(map) = data else { return };
    let twins: Vec<String> = map
        .keys()
        .filter(|k| k.chars().any(|c| c.is_ascii_uppercase()))
        .filter(|k| map.contains_key(&snake_case(k)))
        .cloned()
        .collect();
    for k in twins {
        map.remove(&k);
    }
}

fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    struct Sample {
        #[serde(default, deserialize_with = "lenient")]
        n: Option<Int>,
        #[serde(default, deserialize_with = "lenient")]
        t: Option<Text>,
    }

    #[test]
    fn numbers_and_text_in_every_listed_form() {
        for (v, want) in [
            (json!(7), 7),
            (json!(7.9), 7),
            (json!("7"), 7),
            (json!(" 7 "), 7),
        ] {
            let s: Sample = serde_json::from_value(json!({ "n": v })).unwrap();
            assert_eq!(s.n, Some(Int(want)));
        }
        let s: Sample = serde_json::from_value(json!({"n": "many", "t": 12})).unwrap();
        assert_eq!((s.n, s.t), (None, Some(Text("12".into()))));
        let s: Sample = serde_json::from_value(json!({"t": {"x": 1}})).unwrap();
        assert_eq!(
            s.t, None,
            "an extra in an unknown shape is dropped, not fatal"
        );
    }

    #[derive(Deserialize, Debug)]
    struct Aliased {
        #[serde(default, alias = "sessionId", deserialize_with = "lenient")]
        session_id: Option<Text>,
        #[serde(default, alias = "expiresAt")]
        expires_at: Option<String>,
    }

    /// Either spelling alone is read; both at once is a good answer too (the contract's
    /// snake_case wins), not a "duplicate field" failure.
    #[test]
    fn a_field_in_both_spellings_is_not_a_duplicate() {
        let both = json!({"session_id": "1", "sessionId": "2", "expiresAt": "x"});
        let a: Aliased = from_value(both, "test").unwrap();
        assert_eq!(a.session_id, Some(Text("1".into())));
        assert_eq!(a.expires_at.as_deref(), Some("x"));
        let camel: Aliased = from_value(json!({"sessionId": 3}), "test").unwrap();
        assert_eq!(camel.session_id, Some(Text("3".into())));
        assert_eq!(snake_case("claimToken"), "claim_token");
    }
}
