//! The `attributes` table.

use diesel::backend::Backend;
use diesel::dsl::{AsExprOf, max};
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use strato_domain::StoreError;
use strato_domain::attribute::{
    Attribute, AttributeKey, AttributeQuery, AttributeValue, ExactSlot, NewAttribute, NumberSpec,
};
use strato_domain::entity::Entity;

use crate::connection::DbConnection;
use crate::error::from_diesel;
use crate::rows::{AttributeRow, CHUNK, EntityRow, NewAttributeRow, entities_of};
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

/// The entities holding an attribute that matches, each once, in id order,
/// in one statement (with [`entities_with`]'s filter as a subquery).
pub(crate) fn matching_entities(
    conn: &mut DbConnection,
    query: &AttributeQuery,
) -> Result<Vec<Entity>, StoreError> {
    let ids = attributes::table
        .filter(attributes::key.eq(query.key.as_str()))
        .select(attributes::entity_id);
    let holding = entities::table
        .select(EntityRow::as_select())
        .order(entities::id);
    // One statement per filter shape, each kept prepared.
    let subkey = query.subkey.as_ref().map(AttributeKey::as_str);
    match (subkey, query.value.as_deref()) {
        (None, None) => holding.filter(entities::id.eq_any(ids)).load(conn),
        (Some(subkey), None) => holding
            .filter(entities::id.eq_any(ids.filter(attributes::subkey.eq(subkey))))
            .load(conn),
        (None, Some(value)) => holding
            .filter(entities::id.eq_any(ids.filter(value_is(value))))
            .load(conn),
        (Some(subkey), Some(value)) => holding
            .filter(
                entities::id.eq_any(
                    ids.filter(attributes::subkey.eq(subkey))
                        .filter(value_is(value)),
                ),
            )
            .load(conn),
    }
    .map_err(from_diesel)
    .and_then(entities_of)
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
        let row =
            NewAttributeRow::new(entity, &attr.key, attr.subkey.as_ref(), number, &attr.value);
        insert_row(conn, &row).map_err(from_diesel)?;
        numbers.push(number);
        previous = number;
    }
    Ok(numbers)
}

/// Inserts one row. Every column is named and bound (a missing subkey,
/// number or relation as NULL), so the statement's text never changes and
/// connections keep it prepared.
fn insert_row(conn: &mut DbConnection, row: &NewAttributeRow<'_>) -> QueryResult<usize> {
    diesel::insert_into(attributes::table)
        .values((
            attributes::entity_id.eq(row.entity_id),
            attributes::key.eq(row.key),
            attributes::subkey.eq(row.subkey),
            attributes::number.eq(row.number),
            attributes::datatype.eq(row.datatype),
            attributes::value.eq(&row.value),
            attributes::relation_id.eq(row.relation_id),
        ))
        .execute(conn)
}

/// Deletes an entity's attributes that match, in one statement (kept
/// prepared: one text per filter shape); returns how many went.
pub(crate) fn delete_matching(
    conn: &mut DbConnection,
    entity: i64,
    key: Option<&str>,
    subkey: Match<&str>,
    number: Match<i64>,
) -> Result<u64, StoreError> {
    let mut matching = diesel::delete(attributes::table)
        .filter(attributes::entity_id.eq(entity))
        .into_boxed::<Db>();
    if let Some(key) = key {
        matching = matching.filter(attributes::key.eq(key));
    }
    matching = match subkey {
        Match::Any => matching,
        Match::Null => matching.filter(attributes::subkey.is_null()),
        Match::Eq(s) => matching.filter(attributes::subkey.eq(s)),
    };
    matching = match number {
        Match::Any => matching,
        Match::Null => matching.filter(attributes::number.is_null()),
        Match::Eq(n) => matching.filter(attributes::number.eq(n)),
    };
    let deleted = matching.execute(conn).map_err(from_diesel)?;
    Ok(deleted as u64)
}

/// Puts `value` in the slot, replacing what held it: the slot's rows are
/// deleted and one is inserted (slots have no unique index: the inventory
/// lets a slot hold several rows, so there is nothing to upsert on). On
/// PostgreSQL both happen in one statement, one round trip; on SQLite, in
/// process, as two prepared statements.
///
/// # Errors
/// [`StoreError::EntityGone`] when the entity or a related one is.
pub(crate) fn set_slot(
    conn: &mut DbConnection,
    entity: i64,
    slot: &ExactSlot,
    value: &AttributeValue,
) -> Result<(), StoreError> {
    let row = NewAttributeRow::new(entity, &slot.key, slot.subkey.as_ref(), slot.number, value);
    match conn {
        DbConnection::Pg(pg) => ReplaceSlot(&row).execute(pg).map_err(from_diesel)?,
        DbConnection::Sqlite(_) => {
            let subkey = row.subkey.map_or(Match::Null, Match::Eq);
            let number = row.number.map_or(Match::Null, Match::Eq);
            delete_matching(conn, entity, Some(row.key), subkey, number)?;
            insert_row(conn, &row).map_err(from_diesel)?
        }
    };
    Ok(())
}

/// PostgreSQL's set of a slot in one statement: `WITH gone AS (DELETE FROM
/// attributes WHERE <the slot>) INSERT INTO attributes … VALUES (…)`. Its
/// text depends only on whether the slot has a subkey and a number (four
/// statements, each kept prepared); a missing one compares with `IS NULL`,
/// which the `attributes_entity` index serves.
#[derive(Debug, Clone, Copy)]
struct ReplaceSlot<'a>(&'a NewAttributeRow<'a>);

impl QueryId for ReplaceSlot<'_> {
    type QueryId = ();
    // Cached by its text, which takes one of four fixed values.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for ReplaceSlot<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let row = self.0;
        out.push_sql("WITH gone AS (DELETE FROM attributes WHERE entity_id = ");
        out.push_bind_param::<BigInt, i64>(&row.entity_id)?;
        out.push_sql(" AND key = ");
        out.push_bind_param::<Text, str>(row.key)?;
        match row.subkey {
            Some(subkey) => {
                out.push_sql(" AND subkey = ");
                out.push_bind_param::<Text, str>(subkey)?;
            }
            None => out.push_sql(" AND subkey IS NULL"),
        }
        match &row.number {
            Some(number) => {
                out.push_sql(" AND number = ");
                out.push_bind_param::<BigInt, i64>(number)?;
            }
            None => out.push_sql(" AND number IS NULL"),
        }
        out.push_sql(
            ") INSERT INTO attributes \
             (entity_id, key, subkey, number, datatype, value, relation_id) VALUES (",
        );
        out.push_bind_param::<BigInt, i64>(&row.entity_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, str>(row.key)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, Option<&str>>(&row.subkey)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, Option<i64>>(&row.number)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, str>(row.datatype)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, String>(&row.value)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, Option<i64>>(&row.relation_id)?;
        out.push_sql(")");
        Ok(())
    }
}

impl RunQueryDsl<PgConnection> for ReplaceSlot<'_> {}

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
