//! Who may do what through `AdminService` and `MembershipService`: the one
//! role → action table ([`Action::minimum_role`]) and the check every admin
//! method starts with ([`require`]).
//!
//! The caller's role is read from the replicated state on every call, never
//! from its certificate alone: `spiffe://fleet/user/<name>` must have a user
//! record that is not revoked and holds the certificate's serial; the admin
//! certificate `fleet-hub init` made (`spiffe://fleet/admin/<name>`) is an
//! admin unless a user record of its name exists (a revoked one, or one
//! created afterwards with a certificate of its own). Every refusal is
//! PERMISSION_DENIED naming the role and the action; refusals of mutating
//! calls are audited ([`super::refusal_audit`]).

use tonic::{Request, Status};

use super::auth::peer;
use super::context::ApiContext;
use crate::pki::{Identity, PeerCertificate};
use crate::state::{FleetState, Role};

/// Something an operator asks the hub to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read status, clusters, revisions, rollouts, audit, users or members.
    Read,
    /// Fetch the tracked branch now.
    Refresh,
    /// Approve a rollout's wave(s).
    Promote,
    /// Hold the active rollout.
    Pause,
    /// Continue a paused rollout.
    Resume,
    /// Put released clusters back on their previous revision.
    Rollback,
    /// Mint a bootstrap token for an agent.
    CreateToken,
    /// Create or revoke users.
    ManageUsers,
    /// Revoke a cluster's certificates.
    RevokeCluster,
    /// Join tokens, adding, removing hub nodes, leader step-down.
    ManageMembership,
    /// Renew the caller's own user certificate.
    RenewOwnCertificate,
    /// Add or remove notification targets (a target makes the leader send
    /// requests to any URL it can reach, so it is the admin's).
    ManageNotifications,
    /// Hold a cluster out of rollouts, or release it.
    HoldClusters,
    /// Promote a wave while its sync windows are closed.
    OverrideWindows,
}

impl Action {
    /// The least role allowed to do it — the one role → action table.
    pub fn minimum_role(self) -> Role {
        match self {
            Action::Read | Action::RenewOwnCertificate => Role::Viewer,
            Action::Refresh
            | Action::Promote
            | Action::Pause
            | Action::Resume
            | Action::Rollback
            | Action::HoldClusters => Role::Operator,
            Action::CreateToken
            | Action::ManageUsers
            | Action::RevokeCluster
            | Action::ManageMembership
            | Action::ManageNotifications
            | Action::OverrideWindows => Role::Admin,
        }
    }

    /// The action in words, as refusals name it (`pause rollouts`).
    pub fn describe(self) -> &'static str {
        match self {
            Action::Read => "read the fleet state",
            Action::Refresh => "refresh from Git",
            Action::Promote => "promote rollouts",
            Action::Pause => "pause rollouts",
            Action::Resume => "resume rollouts",
            Action::Rollback => "roll back rollouts",
            Action::CreateToken => "mint bootstrap tokens",
            Action::ManageUsers => "manage users",
            Action::RevokeCluster => "revoke clusters",
            Action::ManageMembership => "change hub membership",
            Action::RenewOwnCertificate => "renew its certificate",
            Action::ManageNotifications => "manage notification targets",
            Action::HoldClusters => "hold or release clusters",
            Action::OverrideWindows => "promote outside sync windows",
        }
    }

    /// Whether the action changes anything (its refusals are audited).
    pub fn mutating(self) -> bool {
        self != Action::Read
    }

    /// Whether an operator's environment scope limits it.
    pub fn scoped(self) -> bool {
        matches!(
            self,
            Action::Promote | Action::Pause | Action::Resume | Action::Rollback
        )
    }
}

/// An authorized caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Its certificate identity (the audit log's actor).
    pub actor: String,
    /// Its identity.
    pub identity: Identity,
    /// Its role, from the replicated state.
    pub role: Role,
    /// Environments it is limited to (empty: every environment).
    pub environments: Vec<String>,
    /// Serial of the certificate it called with.
    pub serial: String,
}

