//! Table definitions, matching `migrations/`.

diesel::table! {
    entities (id) {
        id -> BigInt,
        name -> Text,
        driver -> Text,
    }
}

diesel::table! {
    attributes (id) {
        id -> BigInt,
        entity_id -> BigInt,
        key -> Text,
        subkey -> Nullable<Text>,
        number -> Nullable<BigInt>,
        datatype -> Text,
        value -> Text,
        relation_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    pool_members (id) {
        id -> BigInt,
        pool_id -> BigInt,
        member_id -> BigInt,
    }
}

diesel::table! {
    allocations (id) {
        id -> BigInt,
        manager_id -> BigInt,
        resource -> Text,
        thing_id -> BigInt,
        attr_key -> Nullable<Text>,
        attr_number -> Nullable<BigInt>,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        payload -> Text,
        state -> Text,
        attempts -> BigInt,
        max_attempts -> BigInt,
        run_after -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_expires -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created -> Timestamp,
        updated -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(entities, attributes, pool_members, allocations);
