//! ResolveCustomer: a registration token (issued through the admin API) resolves, once, to a
//! customer of a product, with `LicenseArn` when the token was issued with one. Unknown tokens
//! get `InvalidTokenException`; used tokens, and tokens issued already expired, get
//! `ExpiredTokenException`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{from_json, required};
use crate::state::State;
use crate::wire::ServiceError;

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "RegistrationToken")]
    registration_token: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Input {
    token: String,
}

pub(crate) fn parse(body: &[u8]) -> Result<Input, ServiceError> {
    let raw: Raw = from_json(body)?;
    let token = required("registrationToken", raw.registration_token)?;
    if token.is_empty() {
        return Err(ServiceError::validation(
            "registrationToken",
            "",
            "Member must satisfy regular expression pattern: [\\s\\S]+",
        ));
    }
    Ok(Input { token })
}

pub(crate) fn run(state: &State, input: Input) -> Result<Value, ServiceError> {
    let reg = state.registrations.resolve(&input.token)?;
    let mut answer = json!({
        "CustomerIdentifier": reg.customer_identifier,
        "CustomerAWSAccountId": reg.customer_aws_account_id,
        "ProductCode": reg.product_code,
    });
    if let Some(arn) = reg.license_arn {
        answer["LicenseArn"] = Value::String(arn);
    }
    Ok(answer)
}
