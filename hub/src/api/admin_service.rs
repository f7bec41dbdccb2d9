//! `AdminService`: what fleetctl asks of the hub. Every method starts with
//! the role check of `authorization.rs`; every change is audited with the
//! caller's identity and role, every refused change too.

use std::collections::BTreeSet;

use fleet_proto::admin_service_server::AdminService;
use fleet_proto::{
    AuditEntry, AuditLogRequest, AuditLogResponse, CreateTokenRequest, CreateTokenResponse,
    ListClustersRequest, ListClustersResponse, ListRevisionsRequest, ListRevisionsResponse,
    RefreshRequest, RefreshResponse, RevisionSummary, RevokeClusterRequest, RevokeClusterResponse,
    RolloutActionRequest, RolloutActionResponse, RolloutHistoryRequest, RolloutHistoryResponse,
    RolloutStatusRequest, RolloutStatusResponse,
};
use fleet_proto::{
    CreateUserRequest, CreateUserResponse, HoldClusterRequest, HoldClusterResponse,
    ListNotificationTargetsRequest, ListNotificationTargetsResponse, ListUsersRequest,
    ListUsersResponse, ReleaseClusterHoldRequest, ReleaseClusterHoldResponse,
    RemoveNotificationTargetRequest, RemoveNotificationTargetResponse, RenewUserRequest,
    RenewUserResponse, RevokeUserRequest, RevokeUserResponse, SetNotificationTargetRequest,
    SetNotificationTargetResponse, WhoAmIRequest, WhoAmIResponse,
};
use fleet_proto::{
    GetClusterRequest, GetClusterResponse, GetRevisionPlanRequest, GetRevisionPlanResponse,
    WatchFleetRequest,
};
use tonic::{Request, Response, Status};
use tracing::info;

use super::authorization::{Action, Caller, Refused, refuse, require};
use super::cluster_detail::{cluster_summary, declared_clusters, latest_renderer};
use super::context::ApiContext;
use super::token_lifetime::token_lifetime;
use crate::clock::now_ms;
use crate::git::SyncOutcome;
use crate::pki::SecretToken;
use crate::rollout::RolloutView;
use crate::state::{Command, CommandResult, OperatorAction, RevisionVerdict};

/// Longest bootstrap token lifetime an operator may ask for.
const MAX_TOKEN_TTL_SECONDS: u64 = 7 * 24 * 3600;

/// Longest reason an operator may give for a hold (bytes).
const MAX_HOLD_REASON_BYTES: usize = 1024;

/// The operator-facing gRPC service.
pub struct AdminApi {
    context: ApiContext,
    watches: super::fleet_watch::FleetWatch,
}

impl AdminApi {
    /// The service over `context`.
    pub fn new(context: ApiContext) -> Self {
        let watches =
            super::fleet_watch::FleetWatch::new(context.config.dashboard.max_watch_streams);
        Self { context, watches }
    }

    fn declared_clusters(&self) -> BTreeSet<String> {
        self.context.store.read(declared_clusters)
    }
}

