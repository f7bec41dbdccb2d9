//! `GetRevisionPlan`: the plan of a recorded revision — per wave of that
//! revision, its clusters and the objects that change for each — computed
//! by fleet-core's [`FleetPlan`] (what `fleetctl plan` prints) against the
//! valid revision observed before it. Object diffs are not sent: a viewer
//! reads names, not contents (`fleetctl plan` shows diffs to whoever can
//! read the repository).

use fleet_core::plan::{ChangeKind, ClusterChange, FleetPlan};
use fleet_proto::{
    GetRevisionPlanRequest, GetRevisionPlanResponse, ObjectRef, PlannedClusterChange,
    PlannedObjectChange, PlannedWaveChanges,
};
use tonic::{Request, Response, Status};

use super::authorization::{Action, require};
use super::context::ApiContext;
use crate::state::{FleetState, RevisionVerdict};

/// Shortest revision prefix looked up.
const MIN_PREFIX: usize = 7;

/// What the state says about the revision asked for.
enum Found {
    /// Valid: (revision, the valid revision before it, if any).
    Valid(String, Option<String>),
    /// Invalid: (revision, its errors).
    Invalid(String, Vec<String>),
}

/// The recorded revision `wanted` names (a full id or a unique prefix).
fn find(state: &FleetState, wanted: &str) -> Result<Found, Status> {
    let matches: Vec<usize> = state
        .revision_log
        .iter()
        .enumerate()
        .filter(|(_, revision)| {
            revision.as_str() == wanted
                || (wanted.len() >= MIN_PREFIX && revision.starts_with(wanted))
        })
        .map(|(position, _)| position)
        .collect();
    let position = match matches.as_slice() {
        [position] => *position,
        [] => {
            return Err(Status::not_found(format!(
                "the hub has recorded no revision '{wanted}' (a full commit id, or a prefix of at least {MIN_PREFIX} characters)"
            )));
        }
        _ => {
            return Err(Status::invalid_argument(format!(
                "revision prefix '{wanted}' names {} recorded revisions; give more characters",
                matches.len()
            )));
        }
    };
    let revision = state.revision_log[position].clone();
    let record = state
        .revisions
        .get(&revision)
        .ok_or_else(|| Status::not_found(format!("revision {revision} was trimmed")))?;
    match &record.verdict {
        RevisionVerdict::Invalid { errors } => Ok(Found::Invalid(revision, errors.clone())),
        RevisionVerdict::Valid { .. } => {
            let previous = state.revision_log[..position]
                .iter()
                .rev()
                .find(|earlier| {
                    state.revisions.get(*earlier).is_some_and(|record| {
                        matches!(record.verdict, RevisionVerdict::Valid { .. })
                    })
                })
                .cloned();
            Ok(Found::Valid(revision, previous))
        }
    }
}

/// `GetRevisionPlan`. Viewers and up.
pub async fn get_revision_plan(
    context: &ApiContext,
    request: Request<GetRevisionPlanRequest>,
) -> Result<Response<GetRevisionPlanResponse>, Status> {
    require(context, &request, Action::Read).await?;
    let wanted = request.into_inner().revision.trim().to_owned();
    let (revision, previous) = match context.store.read(|state| find(state, &wanted))? {
        Found::Invalid(revision, errors) => {
            return Ok(Response::new(GetRevisionPlanResponse {
                revision,
                valid: false,
                errors,
                ..GetRevisionPlanResponse::default()
            }));
        }
        Found::Valid(revision, previous) => (revision, previous),
    };
    let (new_revision, old_revision) = (revision.clone(), previous.clone());
    let plan = context
        .render_blocking("planning", move |cache| {
            let new = cache.renderer(&new_revision)?;
            let old = old_revision.map(|old| cache.renderer(&old)).transpose()?;
            FleetPlan::compute_from(old.as_deref(), &new).map_err(|problems| {
                anyhow::anyhow!("revision {new_revision} does not render: {problems}")
            })
        })
        .await?
        .map_err(|error| Status::internal(format!("{error:#}")))?;
    let mut budget =
        usize::try_from(context.config.dashboard.plan_object_changes).unwrap_or(usize::MAX);
    let waves = plan
        .waves
        .iter()
        .map(|wave| PlannedWaveChanges {
            name: wave.wave.clone(),
            changed: wave
                .changed
                .iter()
                .map(|cluster| planned_cluster(cluster, &mut budget))
                .collect(),
            unchanged: wave.unchanged_clusters.clone(),
        })
        .collect();
    Ok(Response::new(GetRevisionPlanResponse {
        revision,
        compared_with: previous.unwrap_or_default(),
        valid: true,
        errors: Vec::new(),
        waves,
        removed_clusters: plan
            .removed_clusters
            .iter()
            .map(|cluster| cluster.cluster.clone())
            .collect(),
    }))
}

