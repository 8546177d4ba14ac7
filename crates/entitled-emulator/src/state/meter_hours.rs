//! MeterUsage's once-per-hour rule for container products: one record per caller identity
//! (the task's or pod's credentials), product, dimension and UTC hour, and the usage totals
//! `GET /_emulator/usage` reports.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::ledger::Recorded;
use crate::wire::request_id;

/// One validated allocation (`ops::usage` validates them): its tag set (empty for untagged usage) and quantity.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Allocation {
    pub tags: BTreeMap<String, String>,
    pub quantity: f64,
}

/// An hour slot: product, caller (access key id), dimension and the hour's start (epoch
/// seconds).
type HourKey = (String, String, String, u64);

/// What was accepted for an hour slot.
#[derive(Debug)]
struct HourRecord {
    quantity: f64,
    allocations: Vec<Allocation>,
    id: String,
}

/// Accepted MeterUsage records, one per hour slot.
#[derive(Debug, Default)]
pub(crate) struct MeterHours {
    records: Mutex<HashMap<HourKey, HourRecord>>,
}

/// The UTC hour (its first second) that contains `ts`.
pub(crate) fn hour_of(ts: f64) -> u64 {
    let secs = ts.floor().max(0.0) as u64;
    secs - secs % 3600
}

impl MeterHours {
    /// Records usage for the hour containing `ts`. An identical record (same quantity and
    /// allocations) returns the first record's id; anything else for a reported hour is
    /// [`Recorded::Duplicate`], because AWS allows one report per dimension, hour and task.
    pub fn record(
        &self,
        product: &str,
        caller: &str,
        dimension: &str,
        ts: f64,
        quantity: f64,
        allocations: Vec<Allocation>,
    ) -> Recorded {
        let key = (
            product.to_owned(),
            caller.to_owned(),
            dimension.to_owned(),
            hour_of(ts),
        );
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        match records.get(&key) {
            Some(r) if r.quantity == quantity && r.allocations == allocations => {
                Recorded::Accepted(r.id.clone())
            }
            Some(_) => Recorded::Duplicate,
            None => {
                let id = request_id();
                records.insert(
                    key,
                    HourRecord {
                        quantity,
                        allocations,
                        id: id.clone(),
                    },
                );
                Recorded::Accepted(id)
            }
        }
    }

    /// Totals per product, caller, dimension, hour and tag set, sorted. A record without
    /// allocations counts as one untagged total.
    pub fn totals(&self) -> Vec<UsageTotal> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let mut sums: BTreeMap<(HourKey, Vec<(String, String)>), f64> = BTreeMap::new();
        for (key, r) in records.iter() {
            if r.allocations.is_empty() {
                *sums.entry((key.clone(), Vec::new())).or_default() += r.quantity;
            }
            for a in &r.allocations {
                let tags = a.tags.clone().into_iter().collect();
                *sums.entry((key.clone(), tags)).or_default() += a.quantity;
            }
        }
        sums.into_iter()
            .map(
                |(((product_code, caller, dimension, hour), tags), quantity)| UsageTotal {
                    product_code,
                    caller,
                    dimension,
                    hour,
                    tags: tags.into_iter().collect(),
                    quantity,
                },
            )
            .collect()
    }
}

/// The usage one caller reported for one product, dimension, hour and tag set; the rows of
/// `GET /_emulator/usage` and [`crate::Emulator::usage`].
///
/// # Example
/// ```
/// let row: entitled_emulator::UsageTotal = serde_json::from_str(
///     r#"{"product_code":"p","caller":"AKIA1","dimension":"users","hour":3600,
///         "tags":{"team":"a"},"quantity":3.0}"#).unwrap();
/// assert_eq!(row.tags["team"], "a");
/// assert_eq!(row.quantity, 3.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageTotal {
    /// The product code.
    pub product_code: String,
    /// The caller's access key id (one per task or pod credentials).
    pub caller: String,
    /// The usage dimension.
    pub dimension: String,
    /// The hour's first second, in seconds since the Unix epoch (UTC).
    pub hour: u64,
    /// The allocation's tags; empty for untagged usage.
    pub tags: BTreeMap<String, String>,
    /// The quantity reported.
    pub quantity: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alloc(team: &str, q: f64) -> Allocation {
        Allocation {
            tags: [("team".to_owned(), team.to_owned())].into(),
            quantity: q,
        }
    }

    #[test]
    fn one_record_per_caller_product_dimension_and_hour() {
        let hours = MeterHours::default();
        let Recorded::Accepted(id) = hours.record("p", "A", "users", 7200.0, 3.0, vec![]) else {
            panic!("first record refused")
        };
        // Same hour, same quantity, another second: the same record.
        assert_eq!(
            hours.record("p", "A", "users", 10799.0, 3.0, vec![]),
            Recorded::Accepted(id.clone())
        );
        // Same hour, another quantity or allocation: duplicate.
        assert_eq!(
            hours.record("p", "A", "users", 7300.0, 4.0, vec![]),
            Recorded::Duplicate
        );
        assert_eq!(
            hours.record("p", "A", "users", 7300.0, 3.0, vec![alloc("a", 3.0)]),
            Recorded::Duplicate
        );
        // Another caller, dimension or hour is a slot of its own.
        for (caller, dimension, ts) in [
            ("B", "users", 7200.0),
            ("A", "hosts", 7200.0),
            ("A", "users", 10800.0),
        ] {
            assert!(matches!(
                hours.record("p", caller, dimension, ts, 4.0, vec![alloc("a", 1.0), alloc("b", 3.0)]),
                Recorded::Accepted(other) if other != id
            ));
        }
        let totals = hours.totals();
        assert_eq!(totals.len(), 1 + 3 * 2);
        let untagged: Vec<_> = totals.iter().filter(|t| t.tags.is_empty()).collect();
        assert_eq!(untagged.len(), 1);
        assert_eq!((untagged[0].hour, untagged[0].quantity), (7200, 3.0));
        let sum_b: f64 = totals
            .iter()
            .filter(|t| t.tags.get("team").map(String::as_str) == Some("b"))
            .map(|t| t.quantity)
            .sum();
        assert_eq!(sum_b, 9.0);
    }
}
