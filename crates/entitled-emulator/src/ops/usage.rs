//! What MeterUsage and BatchMeterUsage share: quantities, allocations and the timestamp
//! window. The ledger of accepted records is in [`crate::state::ledger`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::{check_len, check_range};
pub(crate) use crate::state::meter_hours::Allocation;
use crate::wire::ServiceError;

/// MeterUsage accepts usage up to 6 hours after the event (AWS's MeterUsage reference).
pub(crate) const METER_USAGE_MAX_AGE_HOURS: u32 = 6;
/// BatchMeterUsage accepts records up to 24 hours old (AWS's BatchMeterUsage reference).
pub(crate) const BATCH_METER_USAGE_MAX_AGE_HOURS: u32 = 24;
/// How far in the future a timestamp may be (clock skew).
pub(crate) const MAX_FUTURE_SECONDS: f64 = 5.0 * 60.0;

#[derive(Debug, Deserialize)]
pub(crate) struct RawTag {
    #[serde(rename = "Key")]
    key: Option<String>,
    #[serde(rename = "Value")]
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawAllocation {
    #[serde(rename = "AllocatedUsageQuantity")]
    quantity: Option<i64>,
    #[serde(rename = "AllocatedUsageQuantityAsDecimal")]
    quantity_decimal: Option<String>,
    #[serde(rename = "Tags")]
    tags: Option<Vec<RawTag>>,
}

/// The quantity as a canonical string, so `5` and `"5"` compare equal.
pub(crate) fn quantity(
    member: &str,
    integer: Option<i64>,
    decimal: Option<&str>,
) -> Result<String, ServiceError> {
    match (integer, decimal) {
        (Some(_), Some(_)) => Err(ServiceError::validation(
            member,
            "both",
            "Member and its AsDecimal form must not both be set",
        )),
        (Some(q), None) => {
            check_range(member, q, 0, i64::from(i32::MAX))?;
            Ok(q.to_string())
        }
        (None, Some(d)) => {
            check_decimal(member, d)?;
            Ok(d.trim_end_matches(".000000").to_owned())
        }
        (None, None) => Ok("0".to_owned()),
    }
}

/// `^(0|[1-9][0-9]{0,9})(\.[0-9]{1,6})?$`, 1–17 characters.
fn check_decimal(member: &str, d: &str) -> Result<(), ServiceError> {
    check_len(member, d, 1, 17)?;
    let (int, frac) = d.split_once('.').map_or((d, None), |(i, f)| (i, Some(f)));
    let int_ok = int == "0"
        || (!int.is_empty()
            && int.len() <= 10
            && !int.starts_with('0')
            && int.bytes().all(|b| b.is_ascii_digit()));
    let frac_ok =
        frac.is_none_or(|f| (1..=6).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()));
    if int_ok && frac_ok {
        Ok(())
    } else {
        Err(ServiceError::validation(
            member,
            d,
            "Member must satisfy regular expression pattern: ^(0|[1-9][0-9]{0,9})(\\.[0-9]{1,6})?$",
        ))
    }
}

/// Tag keys and values: `^[a-zA-Z0-9+ -=._:\/@]+$` (note ` -=` is a range).
fn check_tag_text(member: &str, s: &str, max: usize) -> Result<(), ServiceError> {
    check_len(member, s, 1, max)?;
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || ('\u{20}'..='=').contains(&c) || "_@".contains(c))
    {
        Ok(())
    } else {
        Err(ServiceError::validation(
            member,
            s,
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9+ -=._:\\/@]+$",
        ))
    }
}

/// Validates allocations, checks they add up to `total` and that no two share a tag set;
/// returns them sorted by tag set (empty when there are none).
pub(crate) fn check_allocations(
    allocations: Option<&[RawAllocation]>,
    total: &str,
) -> Result<Vec<Allocation>, ServiceError> {
    let Some(allocations) = allocations else {
        return Ok(Vec::new());
    };
    if allocations.is_empty() || allocations.len() > 2500 {
        return Err(ServiceError::validation(
            "usageAllocations",
            &allocations.len().to_string(),
            "Member must have length between 1 and 2500",
        ));
    }
    let mut sum = 0f64;
    let mut checked: Vec<Allocation> = Vec::with_capacity(allocations.len());
    for a in allocations {
        let q = quantity(
            "allocatedUsageQuantity",
            a.quantity,
            a.quantity_decimal.as_deref(),
        )?;
        let q: f64 = q.parse().unwrap_or(0.0);
        sum += q;
        let mut tag_set = BTreeMap::new();
        if let Some(tags) = &a.tags {
            if tags.is_empty() || tags.len() > 5 {
                return Err(ServiceError::validation(
                    "tags",
                    &tags.len().to_string(),
                    "Member must have length between 1 and 5",
                ));
            }
            let mut keys = BTreeSet::new();
            for t in tags {
                let key = super::required("key", t.key.as_deref())?;
                let value = super::required("value", t.value.as_deref())?;
                check_tag_text("key", key, 100)?;
                check_tag_text("value", value, 256)?;
                if !keys.insert(key) {
                    return Err(ServiceError::new(
                        "InvalidTagException",
                        format!("Tag key {key} appears more than once in one allocation"),
                    ));
                }
                tag_set.insert(key.to_owned(), value.to_owned());
            }
        }
        if checked.iter().any(|c| c.tags == tag_set) {
            return Err(ServiceError::new(
                "InvalidUsageAllocationsException",
                format!("Two allocations have the same tag set {tag_set:?}; each tag set must be unique"),
            ));
        }
        checked.push(Allocation {
            tags: tag_set,
            quantity: q,
        });
    }
    let total: f64 = total.parse().unwrap_or(0.0);
    if (sum - total).abs() > 1e-6 {
        return Err(ServiceError::new(
            "InvalidUsageAllocationsException",
            format!("The sum of allocated quantities ({sum}) does not equal the usage quantity ({total})"),
        ));
    }
    checked.sort_by(|a, b| a.tags.cmp(&b.tags));
    Ok(checked)
}

/// `TimestampOutOfBoundsException` unless within the last `max_age_hours` (5 minutes of skew
/// allowed); the message states the window, since it differs between the operations.
pub(crate) fn check_timestamp(ts: f64, now: f64, max_age_hours: u32) -> Result<(), ServiceError> {
    let max_age_seconds = f64::from(max_age_hours) * 3600.0;
    if ts < now - max_age_seconds || ts > now + MAX_FUTURE_SECONDS {
        return Err(ServiceError::new(
            "TimestampOutOfBoundsException",
            format!("Timestamp {ts} is outside the allowed window: no more than {max_age_hours} hours in the past and not in the future"),
        ));
    }
    Ok(())
}

/// `InvalidUsageDimensionException` when the product restricts dimensions.
pub(crate) fn check_dimension(
    dimensions: Option<&BTreeSet<String>>,
    product: &str,
    dimension: &str,
) -> Result<(), ServiceError> {
    match dimensions {
        Some(d) if !d.contains(dimension) => Err(ServiceError::new(
            "InvalidUsageDimensionException",
            format!("Dimension {dimension} is not configured for product {product}"),
        )),
        _ => Ok(()),
    }
}
