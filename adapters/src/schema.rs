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

diesel::table! {
    im_owners (id) {
        id -> Text,
        username -> Nullable<Text>,
        lookup -> Text,
        secret_hash -> Text,
    }
}

diesel::table! {
    infrastructures (id) {
        id -> Text,
        radl -> Text,
        next_vm -> BigInt,
        contmsg -> Text,
        contextualized -> Nullable<Bool>,
        deleting -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    infrastructure_owners (infrastructure_id, owner_id) {
        infrastructure_id -> Text,
        position -> BigInt,
        owner_id -> Text,
    }
}

diesel::table! {
    infrastructure_clouds (infrastructure_id, position) {
        infrastructure_id -> Text,
        position -> BigInt,
        cloud_id -> Text,
        configured -> Nullable<Text>,
        sealed -> Nullable<Binary>,
    }
}

diesel::table! {
    infrastructure_vms (infrastructure_id, vm_id) {
        infrastructure_id -> Text,
        vm_id -> BigInt,
        cloud_id -> Text,
        node_id -> Nullable<Text>,
        radl -> Text,
        state -> Text,
        log -> Text,
        removed -> Bool,
        idempotency_key -> Text,
        snapshots -> Text,
    }
}

diesel::joinable!(infrastructure_owners -> im_owners (owner_id));
diesel::joinable!(infrastructure_owners -> infrastructures (infrastructure_id));

diesel::allow_tables_to_appear_in_same_query!(entities, attributes, pool_members, allocations);
diesel::allow_tables_to_appear_in_same_query!(
    im_owners,
    infrastructures,
    infrastructure_owners,
    infrastructure_clouds,
    infrastructure_vms,
);
