//! Test-only crate: see aws/.
