//! The sidecar's test harness, shared with its benchmark: `entitled_test_support::sidecar`.
#![allow(unused_imports)]

pub use entitled_test_support::sidecar::*;
