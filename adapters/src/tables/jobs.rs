//! The `jobs` table: durable jobs, claimed with leases.
//!
//! Times are UTC and kept to the microsecond on both databases (PostgreSQL's
//! precision), so that a job reads back as it was written.

mod payload;

use chrono::{NaiveDateTime, Timelike};
use diesel::dsl::{Eq, Filter};
use diesel::prelude::*;
use strato_domain::StoreError;
use strato_domain::job::{Job, JobId, JobKind, JobState, JobStats, Lease, NewJob, WorkerId};

use crate::connection::DbConnection;
use crate::error::from_diesel;
use crate::schema::jobs;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
struct JobRow {
    id: String,
    kind: String,
    payload: String,
    state: String,
    attempts: i64,
    max_attempts: i64,
    run_after: NaiveDateTime,
    lease_owner: Option<String>,
    lease_expires: Option<NaiveDateTime>,
    last_error: Option<String>,
    created: NaiveDateTime,
    updated: NaiveDateTime,
}

impl JobRow {
    fn into_job(self) -> Result<Job, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("job {}: {what}", self.id));
        let lease = match (self.lease_owner, self.lease_expires) {
            (Some(owner), Some(expires)) => Some(Lease {
                owner: WorkerId::new(owner),
                expires,
            }),
            (None, None) => None,
            _ => return Err(corrupt("half a lease")),
        };
        Ok(Job {
            id: JobId::parse(&self.id).ok_or_else(|| corrupt("invalid id"))?,
            task: payload::decode(&self.kind, &self.payload)?,
            state: JobState::parse(&self.state).ok_or_else(|| corrupt("unknown state"))?,
            attempts: u32::try_from(self.attempts).map_err(|_| corrupt("invalid attempts"))?,
            max_attempts: u32::try_from(self.max_attempts)
                .map_err(|_| corrupt("invalid max_attempts"))?,
            run_after: self.run_after,
            lease,
            last_error: self.last_error,
            created: self.created,
            updated: self.updated,
        })
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = jobs)]
struct NewJobRow<'a> {
    id: String,
    kind: &'static str,
    payload: String,
    state: &'static str,
    attempts: i64,
    max_attempts: i64,
    run_after: NaiveDateTime,
    lease_owner: Option<&'a str>,
    lease_expires: Option<NaiveDateTime>,
    created: NaiveDateTime,
    updated: NaiveDateTime,
}

/// A time as both databases store it: to the microsecond.
fn stored(time: NaiveDateTime) -> NaiveDateTime {
    time.with_nanosecond(time.nanosecond() / 1_000 * 1_000)
        .unwrap_or(time)
}

/// The running job `id` while `owner` holds it.
type Held<'a> = Filter<
    Filter<Filter<jobs::table, Eq<jobs::id, String>>, Eq<jobs::state, &'static str>>,
    Eq<jobs::lease_owner, &'a str>,
>;

fn held(id: JobId, owner: &WorkerId) -> Held<'_> {
    jobs::table
        .filter(jobs::id.eq(id.to_string()))
        .filter(jobs::state.eq(JobState::Running.as_str()))
        .filter(jobs::lease_owner.eq(owner.as_str()))
}

/// Stores a job: queued, or running (first attempt) under its `claimed`
/// lease. Returns false, writing nothing, when a job with its id exists.
/// Other tables' writes call it to store a job in their transaction.
///
/// # Errors
/// [`StoreError::Corrupt`] when the task cannot be written as JSON.
pub(crate) fn insert(conn: &mut DbConnection, job: &NewJob) -> Result<bool, StoreError> {
    let now = stored(chrono::Utc::now().naive_utc());
    let (state, attempts) = match job.claimed {
        Some(_) => (JobState::Running, 1),
        None => (JobState::Queued, 0),
    };
    let row = NewJobRow {
        id: job.id.to_string(),
        kind: job.task.kind().as_str(),
        payload: payload::encode(&job.task)?,
        state: state.as_str(),
        attempts,
        max_attempts: i64::from(job.max_attempts),
        run_after: stored(job.run_after),
        lease_owner: job.claimed.as_ref().map(|l| l.owner.as_str()),
        lease_expires: job.claimed.as_ref().map(|l| stored(l.expires)),
        created: now,
        updated: now,
    };
    let insert = diesel::insert_into(jobs::table).values(&row);
    // ON CONFLICT is each dialect's own clause.
    let inserted = match conn {
        DbConnection::Pg(pg) => insert.on_conflict(jobs::id).do_nothing().execute(pg),
        DbConnection::Sqlite(lite) => insert.on_conflict(jobs::id).do_nothing().execute(lite),
    }
    .map_err(from_diesel)?;
    Ok(inserted > 0)
}

/// Claims the job that has waited longest (by run-after time, then age)
/// among the queued jobs due at `now` and the running jobs whose lease
/// expired before `now`: it becomes running under `lease`, one attempt more.
/// Runs inside the caller's write transaction.
///
/// Two claimants never get one job: on PostgreSQL the pick locks the row and
/// skips rows other claimants hold (`FOR UPDATE SKIP LOCKED`, and a row
/// changed meanwhile is checked again); on SQLite the write transaction holds
/// the database's write lock from its start.
pub(crate) fn claim(
    conn: &mut DbConnection,
    lease: &Lease,
    now: NaiveDateTime,
) -> Result<Option<Job>, StoreError> {
    let now = stored(now);
    let due = due_jobs(now).select(jobs::id);
    let picked: Option<String> = match conn {
        DbConnection::Pg(pg) => due.for_update().skip_locked().first(pg).optional(),
        DbConnection::Sqlite(lite) => due.first(lite).optional(),
    }
    .map_err(from_diesel)?;
    let Some(id) = picked else {
        return Ok(None);
    };
    diesel::update(jobs::table.filter(jobs::id.eq(&id)))
        .set((
            jobs::state.eq(JobState::Running.as_str()),
            jobs::lease_owner.eq(lease.owner.as_str()),
            jobs::lease_expires.eq(stored(lease.expires)),
            jobs::attempts.eq(jobs::attempts + 1),
            jobs::updated.eq(now),
        ))
        .execute(conn)
        .map_err(from_diesel)?;
    find(conn, &id)
}

