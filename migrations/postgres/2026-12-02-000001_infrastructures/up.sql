-- The IM family: owners (credentials, kept as salted hashes), infrastructures,
-- who owns them, the clouds their VMs run on, and their VMs.
-- Ids are UUIDs chosen by strato; times are UTC.
CREATE TABLE im_owners (
    id TEXT NOT NULL PRIMARY KEY,
    -- NULL for a token.
    username TEXT,
    -- `user:<name>` or `token:<digest prefix>`.
    lookup TEXT NOT NULL,
    -- PHC string of a salted hash of the password or token.
    secret_hash TEXT NOT NULL
);
CREATE INDEX im_owners_lookup ON im_owners (lookup);

CREATE TABLE infrastructures (
    id TEXT NOT NULL PRIMARY KEY,
    radl TEXT NOT NULL,
    next_vm BIGINT NOT NULL,
    contmsg TEXT NOT NULL,
    -- NULL until contextualisation finishes.
    contextualized BOOLEAN,
    deleting BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX infrastructures_created ON infrastructures (created_at, id);

-- Owners in the order they were added (position).
CREATE TABLE infrastructure_owners (
    infrastructure_id TEXT NOT NULL REFERENCES infrastructures (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES im_owners (id),
    PRIMARY KEY (infrastructure_id, owner_id)
);
-- The list: an owner's infrastructures.
CREATE INDEX infrastructure_owners_owner ON infrastructure_owners (owner_id, infrastructure_id);

-- A cloud of strato's configuration (configured: its name), or one a request
-- described (sealed: nonce || XChaCha20-Poly1305 ciphertext of its spec).
CREATE TABLE infrastructure_clouds (
    infrastructure_id TEXT NOT NULL REFERENCES infrastructures (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    cloud_id TEXT NOT NULL,
    configured TEXT,
    sealed BYTEA,
    PRIMARY KEY (infrastructure_id, position),
    CHECK ((configured IS NULL) <> (sealed IS NULL))
);

CREATE TABLE infrastructure_vms (
    infrastructure_id TEXT NOT NULL REFERENCES infrastructures (id) ON DELETE CASCADE,
    vm_id BIGINT NOT NULL,
    cloud_id TEXT NOT NULL,
    node_id TEXT,
    radl TEXT NOT NULL,
    state TEXT NOT NULL,
    log TEXT NOT NULL,
    removed BOOLEAN NOT NULL,
    idempotency_key TEXT NOT NULL,
    -- Images made with auto_delete, destroyed with the infrastructure (a
    -- JSON array of image ids).
    snapshots TEXT NOT NULL,
    PRIMARY KEY (infrastructure_id, vm_id)
);