fn unavailable(error: impl std::fmt::Display) -> Status {
    Status::unavailable(format!("the hub could not record the change: {error}"))
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn create_token(
        &self,
        request: Request<CreateTokenRequest>,
    ) -> Result<Response<CreateTokenResponse>, Status> {
        let actor = require(&self.context, &request, Action::CreateToken)
            .await?
            .actor;
        let request = request.into_inner();
        let cluster = request.cluster.trim().to_owned();
        let declared = self
            .context
            .store
            .read_caught_up(
                |state| declared_clusters(state).contains(&cluster),
                |declared| !declared,
            )
            .await;
        if !declared {
            return Err(Status::not_found(format!(
                "cluster '{cluster}' is not declared in the fleet repository (clusters/{cluster}.yaml at the latest valid revision)"
            )));
        }
        let ttl = token_lifetime(
            request.ttl_seconds,
            self.context.config.enrollment.token_ttl.0.as_secs(),
            MAX_TOKEN_TTL_SECONDS,
            "a token",
        )?;
        let token = SecretToken::bootstrap()
            .map_err(|_| Status::internal("the system random source failed"))?;
        let now = now_ms();
        let expires_at_ms = now + ttl * 1000;
        self.write_or_refuse(
            Command::CreateToken {
                token_hash: token.hash,
                cluster: cluster.clone(),
                at_ms: now,
                expires_at_ms,
                actor,
            },
            Status::aborted,
        )
        .await?;
        info!(cluster = %cluster, "bootstrap token created");
        Ok(Response::new(CreateTokenResponse {
            token: token.secret,
            cluster,
            expires_at_ms,
        }))
    }

    async fn list_clusters(
        &self,
        request: Request<ListClustersRequest>,
    ) -> Result<Response<ListClustersResponse>, Status> {
        require(&self.context, &request, Action::Read).await?;
        let repository = latest_renderer(&self.context).await?;
        let declared = self.declared_clusters();
        let clusters = self.context.store.read(|state| {
            let names: BTreeSet<&String> = declared.iter().chain(state.clusters.keys()).collect();
            names
                .into_iter()
                .map(|name| {
                    cluster_summary(state, name, &declared, repository.as_deref(), &self.context)
                })
                .collect()
        });
        Ok(Response::new(ListClustersResponse { clusters }))
    }

    async fn list_revisions(
        &self,
        request: Request<ListRevisionsRequest>,
    ) -> Result<Response<ListRevisionsResponse>, Status> {
        require(&self.context, &request, Action::Read).await?;
        let revisions = self.context.store.read(|state| {
            state
                .revision_log
                .iter()
                .rev()
                .filter_map(|revision| state.revisions.get(revision))
                .map(|record| match &record.verdict {
                    RevisionVerdict::Valid { digests } => RevisionSummary {
                        revision: record.revision.clone(),
                        summary: record.summary.clone(),
                        observed_at_ms: record.observed_at_ms,
                        valid: true,
                        errors: Vec::new(),
                        clusters: u32::try_from(digests.len()).unwrap_or(u32::MAX),
                        charts: record
                            .charts
                            .iter()
                            .map(|chart| fleet_proto::RecordedChart {
                                repository: chart.repository.clone(),
                                chart: chart.chart.clone(),
                                version: chart.version.clone(),
                                digest: chart.digest.clone(),
                            })
                            .collect(),
                    },
                    RevisionVerdict::Invalid { errors } => RevisionSummary {
                        revision: record.revision.clone(),
                        summary: record.summary.clone(),
                        observed_at_ms: record.observed_at_ms,
                        valid: false,
                        errors: errors.clone(),
                        clusters: 0,
                        charts: Vec::new(),
                    },
                })
                .collect()
        });
        Ok(Response::new(ListRevisionsResponse {
            revisions,
            tracked_branch: self.context.config.git.branch.clone(),
        }))
    }

    async fn refresh(
        &self,
        request: Request<RefreshRequest>,
    ) -> Result<Response<RefreshResponse>, Status> {
        let actor = require(&self.context, &request, Action::Refresh)
            .await?
            .actor;
        let outcome = self
            .context
            .sync
            .sync_once()
            .await
            .map_err(|error| Status::unavailable(format!("git sync failed: {error:#}")))?;
        let (revision, new_revision) = match outcome {
            SyncOutcome::NotLeader => {
                return Err(Status::failed_precondition(
                    "this hub node is not the leader; ask the leader",
                ));
            }
            SyncOutcome::Unchanged(revision) => (revision, false),
            SyncOutcome::Recorded { revision, .. } => (revision, true),
        };
        self.context
            .store
            .write(Command::Audit {
                actor,
                action: format!("refreshed from Git (tip {revision})"),
                at_ms: now_ms(),
            })
            .await
            .map_err(unavailable)?;
        Ok(Response::new(RefreshResponse {
            revision,
            new_revision,
        }))
    }

    async fn revoke_cluster(
        &self,
        request: Request<RevokeClusterRequest>,
    ) -> Result<Response<RevokeClusterResponse>, Status> {
        let actor = require(&self.context, &request, Action::RevokeCluster)
            .await?
            .actor;
        let cluster = request.into_inner().cluster;
        let result = self
            .context
            .store
            .write(Command::RevokeCluster {
                cluster: cluster.clone(),
                at_ms: now_ms(),
                actor,
            })
            .await
            .map_err(unavailable)?;
        match result {
            CommandResult::Rejected(reason) => Err(Status::not_found(reason)),
            _ => Ok(Response::new(RevokeClusterResponse {})),
        }
    }

    async fn audit_log(
        &self,
        request: Request<AuditLogRequest>,
    ) -> Result<Response<AuditLogResponse>, Status> {
        require(&self.context, &request, Action::Read).await?;
        let since_ms = request.get_ref().since_ms;
        let entries = self.context.store.read(|state| {
            state
                .audit
                .iter()
                .filter(|entry| entry.at_ms >= since_ms)
                .map(|entry| AuditEntry {
                    sequence: entry.sequence,
                    at_ms: entry.at_ms,
                    actor: entry.actor.clone(),
                    action: entry.action.clone(),
                    role: entry.role.clone(),
                    outcome: if entry.refused.is_some() {
                        "refused"
                    } else {
                        "allowed"
                    }
                    .to_owned(),
                    reason: entry.refused.clone().unwrap_or_default(),
                })
                .collect()
        });
        Ok(Response::new(AuditLogResponse { entries }))
    }

    async fn rollout_status(
        &self,
        request: Request<RolloutStatusRequest>,
    ) -> Result<Response<RolloutStatusResponse>, Status> {
        require(&self.context, &request, Action::Read).await?;
        Ok(Response::new(RolloutStatusResponse {
            rollout: self.current_view(),
        }))
    }

    async fn rollout_history(
        &self,
        request: Request<RolloutHistoryRequest>,
    ) -> Result<Response<RolloutHistoryResponse>, Status> {
        require(&self.context, &request, Action::Read).await?;
        let now = now_ms();
        let rollouts = self.context.store.read(|state| {
            state
                .rollouts
                .iter()
                .rev()
                .map(|rollout| RolloutView::of(state, rollout, now).to_wire())
                .collect()
        });
        Ok(Response::new(RolloutHistoryResponse { rollouts }))
    }

    async fn rollout_action(
        &self,
        request: Request<RolloutActionRequest>,
    ) -> Result<Response<RolloutActionResponse>, Status> {
        let action = match request.get_ref().action.as_str() {
            "promote" if request.get_ref().ignore_windows => Action::OverrideWindows,
            "promote" => Action::Promote,
            "pause" => Action::Pause,
            "resume" => Action::Resume,
            "rollback" => Action::Rollback,
            other => {
                return Err(Status::invalid_argument(format!(
                    "unknown rollout action '{other}' (promote, pause, resume, rollback)"
                )));
            }
        };
        let caller = require(&self.context, &request, action).await?;
        let request = request.into_inner();
        self.check_rollout_scope(&caller, action, &request).await?;
        let actor = caller.actor;
        let at_ms = now_ms();
        let command = match request.action.as_str() {
            "promote" => Command::Operate {
                action: OperatorAction::Promote {
                    wave: (!request.wave.is_empty()).then(|| request.wave.clone()),
                    all: request.all,
                    ignore_windows: request.ignore_windows,
                },
                actor,
                at_ms,
            },
            "pause" => Command::Operate {
                action: OperatorAction::Pause,
                actor,
                at_ms,
            },
            "resume" => Command::Operate {
                action: OperatorAction::Resume,
                actor,
                at_ms,
            },
            "rollback" => {
                let target = self.context.store.read(|state| {
                    state
                        .active_rollout()
                        .or_else(|| state.rollouts.last())
                        .map(|rollout| rollout.id)
                });
                let Some(rollout) = target else {
                    return Err(Status::failed_precondition(
                        "there is no rollout to roll back",
                    ));
                };
                Command::RollbackRollout {
                    rollout,
                    reason: format!("rolled back by {actor}"),
                    actor,
                    at_ms,
                }
            }
            other => {
                return Err(Status::invalid_argument(format!(
                    "unknown rollout action '{other}' (promote, pause, resume, rollback)"
                )));
            }
        };
        self.write_or_refuse(command, Status::failed_precondition)
            .await?;
        Ok(Response::new(RolloutActionResponse {
            rollout: self.current_view(),
        }))
    }

    async fn create_user(
        &self,
        request: Request<CreateUserRequest>,
    ) -> Result<Response<CreateUserResponse>, Status> {
        super::users::create_user(&self.context, request).await
    }

    async fn list_users(
        &self,
        request: Request<ListUsersRequest>,
    ) -> Result<Response<ListUsersResponse>, Status> {
        super::users::list_users(&self.context, request).await
    }

    async fn revoke_user(
        &self,
        request: Request<RevokeUserRequest>,
    ) -> Result<Response<RevokeUserResponse>, Status> {
        super::users::revoke_user(&self.context, request).await
    }

    async fn renew_user(
        &self,
        request: Request<RenewUserRequest>,
    ) -> Result<Response<RenewUserResponse>, Status> {
        super::users::renew_user(&self.context, request).await
    }

    async fn set_notification_target(
        &self,
        request: Request<SetNotificationTargetRequest>,
    ) -> Result<Response<SetNotificationTargetResponse>, Status> {
        let actor = require(&self.context, &request, Action::ManageNotifications)
            .await?
            .actor;
        let command =
            super::notification_admin::set_target_command(request.into_inner(), actor, now_ms())?;
        self.write_or_refuse(command, Status::failed_precondition)
            .await?;
        Ok(Response::new(SetNotificationTargetResponse {}))
    }

    async fn remove_notification_target(
        &self,
        request: Request<RemoveNotificationTargetRequest>,
    ) -> Result<Response<RemoveNotificationTargetResponse>, Status> {
        let actor = require(&self.context, &request, Action::ManageNotifications)
            .await?
            .actor;
        let name = request.into_inner().name.trim().to_owned();
        self.write_or_refuse(
            Command::RemoveNotificationTarget {
                name,
                actor,
                at_ms: now_ms(),
            },
            Status::not_found,
        )
        .await?;
        Ok(Response::new(RemoveNotificationTargetResponse {}))
    }

    async fn list_notification_targets(
        &self,
        request: Request<ListNotificationTargetsRequest>,
    ) -> Result<Response<ListNotificationTargetsResponse>, Status> {
        require(&self.context, &request, Action::Read).await?;
        Ok(Response::new(
            self.context
                .store
                .read(super::notification_admin::list_targets),
        ))
    }

    async fn who_am_i(
        &self,
        request: Request<WhoAmIRequest>,
    ) -> Result<Response<WhoAmIResponse>, Status> {
        let caller = require(&self.context, &request, Action::Read).await?;
        Ok(Response::new(WhoAmIResponse {
            identity: caller.actor,
            role: super::users::role_to_wire(caller.role).into(),
            environments: caller.environments,
        }))
    }

    async fn get_cluster(
        &self,
        request: Request<GetClusterRequest>,
    ) -> Result<Response<GetClusterResponse>, Status> {
        super::cluster_detail::get_cluster(&self.context, request).await
    }

    async fn get_revision_plan(
        &self,
        request: Request<GetRevisionPlanRequest>,
    ) -> Result<Response<GetRevisionPlanResponse>, Status> {
        super::revision_plan::get_revision_plan(&self.context, request).await
    }

    type WatchFleetStream = super::fleet_watch::FleetChanges;

    async fn watch_fleet(
        &self,
        request: Request<WatchFleetRequest>,
    ) -> Result<Response<Self::WatchFleetStream>, Status> {
        require(&self.context, &request, Action::Read).await?;
        Ok(Response::new(self.watches.open(&self.context)?))
    }

    async fn hold_cluster(
        &self,
        request: Request<HoldClusterRequest>,
    ) -> Result<Response<HoldClusterResponse>, Status> {
        let actor = require(&self.context, &request, Action::HoldClusters)
            .await?
            .actor;
        let request = request.into_inner();
        let reason = request.reason.trim();
        if reason.is_empty() {
            return Err(Status::invalid_argument(
                "a hold needs a reason (--reason TEXT)",
            ));
        }
        if reason.len() > MAX_HOLD_REASON_BYTES || reason.chars().any(char::is_control) {
            return Err(Status::invalid_argument(format!(
                "a hold's reason is one line of at most {MAX_HOLD_REASON_BYTES} bytes"
            )));
        }
        self.write_or_refuse(
            Command::HoldCluster {
                cluster: request.cluster.trim().to_owned(),
                reason: reason.to_owned(),
                actor,
                at_ms: now_ms(),
            },
            Status::failed_precondition,
        )
        .await?;
        Ok(Response::new(HoldClusterResponse {}))
    }

    async fn release_cluster_hold(
        &self,
        request: Request<ReleaseClusterHoldRequest>,
    ) -> Result<Response<ReleaseClusterHoldResponse>, Status> {
        let actor = require(&self.context, &request, Action::HoldClusters)
            .await?
            .actor;
        let cluster = request.into_inner().cluster.trim().to_owned();
        self.write_or_refuse(
            Command::ReleaseClusterHold {
                cluster,
                actor,
                at_ms: now_ms(),
            },
            Status::failed_precondition,
        )
        .await?;
        Ok(Response::new(ReleaseClusterHoldResponse {}))
    }
}

