//! strato's domain: the inventory's models (entities, drivers, attributes, pools,
//! resource managers), clouds and their nodes, durable jobs, the ports that
//! storage and providers implement, and the use-case services that hold the
//! rules (`Inventory`, `Clouds`, `Jobs`).
//!
//! This crate performs no I/O and must not depend on web, database or runtime
//! crates (actix, diesel, r2d2, tokio): adapters implement its ports, the API
//! calls its services.

pub mod attribute;
pub mod clock;
pub mod cloud;
pub mod driver;
pub mod entity;
pub mod error;
pub mod health;
pub mod infrastructure;
pub mod inventory;
pub mod job;
pub mod node_record;
pub mod page;
pub mod pool;
pub mod radl;
pub mod resource_manager;
pub mod secret;

pub use error::StoreError;
pub use inventory::{Inventory, InventoryError};
