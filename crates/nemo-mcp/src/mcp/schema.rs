//! Tool schemas as a host model reads them: the common subset of OpenAI, Gemini and Anthropic
//! function declarations, and as short as the facts allow. schemars writes full JSON Schema
//! (`$ref`/`$defs`, `type: ["string","null"]`, `format: "uint64"`, `default: null`, `oneOf` of
//! documented constants); some hosts reject those and all of them cost context on every turn.
//! [`lean`] rewrites a schema into plain objects, single types and `enum`s, with every
//! description kept.

use serde_json::{Map, Value};

/// Rewrite a schema (see the module docs). Optional fields stay optional by not being
/// `required`, so `null` is never needed.
pub fn lean(schema: &Value) -> Value {
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    rewrite(schema, &defs, 0)
}

fn rewrite(v: &Value, defs: &Map<String, Value>, depth: usize) -> Value {
    let Some(obj) = v.as_object() else {
        // `true` (any value) becomes `{}`, which every host accepts.
        return if v == &Value::Bool(true) {
            Value::Object(Map::new())
        } else {
            v.clone()
        };
    };
    if depth > 32 {
        return Value::Object(Map::new());
    }
    let mut out = Map::new();
    // `$ref` is inlined, keeping the referring schema's own keys (its description).
    if let Some(target) = obj
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| defs.get(name))
    {
        if let Value::Object(inlined) = rewrite(target, defs, depth + 1) {
            out.extend(inlined);
        }
    }
    rewrite_alternatives(obj, defs, depth, &mut out);
    for (k, val) in obj {
        rewrite_key(k, val, defs, depth, &mut out);
    }
    Value::Object(out)
}

/// `anyOf`/`oneOf`: of one schema and `null`, that schema; of constants, an `enum`.
fn rewrite_alternatives(
    obj: &Map<String, Value>,
    defs: &Map<String, Value>,
    depth: usize,
    out: &mut Map<String, Value>,
) {
    for key in ["anyOf", "oneOf"] {
        if let Some(members) = obj.get(key).and_then(Value::as_array) {
            let non_null: Vec<&Value> = members
                .iter()
                .filter(|m| m.get("type") != Some(&Value::String("null".into())))
                .collect();
            if non_null.len() == 1 {
                if let Value::Object(inner) = rewrite(non_null[0], defs, depth + 1) {
                    out.extend(inner);
                }
            } else if let Some(all) = constants(&non_null) {
                out.insert("type".into(), "string".into());
                out.insert("enum".into(), Value::Array(all));
            } else {
                let kept: Vec<Value> = non_null
                    .iter()
                    .map(|m| rewrite(m, defs, depth + 1))
                    .collect();
                out.insert(key.into(), Value::Array(kept));
            }
        }
    }
}

/// One key of a schema object, rewritten into `out` (or dropped).
fn rewrite_key(
    k: &str,
    val: &Value,
    defs: &Map<String, Value>,
    depth: usize,
    out: &mut Map<String, Value>,
) {
    match k {
        "$schema" | "$defs" | "$ref" | "anyOf" | "oneOf" | "title" | "format" | "nullable" => {}
        "default" if val.is_null() => {}
        "minimum" if val == &Value::from(0) => {}
        "type" => {
            let t = match val {
                Value::Array(ts) => ts
                    .iter()
                    .find(|t| t.as_str() != Some("null"))
                    .cloned()
                    .unwrap_or(Value::String("string".into())),
                t => t.clone(),
            };
            out.insert("type".into(), t);
        }
        "properties" => {
            let props: Map<String, Value> = val
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, s)| (name.clone(), rewrite(s, defs, depth + 1)))
                .collect();
            out.insert(k.to_string(), Value::Object(props));
        }
        "items" | "additionalProperties" if val.is_object() => {
            out.insert(k.to_string(), rewrite(val, defs, depth + 1));
        }
        "enum" => {
            let kept: Vec<Value> = val
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| !e.is_null())
                .cloned()
                .collect();
            out.insert(k.to_string(), Value::Array(kept));
        }
        "const" => {
            out.insert("enum".into(), Value::Array(vec![val.clone()]));
        }
        _ => {
            out.insert(k.to_string(), val.clone());
        }
    }
}

