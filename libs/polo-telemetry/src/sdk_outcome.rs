//! What an AWS SDK call ended with, told to the X-Ray layer: the interceptor every client
//! is built with (`polo_aws::SdkOutcome`) reports the final HTTP status of each operation
//! (or that no answer came) as a `tracing` event on [`OUTCOME_TARGET`] inside the SDK's
//! operation span, where [`crate::xray::XrayLayer`] marks the call's subsegment. Without the
//! layer, nothing listens and the event costs a disabled-callsite check.

/// The target of the outcome events.
pub const OUTCOME_TARGET: &str = "polo_telemetry::sdk_outcome";

/// How X-Ray marks a call that ended with `status` (0: no answer): `(error, throttle, fault)`.
pub fn marks(status: u16) -> (bool, bool, bool) {
    match status {
        0 | 500..=599 => (false, false, true),
        429 => (true, true, false),
        400..=499 => (true, false, false),
        _ => (false, false, false),
    }
}

#[cfg(test)]
mod tests {
    use super::marks;

    #[test]
    fn client_errors_are_errors_server_errors_and_silence_are_faults_429_throttles() {
        assert_eq!(marks(200), (false, false, false));
        assert_eq!(marks(404), (true, false, false));
        assert_eq!(marks(429), (true, true, false));
        assert_eq!(marks(503), (false, false, true));
        assert_eq!(marks(0), (false, false, true));
    }
}