impl Caller {
    /// Refuses `action` when it reaches clusters outside the caller's
    /// environments. `reached` lists (cluster, environment) pairs the action
    /// acts on; `on` says on what, for the message.
    pub fn check_scope<'a>(
        &self,
        action: Action,
        on: &str,
        reached: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), String> {
        if self.environments.is_empty() || !action.scoped() {
            return Ok(());
        }
        let outside: Vec<String> = reached
            .into_iter()
            .filter(|(_, environment)| !self.environments.iter().any(|own| own == environment))
            .map(|(cluster, environment)| {
                if environment.is_empty() {
                    format!("{cluster} (environment unknown)")
                } else {
                    format!("{cluster} (environment {environment})")
                }
            })
            .collect();
        if outside.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = outside.iter().take(10).map(String::as_str).collect();
        let more = outside.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        Err(format!(
            "role {} scoped to environments {} may not {} on {on}: it reaches clusters outside that scope: {}{more}",
            self.role,
            self.environments.join(", "),
            action.describe(),
            shown.join(", ")
        ))
    }
}

/// Why a call is refused, for the answer and the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Who called (certificate identity).
    pub actor: String,
    /// Its role, if it has one.
    pub role: Option<Role>,
    /// The message (`role viewer may not pause rollouts`).
    pub reason: String,
}

/// Decides whether `peer` may do `action` given `state`.
pub fn decide(
    peer: &PeerCertificate,
    state: &FleetState,
    action: Action,
) -> Result<Caller, Refused> {
    let actor = peer.identity.uri();
    // Refusals of the identity itself also say what was refused.
    let refuse = |role: Option<Role>, reason: String| Refused {
        actor: actor.clone(),
        role,
        reason: format!("{reason}; it may not {}", action.describe()),
    };
    let (role, environments) = match &peer.identity {
        Identity::User(name) => {
            let Some(user) = state.users.get(name) else {
                return Err(refuse(
                    None,
                    format!("user '{name}' is unknown to this hub (no user record)"),
                ));
            };
            if user.revoked_at_ms.is_some() {
                return Err(refuse(
                    Some(user.role),
                    format!("user '{name}' has been revoked"),
                ));
            }
            if !user.holds(&peer.serial) {
                return Err(refuse(
                    Some(user.role),
                    format!(
                        "certificate {} of user '{name}' is not current (renewed or re-created since)",
                        peer.serial
                    ),
                ));
            }
            (user.role, user.environments.clone())
        }
        Identity::Admin(name) => match state.users.get(name) {
            None => (Role::Admin, Vec::new()),
            Some(user) if user.revoked_at_ms.is_some() => {
                return Err(refuse(
                    Some(Role::Admin),
                    format!("user '{name}' has been revoked"),
                ));
            }
            Some(user) if user.holds(&peer.serial) => (user.role, user.environments.clone()),
            Some(_) => {
                return Err(refuse(
                    Some(Role::Admin),
                    format!(
                        "the init admin certificate of '{name}' was superseded by a user record of that name"
                    ),
                ));
            }
        },
        other => {
            return Err(refuse(
                None,
                format!("{other} may not call admin methods (an operator certificate is required)"),
            ));
        }
    };
    if role < action.minimum_role() {
        return Err(Refused {
            actor,
            role: Some(role),
            reason: format!("role {role} may not {}", action.describe()),
        });
    }
    Ok(Caller {
        actor,
        identity: peer.identity.clone(),
        role,
        environments,
        serial: peer.serial.clone(),
    })
}

/// The caller of `request` if it may do `action`; else PERMISSION_DENIED
/// (UNAUTHENTICATED without a fleet certificate). A refused mutating call
/// is audited.
pub async fn require<T>(
    context: &ApiContext,
    request: &Request<T>,
    action: Action,
) -> Result<Caller, Status> {
    let peer = peer(request)?;
    let (decided, unrecorded) = context.store.read(|state| {
        let unrecorded = match &peer.identity {
            Identity::Admin(name) => !state.users.contains_key(name),
            _ => false,
        };
        (decide(&peer, state, action), unrecorded)
    });
    match decided {
        Ok(caller) => {
            if unrecorded && let Identity::Admin(name) = &caller.identity {
                record_init_admin(context, name, &peer);
            }
            Ok(caller)
        }
        Err(refused) => Err(refuse(context, action.describe(), action, refused).await),
    }
}

