//! The meter's in-memory state, rebuilt from the journal on start: usage per (UTC hour,
//! dimension, tag set), the request fixed for each report, which hours are resolved
//! (reported, or written off as lost), and the idempotency keys of the window.
//!
//! A slot is frozen once its request is fixed (its first MeterUsage attempt): every retry,
//! in this process or after a restart, must be the same request, so usage recorded for a
//! frozen hour goes to the next hour of its dimension that is still open (AWS takes one
//! report per hour; carried forward, the usage is still billed).

use std::collections::BTreeMap;

use super::keys::KeyWindow;
use super::usage::{Tags, UsageRecord, MAX_QUANTITY, MAX_TAG_SETS};
use super::MeterError;

/// An hour slot's key: the hour's first second and the dimension.
pub(crate) type SlotKey = (u64, String);

/// One dimension's usage in one hour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Slot {
    /// Quantity per tag set (the empty set is untagged usage).
    pub by_tags: BTreeMap<Tags, u64>,
    /// The sum of `by_tags`.
    pub total: u64,
    /// The quantity already reported or written off, once the hour is resolved.
    pub resolved: Option<u64>,
    /// The `Timestamp` fixed at the first attempt; from then on the slot takes no usage.
    pub timestamp: Option<u64>,
}

impl Slot {
    /// True while some usage has not been reported or written off.
    pub fn pending(&self) -> bool {
        self.resolved.is_none_or(|r| self.total > r)
    }

    /// True once the slot's request is fixed or it is resolved: it takes no more usage.
    pub fn frozen(&self) -> bool {
        self.timestamp.is_some() || self.resolved.is_some()
    }
}

/// How a slot was resolved, as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// MeterUsage accepted it.
    Reported,
    /// AWS already had another quantity for that hour (`DuplicateRequestException`).
    Duplicate,
    /// It can no longer be sent (window passed, or refused for good).
    Lost,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Reported => "reported",
            Resolution::Duplicate => "duplicate",
            Resolution::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "reported" => Resolution::Reported,
            "duplicate" => Resolution::Duplicate,
            "lost" => Resolution::Lost,
            _ => return None,
        })
    }
}

/// All slots, by hour then dimension.
#[derive(Debug, Default)]
pub(crate) struct Book {
    pub slots: BTreeMap<SlotKey, Slot>,
    /// The idempotency keys of the window.
    pub keys: KeyWindow,
}

impl Book {
    /// The hour that usage for `dimension` recorded in `hour` goes to: the first hour from
    /// `hour` on whose report is not fixed yet.
    pub fn open_hour(&self, hour: u64, dimension: &str) -> u64 {
        let mut h = hour;
        // Clones the dimension only when a slot is frozen, which is rare.
        while self
            .slots
            .get(&(h, dimension.to_owned()))
            .is_some_and(Slot::frozen)
        {
            h += 3600;
        }
        h
    }

    /// True while some usage is neither reported nor written off.
    pub fn has_pending(&self) -> bool {
        self.slots.values().any(Slot::pending)
    }

    /// Checks that a batch fits: no hour total above 2^31-1 and at most 2500 tag sets.
    pub fn check(&self, hour: u64, records: &[UsageRecord]) -> Result<(), MeterError> {
        let mut added: BTreeMap<&str, (u64, Vec<&Tags>)> = BTreeMap::new();
        for r in records {
            let e = added.entry(&r.dimension).or_default();
            e.0 += r.quantity;
            e.1.push(&r.tags);
        }
        for (dimension, (quantity, tag_sets)) in added {
            let hour = self.open_hour(hour, dimension);
            let slot = self.slots.get(&(hour, dimension.to_owned()));
            let total = slot.map_or(0, |s| s.total);
            if total + quantity > MAX_QUANTITY {
                return Err(MeterError::HourOverflow {
                    dimension: dimension.to_owned(),
                });
            }
            let mut sets: Vec<&Tags> = slot.map(|s| s.by_tags.keys().collect()).unwrap_or_default();
            for t in tag_sets {
                if !sets.contains(&t) {
                    sets.push(t);
                }
            }
            if sets.len() > MAX_TAG_SETS {
                return Err(MeterError::TooManyTagSets(dimension.to_owned()));
            }
        }
        Ok(())
    }

