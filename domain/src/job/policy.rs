use chrono::{NaiveDateTime, TimeDelta};

use super::model::Job;

/// How jobs are retried and held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Most attempts of a job.
    pub max_attempts: u32,
    /// Wait before the second attempt; it doubles with each further one.
    pub backoff: TimeDelta,
    /// Longest wait between attempts.
    pub max_backoff: TimeDelta,
    /// How long a claim holds a job without a heartbeat.
    pub lease: TimeDelta,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            backoff: TimeDelta::milliseconds(500),
            max_backoff: TimeDelta::minutes(5),
            lease: TimeDelta::seconds(30),
        }
    }
}

/// What becomes of a job after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// It is done.
    Succeeded,
    /// It runs again, not before this time.
    RetryAt(NaiveDateTime),
    /// It is given up.
    GiveUp,
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt: the backoff doubled
    /// per earlier attempt, capped, then spread by `jitter` (0 to 1) over its
    /// upper half so that jobs failing together do not retry together.
    pub fn delay(&self, attempts: u32, jitter: f64) -> TimeDelta {
        let doublings = attempts.saturating_sub(1).min(30);
        let base = self
            .backoff
            .checked_mul(1_i32 << doublings)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff);
        let millis = base.num_milliseconds() as f64;
        let spread = millis / 2.0 + millis / 2.0 * jitter.clamp(0.0, 1.0);
        TimeDelta::milliseconds(spread as i64)
    }

    /// What becomes of `job` after an attempt that failed at `now`: a
    /// transient failure is retried after a backoff while attempts remain;
    /// anything else is given up.
    pub fn after_failure(
        &self,
        job: &Job,
        transient: bool,
        now: NaiveDateTime,
        jitter: f64,
    ) -> Settlement {
        if transient && job.attempts < job.max_attempts {
            Settlement::RetryAt(now + self.delay(job.attempts, jitter))
        } else {
            Settlement::GiveUp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::CloudName;
    use crate::job::{JobId, JobState, Task};

    fn at(seconds: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0)
            .unwrap()
            .naive_utc()
    }

    fn job(attempts: u32) -> Job {
        Job {
            id: JobId::random(),
            task: Task::Reconcile {
                cloud: CloudName::default_cloud(),
            },
            state: JobState::Running,
            attempts,
            max_attempts: 3,
            run_after: at(0),
            lease: None,
            last_error: None,
            created: at(0),
            updated: at(0),
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            backoff: TimeDelta::seconds(2),
            max_backoff: TimeDelta::seconds(5),
            lease: TimeDelta::seconds(30),
        }
    }

    #[test]
    fn the_backoff_doubles_is_capped_and_jittered() {
        let p = policy();
        assert_eq!(p.delay(1, 1.0), TimeDelta::seconds(2));
        assert_eq!(p.delay(1, 0.0), TimeDelta::seconds(1));
        assert_eq!(p.delay(2, 1.0), TimeDelta::seconds(4));
        assert_eq!(p.delay(3, 1.0), TimeDelta::seconds(5));
        assert_eq!(p.delay(40, 1.0), TimeDelta::seconds(5));
        assert_eq!(p.delay(2, 0.5), TimeDelta::seconds(3));
    }

    #[test]
    fn transient_failures_retry_until_attempts_run_out() {
        let p = policy();
        assert_eq!(
            p.after_failure(&job(1), true, at(10), 1.0),
            Settlement::RetryAt(at(12))
        );
        assert_eq!(
            p.after_failure(&job(2), true, at(10), 1.0),
            Settlement::RetryAt(at(14))
        );
        assert_eq!(
            p.after_failure(&job(3), true, at(10), 1.0),
            Settlement::GiveUp
        );
    }

    #[test]
    fn permanent_failures_give_up_at_once() {
        assert_eq!(
            policy().after_failure(&job(1), false, at(10), 0.3),
            Settlement::GiveUp
        );
    }
}
