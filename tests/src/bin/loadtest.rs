//! Placeholder, replaced by the load test.
fn main() {}
