//! The setters [`CheckBuilder`](crate::CheckBuilder) and
//! [`MeterBuilder`](crate::meter::MeterBuilder) share, defined once so the two cannot
//! drift: the product code, one attempt's budget and backoff, and the connection. Each
//! builder has fields of the same names; the connection is the one `Connection` type of
//! `connection.rs`.

/// The product code setter: a [`ProductCode`](crate::ProductCode), or text that `build`
/// validates into one (the error is kept until then).
macro_rules! product_code_setter {
    () => {
        /// The product code from AWS Marketplace: a [`ProductCode`](crate::ProductCode), or
        /// text that `build` validates into one.
        pub fn product_code<C>(mut self, code: C) -> Self
        where
            C: TryInto<$crate::ProductCode>,
            C::Error: Into<$crate::ProductCodeError>,
        {
            self.product_code = Some(code.try_into().map_err(Into::into));
            self
        }
    };
}
pub(crate) use product_code_setter;

/// The connection setters of [`CheckBuilder`](crate::CheckBuilder),
/// [`MeterBuilder`](crate::meter::MeterBuilder) and
/// [`ContractBuilder`](crate::contract::ContractBuilder), defined once: each builder has a
/// `connection: Connection` field, validated by `Connection::validate` at `build` and
/// resolved by `Connection::load` and `region_and_credentials`, so the check and the
/// meter take, refuse and resolve the same settings the same way.
macro_rules! connection_setters {
    () => {
        /// Calls this endpoint, such as a local emulator's, instead of the
        /// Region's (which the service's variable, `AWS_ENDPOINT_URL_MARKETPLACE_METERING`
        /// or `AWS_ENDPOINT_URL_LICENSE_MANAGER`, or `AWS_ENDPOINT_URL` also override).
        pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
            self.connection.endpoint_url = Some(url.into());
            self
        }
        /// Calls in this Region instead of the one found in the environment,
        /// profile, ECS task metadata or instance metadata. RegisterUsage and
        /// MeterUsage must be called in the task's own Region.
        pub fn region(mut self, region: impl Into<String>) -> Self {
            self.connection.region = Some(region.into());
            self
        }
        /// Signs with these credentials instead of the ECS task role or EKS IRSA
        /// chain: for tests against an emulator.
        pub fn static_credentials(mut self, credentials: $crate::StaticCredentials) -> Self {
            self.connection.credentials = Some(credentials);
            self
        }
        /// Also trusts the CA certificates in this PEM, such as a local
        /// emulator's; the Amazon and system roots stay trusted. A PEM without a
        /// usable certificate is refused at `build` ([`ConfigError::ExtraRoots`](crate::ConfigError::ExtraRoots)).
        pub fn extra_root_certificates(mut self, pem: impl Into<Vec<u8>>) -> Self {
            self.connection.extra_roots_pem = Some(pem.into());
            self
        }
    };
}
pub(crate) use connection_setters;

/// The setters of one attempt's budget and the waits between attempts, which both builders
/// have with their own defaults (each builder's documentation line is passed in).
macro_rules! attempt_setters {
    (attempt_timeout: $attempt:literal, backoff: $backoff:literal) => {
        #[doc = $attempt]
        pub fn attempt_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.attempt_timeout = timeout;
            self
        }
        #[doc = $backoff]
        pub fn backoff(mut self, backoff: $crate::Backoff) -> Self {
            self.backoff = backoff;
            self
        }
    };
}
pub(crate) use attempt_setters;
