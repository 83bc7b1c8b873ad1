//! The attribute repository.

use async_trait::async_trait;
use strato_domain::StoreError;
use strato_domain::attribute::{
    Attribute, AttributeChanges, AttributeKey, AttributeQuery, AttributeRepository,
};
use strato_domain::entity::{Entity, EntityId};
use strato_domain::page::{PageRequest, Paged};

use crate::store::Store;
use crate::tables::attributes::{self, Match};
use crate::tables::entities;

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
        self.write(move |conn| {
            if entities::lock(conn, &[entity.0])?.is_empty() {
                return Err(StoreError::EntityGone);
            }
            if let Some(guard) = changes.guard {
                let current: Vec<Attribute> = attributes::load(conn, &[entity.0])?
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
                attributes::delete_matching(conn, entity.0, key, subkey, number)?;
            }
            for (slot, value) in &changes.set {
                attributes::set_slot(conn, entity.0, slot, value)?;
            }
            attributes::insert(conn, entity.0, &changes.add).map(|_| ())
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
