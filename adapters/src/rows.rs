//! Rows as diesel reads and writes them, and their conversion to the model.

use std::collections::HashMap;
use std::marker::PhantomData;

use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, HasSqlType, Integer, Nullable, Text};
use strato_domain::StoreError;
use strato_domain::attribute::{Attribute, AttributeKey, AttributeValue, Datatype, StoredValue};
use strato_domain::driver::Driver;
use strato_domain::entity::{Entity, EntityDetails, EntityId, EntityName};

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

/// A PostgreSQL statement whose text never changes, around one bind: the
/// text before it and after it. Connections prepare it once and keep it
/// (its cache key is the text), so each run is one round trip.
#[derive(Debug)]
pub(crate) struct Fixed<'a, Bind: ?Sized, BindType, Row> {
    text: (&'static str, &'static str),
    bind: &'a Bind,
    types: PhantomData<fn() -> (BindType, Row)>,
}

impl<'a, Bind: ?Sized, BindType, Row> Fixed<'a, Bind, BindType, Row> {
    /// The statement `before`, the bind, then `after`.
    pub(crate) fn new(text: (&'static str, &'static str), bind: &'a Bind) -> Self {
        Self {
            text,
            bind,
            types: PhantomData,
        }
    }
}

impl<Bind: ?Sized, BindType, Row> QueryId for Fixed<'_, Bind, BindType, Row> {
    type QueryId = ();
    // Cached by its text, which is fixed.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Bind, BindType, Row> QueryFragment<Pg> for Fixed<'_, Bind, BindType, Row>
where
    Bind: ToSql<BindType, Pg> + ?Sized,
    Pg: HasSqlType<BindType>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(self.text.0);
        out.push_bind_param::<BindType, Bind>(self.bind)?;
        out.push_sql(self.text.1);
        Ok(())
    }
}

impl<Bind: ?Sized, BindType, Row> Query for Fixed<'_, Bind, BindType, Row> {
    type SqlType = Row;
}

impl<Bind: ?Sized, BindType, Row> RunQueryDsl<PgConnection> for Fixed<'_, Bind, BindType, Row> {}

/// The columns of an [`ExpandedRow`].
pub(crate) type ExpandedColumns = (
    Integer,
    BigInt,
    BigInt,
    Nullable<BigInt>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<BigInt>,
    Nullable<Text>,
    Nullable<Text>,
);

/// One row of the expanded view's statement: `kind` says what it holds, of
/// the entity `owner` (see `tables::entities::expanded`).
#[derive(Debug, Queryable)]
pub(crate) struct ExpandedRow {
    kind: i32,
    owner: i64,
    /// The row's age (attribute or membership id), or the allocation count.
    ord: i64,
    /// The entity, the relation's target, the member or the pool.
    id: Option<i64>,
    name: Option<String>,
    driver: Option<String>,
    key: Option<String>,
    subkey: Option<String>,
    number: Option<i64>,
    datatype: Option<String>,
    value: Option<String>,
}

impl ExpandedRow {
    /// Kind of the row that holds the entity itself.
    pub(crate) const ENTITY: i32 = 0;
    /// Kind of an attribute's row, with the entity its relation names.
    pub(crate) const ATTRIBUTE: i32 = 1;
    /// Kind of a member's row (the entity holds it).
    pub(crate) const CONTENT: i32 = 2;
    /// Kind of a pool's row (it holds the entity).
    pub(crate) const PARENT: i32 = 3;
    /// Kind of the row that counts a manager's allocations.
    pub(crate) const ALLOCATIONS: i32 = 4;

    /// The entity the row names, when it names one.
    fn entity(&self) -> Option<EntityRow> {
        match (self.id, &self.name, &self.driver) {
            (Some(id), Some(name), Some(driver)) => Some(EntityRow {
                id,
                name: name.clone(),
                driver: driver.clone(),
            }),
            _ => None,
        }
    }

    /// The entity of the [`Self::ENTITY`] row among `rows`, if any.
    pub(crate) fn entity_of(rows: &[Self]) -> Result<Option<Entity>, StoreError> {
        rows.iter()
            .find(|r| r.kind == Self::ENTITY)
            .and_then(Self::entity)
            .map(EntityRow::into_entity)
            .transpose()
    }

