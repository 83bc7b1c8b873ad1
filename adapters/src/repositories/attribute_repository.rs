//! The attribute repository.

use async_trait::async_trait;
use strato_domain::StoreError;
use strato_domain::attribute::{
    Attribute, AttributeChanges, AttributeKey, AttributeQuery, AttributeRepository, NumberSpec,
};
use strato_domain::entity::{Entity, EntityId};
use strato_domain::page::{PageRequest, Paged};

use crate::connection::DbConnection;
use crate::store::Store;
use crate::tables::attributes::{self, Match};
use crate::tables::entities;

/// Writes `changes` to the entity's attributes (see [`AttributeChanges`]).
fn apply(
    conn: &mut DbConnection,
    entity: i64,
    changes: &AttributeChanges,
) -> Result<(), StoreError> {
    if must_lock(conn, changes) && entities::lock(conn, &[entity])?.is_empty() {
        return Err(StoreError::EntityGone);
    }
    if let Some(guard) = changes.guard {
        let current: Vec<Attribute> = attributes::load(conn, &[entity])?
            .into_iter()
            .map(|(_, a)| a)
            .collect();
        (guard.0)(&current).map_err(StoreError::Refused)?;
    }
    for filter in &changes.remove {
        let key = filter.key.as_ref().map(AttributeKey::as_str);
        let subkey = filter
            .subkey
            .as_ref()
            .map_or(Match::Any, |s| Match::Eq(s.as_str()));
        let number = filter.number.map_or(Match::Any, Match::Eq);
        attributes::delete_matching(conn, entity, key, subkey, number)?;
    }
    for (slot, value) in &changes.set {
        attributes::set_slot(conn, entity, slot, value)?;
    }
    attributes::insert(conn, entity, &changes.add).map(|_| ())
}

/// Whether the entity's row must be locked (and its existence checked)
/// before `changes` are written.
///
/// A guard reads the attributes it protects, and a removal that inserts
/// nothing would not notice a gone entity, on both databases. On
/// PostgreSQL, whose transactions run side by side, a change that deletes
/// (a set replaces its slot) or numbers (`Next` reads the highest number)
/// must not interleave with another on the same entity. Otherwise the
/// inserts' foreign key says whether the entity is gone, and on SQLite the
/// write lock keeps every other writer out already.
fn must_lock(conn: &DbConnection, changes: &AttributeChanges) -> bool {
    let inserts = !changes.set.is_empty() || !changes.add.is_empty();
    if changes.guard.is_some() || !inserts {
        return true;
    }
    match conn {
        DbConnection::Sqlite(_) => false,
        DbConnection::Pg(_) => {
            !changes.remove.is_empty()
                || !changes.set.is_empty()
                || changes.add.iter().any(|a| a.number == NumberSpec::Next)
        }
    }
}

#[async_trait]
impl AttributeRepository for Store {
    async fn list(&self, entity: EntityId) -> Result<Vec<Attribute>, StoreError> {
        self.run(move |conn| {
            Ok(attributes::load(conn, &[entity.0])?
                .into_iter()
                .map(|(_, a)| a)
                .collect())
        })
        .await
    }

    async fn apply(&self, entity: EntityId, changes: &AttributeChanges) -> Result<(), StoreError> {
        let changes = changes.clone();
        self.write(move |conn| apply(conn, entity.0, &changes))
            .await
    }

    async fn find_entities(
        &self,
        query: &AttributeQuery,
        page: Option<PageRequest>,
    ) -> Result<Paged<Entity>, StoreError> {
        let query = query.clone();
        self.run(move |conn| {
            // Unpaged, one statement reads the entities; paged, the ids of
            // all of them, then the page's entities.
            if page.is_none() {
                return Ok(Paged::all(attributes::matching_entities(conn, &query)?));
            }
            let ids = attributes::entities_with(conn, &query)?;
            let page_ids = Paged::from_list(ids, page);
            let entities = entities::load_by_ids(conn, &page_ids.items)?;
            Ok(Paged {
                items: entities,
                pages: page_ids.pages,
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use diesel::Connection;
    use diesel::connection::InstrumentationEvent;
    use strato_domain::attribute::{AttributeValue, ExactSlot, NewAttribute};
    use strato_domain::driver::Driver;
    use strato_domain::entity::EntityName;

    use super::*;
    use crate::connection::{Backend, Manager, migrate};

    /// What a connection did: the statements it ran, and those it prepared
    /// for its cache.
    #[derive(Debug, Default)]
    struct Log {
        ran: Vec<String>,
        cached: Vec<String>,
    }

    /// A migrated SQLite database in a file of its own, on a connection
    /// that logs its statements.
    fn logged_sqlite(name: &str) -> (DbConnection, Arc<Mutex<Log>>, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("strato-{name}-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let manager = Manager {
            url: format!("sqlite://{}", path.display()),
            backend: Backend::Sqlite,
            busy_timeout: Duration::from_secs(5),
        };
        let mut conn = manager.open().unwrap();
        migrate(&mut conn).unwrap();
        let log = Arc::new(Mutex::new(Log::default()));
        let sink = log.clone();
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                let text = query.to_string();
                let sql = text.split(" -- binds").next().unwrap_or_default();
                sink.lock().unwrap().ran.push(sql.to_owned());
            }
            InstrumentationEvent::CacheQuery { sql, .. } => {
                sink.lock().unwrap().cached.push(sql.to_owned());
            }
            _ => {}
        });
        (conn, log, path)
    }

    /// A set runs two statements (delete the slot, insert) and an add one,
    /// with no read before them; each is prepared once, then reused.
    #[test]
    fn a_set_and_an_add_run_few_statements_kept_prepared() {
        let (mut conn, log, path) = logged_sqlite("statements");
        let name = EntityName::parse("web1").unwrap();
        let entity = entities::insert(&mut conn, &name, Driver::BasicServer)
            .unwrap()
            .id
            .0;
        let key = AttributeKey::parse("owner").unwrap();
        let set = AttributeChanges {
            set: vec![(
                ExactSlot {
                    key: key.clone(),
                    subkey: None,
                    number: None,
                },
                AttributeValue::String("team1".to_owned()),
            )],
            ..AttributeChanges::default()
        };
        let add = AttributeChanges {
            add: vec![NewAttribute {
                key,
                subkey: None,
                number: NumberSpec::None,
                value: AttributeValue::String("team2".to_owned()),
            }],
            ..AttributeChanges::default()
        };

        let mut prepared = Vec::new();
        for (label, changes, statements) in [("set", &set, 2), ("add", &add, 1)] {
            for round in ["first", "second"] {
                *log.lock().unwrap() = Log::default();
                apply(&mut conn, entity, changes).unwrap();
                let log = log.lock().unwrap();
                assert_eq!(log.ran.len(), statements, "{label}, {round} time: {log:#?}");
                prepared.extend(log.cached.iter().cloned());
                for sql in &log.ran {
                    assert!(
                        prepared.contains(sql),
                        "{label} did not keep {sql} prepared"
                    );
                }
                if round == "second" {
                    assert_eq!(log.cached, [] as [String; 0], "{label} prepared again");
                }
            }
        }

        let values: Vec<String> = attributes::load(&mut conn, &[entity])
            .unwrap()
            .into_iter()
            .map(|(_, a)| a.value.to_stored().text)
            .collect();
        assert_eq!(
            values,
            ["team1", "team2", "team2"],
            "a set replaces its slot"
        );
        drop(conn);
        let _ = std::fs::remove_file(&path);
    }
}
