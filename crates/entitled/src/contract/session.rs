//! One connection to License Manager: the SDK client, the credentials it
//! signs with, and the endpoint a followed redirect moved it to. A checkout
//! and its lease share one, so extensions and the check-in go where the
//! checkout went.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_licensemanager::config::retry::RetryConfig;
use aws_sdk_licensemanager::types::{
    CheckoutType as SdkCheckoutType, EntitlementData, EntitlementDataUnit,
};
use aws_sdk_licensemanager::Client;

use super::answer::RawAnswer;
use super::builder::Settings;
use super::outcome::{at_license_manager, classify_lm, LmFailure};
use crate::classify::AttemptError;
use crate::connection::{timeouts, Service};
use crate::credential_source::{AnsweredBy, CredentialSource};
use crate::error::CheckError;
use crate::reason::{Endpoint, RejectReason, Transient, TransientCause};
use crate::signing_credentials::SigningCredentials;

pub(crate) struct Session {
    client: Client,
    credentials: tokio::sync::Mutex<SigningCredentials>,
    answered_by: AnsweredBy,
    /// The endpoint override in effect, for the redirect rule.
    endpoint_override: Option<String>,
    /// Where a followed redirect sent the calls.
    redirected_to: Mutex<Option<String>>,
}

impl Session {
    /// Loads the Region, credentials and trust store as the check does.
    pub async fn connect(settings: &Settings, deadline_at: Instant) -> Result<Session, CheckError> {
        let answered_by = AnsweredBy::default();
        let on_warning = settings
            .on_warning
            .clone()
            .unwrap_or_else(|| Arc::new(|_: &crate::Warning| {}));
        let load = settings.connection.load_for(
            Service::LicenseManager,
            settings.attempt_timeout,
            &answered_by,
            on_warning,
        );
        let sdk_config = tokio::time::timeout_at(deadline_at.into(), load)
            .await
            .map_err(|_| CheckError::Unavailable {
                attempts: 0,
                elapsed: Duration::ZERO,
                last: Transient {
                    endpoint: Endpoint::Region,
                    cause: TransientCause::Timeout,
                    detail: "resolving the Region took until the deadline".into(),
                },
            })??;
        let provider = crate::connection::region_and_credentials(&sdk_config)?;
        let config = aws_sdk_licensemanager::config::Builder::from(&sdk_config)
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts(settings.attempt_timeout))
            .interceptor(crate::body_limit::ResponseBodyLimit)
            .build();
        Ok(Session {
            client: Client::from_conf(config),
            credentials: tokio::sync::Mutex::new(SigningCredentials::new(
                provider,
                answered_by.clone(),
            )),
            answered_by,
            endpoint_override: settings.connection.endpoint_for(Service::LicenseManager),
            redirected_to: Mutex::new(None),
        })
    }

    /// The credential source that answered, for refusals.
    pub fn credential_source(&self) -> Option<CredentialSource> {
        self.answered_by.get()
    }

    /// Which endpoint an attempt that timed out was waiting on.
    pub async fn waiting_on(&self) -> Endpoint {
        match self.credentials.lock().await.waiting_on() {
            Endpoint::Metering => Endpoint::LicenseManager,
            other => other,
        }
    }

    /// Follows a redirect, once: true when `location` may be followed.
    pub fn follow(&self, location: Option<&str>) -> bool {
        let mut redirected = self.redirected_to.lock().unwrap_or_else(|e| e.into_inner());
        if redirected.is_some() {
            return false;
        }
        match location.and_then(|l| super::redirect::allowed(l, self.endpoint_override.as_deref()))
        {
            Some(endpoint) => {
                *redirected = Some(endpoint);
                true
            }
            None => false,
        }
    }

    /// Per-call configuration: fresh credentials, and the redirect's endpoint.
    async fn call_config(&self) -> Result<aws_sdk_licensemanager::config::Builder, LmFailure> {
        let credentials = self
            .credentials
            .lock()
            .await
            .get()
            .await
            .map_err(|e| LmFailure::Attempt(at_license_manager(e)))?;
        let mut config =
            aws_sdk_licensemanager::config::Builder::default().credentials_provider(credentials);
        if let Some(endpoint) = self
            .redirected_to
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            config = config.endpoint_url(endpoint);
        }
        Ok(config)
    }

    /// One CheckoutLicense call.
    pub async fn checkout(
        &self,
        settings: &Settings,
        node_id: &str,
        client_token: &str,
    ) -> Result<RawAnswer, LmFailure> {
        let config = self.call_config().await?;
        let mut call = self
            .client
            .checkout_license()
            .product_sku(&settings.product_sku)
            .checkout_type(SdkCheckoutType::from(settings.checkout_type.as_str()))
            .key_fingerprint(&settings.key_fingerprint)
            .node_id(node_id)
            .client_token(client_token);
        for requested in &settings.entitlements {
            let mut data = EntitlementData::builder()
                .name(requested.name())
                .unit(EntitlementDataUnit::from(requested.unit()));
            if let Some(value) = requested.value() {
                data = data.value(value);
            }
            let data = data.build().map_err(|e| {
                LmFailure::Attempt(AttemptError::Fatal(CheckError::rejected(
                    RejectReason::RequestConstruction,
                    e.to_string(),
                )))
            })?;
            call = call.entitlements(data);
        }
        let output = call.customize().config_override(config).send().await;
        match output {
            Ok(out) => Ok(RawAnswer {
                checkout_type: out.checkout_type().map(|t| t.as_str().to_owned()),
                consumption_token: out.license_consumption_token().map(str::to_owned),
                entitlements: out
                    .entitlements_allowed()
                    .iter()
                    .map(|e| (e.name().to_owned(), e.unit().as_str().to_owned(), e.value().map(str::to_owned)))
                    .collect(),
                signed_token: out.signed_token().map(str::to_owned),
                node_id: out.node_id().map(str::to_owned),
                issued_at: out.issued_at().map(str::to_owned),
                expiration: out.expiration().map(str::to_owned),
                license_arn: out.license_arn().map(str::to_owned),
            }),
            Err(err) => Err(match classify_lm(&err) {
                // The typed member, where the SDK read it from the body.
                LmFailure::Redirect(None) => LmFailure::Redirect(
                    err.as_service_error()
                        .and_then(|e| match e {
                            aws_sdk_licensemanager::operation::checkout_license::CheckoutLicenseError::RedirectException(r) => r.location().map(str::to_owned),
                            _ => None,
                        }),
                ),
                other => other,
            }),
        }
    }

    /// One ExtendLicenseConsumption call: the new expiration, as written.
    pub async fn extend(&self, consumption_token: &str) -> Result<Option<String>, LmFailure> {
        let config = self.call_config().await?;
        self.client
            .extend_license_consumption()
            .license_consumption_token(consumption_token)
            .customize()
            .config_override(config)
            .send()
            .await
            .map(|out| out.expiration().map(str::to_owned))
            .map_err(|e| classify_lm(&e))
    }

    /// One CheckInLicense call.
    pub async fn check_in(&self, consumption_token: &str) -> Result<(), LmFailure> {
        let config = self.call_config().await?;
        self.client
            .check_in_license()
            .license_consumption_token(consumption_token)
            .customize()
            .config_override(config)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify_lm(&e))
    }
}
