//! A usage record as the application hands it over, validated at record time so that
//! nothing MeterUsage would refuse ever reaches the journal.

use std::collections::BTreeMap;

use super::error::MeterError;

/// The largest `UsageQuantity` MeterUsage accepts (2^31-1); also the largest hour total.
pub const MAX_QUANTITY: u64 = i32::MAX as u64;
/// At most 5 tags per allocation.
pub const MAX_TAGS: usize = 5;
/// At most 2500 allocations (distinct tag sets) per MeterUsage call.
pub const MAX_TAG_SETS: usize = 2500;

/// A tag set: key to value, sorted, so equal sets compare equal.
pub type Tags = BTreeMap<String, String>;

/// One unit of usage: a dimension, a quantity and an optional tag set.
///
/// ```
/// let r = entitled::meter::UsageRecord::new("users", 3).tag("team", "a");
/// assert_eq!(r.quantity, 3);
/// assert_eq!(r.tags["team"], "a");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRecord {
    /// The pricing dimension, one the meter was configured with.
    pub dimension: String,
    /// The quantity, 0 to 2^31-1.
    pub quantity: u64,
    /// Tags for `UsageAllocations`; empty for untagged usage.
    pub tags: Tags,
}

impl UsageRecord {
    /// Usage of `quantity` for `dimension`, untagged.
    pub fn new(dimension: impl Into<String>, quantity: u64) -> Self {
        UsageRecord {
            dimension: dimension.into(),
            quantity,
            tags: Tags::new(),
        }
    }

    /// Adds a tag.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// Checks the record against the configured dimensions and MeterUsage's limits.
    pub(crate) fn validate(&self, dimensions: &[String]) -> Result<(), MeterError> {
        if !dimensions.iter().any(|d| d == &self.dimension) {
            return Err(MeterError::UnknownDimension {
                dimension: self.dimension.clone(),
                known: dimensions.join(", "),
            });
        }
        if self.quantity > MAX_QUANTITY {
            return Err(MeterError::BadQuantity(self.quantity));
        }
        if self.tags.len() > MAX_TAGS {
            return Err(MeterError::BadTags(format!(
                "{} tags; at most {MAX_TAGS} per record",
                self.tags.len()
            )));
        }
        for (k, v) in &self.tags {
            check_tag_text("key", k, 100)?;
            check_tag_text("value", v, 256)?;
        }
        Ok(())
    }
}

/// MeterUsage's tag pattern `^[a-zA-Z0-9+ -=._:\/@]+$` (` -=` is a range).
fn check_tag_text(what: &str, s: &str, max: usize) -> Result<(), MeterError> {
    let n = s.chars().count();
    let ok = (1..=max).contains(&n)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || (' '..='=').contains(&c) || "_@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(MeterError::BadTags(format!(
            "tag {what} {s:?} must be 1-{max} characters of letters, digits, space and +-=._:/@"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_checked_against_meter_usage_limits() {
        let dims = ["users".to_owned()];
        let cases: &[(UsageRecord, Option<&str>)] = &[
            (UsageRecord::new("users", 0), None),
            (
                UsageRecord::new("users", MAX_QUANTITY).tag("team", "a b/c:d@e"),
                None,
            ),
            (UsageRecord::new("hosts", 1), Some("unknown dimension")),
            (
                UsageRecord::new("users", MAX_QUANTITY + 1),
                Some("quantity"),
            ),
            (UsageRecord::new("users", 1).tag("", "a"), Some("tag key")),
            (
                UsageRecord::new("users", 1).tag("k", "ä"),
                Some("tag value"),
            ),
            (
                (0..6).fold(UsageRecord::new("users", 1), |r, i| {
                    r.tag(format!("k{i}"), "v")
                }),
                Some("6 tags"),
            ),
        ];
        for (record, expected) in cases {
            match (record.validate(&dims), expected) {
                (Ok(()), None) => {}
                (Err(e), Some(text)) => assert!(e.to_string().contains(text), "{e} vs {text}"),
                (got, want) => panic!("{record:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}
