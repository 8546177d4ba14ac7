//! The journal's lines, and the replay that rebuilds the book from them. One JSON object
//! per line:
//!
//! - `{"identity":ID,"product_code":CODE}` first; `{"product_code":CODE}` when a later start
//!   with no unreported usage changes the product (the last one counts);
//! - `{"h":HOUR,"r":[[DIM,QTY,{TAGS}],..]}` an accepted batch, with `"kh":HASH,"t":SECS`
//!   when it came with an idempotency key (its hash, and when it was kept);
//! - `{"h":HOUR,"d":DIM,"ts":SECS}` the report's request fixed before its first attempt;
//! - `{"h":HOUR,"d":DIM,"q":QTY,"how":"reported"|"duplicate"|"lost"}` a resolution;
//! - `{"kt0":BASE,"kt":[SECS-BASE,..],"kh":[HASH,..]}` keys kept by compaction.
//!
//! Journals written before hashes and fixed requests (`"k":KEY` and `{"h":H,"keys":[..]}`)
//! replay too: their keys are hashed, and their hours have no fixed request.

use serde_json::{json, Value};

use super::book::{Book, Resolution, SlotKey};
use super::idempotency::IdempotencyKey;
use super::keys::{from_hex, key_hash, to_hex, KeyHash};
use super::usage::{Tags, UsageRecord};

/// What replaying a journal rebuilt.
#[derive(Debug, Default)]
pub(crate) struct Replayed {
    pub identity: Option<String>,
    /// The product the journal's usage was recorded for; `None` in journals written before
    /// it was recorded.
    pub product_code: Option<String>,
    pub book: Book,
}

/// The first line: the identity the client tokens derive from, and the product.
pub(crate) fn identity_line(identity: &str, product_code: &str) -> String {
    format!(
        "{}\n",
        json!({ "identity": identity, "product_code": product_code })
    )
}

/// The product of the usage that follows.
pub(crate) fn product_line(product_code: &str) -> String {
    format!("{}\n", json!({ "product_code": product_code }))
}

/// One accepted batch, with its key's hash and time if it came with one.
pub(crate) fn usage_line(
    hour: u64,
    key: Option<(&KeyHash, u64)>,
    records: &[UsageRecord],
) -> String {
    let r: Vec<Value> = records
        .iter()
        .map(|r| json!([r.dimension, r.quantity, r.tags]))
        .collect();
    let line = match key {
        Some((k, at)) => json!({ "h": hour, "r": r, "kh": to_hex(k), "t": at }),
        None => json!({ "h": hour, "r": r }),
    };
    format!("{line}\n")
}

/// The request of a slot's report, fixed before its first attempt.
pub(crate) fn fix_line(key: &SlotKey, timestamp: u64) -> String {
    format!("{}\n", json!({ "h": key.0, "d": key.1, "ts": timestamp }))
}

/// One slot resolved up to `quantity`.
pub(crate) fn resolution_line(key: &SlotKey, quantity: u64, how: Resolution) -> String {
    format!(
        "{}\n",
        json!({ "h": key.0, "d": key.1, "q": quantity, "how": how.as_str() })
    )
}

/// Up to a chunk of kept keys, with their times as offsets from the chunk's earliest.
pub(crate) fn keys_line(keys: &[(KeyHash, u64)]) -> String {
    let base = keys.iter().map(|(_, at)| *at).min().unwrap_or(0);
    let kt: Vec<u64> = keys.iter().map(|(_, at)| at - base).collect();
    let kh: Vec<String> = keys.iter().map(|(k, _)| to_hex(k)).collect();
    format!("{}\n", json!({ "kt0": base, "kt": kt, "kh": kh }))
}

/// Rebuilds the book from complete lines; a line that does not parse is skipped (it can
/// only be a line that was never acknowledged).
pub(crate) fn replay(text: &[u8]) -> Replayed {
    let mut out = Replayed::default();
    for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        replay_line(&mut out, &v);
    }
    out
}

fn replay_line(out: &mut Replayed, v: &Value) {
    if let Some(code) = v.get("product_code").and_then(Value::as_str) {
        out.product_code = Some(code.to_owned());
    }
    if let Some(id) = v.get("identity").and_then(Value::as_str) {
        out.identity.get_or_insert_with(|| id.to_owned());
        return;
    }
    if let (Some(base), Some(kt), Some(kh)) = (
        v.get("kt0").and_then(Value::as_u64),
        v.get("kt").and_then(Value::as_array),
        v.get("kh").and_then(Value::as_array),
    ) {
        for (t, k) in kt.iter().zip(kh) {
            if let (Some(t), Some(k)) = (t.as_u64(), k.as_str().and_then(from_hex)) {
                out.book.keys.insert(k, base + t);
            }
        }
        return;
    }
    let Some(hour) = v.get("h").and_then(Value::as_u64) else {
        return;
    };
    if let Some(records) = v.get("r").and_then(Value::as_array) {
        let batch: Option<Vec<UsageRecord>> = records.iter().map(parse_record).collect();
        if let Some(batch) = batch {
            out.book.add(hour, &batch);
            let at = v.get("t").and_then(Value::as_u64).unwrap_or(hour);
            if let Some(key) = v.get("kh").and_then(Value::as_str).and_then(from_hex) {
                out.book.keys.insert(key, at);
            } else if let Some(key) = v.get("k").and_then(legacy_key) {
                out.book.keys.insert(key, at);
            }
        }
    } else if let Some(keys) = v.get("keys").and_then(Value::as_array) {
        for key in keys.iter().filter_map(legacy_key) {
            out.book.keys.insert(key, hour);
        }
    } else if let (Some(d), Some(ts)) = (
        v.get("d").and_then(Value::as_str),
        v.get("ts").and_then(Value::as_u64),
    ) {
        out.book.fix(&(hour, d.to_owned()), ts);
    } else if let (Some(d), Some(q), Some(_)) = (
        v.get("d").and_then(Value::as_str),
        v.get("q").and_then(Value::as_u64),
        v.get("how")
            .and_then(Value::as_str)
            .and_then(Resolution::parse),
    ) {
        out.book.resolve(&(hour, d.to_owned()), q);
    }
}

/// A key as journals before hashing wrote it; one that no longer validates is dropped.
fn legacy_key(v: &Value) -> Option<KeyHash> {
    IdempotencyKey::new(v.as_str()?).ok().map(|k| key_hash(&k))
}

fn parse_record(v: &Value) -> Option<UsageRecord> {
    let a = v.as_array()?;
    let tags: Tags = a
        .get(2)?
        .as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect::<Option<_>>()?;
    Some(UsageRecord {
        dimension: a.first()?.as_str()?.to_owned(),
        quantity: a.get(1)?.as_u64()?,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_before_hashes_and_fixed_requests_replays() {
        let old = concat!(
            r#"{"identity":"task-1"}"#,
            "\n",
            r#"{"h":3600,"r":[["users",2,{}]],"k":"req-1"}"#,
            "\n",
            r#"{"h":3600,"keys":["req-2"]}"#,
            "\n",
        );
        let replayed = replay(old.as_bytes());
        assert_eq!(replayed.identity.as_deref(), Some("task-1"));
        assert_eq!(replayed.product_code, None);
        for k in ["req-1", "req-2"] {
            assert!(replayed
                .book
                .keys
                .contains(&key_hash(&IdempotencyKey::new(k).unwrap())));
        }
        assert_eq!(
            replayed.book.slots[&(3600, "users".to_owned())].timestamp,
            None
        );
    }
}
