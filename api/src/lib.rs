//! strato's HTTP layer: actix-web routes per API family, their DTOs and error
//! formats, the job workers, settings and telemetry. Handlers parse the
//! request, call one domain service, and render its answer.
//!
//! This crate knows the domain's services and ports; only the `compose`
//! module, the composition root, names the adapters and providers behind them.

#![warn(unreachable_pub)]

mod access;
mod body;
pub mod cli;
mod clouds;
pub mod compose;
mod docs;
mod errors;
mod infrastructures;
mod inventory;
mod metrics;
mod openapi;
mod operations;
mod startup;
pub mod telemetry;
mod workers;

pub use compose::settings::{self, Settings};
pub use startup::Application;
