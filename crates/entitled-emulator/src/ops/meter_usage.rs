//! MeterUsage: one usage record from the buyer's own account.
//!
//! Checks after validation and faults, in order: the platform rule
//! (`PlatformNotSupportedException`, as for RegisterUsage), the product
//! (`InvalidProductCodeException`, when only known products are served), entitlement
//! (`CustomerNotEntitledException`), dimension (`InvalidUsageDimensionException`, only for
//! products with dimensions configured), timestamp window of the last 6 hours
//! (`TimestampOutOfBoundsException`), allocations (`InvalidUsageAllocationsException`,
//! `InvalidTagException`), `DryRun` (a 400 `DryRunOperation` after every check above, nothing
//! recorded), client token (`IdempotencyConflictException`), and the once-per-hour rule ([`crate::state::meter_hours`]): the same caller, product, dimension
//! and UTC hour with another quantity or allocations is `DuplicateRequestException`; an
//! identical repeat returns the same `MeteringRecordId`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::usage::{self, RawAllocation};
use super::{check_len, check_product_code, from_json, required};
use crate::sigv4::Verified;
use crate::state::ledger::Recorded;
use crate::state::State;
use crate::wire::ServiceError;

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "ProductCode")]
    product_code: Option<String>,
    #[serde(rename = "Timestamp")]
    timestamp: Option<f64>,
    #[serde(rename = "UsageDimension")]
    usage_dimension: Option<String>,
    #[serde(rename = "UsageQuantity")]
    usage_quantity: Option<i64>,
    #[serde(rename = "UsageQuantityAsDecimal")]
    usage_quantity_decimal: Option<String>,
    #[serde(rename = "DryRun")]
    dry_run: Option<bool>,
    #[serde(rename = "UsageAllocations")]
    usage_allocations: Option<Vec<RawAllocation>>,
    #[serde(rename = "ClientToken")]
    client_token: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Input {
    pub product_code: String,
    timestamp: f64,
    dimension: String,
    quantity: String,
    dry_run: bool,
    allocations: Option<Vec<RawAllocation>>,
    client_token: Option<String>,
}

pub(crate) fn parse(body: &[u8]) -> Result<Input, ServiceError> {
    let raw: Raw = from_json(body)?;
    let product_code = required("productCode", raw.product_code)?;
    check_product_code(&product_code)?;
    let timestamp = required("timestamp", raw.timestamp)?;
    let dimension = required("usageDimension", raw.usage_dimension)?;
    check_len("usageDimension", &dimension, 1, 255)?;
    let quantity = usage::quantity(
        "usageQuantity",
        raw.usage_quantity,
        raw.usage_quantity_decimal.as_deref(),
    )?;
    if let Some(t) = &raw.client_token {
        check_len("clientToken", t, 1, 64)?;
    }
    Ok(Input {
        product_code,
        timestamp,
        dimension,
        quantity,
        dry_run: raw.dry_run.unwrap_or(false),
        allocations: raw.usage_allocations,
        client_token: raw.client_token,
    })
}

pub(crate) fn run(state: &State, input: Input, caller: &Verified) -> Result<Value, ServiceError> {
    let product = &input.product_code;
    if state.platform_refuses(caller) {
        return Err(ServiceError::new(
            "PlatformNotSupportedException",
            "This operation can only be called from within an ECS task or an EKS pod",
        ));
    }
    if !state.keys.serves(product) {
        return Err(ServiceError::new(
            "InvalidProductCodeException",
            format!("Product code {product} is not valid"),
        ));
    }
    if !state.entitled(product, &caller.access_key_id) {
        return Err(ServiceError::new(
            "CustomerNotEntitledException",
            format!("The customer is not entitled to product {product}"),
        ));
    }
    usage::check_dimension(state.keys.dimensions(product), product, &input.dimension)?;
    usage::check_timestamp(
        input.timestamp,
        crate::clock::now_epoch_f64(),
        usage::METER_USAGE_MAX_AGE_HOURS,
    )?;
    let allocations = usage::check_allocations(input.allocations.as_deref(), &input.quantity)?;
    // AWS promises only the permission check for DryRun; this one has run every check a
    // real call runs before it records anything, so a mistake shows before usage is at stake.
    if input.dry_run {
        return Err(ServiceError::new(
            "DryRunOperation",
            "Request would have succeeded, but the DryRun flag is set",
        ));
    }
    let fingerprint = format!(
        "{product}\n{}\n{}\n{}\n{allocations:?}",
        input.dimension, input.timestamp, input.quantity
    );
    if let Some(token) = &input.client_token {
        if let Some(id) = state.ledger.client_token(token, &fingerprint)? {
            return Ok(json!({ "MeteringRecordId": id }));
        }
    }
    match state.meter_hours.record(
        product,
        &caller.access_key_id,
        &input.dimension,
        input.timestamp,
        input.quantity.parse().unwrap_or(0.0),
        allocations,
    ) {
        Recorded::Accepted(id) => {
            if let Some(token) = &input.client_token {
                state.ledger.remember_client_token(token, &fingerprint, &id);
            }
            Ok(json!({ "MeteringRecordId": id }))
        }
        Recorded::Duplicate => Err(ServiceError::new(
            "DuplicateRequestException",
            "A metering record for this product, dimension and hour already exists with a different quantity",
        )),
    }
}
