//! The attribute repository, and the attribute reads and writes other
//! repositories share.

use async_trait::async_trait;
use diesel::dsl::max;
use diesel::prelude::*;
use strato_domain::StoreError;
use strato_domain::attribute::{
    Attribute, AttributeChanges, AttributeKey, AttributeQuery, AttributeRepository, AttributeValue,
    ExactSlot, NewAttribute, NumberSpec,
};
use strato_domain::entity::{Entity, EntityId};
use strato_domain::page::{PageRequest, Paged};

use crate::connection::DbConnection;
use crate::entities::{load_by_ids, lock};
use crate::error::from_diesel;
use crate::rows::{AttributeRow, CHUNK, EntityRow, NewAttributeRow};
use crate::schema::{attributes, entities};
use crate::store::Store;

type Db = <DbConnection as Connection>::Backend;

/// An attribute row with the entity its relation points to, if any.
type RowWithRelation = (AttributeRow, Option<(i64, String, String)>);

/// How a nullable column is matched.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Match<T> {
    /// Any value, or none.
    Any,
    /// No value.
    Null,
    /// This value.
    Eq(T),
}

/// Attributes of the entities, as `(entity id, attribute)`, by entity, then
/// key (bytewise), then age.
pub(crate) fn load(
    conn: &mut DbConnection,
    ids: &[i64],
) -> Result<Vec<(i64, Attribute)>, StoreError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let query = attributes::table
            .left_join(entities::table.on(attributes::relation_id.eq(entities::id.nullable())))
            .select((
                AttributeRow::as_select(),
                (entities::id, entities::name, entities::driver).nullable(),
            ));
        // One id compares with `=`: the statement's text never changes, so the
        // connection keeps it prepared; `IN (…)` is prepared for each length.
        let rows: Vec<RowWithRelation> = match chunk {
            [id] => query.filter(attributes::entity_id.eq(id)).load(conn),
            _ => query.filter(attributes::entity_id.eq_any(chunk)).load(conn),
        }
        .map_err(from_diesel)?;
        for (row, related) in rows {
            let related = related.map(|(id, name, driver)| EntityRow { id, name, driver });
            out.push((
                row.entity_id,
                row.id,
                row.key.clone(),
                row.into_attribute(related)?,
            ));
        }
    }
    out.sort_by(|a, b| (a.0, a.2.as_bytes(), a.1).cmp(&(b.0, b.2.as_bytes(), b.1)));
    Ok(out
        .into_iter()
        .map(|(entity, _, _, attr)| (entity, attr))
        .collect())
}

/// Inserts attributes; [`NumberSpec::Next`] is resolved once per key for the
/// batch. Returns the numbers written.
pub(crate) fn insert(
    conn: &mut DbConnection,
    entity: i64,
    new: &[NewAttribute],
) -> Result<Vec<Option<i64>>, StoreError> {
    let mut numbers = Vec::with_capacity(new.len());
    let mut previous = None;
    for attr in new {
        let number = match attr.number {
            NumberSpec::None => None,
            NumberSpec::Exact(n) => Some(n),
            NumberSpec::WithPrevious => previous,
            // The transaction sees its own rows: the batch's earlier
            // attributes count.
            NumberSpec::Next => {
                let highest: Option<i64> = attributes::table
                    .filter(attributes::entity_id.eq(entity))
                    .filter(attributes::key.eq(attr.key.as_str()))
                    .select(max(attributes::number))
                    .first(conn)
                    .map_err(from_diesel)?;
                match highest {
                    None => Some(0),
                    Some(n) => Some(n.checked_add(1).ok_or_else(|| {
                        StoreError::Conflict(format!(
                            "no number is left after {n} for key {}",
                            attr.key
                        ))
                    })?),
                }
            }
        };
        diesel::insert_into(attributes::table)
            .values(NewAttributeRow::new(
                entity,
                &attr.key,
                attr.subkey.as_ref(),
                number,
                &attr.value,
            ))
            .execute(conn)
            .map_err(from_diesel)?;
        numbers.push(number);
        previous = number;
    }
    Ok(numbers)
}