/// Records the init admin as the admin user of its name (its first call),
/// so `user list` shows it and its serial is checked from then on. In the
/// background and best effort: the call does not wait for a leader, and
/// without a record the init admin is an admin all the same.
fn record_init_admin(context: &ApiContext, name: &str, peer: &PeerCertificate) {
    let command = crate::state::Command::RecordInitAdmin {
        name: name.to_owned(),
        serial: peer.serial.clone(),
        expires_at_ms: peer.not_after_ms,
        at_ms: crate::clock::now_ms(),
    };
    let store = context.store.clone();
    let name = name.to_owned();
    tokio::spawn(async move {
        if let Err(error) = store.write(command).await {
            tracing::warn!(user = %name, "could not record the init admin: {error}");
        }
    });
}

/// Audits a refusal (when `action` is mutating) and turns it into
/// PERMISSION_DENIED. `what` is the attempted action in words.
pub async fn refuse(context: &ApiContext, what: &str, action: Action, refused: Refused) -> Status {
    if action.mutating() {
        context
            .refusals
            .record(
                &context.store,
                &refused.actor,
                refused.role.map(Role::name).unwrap_or_default(),
                what,
                &refused.reason,
            )
            .await;
    }
    Status::permission_denied(refused.reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Command;

    fn peer(identity: Identity, serial: &str) -> PeerCertificate {
        PeerCertificate {
            identity,
            serial: serial.into(),
            not_after_ms: u64::MAX,
        }
    }

    #[test]
    fn roles_come_from_the_state_and_refusals_name_role_and_action() {
        let mut state = FleetState::default();
        state.apply(&Command::CreateUser {
            name: "vera".into(),
            role: Role::Viewer,
            environments: Vec::new(),
            serial: "0a".into(),
            expires_at_ms: u64::MAX,
            actor: "spiffe://fleet/admin/ops".into(),
            at_ms: 1,
        });
        let vera = peer(Identity::User("vera".into()), "0a");
        assert!(decide(&vera, &state, Action::Read).is_ok());
        let refused = decide(&vera, &state, Action::Pause).unwrap_err();
        assert_eq!(refused.reason, "role viewer may not pause rollouts");
        assert_eq!(
            decide(&vera, &state, Action::CreateToken)
                .unwrap_err()
                .reason,
            "role viewer may not mint bootstrap tokens"
        );
        // A certificate the hub never recorded is refused even with a good name.
        let forged = peer(Identity::User("vera".into()), "0b");
        assert!(decide(&forged, &state, Action::Read).is_err());
        // The init admin is an admin until revoked by name.
        let init_admin = peer(Identity::Admin("ops".into()), "01");
        assert_eq!(
            decide(&init_admin, &state, Action::ManageUsers)
                .unwrap()
                .role,
            Role::Admin
        );
        state.apply(&Command::RevokeUser {
            name: "ops".into(),
            actor: "spiffe://fleet/admin/ops".into(),
            at_ms: 2,
        });
        assert!(
            decide(&init_admin, &state, Action::Read)
                .unwrap_err()
                .reason
                .contains("revoked")
        );
        // Agents and hub nodes are no operators.
        let agent = peer(Identity::Cluster("prod-eu-1".into()), "02");
        assert!(decide(&agent, &state, Action::Read).is_err());
    }

    #[test]
    fn scoped_operators_are_held_to_their_environments() {
        let caller = Caller {
            actor: "spiffe://fleet/user/sam".into(),
            identity: Identity::User("sam".into()),
            role: Role::Operator,
            environments: vec!["staging".into()],
            serial: "01".into(),
        };
        assert!(
            caller
                .check_scope(
                    Action::Promote,
                    "wave staging",
                    [("staging-us-1", "staging")]
                )
                .is_ok()
        );
        let refused = caller
            .check_scope(
                Action::Promote,
                "wave production",
                [("prod-eu-2", "prod"), ("staging-us-1", "staging")],
            )
            .unwrap_err();
        assert!(
            refused.contains("scoped to environments staging"),
            "{refused}"
        );
        assert!(
            refused.contains("prod-eu-2 (environment prod)"),
            "{refused}"
        );
        assert!(!refused.contains("staging-us-1"), "{refused}");
    }
}
