//! The interceptor every AWS client is built with: the final HTTP status of each operation
//! (0 when no answer came) as a `tracing` event the X-Ray layer marks the call's subsegment
//! with (`polo_telemetry::sdk_outcome`).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use polo_telemetry::sdk_outcome::OUTCOME_TARGET;

/// The interceptor: add it to a client's config (`.interceptor(SdkOutcome)`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SdkOutcome;

impl Intercept for SdkOutcome {
    fn name(&self) -> &'static str {
        "PoloSdkOutcome"
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let status = context.response().map_or(0, |response| response.status().as_u16());
        tracing::debug!(target: OUTCOME_TARGET, status, "aws call ended");
        Ok(())
    }
}

/// Counts every attempt a client makes, retries included: what a service billed per request
/// (Cost Explorer) charges for. Add a clone to the client's config; read [`Attempts::get`].
#[derive(Clone, Debug, Default)]
pub struct Attempts(std::sync::Arc<std::sync::atomic::AtomicU32>);

impl Attempts {
    /// The attempts counted so far.
    pub fn get(&self) -> u32 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Intercept for Attempts {
    fn name(&self) -> &'static str {
        "PoloAttempts"
    }

    fn read_before_transmit(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<
            '_,
        >,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}
