//! The `attributes` table.

use diesel::backend::Backend;
use diesel::dsl::{AsExprOf, max};
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Text};
use strato_domain::StoreError;
use strato_domain::attribute::{
    Attribute, AttributeKey, AttributeQuery, AttributeValue, ExactSlot, NewAttribute, NumberSpec,
};

use crate::connection::DbConnection;
use crate::error::from_diesel;
use crate::rows::{AttributeRow, CHUNK, EntityRow, NewAttributeRow};
use crate::schema::{attributes, entities};

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

/// `substr(<column>, 1, 200) = substr(<value>, 1, 200) AND <column> =
/// CAST(<value> AS TEXT)`: a value matches on the prefix that the value
/// indexes hold (`attributes_key_value_prefix`,
/// `attributes_key_subkey_value_prefix`: a whole value may be too large for
/// an index entry), then whole.
///
/// The bounds are written into the statement, not bound, so that both
/// databases match the expression with the index's, and the statement's
/// text is fixed, so connections keep it prepared. The cast keeps SQLite
/// from substituting the value for the column in the prefix term (its
/// constant propagation), which would hide the term from the index.
#[derive(Debug, Clone, Copy, QueryId)]
struct ValueIs<C, V> {
    column: C,
    value: V,
}

impl<C, V> Expression for ValueIs<C, V>
where
    C: Expression<SqlType = Text>,
    V: Expression<SqlType = Text>,
{
    type SqlType = Bool;
}

impl<C, V, DB> QueryFragment<DB> for ValueIs<C, V>
where
    DB: Backend,
    C: QueryFragment<DB>,
    V: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("(substr(");
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(", 1, 200) = substr(");
        self.value.walk_ast(out.reborrow())?;
        out.push_sql(", 1, 200) AND ");
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = CAST(");
        self.value.walk_ast(out.reborrow())?;
        out.push_sql(" AS TEXT))");
        Ok(())
    }
}

impl<C, V, QS> AppearsOnTable<QS> for ValueIs<C, V>
where
    Self: Expression,
    C: AppearsOnTable<QS>,
    V: AppearsOnTable<QS>,
{
}

impl<C, V, QS> SelectableExpression<QS> for ValueIs<C, V>
where
    Self: AppearsOnTable<QS>,
    C: SelectableExpression<QS>,
    V: SelectableExpression<QS>,
{
}

impl<C: ValidGrouping<GB>, V, GB> ValidGrouping<GB> for ValueIs<C, V> {
    type IsAggregate = C::IsAggregate;
}

/// Whether an attribute's value is `value`, through the value indexes.
fn value_is(value: &str) -> ValueIs<attributes::value, AsExprOf<&str, Text>> {
    ValueIs {
        column: attributes::value,
        value: value.into_sql::<Text>(),
    }
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

/// The `(key, stored text)` of an entity's attributes with this subkey.
pub(crate) fn with_subkey(
    conn: &mut DbConnection,
    entity: i64,
    subkey: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    attributes::table
        .filter(attributes::entity_id.eq(entity))
        .filter(attributes::subkey.eq(subkey))
        .select((attributes::key, attributes::value))
        .load(conn)
        .map_err(from_diesel)
}

/// Ids of the entities holding an attribute that matches, each once, in
/// id order.
pub(crate) fn entities_with(
    conn: &mut DbConnection,
    query: &AttributeQuery,
) -> Result<Vec<i64>, StoreError> {
    let ids = attributes::table
        .filter(attributes::key.eq(query.key.as_str()))
        .select(attributes::entity_id)
        .distinct()
        .order(attributes::entity_id);
    // One statement per filter shape, each kept prepared.
    let subkey = query.subkey.as_ref().map(AttributeKey::as_str);
    match (subkey, query.value.as_deref()) {
        (None, None) => ids.load(conn),
        (Some(subkey), None) => ids.filter(attributes::subkey.eq(subkey)).load(conn),
        (None, Some(value)) => ids.filter(value_is(value)).load(conn),
        (Some(subkey), Some(value)) => ids
            .filter(attributes::subkey.eq(subkey))
            .filter(value_is(value))
            .load(conn),
    }
    .map_err(from_diesel)
}

/// Inserts attributes; [`NumberSpec::Next`] is resolved once per key for the
/// batch. Returns the numbers written.
///
/// # Errors
/// [`StoreError::NumbersExhausted`] when a key's highest number is
/// `i64::MAX`; [`StoreError::EntityGone`] when the entity or a related one is.
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
                    Some(n) => Some(
                        n.checked_add(1)
                            .ok_or_else(|| StoreError::NumbersExhausted(attr.key.clone()))?,
                    ),
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

#[cfg(test)]
mod tests {
    use diesel::pg::Pg;
    use diesel::sqlite::Sqlite;

    use super::*;

    /// The prefix the queries compare is the one the indexes hold.
    #[test]
    fn value_queries_compare_the_indexed_prefix() {
        for up in [
            include_str!(
                "../../../migrations/sqlite/2026-12-01-000002_attribute_value_prefix/up.sql"
            ),
            include_str!(
                "../../../migrations/postgres/2026-12-01-000002_attribute_value_prefix/up.sql"
            ),
        ] {
            assert_eq!(up.matches("substr(value, 1, 200), entity_id)").count(), 2);
        }
        let query = attributes::table
            .filter(value_is("v"))
            .select(attributes::id);
        let lite = diesel::debug_query::<Sqlite, _>(&query).to_string();
        assert!(
            lite.contains(
                "substr(`attributes`.`value`, 1, 200) = substr(?, 1, 200) \
                 AND `attributes`.`value` = CAST(? AS TEXT)"
            ),
            "{lite}"
        );
        let pg = diesel::debug_query::<Pg, _>(&query).to_string();
        assert!(
            pg.contains(
                r#"substr("attributes"."value", 1, 200) = substr($1, 1, 200) AND "attributes"."value" = CAST($2 AS TEXT)"#
            ),
            "{pg}"
        );
    }
}