/// Deletes an entity's attributes that match; returns how many went.
pub(crate) fn delete_matching(
    conn: &mut DbConnection,
    entity: i64,
    key: Option<&str>,
    subkey: Match<&str>,
    number: Match<i64>,
) -> Result<u64, StoreError> {
    let mut ids = attributes::table
        .filter(attributes::entity_id.eq(entity))
        .select(attributes::id)
        .into_boxed::<Db>();
    if let Some(key) = key {
        ids = ids.filter(attributes::key.eq(key));
    }
    ids = match subkey {
        Match::Any => ids,
        Match::Null => ids.filter(attributes::subkey.is_null()),
        Match::Eq(s) => ids.filter(attributes::subkey.eq(s)),
    };
    ids = match number {
        Match::Any => ids,
        Match::Null => ids.filter(attributes::number.is_null()),
        Match::Eq(n) => ids.filter(attributes::number.eq(n)),
    };
    let ids: Vec<i64> = ids.load(conn).map_err(from_diesel)?;
    let mut deleted = 0;
    for chunk in ids.chunks(CHUNK) {
        deleted += diesel::delete(attributes::table.filter(attributes::id.eq_any(chunk)))
            .execute(conn)
            .map_err(from_diesel)?;
    }
    Ok(deleted as u64)
}

/// Puts `value` in the slot, replacing what held it.
pub(crate) fn set_slot(
    conn: &mut DbConnection,
    entity: i64,
    slot: &ExactSlot,
    value: &AttributeValue,
) -> Result<(), StoreError> {
    let subkey = slot
        .subkey
        .as_ref()
        .map_or(Match::Null, |s| Match::Eq(s.as_str()));
    let number = slot.number.map_or(Match::Null, Match::Eq);
    delete_matching(conn, entity, Some(slot.key.as_str()), subkey, number)?;
    diesel::insert_into(attributes::table)
        .values(NewAttributeRow::new(
            entity,
            &slot.key,
            slot.subkey.as_ref(),
            slot.number,
            value,
        ))
        .execute(conn)
        .map_err(from_diesel)?;
    Ok(())
}

#[async_trait]
impl AttributeRepository for Store {
    async fn list(&self, entity: EntityId) -> Result<Vec<Attribute>, StoreError> {
        self.run(move |conn| {
            Ok(load(conn, &[entity.0])?
                .into_iter()
                .map(|(_, a)| a)
                .collect())
        })
        .await
    }

    async fn apply(&self, entity: EntityId, changes: &AttributeChanges) -> Result<(), StoreError> {
        let changes = changes.clone();
        self.write(move |conn| {
            if lock(conn, &[entity.0])?.is_empty() {
                return Err(StoreError::NotFound(format!("entity {} is gone", entity.0)));
            }
            if let Some(guard) = changes.guard {
                let current: Vec<Attribute> = load(conn, &[entity.0])?
                    .into_iter()
                    .map(|(_, a)| a)
                    .collect();
                (guard.0)(&current).map_err(StoreError::Conflict)?;
            }
            for filter in &changes.remove {
                let key = filter.key.as_ref().map(AttributeKey::as_str);
                let subkey = filter
                    .subkey
                    .as_ref()
                    .map_or(Match::Any, |s| Match::Eq(s.as_str()));
                let number = filter.number.map_or(Match::Any, Match::Eq);
                delete_matching(conn, entity.0, key, subkey, number)?;
            }
            for (slot, value) in &changes.set {
                set_slot(conn, entity.0, slot, value)?;
            }
            insert(conn, entity.0, &changes.add).map(|_| ())
        })
        .await
    }

    async fn find_entities(
        &self,
        query: &AttributeQuery,
        page: Option<PageRequest>,
    ) -> Result<Paged<Entity>, StoreError> {
        let query = query.clone();
        self.run(move |conn| {
            let ids = attributes::table
                .filter(attributes::key.eq(query.key.as_str()))
                .select(attributes::entity_id)
                .distinct()
                .order(attributes::entity_id);
            // One statement per filter shape, each kept prepared.
            let subkey = query.subkey.as_ref().map(AttributeKey::as_str);
            let ids: Vec<i64> = match (subkey, query.value.as_deref()) {
                (None, None) => ids.load(conn),
                (Some(subkey), None) => ids.filter(attributes::subkey.eq(subkey)).load(conn),
                (None, Some(value)) => ids.filter(attributes::value.eq(value)).load(conn),
                (Some(subkey), Some(value)) => ids
                    .filter(attributes::subkey.eq(subkey))
                    .filter(attributes::value.eq(value))
                    .load(conn),
            }
            .map_err(from_diesel)?;
            let page_ids = Paged::from_list(ids, page);
            let entities = load_by_ids(conn, &page_ids.items)?;
            Ok(Paged {
                items: entities,
                pages: page_ids.pages,
            })
        })
        .await
    }
}
