use super::Inventory;
use crate::attribute::{
    Attribute, AttributeChanges, AttributeFilter, AttributeKey, AttributeValue, Datatype,
    ExactSlot, NewAttribute, NumberSpec, RawValue, Typed,
};
use crate::driver::Driver;
use crate::entity::{Entity, EntityName};
use crate::inventory::InventoryError;

/// An attribute as a client asks to write it, before its value is typed.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeInput {
    /// Key.
    pub key: AttributeKey,
    /// Optional subkey.
    pub subkey: Option<AttributeKey>,
    /// Number choice.
    pub number: NumberSpec,
    /// Datatype; guessed from the value when absent.
    pub datatype: Option<Datatype>,
    /// `strptime`-style mask for datetimes.
    pub mask: Option<String>,
    /// The value as sent.
    pub value: RawValue,
}

impl Inventory {
    /// The visible attributes of an entity that pass `filter`.
    ///
    /// # Errors
    /// [`InventoryError::EntityNotFound`], [`InventoryError::DriverMismatch`].
    pub async fn attributes(
        &self,
        name: &EntityName,
        driver: Option<Driver>,
        filter: &AttributeFilter,
    ) -> Result<Vec<Attribute>, InventoryError> {
        let entity = self.get(name, driver).await?;
        let all = self.visible_attributes(&entity).await?;
        Ok(all.into_iter().filter(|a| filter.matches(a)).collect())
    }

    /// Adds attributes to an entity in one transaction; returns all its
    /// visible attributes.
    ///
    /// # Errors
    /// [`InventoryError::EntityNotFound`] for the entity or a relation's target,
    /// [`InventoryError::InvalidValue`] when a value does not fit its datatype
    /// (nothing is written).
    pub async fn add_attributes(
        &self,
        name: &EntityName,
        inputs: &[AttributeInput],
    ) -> Result<Vec<Attribute>, InventoryError> {
        let entity = self.get(name, None).await?;
        let mut attributes = Vec::with_capacity(inputs.len());
        for input in inputs {
            attributes.push(NewAttribute {
                key: input.key.clone(),
                subkey: input.subkey.clone(),
                number: input.number,
                value: self.typecast(input).await?,
            });
        }
        let changes = AttributeChanges {
            add: attributes,
            ..AttributeChanges::default()
        };
        self.ports.attributes.apply(entity.id, &changes).await?;
        self.visible_attributes(&entity).await
    }

    /// Sets the attribute in `slot`: replaces what holds it, or adds it.
    /// Returns all the entity's visible attributes.
    ///
    /// # Errors
    /// As [`Inventory::add_attributes`].
    pub async fn set_attribute(
        &self,
        name: &EntityName,
        slot: &ExactSlot,
        datatype: Option<Datatype>,
        mask: Option<String>,
        value: RawValue,
    ) -> Result<Vec<Attribute>, InventoryError> {
        let entity = self.get(name, None).await?;
        let input = AttributeInput {
            key: slot.key.clone(),
            subkey: slot.subkey.clone(),
            number: slot.number.map_or(NumberSpec::None, NumberSpec::Exact),
            datatype,
            mask,
            value,
        };
        let value = self.typecast(&input).await?;
        let changes = AttributeChanges {
            set: vec![(slot.clone(), value)],
            ..AttributeChanges::default()
        };
        self.ports.attributes.apply(entity.id, &changes).await?;
        self.visible_attributes(&entity).await
    }

    /// Deletes the attributes that pass `filter`; returns those left.
    ///
    /// # Errors
    /// [`InventoryError::EntityNotFound`].
    pub async fn delete_attributes(
        &self,
        name: &EntityName,
        filter: &AttributeFilter,
    ) -> Result<Vec<Attribute>, InventoryError> {
        let entity = self.get(name, None).await?;
        let changes = AttributeChanges {
            remove: vec![filter.clone()],
            ..AttributeChanges::default()
        };
        self.ports.attributes.apply(entity.id, &changes).await?;
        self.visible_attributes(&entity).await
    }

    async fn visible_attributes(&self, entity: &Entity) -> Result<Vec<Attribute>, InventoryError> {
        let mut all = self.ports.attributes.list(entity.id).await?;
        all.retain(|a| !a.key.is_internal());
        Ok(all)
    }

    async fn typecast(&self, input: &AttributeInput) -> Result<AttributeValue, InventoryError> {
        match AttributeValue::typecast(&input.value, input.datatype, input.mask.as_deref())? {
            Typed::Ready(value) => Ok(value),
            Typed::Relation(target) => Ok(AttributeValue::Relation(self.get(&target, None).await?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::EntityId;
    use crate::inventory::test_support::{Mocks, entity, name};

    fn input(key: &str, value: &str, datatype: Option<Datatype>) -> AttributeInput {
        AttributeInput {
            key: AttributeKey::parse(key).unwrap(),
            subkey: None,
            number: NumberSpec::None,
            datatype,
            mask: None,
            value: RawValue::Text(value.into()),
        }
    }

    #[tokio::test]
    async fn a_bad_value_in_a_batch_writes_nothing() {
        let mut mocks = Mocks::default();
        mocks
            .entities
            .expect_find()
            .returning(|_| Ok(Some(entity(1, "srv", Driver::BasicServer))));
        mocks.attributes.expect_apply().never();
        let err = mocks
            .build()
            .add_attributes(
                &name("srv"),
                &[
                    input("a", "1", Some(Datatype::Int)),
                    input("b", "x", Some(Datatype::Int)),
                ],
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid literal for int() with base 10: 'x'"
        );
    }

    #[tokio::test]
    async fn relations_resolve_their_target() {
        let mut mocks = Mocks::default();
        mocks
            .entities
            .expect_find()
            .returning(|_| Ok(Some(entity(1, "srv", Driver::BasicServer))));
        mocks
            .attributes
            .expect_apply()
            .withf(|id, changes| {
                *id == EntityId(1)
                    && matches!(&changes.add[0].value, AttributeValue::Relation(e) if e.path() == "/basicserver/srv")
            })
            .returning(|_, _| Ok(()));
        mocks.attributes.expect_list().returning(|_| Ok(vec![]));
        let attrs = mocks
            .build()
            .add_attributes(
                &name("srv"),
                &[input(
                    "inception",
                    "/basicserver/srv",
                    Some(Datatype::Relation),
                )],
            )
            .await
            .unwrap();
        assert!(attrs.is_empty());
    }

    #[tokio::test]
    async fn internal_attributes_stay_hidden() {
        let mut mocks = Mocks::default();
        mocks
            .entities
            .expect_find()
            .returning(|_| Ok(Some(entity(1, "srv", Driver::BasicServer))));
        mocks.attributes.expect_list().returning(|_| {
            Ok(vec![
                Attribute {
                    key: AttributeKey::parse("_hidden").unwrap(),
                    subkey: None,
                    number: None,
                    value: AttributeValue::Int(1),
                },
                Attribute {
                    key: AttributeKey::parse("group").unwrap(),
                    subkey: None,
                    number: None,
                    value: AttributeValue::String("web".into()),
                },
            ])
        });
        let attrs = mocks
            .build()
            .attributes(&name("srv"), None, &AttributeFilter::default())
            .await
            .unwrap();
        assert_eq!(attrs.len(), 1);
        assert_eq!(attrs[0].key.as_str(), "group");
    }
}
