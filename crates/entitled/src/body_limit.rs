//! A cap on the size of a RegisterUsage answer.
//!
//! The SDK buffers a response body whole before deserialising it. A real
//! answer is under 2 KiB, so anything far larger is refused as it streams in,
//! before it can cost memory.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use http_body_util::Limited;

/// Far above a real answer (a token and a timestamp), far below harm.
pub(crate) const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Refuses response bodies over [`MAX_RESPONSE_BYTES`].
#[derive(Debug)]
pub(crate) struct ResponseBodyLimit;

#[derive(Debug, thiserror::Error)]
#[error("response body over the {MAX_RESPONSE_BYTES}-byte limit")]
struct TooLarge;

impl Intercept for ResponseBodyLimit {
    fn name(&self) -> &'static str {
        "ResponseBodyLimit"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response_mut();
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > MAX_RESPONSE_BYTES as u64) {
            return Err(TooLarge.into());
        }
        // Bodies without a length (chunked, or lying) are capped as they are read.
        let body = std::mem::replace(response.body_mut(), SdkBody::taken());
        *response.body_mut() =
            body.map(|inner| SdkBody::from_body_1_x(Limited::new(inner, MAX_RESPONSE_BYTES)));
        Ok(())
    }
}