    /// Adds a batch; returns the hour each record went to, for [`Book::remove`].
    pub fn add(&mut self, hour: u64, records: &[UsageRecord]) -> Vec<u64> {
        records
            .iter()
            .map(|r| {
                let hour = self.open_hour(hour, &r.dimension);
                let slot = self.slots.entry((hour, r.dimension.clone())).or_default();
                *slot.by_tags.entry(r.tags.clone()).or_default() += r.quantity;
                slot.total += r.quantity;
                hour
            })
            .collect()
    }

    /// Takes back a batch whose journal write failed, from the hours [`Book::add`] gave.
    pub fn remove(&mut self, hours: &[u64], records: &[UsageRecord]) {
        for (hour, r) in hours.iter().zip(records) {
            let key = (*hour, r.dimension.clone());
            if let Some(slot) = self.slots.get_mut(&key) {
                if let Some(q) = slot.by_tags.get_mut(&r.tags) {
                    *q -= r.quantity;
                }
                slot.total -= r.quantity;
                slot.by_tags.retain(|_, q| *q > 0);
                if slot.total == 0 && slot.by_tags.is_empty() && !slot.frozen() {
                    self.slots.remove(&key);
                }
            }
        }
    }

    /// Marks `quantity` of a slot as resolved.
    pub fn resolve(&mut self, key: &SlotKey, quantity: u64) {
        if let Some(slot) = self.slots.get_mut(key) {
            slot.resolved = Some(slot.resolved.unwrap_or(0).max(quantity));
        }
    }

    /// Fixes a slot's request at its first attempt; a later fix keeps the first. True if
    /// this call fixed it.
    pub fn fix(&mut self, key: &SlotKey, timestamp: u64) -> bool {
        match self.slots.get_mut(key) {
            Some(slot) if slot.timestamp.is_none() => {
                slot.timestamp = Some(timestamp);
                true
            }
            _ => false,
        }
    }

    /// Takes back a fix whose journal write failed.
    pub fn unfix(&mut self, key: &SlotKey) {
        if let Some(slot) = self.slots.get_mut(key) {
            slot.timestamp = None;
        }
    }

    /// Forgets resolved slots of hours before `oldest_hour`: they can never be sent again.
    pub fn forget_before(&mut self, oldest_hour: u64) {
        self.slots
            .retain(|(hour, _), slot| *hour >= oldest_hour || slot.pending());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_per_hour_dimension_and_tag_set_and_overflow_is_refused() {
        let mut book = Book::default();
        let batch = [
            UsageRecord::new("users", 2).tag("team", "a"),
            UsageRecord::new("users", 3),
            UsageRecord::new("users", 4).tag("team", "a"),
        ];
        book.check(3600, &batch).unwrap();
        book.add(3600, &batch);
        let slot = &book.slots[&(3600, "users".to_owned())];
        assert_eq!(slot.total, 9);
        assert_eq!(slot.by_tags.len(), 2);
        assert!(slot.pending());
        let huge = [UsageRecord::new("users", MAX_QUANTITY - 8)];
        assert!(matches!(
            book.check(3600, &huge),
            Err(MeterError::HourOverflow { .. })
        ));
        book.check(7200, &huge).unwrap();
        book.resolve(&(3600, "users".to_owned()), 9);
        assert!(!book.slots[&(3600, "users".to_owned())].pending());
        book.forget_before(7200);
        assert!(book.slots.is_empty());
    }

    #[test]
    fn usage_for_a_fixed_hour_goes_to_the_next_open_hour() {
        let mut book = Book::default();
        book.add(3600, &[UsageRecord::new("users", 2)]);
        book.fix(&(3600, "users".to_owned()), 3700);
        book.check(3600, &[UsageRecord::new("users", 5)]).unwrap();
        let hours = book.add(
            3600,
            &[UsageRecord::new("users", 5), UsageRecord::new("hosts", 1)],
        );
        assert_eq!(hours, [7200, 3600]);
        let users = &book.slots[&(3600, "users".to_owned())];
        assert_eq!((users.total, users.timestamp), (2, Some(3700)), "frozen");
        assert_eq!(book.slots[&(7200, "users".to_owned())].total, 5, "carried");
        assert_eq!(
            book.slots[&(3600, "hosts".to_owned())].total,
            1,
            "other dimensions stay"
        );
        book.remove(&hours[..1], &[UsageRecord::new("users", 5)]);
        assert!(!book.slots.contains_key(&(7200, "users".to_owned())));
        assert_eq!(book.slots[&(3600, "users".to_owned())].total, 2);
    }
}
