//! Operators ("users") as the replicated state records them: name, role,
//! environment scope, the certificates the hub minted for them, and whether
//! they were revoked. A caller's role is read from here on every call, never
//! from the certificate alone (issue #15).
//!
//! The admin certificate `fleet-hub init` wrote (`spiffe://fleet/admin/<name>`)
//! needs no record: it is an admin unless a record of the same name says it
//! was revoked. So a state written before users existed keeps its admin.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::command::CommandResult;
use super::fleet_state::FleetState;

/// Certificates kept per user: the newest and the one it renewed (a
/// fleetctl that lost the renewal's answer still holds that one).
pub const CERTIFICATES_KEPT_PER_USER: usize = 2;

/// What an operator may do; each role may do everything the one before may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Reads everything: status, clusters, revisions, rollouts, audit, members.
    Viewer,
    /// Also refreshes, promotes, pauses, resumes and rolls back.
    Operator,
    /// Also mints tokens, manages users, revokes clusters, changes membership.
    Admin,
}

impl Role {
    /// The role's name as operators type it (`viewer`, `operator`, `admin`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Parses `viewer`, `operator` or `admin`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// One certificate minted for a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCertificate {
    /// Serial number, lowercase hex.
    pub serial: String,
    /// When it was issued (Unix milliseconds).
    pub issued_at_ms: u64,
    /// When it expires (Unix milliseconds).
    pub expires_at_ms: u64,
}

/// One operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// The user's name (identity `spiffe://fleet/user/<name>`).
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// Environments an operator is limited to (empty: every environment).
    pub environments: Vec<String>,
    /// Certificates minted for the user, newest last.
    pub certificates: Vec<UserCertificate>,
    /// When the user was created (Unix milliseconds).
    pub created_at_ms: u64,
    /// Who created it (certificate identity).
    pub created_by: String,
    /// When it was revoked, if it was; a revoked user is refused on every call.
    pub revoked_at_ms: Option<u64>,
}

impl UserRecord {
    /// Whether `serial` is one of the user's current certificates.
    pub fn holds(&self, serial: &str) -> bool {
        self.certificates
            .iter()
            .any(|certificate| certificate.serial == serial)
    }
}

impl FleetState {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn create_user(
        &mut self,
        name: &str,
        role: Role,
        environments: &[String],
        serial: &str,
        expires_at_ms: u64,
        actor: &str,
        at_ms: u64,
    ) -> CommandResult {
        if self
            .users
            .get(name)
            .is_some_and(|user| user.revoked_at_ms.is_none())
        {
            return CommandResult::Rejected(format!(
                "user '{name}' already exists; revoke it first (fleetctl user revoke {name})"
            ));
        }
        self.users.insert(
            name.to_owned(),
            UserRecord {
                name: name.to_owned(),
                role,
                environments: environments.to_vec(),
                certificates: vec![UserCertificate {
                    serial: serial.to_owned(),
                    issued_at_ms: at_ms,
                    expires_at_ms,
                }],
                created_at_ms: at_ms,
                created_by: actor.to_owned(),
                revoked_at_ms: None,
            },
        );
        let scope = if environments.is_empty() {
            String::new()
        } else {
            format!(" scoped to environments {}", environments.join(", "))
        };
        self.audit(
            actor,
            at_ms,
            format!("created user {name} with role {role}{scope} (certificate {serial})"),
        );
        CommandResult::Applied
    }

    pub(super) fn record_init_admin(
        &mut self,
        name: &str,
        serial: &str,
        expires_at_ms: u64,
        at_ms: u64,
    ) -> CommandResult {
        if self.users.contains_key(name) {
            return CommandResult::Unchanged;
        }
        self.users.insert(
            name.to_owned(),
            UserRecord {
                name: name.to_owned(),
                role: Role::Admin,
                environments: Vec::new(),
                certificates: vec![UserCertificate {
                    serial: serial.to_owned(),
                    issued_at_ms: at_ms,
                    expires_at_ms,
                }],
                created_at_ms: at_ms,
                created_by: "fleet-hub init".to_owned(),
                revoked_at_ms: None,
            },
        );
        CommandResult::Applied
    }

    /// Revokes `name`. A name without a record gets a revoked record, so the
    /// init admin certificate of that name (which has none) is refused too.
    pub(super) fn revoke_user(&mut self, name: &str, actor: &str, at_ms: u64) -> CommandResult {
        match self.users.get_mut(name) {
            Some(user) if user.revoked_at_ms.is_some() => return CommandResult::Unchanged,
            Some(user) => user.revoked_at_ms = Some(at_ms),
            None => {
                self.users.insert(
                    name.to_owned(),
                    UserRecord {
                        name: name.to_owned(),
                        role: Role::Admin,
                        environments: Vec::new(),
                        certificates: Vec::new(),
                        created_at_ms: at_ms,
                        created_by: actor.to_owned(),
                        revoked_at_ms: Some(at_ms),
                    },
                );
            }
        }
        self.audit(actor, at_ms, format!("revoked user {name}"));
        CommandResult::Applied
    }

