//! `POST /v1/usage` bodies: one record `{"dimension": "users", "quantity": 3, "tags": {...}}`
//! or an array of them, parsed strictly so a bad record gets a one-line reason.

use entitled::meter::{UsageRecord, MAX_QUANTITY};
use serde_json::Value;

/// Parses a body into records; the error is the reason for a `400`.
pub fn parse(body: &[u8]) -> Result<Vec<UsageRecord>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let records = match value {
        Value::Array(items) if items.is_empty() => {
            return Err("the array of records is empty".into())
        }
        Value::Array(items) => items,
        one @ Value::Object(_) => vec![one],
        _ => return Err("give a record object or an array of record objects".into()),
    };
    records
        .iter()
        .enumerate()
        .map(|(i, v)| record(v).map_err(|e| format!("record {i}: {e}")))
        .collect()
}

fn record(v: &Value) -> Result<UsageRecord, String> {
    let obj = v.as_object().ok_or("a record must be a JSON object")?;
    if let Some(k) = obj
        .keys()
        .find(|k| !["dimension", "quantity", "tags"].contains(&k.as_str()))
    {
        return Err(format!(
            "unknown field {k:?}; a record has dimension, quantity and tags"
        ));
    }
    let dimension = obj
        .get("dimension")
        .and_then(Value::as_str)
        .ok_or("dimension must be a string")?;
    let quantity = obj
        .get("quantity")
        .and_then(Value::as_u64)
        .filter(|q| *q <= MAX_QUANTITY)
        .ok_or("quantity must be an integer from 0 to 2147483647")?;
    let mut record = UsageRecord::new(dimension, quantity);
    match obj.get("tags") {
        None | Some(Value::Null) => {}
        Some(Value::Object(tags)) => {
            for (k, v) in tags {
                let v = v
                    .as_str()
                    .ok_or_else(|| format!("tag {k:?}: values must be strings"))?;
                record = record.tag(k, v);
            }
        }
        Some(_) => return Err("tags must be an object of string values".into()),
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_and_their_reasons() {
        let one = parse(br#"{"dimension":"users","quantity":3,"tags":{"team":"a"}}"#).unwrap();
        assert_eq!(one, [UsageRecord::new("users", 3).tag("team", "a")]);
        let two = parse(
            br#"[{"dimension":"users","quantity":0},{"dimension":"hosts","quantity":2147483647}]"#,
        )
        .unwrap();
        assert_eq!(two.len(), 2);
        for (body, reason) in [
            (
                &br#"{"dimension":"users","quantity":-1}"#[..],
                "quantity must be",
            ),
            (
                br#"{"dimension":"users","quantity":1.5}"#,
                "quantity must be",
            ),
            (
                br#"{"dimension":"users","quantity":2147483648}"#,
                "quantity must be",
            ),
            (br#"{"dimension":"users"}"#, "quantity must be"),
            (br#"{"quantity":1}"#, "dimension must be"),
            (
                br#"{"dimension":"users","quantity":1,"tags":{"a":1}}"#,
                "values must be strings",
            ),
            (
                br#"{"dimension":"users","quantity":1,"extra":1}"#,
                "unknown field",
            ),
            (br#"[]"#, "empty"),
            (br#"[{"dimension":"users","quantity":1}, 7]"#, "record 1"),
            (b"nope", "not JSON"),
        ] {
            let err = parse(body).unwrap_err();
            assert!(
                err.contains(reason),
                "{}: {err}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
