//! Registration tokens for ResolveCustomer: issued through the admin API (or
//! [`crate::Emulator::registration_token`]), each resolves once to a customer of a product.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::encoding::hex;
use crate::wire::ServiceError;

/// A registration token and what it resolves to (admin API JSON, snake case).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Registration {
    pub registration_token: String,
    pub product_code: String,
    pub customer_identifier: String,
    pub customer_aws_account_id: String,
    /// The buyer's licence, which ResolveCustomer returns as `LicenseArn` when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_arn: Option<String>,
    #[serde(default)]
    pub expired: bool,
    #[serde(default)]
    pub used: bool,
}

/// Every registration token issued, by token.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    tokens: Mutex<HashMap<String, Registration>>,
}

impl Registry {
    /// Issues a token; customer ids are generated when not given.
    pub fn issue(
        &self,
        product_code: &str,
        customer_identifier: Option<String>,
        customer_aws_account_id: Option<String>,
        license_arn: Option<String>,
        expired: bool,
    ) -> Registration {
        let token: [u8; 24] = rand::random();
        let cust: [u8; 6] = rand::random();
        let account = u64::from_be_bytes([0, 0, 0, cust[0], cust[1], cust[2], cust[3], cust[4]])
            % 1_000_000_000_000;
        let reg = Registration {
            registration_token: format!("emulator-registration-{}", hex(&token)),
            product_code: product_code.to_owned(),
            customer_identifier: customer_identifier
                .unwrap_or_else(|| format!("cust-{}", hex(&cust))),
            customer_aws_account_id: customer_aws_account_id
                .unwrap_or_else(|| format!("{account:012}")),
            license_arn,
            expired,
            used: false,
        };
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(reg.registration_token.clone(), reg.clone());
        reg
    }

    pub fn resolve(&self, token: &str) -> Result<Registration, ServiceError> {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let reg = tokens.get_mut(token).ok_or_else(|| {
            ServiceError::new("InvalidTokenException", "Registration token is invalid")
        })?;
        if reg.expired || reg.used {
            return Err(ServiceError::new(
                "ExpiredTokenException",
                "Registration token has expired or was already used",
            ));
        }
        reg.used = true;
        Ok(reg.clone())
    }
}
