//! Rows as diesel reads and writes them, and their conversion to the model.

use diesel::prelude::*;
use strato_domain::StoreError;
use strato_domain::attribute::{Attribute, AttributeKey, AttributeValue, Datatype, StoredValue};
use strato_domain::driver::Driver;
use strato_domain::entity::{Entity, EntityId, EntityName};

use crate::schema::{attributes, entities};

/// Most values bound in one `IN (…)` list.
pub(crate) const CHUNK: usize = 4_000;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = entities)]
pub(crate) struct EntityRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) driver: String,
}

impl EntityRow {
    pub(crate) fn into_entity(self) -> Result<Entity, StoreError> {
        let name = EntityName::parse(&self.name).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let driver = Driver::parse(&self.driver).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Entity {
            id: EntityId(self.id),
            name,
            driver,
        })
    }
}

/// Converts rows, failing on the first corrupt one.
pub(crate) fn entities_of(rows: Vec<EntityRow>) -> Result<Vec<Entity>, StoreError> {
    rows.into_iter().map(EntityRow::into_entity).collect()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attributes)]
pub(crate) struct AttributeRow {
    pub(crate) id: i64,
    pub(crate) entity_id: i64,
    pub(crate) key: String,
    pub(crate) subkey: Option<String>,
    pub(crate) number: Option<i64>,
    pub(crate) datatype: String,
    pub(crate) value: String,
}

impl AttributeRow {
    pub(crate) fn into_attribute(
        self,
        relation: Option<EntityRow>,
    ) -> Result<Attribute, StoreError> {
        let corrupt = |e: String| StoreError::Corrupt(e);
        let datatype = Datatype::parse(&self.datatype).map_err(|e| corrupt(e.to_string()))?;
        let relation = relation.map(EntityRow::into_entity).transpose()?;
        Ok(Attribute {
            key: AttributeKey::parse(&self.key).map_err(|e| corrupt(e.to_string()))?,
            subkey: self
                .subkey
                .as_deref()
                .map(AttributeKey::parse)
                .transpose()
                .map_err(|e| corrupt(e.to_string()))?,
            number: self.number,
            value: AttributeValue::from_stored(datatype, self.value, relation)?,
        })
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = attributes)]
pub(crate) struct NewAttributeRow<'a> {
    pub(crate) entity_id: i64,
    pub(crate) key: &'a str,
    pub(crate) subkey: Option<&'a str>,
    pub(crate) number: Option<i64>,
    pub(crate) datatype: &'static str,
    pub(crate) value: String,
    pub(crate) relation_id: Option<i64>,
}

impl<'a> NewAttributeRow<'a> {
    pub(crate) fn new(
        entity_id: i64,
        key: &'a AttributeKey,
        subkey: Option<&'a AttributeKey>,
        number: Option<i64>,
        value: &AttributeValue,
    ) -> Self {
        let StoredValue {
            datatype,
            text,
            relation,
        } = value.to_stored();
        Self {
            entity_id,
            key: key.as_str(),
            subkey: subkey.map(AttributeKey::as_str),
            number,
            datatype: datatype.as_str(),
            value: text,
            relation_id: relation.map(|id| id.0),
        }
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = entities)]
pub(crate) struct NewEntityRow<'a> {
    pub(crate) name: &'a str,
    pub(crate) driver: &'static str,
}
