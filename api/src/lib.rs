//! strato's HTTP layer: actix-web routes per API family, their DTOs and error
//! formats, settings and telemetry. Handlers parse the request, call one
//! domain service, and render its answer.
//!
//! This crate knows the domain's services and ports, never the adapters or
//! providers behind them: only `main.rs`, the composition root, names those.

pub mod body;
pub mod clouds;
pub mod inventory;
pub mod operations;
pub mod settings;
pub mod startup;
pub mod telemetry;

pub use settings::Settings;
pub use startup::{Application, Services};
