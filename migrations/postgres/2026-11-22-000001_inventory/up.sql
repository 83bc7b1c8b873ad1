-- The inventory: entities, their attributes, pool memberships and allocations.
CREATE TABLE entities (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    driver TEXT NOT NULL
);
CREATE INDEX entities_driver ON entities (driver, id);

CREATE TABLE attributes (
    id BIGSERIAL PRIMARY KEY,
    entity_id BIGINT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    subkey TEXT,
    number BIGINT,
    datatype TEXT NOT NULL,
    value TEXT NOT NULL,
    relation_id BIGINT REFERENCES entities (id) ON DELETE CASCADE
);
CREATE INDEX attributes_entity ON attributes (entity_id, key, subkey, number);
CREATE INDEX attributes_key_value ON attributes (key, value, entity_id);
CREATE INDEX attributes_key_subkey_value ON attributes (key, subkey, value, entity_id);
CREATE INDEX attributes_relation ON attributes (relation_id);

CREATE TABLE pool_members (
    id BIGSERIAL PRIMARY KEY,
    pool_id BIGINT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    UNIQUE (pool_id, member_id)
);
CREATE INDEX pool_members_member ON pool_members (member_id, pool_id);

CREATE TABLE allocations (
    id BIGSERIAL PRIMARY KEY,
    manager_id BIGINT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    resource TEXT NOT NULL,
    thing_id BIGINT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    attr_key TEXT,
    attr_number BIGINT,
    UNIQUE (manager_id, resource)
);
CREATE INDEX allocations_thing ON allocations (thing_id, manager_id);

INSERT INTO entities (name, driver) VALUES ('clustometa', 'clustometa');
