//! Contract tests from an OpenAPI document, against any server.
//!
//! The document is read at run time by the generator ([`codegen`]) into one model
//! ([`meta::Schema`], built in [`model`]): the constraints the generated types' `validate()` and
//! strategies come from. Valid values are drawn from it ([`draw`]), invalid ones are named
//! [`mutate`] mutations of valid ones, and every answer is judged by small named [`checks`]
//! ([`judge`] for bodies).
//!
//! - [`runner::run`] is the stateful suite on `spec/`: the update the document marks with
//!   `x-readback`, its read-back, authentication, rejected bodies that must change nothing, the
//!   flow `x-two-phase` describes.
//! - [`probe::run`] is the suite on any operation of any document, ending with each resource's
//!   lifecycle ([`scenarios`], over what [`resources`] infers).
//! - [`server`] is an embedded reference implementation of `spec/` to run against with no
//!   account; [`mock`] a stateful mock of any document.
//! - [`faults`] are generated from the document, and [`mutants`] measures the suite by them.

pub mod breadth;
pub mod checks;
pub mod cli;
pub mod config;
pub mod draw;
pub mod faults;
pub mod findings;
pub mod http;
pub mod judge;
pub mod meta;
pub mod mock;
pub mod model;
pub mod mutants;
pub mod mutate;
pub mod pages;
pub mod partition;
pub mod probe;
pub mod report;
pub mod resources;
pub mod runner;
pub mod scenarios;
pub mod server;
pub mod spec;
pub mod statuses;
pub mod subject;
pub mod triage;

pub use runner::{run, Mode, Progress, Report, Settings, Violation};
