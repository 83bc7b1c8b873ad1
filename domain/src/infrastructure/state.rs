//! An infrastructure's state, folded from its VMs' states (spec §5.2).

use super::model::VmState;

/// Folds VM states (ascending id order) into the infrastructure's state,
/// exactly as IM does: `failed` and `unknown` win at once, `pending` beats
/// `running`, the first of `stopped`, `off` and `configured` holds unless a
/// later rule overrides it, `unconfigured` replaces nothing but `configured`,
/// and `deleting` VMs are skipped. With no state, `failed` when
/// contextualisation failed (or nothing was deployed), `pending` when there
/// are no VMs and contextualisation has not finished, else `unknown`.
/// `destroying` overrides everything.
pub fn aggregate(states: &[VmState], contextualized: Option<bool>, destroying: bool) -> VmState {
    let mut agg: Option<VmState> = None;
    for &state in states {
        match state {
            VmState::Failed | VmState::Unknown => {
                agg = Some(state);
                break;
            }
            VmState::Pending => agg = Some(VmState::Pending),
            VmState::Running => {
                if agg != Some(VmState::Pending) {
                    agg = Some(VmState::Running);
                }
            }
            VmState::Stopped | VmState::Off | VmState::Configured => {
                if agg.is_none() {
                    agg = Some(state);
                }
            }
            VmState::Unconfigured => {
                if agg.is_none() || agg == Some(VmState::Configured) {
                    agg = Some(VmState::Unconfigured);
                }
            }
            VmState::Deleting => {}
        }
    }
    let agg = agg.unwrap_or(match contextualized {
        Some(false) => VmState::Failed,
        None if states.is_empty() => VmState::Pending,
        _ => VmState::Unknown,
    });
    if destroying { VmState::Deleting } else { agg }
}

#[cfg(test)]
mod tests {
    use super::*;
    use VmState::*;

    fn fold(states: &[VmState]) -> VmState {
        aggregate(states, Some(true), false)
    }

    #[test]
    fn order_decides_between_configured_and_stopped() {
        assert_eq!(fold(&[Configured, Stopped]), Configured);
        assert_eq!(fold(&[Stopped, Configured]), Stopped);
        assert_eq!(fold(&[Stopped, Unconfigured]), Stopped);
        assert_eq!(fold(&[Configured, Unconfigured]), Unconfigured);
        assert_eq!(fold(&[Unconfigured, Configured]), Unconfigured);
    }

    #[test]
    fn pending_beats_running_in_any_order() {
        assert_eq!(fold(&[Running, Pending]), Pending);
        assert_eq!(fold(&[Pending, Running]), Pending);
        assert_eq!(fold(&[Configured, Running]), Running);
    }

    #[test]
    fn stopping_the_first_vm_stops_the_infrastructure() {
        assert_eq!(fold(&[Configured, Configured, Stopped]), Configured);
        assert_eq!(fold(&[Stopped, Configured, Configured]), Stopped);
        assert_eq!(fold(&[Off, Configured]), Off);
    }

    #[test]
    fn failed_and_unknown_win_at_once() {
        assert_eq!(fold(&[Configured, Failed, Unknown]), Failed);
        assert_eq!(fold(&[Pending, Unknown, Failed]), Unknown);
        assert_eq!(fold(&[Running, Failed]), Failed);
    }

    #[test]
    fn deleting_vms_are_skipped() {
        assert_eq!(fold(&[Deleting, Configured]), Configured);
        assert_eq!(aggregate(&[Deleting], Some(true), false), Unknown);
    }

    #[test]
    fn the_fallback_follows_contextualisation() {
        assert_eq!(aggregate(&[], Some(false), false), Failed);
        assert_eq!(aggregate(&[], None, false), Pending);
        assert_eq!(aggregate(&[], Some(true), false), Unknown);
        assert_eq!(aggregate(&[Deleting], None, false), Unknown);
    }

    #[test]
    fn destroying_overrides_everything() {
        assert_eq!(aggregate(&[Configured], Some(true), true), Deleting);
        assert_eq!(aggregate(&[], Some(false), true), Deleting);
    }
}
