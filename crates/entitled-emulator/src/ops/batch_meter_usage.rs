//! BatchMeterUsage: up to 25 usage records for SaaS customers.
//!
//! Request-level checks after validation and faults: dimensions
//! (`InvalidUsageDimensionException`), every timestamp in the window of the last 24 hours
//! (`TimestampOutOfBoundsException`), allocations. Then per record: `CustomerNotSubscribed` if
//! the product is denied or the customer is denied; `DuplicateRecord` for the same product,
//! customer, dimension and timestamp with another quantity; else `Success` (the same record id
//! for an identical repeat). The `unprocessed` fault returns every record in
//! `UnprocessedRecords` instead.

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
    #[serde(rename = "UsageRecords")]
    usage_records: Option<Vec<Value>>,
}

#[derive(Deserialize)]
struct RawRecord {
    #[serde(rename = "Timestamp")]
    timestamp: Option<f64>,
    #[serde(rename = "CustomerIdentifier")]
    customer_identifier: Option<String>,
    #[serde(rename = "CustomerAWSAccountId")]
    customer_aws_account_id: Option<String>,
    #[serde(rename = "Dimension")]
    dimension: Option<String>,
    #[serde(rename = "Quantity")]
    quantity: Option<i64>,
    #[serde(rename = "QuantityAsDecimal")]
    quantity_decimal: Option<String>,
    #[serde(rename = "UsageAllocations")]
    usage_allocations: Option<Vec<RawAllocation>>,
    #[serde(rename = "LicenseArn")]
    license_arn: Option<String>,
}

#[derive(Debug)]
struct Record {
    /// The record as sent, echoed in the result.
    raw: Value,
    timestamp: f64,
    customer: String,
    dimension: String,
    quantity: String,
    allocations: Option<Vec<RawAllocation>>,
}

#[derive(Debug)]
pub(crate) struct Input {
    /// Optional in the current model (records may name a `LicenseArn` instead); empty if absent.
    pub product_code: String,
    records: Vec<Record>,
}

pub(crate) fn parse(body: &[u8]) -> Result<Input, ServiceError> {
    let raw: Raw = from_json(body)?;
    let product_code = raw.product_code.unwrap_or_default();
    if !product_code.is_empty() {
        check_product_code(&product_code)?;
    }
    let records = required("usageRecords", raw.usage_records)?;
    if records.len() > 25 {
        return Err(ServiceError::validation(
            "usageRecords",
            &records.len().to_string(),
            "Member must have length less than or equal to 25",
        ));
    }
    let records = records
        .into_iter()
        .map(parse_record)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Input {
        product_code,
        records,
    })
}

fn parse_record(raw: Value) -> Result<Record, ServiceError> {
    let r: RawRecord = serde_json::from_value(raw.clone()).map_err(ServiceError::serialization)?;
    let timestamp = required("timestamp", r.timestamp)?;
    let dimension = required("dimension", r.dimension)?;
    check_len("dimension", &dimension, 1, 255)?;
    let quantity = usage::quantity("quantity", r.quantity, r.quantity_decimal.as_deref())?;
    let customer = match (r.customer_identifier, r.customer_aws_account_id) {
        (Some(c), None) => {
            check_len("customerIdentifier", &c, 0, 255)?;
            c
        }
        (None, Some(a)) => {
            check_len("customerAWSAccountId", &a, 1, 255)?;
            if !a.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ServiceError::validation(
                    "customerAWSAccountId",
                    &a,
                    "Member must satisfy regular expression pattern: ^[0-9]+$",
                ));
            }
            a
        }
        (Some(_), Some(_)) => {
            return Err(ServiceError::new(
                "InvalidCustomerIdentifierException",
                "Specify either CustomerIdentifier or CustomerAWSAccountId, not both",
            ))
        }
        (None, None) => {
            return Err(ServiceError::new(
                "InvalidCustomerIdentifierException",
                "Each usage record needs a CustomerIdentifier or a CustomerAWSAccountId",
            ))
        }
    };
    if let Some(arn) = &r.license_arn {
        if !arn.starts_with("arn:aws") {
            return Err(ServiceError::new(
                "InvalidLicenseException",
                format!("LicenseArn {arn} is not a license ARN"),
            ));
        }
    }
    Ok(Record {
        raw,
        timestamp,
        customer,
        dimension,
        quantity,
        allocations: r.usage_allocations,
    })
}

pub(crate) fn run(
    state: &State,
    input: Input,
    caller: &Verified,
    unprocessed: bool,
) -> Result<Value, ServiceError> {
    let product = &input.product_code;
    let now = crate::clock::now_epoch_f64();
    for r in &input.records {
        usage::check_dimension(state.keys.dimensions(product), product, &r.dimension)?;
        usage::check_timestamp(r.timestamp, now, usage::BATCH_METER_USAGE_MAX_AGE_HOURS)?;
        usage::check_allocations(r.allocations.as_deref(), &r.quantity)?;
    }
    if unprocessed {
        let all: Vec<Value> = input.records.into_iter().map(|r| r.raw).collect();
        return Ok(json!({ "Results": [], "UnprocessedRecords": all }));
    }
    let product_entitled = state.entitled(product, &caller.access_key_id);
    let results: Vec<Value> = input
        .records
        .into_iter()
        .map(|r| {
            if !product_entitled || state.deny_customers.contains(&r.customer) {
                return json!({ "UsageRecord": r.raw, "Status": "CustomerNotSubscribed" });
            }
            match state
                .ledger
                .record(product, &r.customer, &r.dimension, r.timestamp, &r.quantity)
            {
                Recorded::Accepted(id) => {
                    json!({ "UsageRecord": r.raw, "MeteringRecordId": id, "Status": "Success" })
                }
                Recorded::Duplicate => json!({ "UsageRecord": r.raw, "Status": "DuplicateRecord" }),
            }
        })
        .collect();
    Ok(json!({ "Results": results, "UnprocessedRecords": [] }))
}