/// The values of a `oneOf` whose members are all string constants or enums.
fn constants(members: &[&Value]) -> Option<Vec<Value>> {
    let mut all = Vec::new();
    for m in members {
        if let Some(c) = m.get("const") {
            all.push(c.clone());
        } else if let Some(e) = m.get("enum").and_then(Value::as_array) {
            all.extend(e.iter().cloned());
        } else {
            return None;
        }
    }
    (!all.is_empty()).then_some(all)
}

/// [`lean`] for an `outputSchema`: no `required` lists either (a host reads the fields; the
/// optional ones are the ones that may be missing, said in their descriptions).
pub fn lean_output(schema: &Value) -> Value {
    let mut v = lean(schema);
    strip(&mut v, "required");
    // Field names say what the fields are; docs/tools.md shows a real result of each
    // tool. Descriptions would double the schemas a model reads on every turn.
    strip(&mut v, "description");
    drop_type_beside_enum(&mut v);
    v
}

/// `{"enum": [...], "type": "string"}` says the type twice: the values are strings.
fn drop_type_beside_enum(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if o.contains_key("enum") {
                o.remove("type");
            }
            o.values_mut().for_each(drop_type_beside_enum);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_type_beside_enum),
        _ => {}
    }
}

/// Remove `key` from every schema position (never a property that happens to be named so).
fn strip(v: &mut Value, key: &str) {
    match v {
        Value::Object(o) => {
            o.remove(key);
            for (k, child) in o.iter_mut() {
                if k == "properties" {
                    for p in child
                        .as_object_mut()
                        .into_iter()
                        .flat_map(|m| m.values_mut())
                    {
                        strip(p, key);
                    }
                } else {
                    strip(child, key);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| strip(c, key)),
        _ => {}
    }
}

/// What a schema uses that the common subset does not allow, by path (empty when none).
pub fn outside_subset(v: &Value, path: &str, found: &mut Vec<String>) {
    let Some(obj) = v.as_object() else {
        found.push(format!("{path}: a boolean schema"));
        return;
    };
    for (k, val) in obj {
        let here = format!("{path}.{k}");
        match k.as_str() {
            "$ref" | "$defs" | "$schema" | "anyOf" | "oneOf" | "allOf" | "format" | "const" => {
                found.push(here)
            }
            "type" if !val.is_string() || val == "null" => found.push(here),
            "enum" if val.as_array().is_some_and(|e| e.iter().any(Value::is_null)) => {
                found.push(here)
            }
            "default" if val.is_null() => found.push(here),
            "properties" => {
                for (name, s) in val.as_object().into_iter().flatten() {
                    outside_subset(s, &format!("{here}.{name}"), found);
                }
            }
            "items" | "additionalProperties" if val.is_object() => {
                outside_subset(val, &here, found)
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_nulls_formats_and_documented_constants_are_rewritten() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": {
                "Code": {"oneOf": [
                    {"enum": ["a", "b"], "type": "string"},
                    {"const": "c", "description": "see c", "type": "string"}
                ]},
                "Err": {"type": "object", "properties": {"code": {"$ref": "#/$defs/Code"}}}
            },
            "type": "object",
            "properties": {
                "n": {"type": ["integer", "null"], "format": "uint64", "minimum": 0, "default": null},
                "e": {"anyOf": [{"$ref": "#/$defs/Err"}, {"type": "null"}], "description": "why"},
                "any": true
            }
        });
        let l = lean(&s);
        assert_eq!(
            l,
            json!({
                "type": "object",
                "properties": {
                    "n": {"type": "integer"},
                    "e": {"type": "object", "description": "why",
                          "properties": {"code": {"type": "string", "enum": ["a", "b", "c"]}}},
                    "any": {}
                }
            })
        );
        let mut found = Vec::new();
        outside_subset(&l, "s", &mut found);
        assert!(found.is_empty(), "{found:?}");
        outside_subset(&s, "s", &mut found);
        assert!(found.len() >= 4, "{found:?}");
    }
}