/// Extends the lease of a running job its owner holds; returns false when
/// the owner does not hold it.
pub(crate) fn heartbeat(
    conn: &mut DbConnection,
    id: JobId,
    lease: &Lease,
) -> Result<bool, StoreError> {
    diesel::update(held(id, &lease.owner))
        .set(jobs::lease_expires.eq(stored(lease.expires)))
        .execute(conn)
        .map(|n| n > 0)
        .map_err(from_diesel)
}

/// Marks a running job its owner holds succeeded; returns false when the
/// owner does not hold it.
pub(crate) fn finish(
    conn: &mut DbConnection,
    id: JobId,
    owner: &WorkerId,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    diesel::update(held(id, owner))
        .set((
            jobs::state.eq(JobState::Succeeded.as_str()),
            jobs::lease_owner.eq(None::<&str>),
            jobs::lease_expires.eq(None::<NaiveDateTime>),
            jobs::updated.eq(stored(now)),
        ))
        .execute(conn)
        .map(|n| n > 0)
        .map_err(from_diesel)
}

/// Records a failed attempt of a running job its owner holds: queued again,
/// due at `retry_at`, or failed for good without one. Returns false when
/// the owner does not hold it.
pub(crate) fn fail(
    conn: &mut DbConnection,
    id: JobId,
    owner: &WorkerId,
    now: NaiveDateTime,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> Result<bool, StoreError> {
    let now = stored(now);
    let released = (
        jobs::lease_owner.eq(None::<&str>),
        jobs::lease_expires.eq(None::<NaiveDateTime>),
        jobs::last_error.eq(error),
        jobs::updated.eq(now),
    );
    match retry_at {
        Some(at) => diesel::update(held(id, owner))
            .set((
                jobs::state.eq(JobState::Queued.as_str()),
                jobs::run_after.eq(stored(at)),
                released,
            ))
            .execute(conn),
        None => diesel::update(held(id, owner))
            .set((jobs::state.eq(JobState::Failed.as_str()), released))
            .execute(conn),
    }
    .map(|n| n > 0)
    .map_err(from_diesel)
}

/// The query of the jobs due at a time: queued and due, or running with an
/// expired lease.
type Due = diesel::dsl::Or<
    diesel::dsl::And<
        diesel::dsl::Eq<jobs::state, &'static str>,
        diesel::dsl::LtEq<jobs::run_after, NaiveDateTime>,
    >,
    diesel::dsl::And<
        diesel::dsl::Eq<jobs::state, &'static str>,
        diesel::dsl::Lt<jobs::lease_expires, NaiveDateTime>,
    >,
>;

/// The jobs a claim at `now` may take, oldest first.
fn due_jobs(
    now: NaiveDateTime,
) -> diesel::dsl::Order<diesel::dsl::Filter<jobs::table, Due>, (jobs::run_after, jobs::created)> {
    jobs::table
        .filter(
            jobs::state
                .eq(JobState::Queued.as_str())
                .and(jobs::run_after.le(now))
                .or(jobs::state
                    .eq(JobState::Running.as_str())
                    .and(jobs::lease_expires.lt(now))),
        )
        .order((jobs::run_after, jobs::created))
}

/// Whether a claim at `now` would find a job: a read, so that idle workers
/// do not take the write lock to find nothing.
pub(crate) fn any_due(conn: &mut DbConnection, now: NaiveDateTime) -> Result<bool, StoreError> {
    due_jobs(stored(now))
        .select(jobs::id)
        .first::<String>(conn)
        .optional()
        .map(|found| found.is_some())
        .map_err(from_diesel)
}

/// How many jobs there are of each kind in each state, and when the oldest
/// queued one was stored.
pub(crate) fn stats(conn: &mut DbConnection) -> Result<JobStats, StoreError> {
    let counts: Vec<(String, String, i64)> = jobs::table
        .group_by((jobs::kind, jobs::state))
        .select((jobs::kind, jobs::state, diesel::dsl::count_star()))
        .load(conn)
        .map_err(from_diesel)?;
    let oldest_queued: Option<NaiveDateTime> = jobs::table
        .filter(jobs::state.eq(JobState::Queued.as_str()))
        .select(diesel::dsl::min(jobs::created))
        .first(conn)
        .map_err(from_diesel)?;
    let mut stats = JobStats {
        counts: Vec::new(),
        oldest_queued,
    };
    for (kind, state, count) in counts {
        let corrupt = || StoreError::Corrupt(format!("job kind {kind:?} or state {state:?}"));
        stats.counts.push((
            JobKind::parse(&kind).ok_or_else(corrupt)?,
            JobState::parse(&state).ok_or_else(corrupt)?,
            u64::try_from(count).unwrap_or(0),
        ));
    }
    Ok(stats)
}

/// A job by id.
pub(crate) fn get(conn: &mut DbConnection, id: JobId) -> Result<Option<Job>, StoreError> {
    find(conn, &id.to_string())
}

fn find(conn: &mut DbConnection, id: &str) -> Result<Option<Job>, StoreError> {
    jobs::table
        .filter(jobs::id.eq(id))
        .select(JobRow::as_select())
        .first(conn)
        .optional()
        .map_err(from_diesel)?
        .map(JobRow::into_job)
        .transpose()
}
