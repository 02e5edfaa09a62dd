//! Trigger rules: whether a task runs, given the states of its upstream tasks.

use weir_model::pipeline::TriggerRule;

/// What a pending task should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// Not decided yet: upstream tasks are still running.
    Wait,
    Run,
    Skip,
    UpstreamFailed,
}

/// States a task instance ends in.
pub fn is_terminal(state: &str) -> bool {
    matches!(
        state,
        "success" | "failed" | "upstream_failed" | "skipped" | "cancelled"
    )
}

/// Run states before the run has ended.
pub fn is_active_run(state: &str) -> bool {
    matches!(state, "queued" | "running")
}

/// States that count as a failure for trigger rules and for the run's outcome.
pub fn is_failure(state: &str) -> bool {
    matches!(state, "failed" | "upstream_failed" | "cancelled")
}

pub fn evaluate<'a>(rule: TriggerRule, upstream: impl Iterator<Item = &'a str>) -> Readiness {
    let (mut n, mut success, mut failed, mut skipped) = (0usize, 0usize, 0usize, 0usize);
    for state in upstream {
        n += 1;
        match state {
            "success" => success += 1,
            "skipped" => skipped += 1,
            s if is_failure(s) => failed += 1,
            _ => {}
        }
    }
    let done = success + failed + skipped;
    use Readiness::*;
    match rule {
        _ if n == 0 => Run,
        TriggerRule::AllSuccess if failed > 0 => UpstreamFailed,
        TriggerRule::AllSuccess if skipped > 0 => Skip,
        TriggerRule::AllSuccess if success == n => Run,
        TriggerRule::AllDone if done == n => Run,
        TriggerRule::AllFailed if success + skipped > 0 => Skip,
        TriggerRule::AllFailed if failed == n => Run,
        TriggerRule::OneSuccess if success > 0 => Run,
        TriggerRule::OneSuccess if done == n && failed > 0 => UpstreamFailed,
        TriggerRule::OneSuccess if done == n => Skip,
        TriggerRule::OneFailed if failed > 0 => Run,
        TriggerRule::OneFailed if done == n => Skip,
        TriggerRule::NoneFailed if failed > 0 => UpstreamFailed,
        TriggerRule::NoneFailed if done == n => Run,
        _ => Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::Readiness::*;
    use super::*;

    fn eval(rule: TriggerRule, states: &[&str]) -> Readiness {
        evaluate(rule, states.iter().copied())
    }

    #[test]
    fn each_rule() {
        use TriggerRule::*;
        assert_eq!(eval(AllSuccess, &[]), Run);
        assert_eq!(eval(AllSuccess, &["success", "running"]), Wait);
        assert_eq!(eval(AllSuccess, &["success", "success"]), Run);
        assert_eq!(eval(AllSuccess, &["failed", "running"]), UpstreamFailed);
        assert_eq!(eval(AllSuccess, &["skipped", "success"]), Skip);
        assert_eq!(eval(AllDone, &["failed", "success"]), Run);
        assert_eq!(eval(AllDone, &["failed", "running"]), Wait);
        assert_eq!(eval(AllFailed, &["failed", "upstream_failed"]), Run);
        assert_eq!(eval(AllFailed, &["failed", "success"]), Skip);
        assert_eq!(eval(OneSuccess, &["success", "running"]), Run);
        assert_eq!(eval(OneSuccess, &["failed", "failed"]), UpstreamFailed);
        assert_eq!(eval(OneSuccess, &["skipped"]), Skip);
        assert_eq!(eval(OneFailed, &["failed", "running"]), Run);
        assert_eq!(eval(OneFailed, &["success", "success"]), Skip);
        assert_eq!(eval(NoneFailed, &["success", "skipped"]), Run);
        assert_eq!(
            eval(NoneFailed, &["success", "upstream_failed"]),
            UpstreamFailed
        );
        assert_eq!(eval(NoneFailed, &["success", "pending"]), Wait);
    }
}
