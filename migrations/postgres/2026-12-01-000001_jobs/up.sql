-- Durable jobs: work that outlives a request, claimed with a lease.
-- Ids are UUIDs chosen by strato; payload is the task's JSON; times are UTC.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    run_after TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_expires TIMESTAMP,
    last_error TEXT,
    created TIMESTAMP NOT NULL,
    updated TIMESTAMP NOT NULL
);
-- Claiming: queued jobs by due time, running jobs by lease expiry.
CREATE INDEX jobs_due ON jobs (state, run_after, created);
CREATE INDEX jobs_lease ON jobs (state, lease_expires);