/// One changed cluster on the wire; object changes past `budget` are only
/// counted.
fn planned_cluster(cluster: &ClusterChange, budget: &mut usize) -> PlannedClusterChange {
    let listed = cluster.objects.len().min(*budget);
    *budget -= listed;
    PlannedClusterChange {
        cluster: cluster.cluster.clone(),
        from_digest: cluster.from_digest.clone().unwrap_or_default(),
        to_digest: cluster.to_digest.clone().unwrap_or_default(),
        objects: cluster.objects[..listed]
            .iter()
            .map(|change| PlannedObjectChange {
                app: change.app.clone(),
                object: Some(ObjectRef {
                    group: change.object.group.clone(),
                    kind: change.object.kind.clone(),
                    namespace: change.object.namespace.clone().unwrap_or_default(),
                    name: change.object.name.clone(),
                }),
                change: match change.change {
                    ChangeKind::Added => "added",
                    ChangeKind::Changed => "changed",
                    ChangeKind::Removed => "removed",
                }
                .to_owned(),
            })
            .collect(),
        objects_left_out: u32::try_from(cluster.objects.len() - listed).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::RevisionRecord;

    fn state(revisions: &[(&str, bool)]) -> FleetState {
        let mut state = FleetState::default();
        for (revision, valid) in revisions {
            state.revision_log.push((*revision).to_owned());
            state.revisions.insert(
                (*revision).to_owned(),
                RevisionRecord {
                    revision: (*revision).to_owned(),
                    summary: String::new(),
                    charts: Vec::new(),
                    observed_at_ms: 1,
                    verdict: if *valid {
                        RevisionVerdict::Valid {
                            digests: Default::default(),
                        }
                    } else {
                        RevisionVerdict::Invalid {
                            errors: vec!["fleet.yaml:3: broken".into()],
                        }
                    },
                },
            );
        }
        state
    }

    #[test]
    fn a_revision_is_found_by_unique_prefix_and_compared_with_the_valid_one_before() {
        let state = state(&[
            ("aaaaaaa111", true),
            ("bbbbbbb222", false),
            ("aaaaaaa333", true),
        ]);
        let Ok(Found::Valid(revision, previous)) = find(&state, "aaaaaaa3") else {
            panic!("not found by prefix");
        };
        assert_eq!(revision, "aaaaaaa333");
        assert_eq!(
            previous.as_deref(),
            Some("aaaaaaa111"),
            "the invalid revision in between is skipped"
        );
        let Ok(Found::Valid(_, previous)) = find(&state, "aaaaaaa111") else {
            panic!("not found by full id");
        };
        assert_eq!(
            previous, None,
            "the first valid revision has nothing before it"
        );
        assert!(matches!(
            find(&state, "bbbbbbb222"),
            Ok(Found::Invalid(_, errors)) if errors == ["fleet.yaml:3: broken"]
        ));
        let ambiguous = find(&state, "aaaaaaa").err().unwrap();
        assert_eq!(ambiguous.code(), tonic::Code::InvalidArgument);
        assert!(ambiguous.message().contains("names 2 recorded revisions"));
        assert_eq!(
            find(&state, "aaa").err().unwrap().code(),
            tonic::Code::NotFound,
            "prefixes shorter than 7 characters are not looked up"
        );
    }
}
