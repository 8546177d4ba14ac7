//! The four Marketplace Metering operations: input parsing and validation as the service model
//! defines it, and what each does.

pub(crate) mod batch_meter_usage;
pub(crate) mod meter_usage;
pub(crate) mod register_usage;
pub(crate) mod resolve_customer;
pub(crate) mod usage;

use crate::faults::Change;
use entitled_verify::ProductCode;
use serde::de::DeserializeOwned;

pub(crate) use crate::operation::Operation;
use crate::sigv4::Verified;
use crate::state::State;
use crate::wire::ServiceError;

/// The `X-Amz-Target` prefix of the service.
pub(crate) const TARGET_PREFIX: &str = "AWSMPMeteringService.";

/// Parses and validates the body of a call of `operation`.
pub(crate) fn parse(operation: Operation, body: &[u8]) -> Result<Input, ServiceError> {
    Ok(match operation {
        Operation::RegisterUsage => Input::Register(register_usage::parse(body)?),
        Operation::MeterUsage => Input::Meter(meter_usage::parse(body)?),
        Operation::BatchMeterUsage => Input::Batch(batch_meter_usage::parse(body)?),
        Operation::ResolveCustomer => Input::Resolve(resolve_customer::parse(body)?),
        // The service routes License Manager targets to `crate::license_manager` before this.
        other => {
            return Err(ServiceError::new(
                "UnknownOperationException",
                format!("{other:?} is not a Metering Service operation"),
            ))
        }
    })
}

/// A validated request.
pub(crate) enum Input {
    Register(register_usage::Input),
    Meter(meter_usage::Input),
    Batch(batch_meter_usage::Input),
    Resolve(resolve_customer::Input),
}

impl Input {
    pub fn product_code(&self) -> Option<&str> {
        match self {
            Input::Register(i) => Some(&i.product_code),
            Input::Meter(i) => Some(&i.product_code),
            Input::Batch(i) => Some(&i.product_code),
            Input::Resolve(_) => None,
        }
    }
}

/// Runs a validated request.
pub(crate) async fn run(
    state: &State,
    input: Input,
    caller: &Verified,
    change: Option<Change>,
) -> Result<serde_json::Value, ServiceError> {
    let token = match change {
        Some(Change::Token(variant)) => Some(variant),
        _ => None,
    };
    let unprocessed = change == Some(Change::Unprocessed);
    match input {
        Input::Register(i) => register_usage::run(state, i, caller, token).await,
        Input::Meter(i) => meter_usage::run(state, i, caller),
        Input::Batch(i) => batch_meter_usage::run(state, i, caller, unprocessed),
        Input::Resolve(i) => resolve_customer::run(state, i),
    }
}

/// Parses a JSON body; wrong JSON types become `SerializationException` as on AWS.
pub(crate) fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ServiceError> {
    let body = if body.is_empty() {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(ServiceError::serialization)
}

pub(crate) fn required<T>(member: &str, v: Option<T>) -> Result<T, ServiceError> {
    v.ok_or_else(|| ServiceError::validation(member, "null", "Member must not be null"))
}

pub(crate) fn check_len(member: &str, s: &str, min: usize, max: usize) -> Result<(), ServiceError> {
    let n = s.chars().count();
    if n < min {
        return Err(ServiceError::validation(
            member,
            s,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(ServiceError::validation(
            member,
            s,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// `ProductCode`, decided by [`ProductCode`] alone. A refused code gets the constraint AWS
/// names for it: the length first, then the pattern.
pub(crate) fn check_product_code(s: &str) -> Result<(), ServiceError> {
    if ProductCode::try_from(s).is_ok() {
        return Ok(());
    }
    check_len("productCode", s, 1, ProductCode::MAX_LEN)?;
    Err(ServiceError::validation(
        "productCode",
        s,
        &format!(
            "Member must satisfy regular expression pattern: {}",
            ProductCode::PATTERN
        ),
    ))
}

pub(crate) fn check_range(member: &str, v: i64, min: i64, max: i64) -> Result<(), ServiceError> {
    if (min..=max).contains(&v) {
        Ok(())
    } else {
        Err(range_error(member, v, min, max))
    }
}

/// The `ValidationException` for `v` outside `min..=max`, naming the bound it broke as AWS does.
pub(crate) fn range_error(member: &str, v: i64, min: i64, max: i64) -> ServiceError {
    let constraint = if v < min {
        format!("Member must have value greater than or equal to {min}")
    } else {
        format!("Member must have value less than or equal to {max}")
    };
    ServiceError::validation(member, &v.to_string(), &constraint)
}