    pub(super) fn renew_user(
        &mut self,
        name: &str,
        previous_serial: &str,
        serial: &str,
        expires_at_ms: u64,
        at_ms: u64,
    ) -> CommandResult {
        let Some(user) = self.users.get_mut(name) else {
            return CommandResult::Rejected(format!("unknown user '{name}'"));
        };
        if user.revoked_at_ms.is_some() {
            return CommandResult::Rejected(format!("user '{name}' has been revoked"));
        }
        if !user.holds(previous_serial) {
            return CommandResult::Rejected(format!(
                "certificate {previous_serial} is not a current certificate of user '{name}'"
            ));
        }
        user.certificates.push(UserCertificate {
            serial: serial.to_owned(),
            issued_at_ms: at_ms,
            expires_at_ms,
        });
        let excess = user
            .certificates
            .len()
            .saturating_sub(CERTIFICATES_KEPT_PER_USER);
        user.certificates.drain(..excess);
        let actor = format!("spiffe://fleet/user/{name}");
        self.audit(
            &actor,
            at_ms,
            format!("renewed the certificate of user {name} (certificate {serial})"),
        );
        CommandResult::Applied
    }

    /// The role an audit entry records for `actor` as the state knows it now:
    /// the user's role, `admin` for the init admin, empty for anyone else
    /// (agents, hub nodes, the rollout controller).
    pub(super) fn role_of_actor(&self, actor: &str) -> String {
        if let Some(name) = actor.strip_prefix("spiffe://fleet/user/") {
            return self
                .users
                .get(name)
                .map(|user| user.role.name().to_owned())
                .unwrap_or_default();
        }
        if actor.starts_with("spiffe://fleet/admin/") {
            return Role::Admin.name().to_owned();
        }
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Command;

    fn create(state: &mut FleetState, name: &str, serial: &str) -> CommandResult {
        state.apply(&Command::CreateUser {
            name: name.into(),
            role: Role::Operator,
            environments: vec!["staging".into()],
            serial: serial.into(),
            expires_at_ms: 1_000,
            actor: "spiffe://fleet/admin/ops".into(),
            at_ms: 10,
        })
    }

    #[test]
    fn users_are_created_once_revoked_and_renewed_with_a_current_certificate() {
        let mut state = FleetState::default();
        assert_eq!(create(&mut state, "ana", "01"), CommandResult::Applied);
        assert!(matches!(
            create(&mut state, "ana", "02"),
            CommandResult::Rejected(_)
        ));
        let renew = |state: &mut FleetState, previous: &str, serial: &str| {
            state.apply(&Command::RenewUser {
                name: "ana".into(),
                previous_serial: previous.into(),
                serial: serial.into(),
                expires_at_ms: 2_000,
                at_ms: 20,
            })
        };
        assert!(matches!(
            renew(&mut state, "ff", "03"),
            CommandResult::Rejected(_)
        ));
        assert_eq!(renew(&mut state, "01", "03"), CommandResult::Applied);
        assert_eq!(renew(&mut state, "03", "04"), CommandResult::Applied);
        let user = &state.users["ana"];
        assert!(!user.holds("01") && user.holds("03") && user.holds("04"));
        assert_eq!(user.role, Role::Operator);
        let revoke = |state: &mut FleetState, name: &str| {
            state.apply(&Command::RevokeUser {
                name: name.into(),
                actor: "spiffe://fleet/admin/ops".into(),
                at_ms: 30,
            })
        };
        assert_eq!(revoke(&mut state, "ana"), CommandResult::Applied);
        assert!(matches!(
            renew(&mut state, "04", "05"),
            CommandResult::Rejected(_)
        ));
        // A revoked name may be created again, with a new certificate only.
        assert_eq!(create(&mut state, "ana", "06"), CommandResult::Applied);
        assert!(!state.users["ana"].holds("04"));
        // The init admin is recorded once, on its first call.
        let record = |state: &mut FleetState, serial: &str| {
            state.apply(&Command::RecordInitAdmin {
                name: "root".into(),
                serial: serial.into(),
                expires_at_ms: 5_000,
                at_ms: 40,
            })
        };
        assert_eq!(record(&mut state, "aa"), CommandResult::Applied);
        assert_eq!(record(&mut state, "bb"), CommandResult::Unchanged);
        assert!(state.users["root"].holds("aa") && state.users["root"].role == Role::Admin);
        // Revoking a name without a record (the init admin) records it revoked.
        assert_eq!(revoke(&mut state, "ops"), CommandResult::Applied);
        assert!(state.users["ops"].revoked_at_ms.is_some());
        let roles: Vec<String> = state.audit.iter().map(|entry| entry.role.clone()).collect();
        assert!(
            roles
                .iter()
                .all(|role| role == "admin" || role == "operator")
        );
    }
}
