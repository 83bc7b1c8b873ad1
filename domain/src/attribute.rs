//! Typed attributes: `(key, subkey?, number?, value)` rows attached to entities.

mod model;
mod ports;
mod value;

pub use model::{
    Attribute, AttributeChanges, AttributeFilter, AttributeKey, AttributeQuery, ExactSlot, Guard,
    InvalidKey, NewAttribute, NumberSpec,
};
pub use ports::AttributeRepository;
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockAttributeRepository;
pub use value::{
    AttributeValue, DEFAULT_MASK, Datatype, InvalidValue, RawValue, StoredValue, Typed, parse_bool,
};
