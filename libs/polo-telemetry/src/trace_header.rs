//! The X-Ray tracing header Lambda hands each invocation (`Lambda-Runtime-Trace-Id`, also
//! `_X_AMZN_TRACE_ID`): `Root=1-…;Parent=…;Sampled=1`, keys in any order, others ignored.

/// One invocation's place in its trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceHeader {
    /// The trace id, `1-{8 hex}-{24 hex}`.
    pub root: String,
    /// The id of the segment Lambda opened for the invocation: the parent of the function's
    /// subsegments.
    pub parent: Option<String>,
    /// `Sampled=1`: the trace is recorded, so subsegments are worth sending.
    pub sampled: bool,
}

impl TraceHeader {
    /// Reads a header; `None` when it carries no well-formed `Root`.
    pub fn parse(header: &str) -> Option<TraceHeader> {
        let mut root = None;
        let mut parent = None;
        let mut sampled = false;
        for part in header.split(';') {
            let Some((key, value)) = part.trim().split_once('=') else { continue };
            match key {
                "Root" if is_trace_id(value) => root = Some(value.to_owned()),
                "Parent" if value.len() == 16 && value.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    parent = Some(value.to_owned());
                }
                "Sampled" => sampled = value == "1",
                _ => {}
            }
        }
        Some(TraceHeader { root: root?, parent, sampled })
    }

    /// Whether subsegments of this invocation are recorded: sampled, with a parent to hang on.
    pub fn records(&self) -> bool {
        self.sampled && self.parent.is_some()
    }
}

/// `1-{8 hex digits}-{24 hex digits}`.
fn is_trace_id(value: &str) -> bool {
    let mut parts = value.split('-');
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    parts.next() == Some("1")
        && parts.next().is_some_and(|t| hex(t, 8))
        && parts.next().is_some_and(|r| hex(r, 24))
        && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_root_parent_and_sampling_in_any_order() {
        let h =
            TraceHeader::parse("Sampled=1;Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8")
                .unwrap();
        assert_eq!(h.root, "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(h.parent.as_deref(), Some("53995c3f42cd8ad8"));
        assert!(h.records());
    }

    #[test]
    fn an_unsampled_or_parentless_trace_records_nothing() {
        let unsampled =
            TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0");
        assert!(!unsampled.unwrap().records());
        let lineage = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=a:1").unwrap();
        assert!(!lineage.records());
    }

    #[test]
    fn a_malformed_root_is_no_header() {
        for bad in ["", "Root=", "Root=2-5759e988-bd862e3fe1be46a994272793", "Root=1-xyz-abc", "garbage"] {
            assert_eq!(TraceHeader::parse(bad), None, "{bad:?}");
        }
    }
}