    fn into_attribute(self) -> Result<Attribute, StoreError> {
        let relation = self.entity();
        let missing = || StoreError::Corrupt(format!("attribute {} lacks a column", self.ord));
        AttributeRow {
            id: self.ord,
            entity_id: self.owner,
            key: self.key.ok_or_else(missing)?,
            subkey: self.subkey,
            number: self.number,
            datatype: self.datatype.ok_or_else(missing)?,
            value: self.value.ok_or_else(missing)?,
        }
        .into_attribute(relation)
    }

    fn linked(&self) -> Result<Entity, StoreError> {
        self.entity()
            .ok_or_else(|| StoreError::Corrupt(format!("membership {} lacks an entity", self.ord)))?
            .into_entity()
    }
}

/// The expanded views of `list`, in its order, from the rows of the
/// expanded view's statement: attributes by key (bytewise) then age,
/// contents and parents oldest membership first, and for resource managers
/// how many resources they handed out. An entity listed twice gets its
/// attributes, contents and parents the first time only, as on SQLite.
pub(crate) fn expanded_of(
    list: &[Entity],
    rows: Vec<ExpandedRow>,
) -> Result<Vec<EntityDetails>, StoreError> {
    #[derive(Default)]
    struct Parts {
        attributes: Vec<(i64, Attribute)>,
        contents: Vec<(i64, Entity)>,
        parents: Vec<(i64, Entity)>,
    }
    let mut parts: HashMap<i64, Parts> = HashMap::with_capacity(list.len());
    let mut allocations: HashMap<i64, i64> = HashMap::new();
    for row in rows {
        match row.kind {
            ExpandedRow::ATTRIBUTE => {
                let (owner, age) = (row.owner, row.ord);
                let attribute = row.into_attribute()?;
                parts
                    .entry(owner)
                    .or_default()
                    .attributes
                    .push((age, attribute));
            }
            ExpandedRow::CONTENT => {
                let member = row.linked()?;
                parts
                    .entry(row.owner)
                    .or_default()
                    .contents
                    .push((row.ord, member));
            }
            ExpandedRow::PARENT => {
                let pool = row.linked()?;
                parts
                    .entry(row.owner)
                    .or_default()
                    .parents
                    .push((row.ord, pool));
            }
            ExpandedRow::ALLOCATIONS => {
                allocations.insert(row.owner, row.ord);
            }
            _ => {}
        }
    }
    Ok(list
        .iter()
        .map(|entity| {
            let mut part = parts.remove(&entity.id.0).unwrap_or_default();
            part.attributes.sort_by(|(a_age, a), (b_age, b)| {
                (a.key.as_str().as_bytes(), a_age).cmp(&(b.key.as_str().as_bytes(), b_age))
            });
            part.contents.sort_by_key(|(ord, _)| *ord);
            part.parents.sort_by_key(|(ord, _)| *ord);
            EntityDetails {
                entity: entity.clone(),
                attributes: part.attributes.into_iter().map(|(_, a)| a).collect(),
                contents: part.contents.into_iter().map(|(_, e)| e).collect(),
                parents: part.parents.into_iter().map(|(_, e)| e).collect(),
                allocations: entity.driver.is_resource_manager().then(|| {
                    allocations
                        .get(&entity.id.0)
                        .copied()
                        .unwrap_or(0)
                        .unsigned_abs()
                }),
            }
        })
        .collect())
}

/// The columns of a [`MemberRow`].
pub(crate) type MemberColumns = (BigInt, BigInt, (BigInt, Text, Text), Bool);

/// A pool's member, as the contents statement reads it.
#[derive(Debug, Queryable)]
pub(crate) struct MemberRow {
    /// The membership's id (its age).
    pub(crate) id: i64,
    /// The pool.
    pub(crate) pool_id: i64,
    /// The member.
    pub(crate) member: EntityRow,
    /// Whether the member holds entities itself.
    pub(crate) holds_others: bool,
}