impl AdminApi {
    /// Writes `command`; a state-machine rejection becomes `refused(reason)`
    /// (the status code says which kind of refusal it is).
    async fn write_or_refuse(
        &self,
        command: Command,
        refused: fn(String) -> Status,
    ) -> Result<(), Status> {
        match self
            .context
            .store
            .write(command)
            .await
            .map_err(unavailable)?
        {
            CommandResult::Rejected(reason) => Err(refused(reason)),
            _ => Ok(()),
        }
    }

    /// Refuses (and audits) a rollout action of an environment-scoped
    /// operator that reaches clusters outside its environments: the wave(s)
    /// a promote approves, or every cluster of the rollout a pause, resume
    /// or rollback acts on.
    async fn check_rollout_scope(
        &self,
        caller: &Caller,
        action: Action,
        request: &RolloutActionRequest,
    ) -> Result<(), Status> {
        if caller.environments.is_empty() {
            return Ok(());
        }
        let reached = self.context.store.read(|state| {
            let rollout = state.active_rollout().or_else(|| state.rollouts.last())?;
            let waves: Vec<&crate::state::RolloutWave> = match action {
                Action::Promote if request.all => rollout
                    .waves
                    .iter()
                    .filter(|wave| wave.state != crate::state::WaveState::Succeeded)
                    .collect(),
                Action::Promote if !request.wave.is_empty() => rollout
                    .waves
                    .iter()
                    .filter(|wave| wave.name == request.wave)
                    .collect(),
                Action::Promote => rollout
                    .current_wave()
                    .and_then(|index| rollout.waves.get(index))
                    .into_iter()
                    .collect(),
                _ => rollout.waves.iter().collect(),
            };
            let on = match action {
                Action::Promote => format!(
                    "wave {}",
                    waves
                        .iter()
                        .map(|wave| wave.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => format!("rollout {}", rollout.id),
            };
            let clusters: Vec<String> = waves
                .iter()
                .flat_map(|wave| wave.clusters.iter().map(|cluster| cluster.name.clone()))
                .collect();
            Some((on, clusters))
        });
        let Some((on, clusters)) = reached else {
            return Ok(()); // no rollout: the command is refused for that
        };
        let environments = super::environments::declared_environments(&self.context)
            .await?
            .of_cluster;
        let checked = caller.check_scope(
            action,
            &on,
            clusters.iter().map(|cluster| {
                (
                    cluster.as_str(),
                    environments.get(cluster).map_or("", String::as_str),
                )
            }),
        );
        match checked {
            Ok(()) => Ok(()),
            Err(reason) => Err(refuse(
                &self.context,
                action.describe(),
                action,
                Refused {
                    actor: caller.actor.clone(),
                    role: Some(caller.role),
                    reason,
                },
            )
            .await),
        }
    }

    /// The active rollout, else the latest one.
    fn current_view(&self) -> Option<fleet_proto::RolloutView> {
        let now = now_ms();
        self.context.store.read(|state| {
            state
                .active_rollout()
                .or_else(|| state.rollouts.last())
                .map(|rollout| RolloutView::of(state, rollout, now).to_wire())
        })
    }
}
