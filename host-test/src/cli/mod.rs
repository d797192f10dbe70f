//! The commands of the `host-test` binary: each one's arguments (clap) and what it does. The binary
//! (`main.rs`) only parses the command line and dispatches here.
//!
//! Results go to standard output; diagnostics go through `tracing` (the binary writes them to
//! standard error), so standard output stays parseable.

#[cfg(feature = "bench")]
pub mod bench;
pub mod check;
pub mod conformance;
pub mod policy;
pub mod run;
pub mod ship;
