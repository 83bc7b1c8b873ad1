//! The ports: one module per port of the domain, each implementing it for
//! [`Store`](crate::Store) by composing the table-level functions of
//! [`tables`](crate::tables), one transaction per write method. They never
//! use one another.

mod attribute_repository;
mod entity_repository;
mod health_check;
mod infrastructure_repository;
mod job_queue;
mod pool_repository;
mod resource_repository;
