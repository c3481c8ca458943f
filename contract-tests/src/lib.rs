//! Contract tests for Phala Cloud's `PATCH /api/v1/cvms/{cvm_id}`.
//!
//! Bodies come from the spec: valid ones from the proptest strategies the generator emits
//! ([`phala_cloud::strategies`]), invalid ones as named [`mutate`] mutations of valid ones. Every
//! answer is judged by small named [`checks`]. [`runner::run`] runs the suite against any URL;
//! [`server`] is an embedded reference implementation to run it against with no account.

pub mod checks;
pub mod draw;
pub mod http;
pub mod judge;
pub mod meta;
pub mod model;
pub mod mutate;
pub mod probe;
pub mod report;
pub mod runner;
pub mod server;
pub mod spec;

pub use runner::{run, Mode, Progress, Report, Settings, Violation};
