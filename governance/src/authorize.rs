//! `authorize(actor, action, policy)` (DESIGN D1, D6). Deny by default; an
//! agent's effective actions are its own list intersected with its
//! delegating user's, and the delegator must hold `agent.run`; an agent
//! never holds an `*.approve` action and never acts for another agent;
//! an actor (or delegator) holding both roles of an exclusive pair is
//! refused everything. These last rules are code, not policy: no policy
//! document can change them.

use crate::actor::Actor;
use crate::error::{codes, Error, Result};
use crate::policy::Policy;
use eucora_license_core::{Action, AuthorizeReason};
use serde_json::{json, Value};

/// The decision: `{allowed, action, actor, reason}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// True only when `reason` is `allowed`.
    pub allowed: bool,
    /// The action asked for.
    pub action: Action,
    /// The actor, as given.
    pub actor: Actor,
    /// Why.
    pub reason: AuthorizeReason,
}

impl Decision {
    /// `{"allowed", "action", "actor", "reason"}`.
    pub fn to_value(&self) -> Value {
        json!({"allowed": self.allowed, "action": self.action, "actor": self.actor.to_value(), "reason": self.reason})
    }
}

/// Decide whether `actor` may take `action` under `policy`.
///
/// Precedence (D6): for a user `conflicting_roles` › `role_lacks_action`;
/// for an agent `approval_needs_human` › `agent_chain` ›
/// `agent_not_permitted` › `conflicting_roles` (the delegator's roles) ›
/// `delegator_lacks_action` (the delegator lacks the action or
/// `agent.run`).
pub fn authorize(actor: &Actor, action: Action, policy: &Policy) -> Decision {
    let reason = reason(actor, action, policy);
    Decision { allowed: reason == AuthorizeReason::Allowed, action, actor: actor.clone(), reason }
}

fn reason(actor: &Actor, action: Action, policy: &Policy) -> AuthorizeReason {
    match actor {
        Actor::User { .. } => {
            let roles = actor.role_set();
            if policy.conflicting(&roles) {
                AuthorizeReason::ConflictingRoles
            } else if policy.roles_hold(&roles, action) {
                AuthorizeReason::Allowed
            } else {
                AuthorizeReason::RoleLacksAction
            }
        }
        Actor::Agent { agent, on_behalf_of } => {
            if action.is_approve() {
                return AuthorizeReason::ApprovalNeedsHuman;
            }
            if !on_behalf_of.is_human() {
                return AuthorizeReason::AgentChain;
            }
            if !policy.agents.get(agent).is_some_and(|acts| acts.contains(&action)) {
                return AuthorizeReason::AgentNotPermitted;
            }
            let roles = on_behalf_of.role_set();
            if policy.conflicting(&roles) {
                return AuthorizeReason::ConflictingRoles;
            }
            if !policy.roles_hold(&roles, action) || !policy.roles_hold(&roles, Action::AgentRun) {
                return AuthorizeReason::DelegatorLacksAction;
            }
            AuthorizeReason::Allowed
        }
    }
}

/// [`authorize`] over JSON, as the CLI and bindings call it. Errors, never a
/// decision (D6), in this order: `invalid_actor`, `unknown_role`,
/// `unknown_action`, `unknown_agent`.
pub fn authorize_json(actor: &Value, action: &str, policy: &Policy) -> Result<Decision> {
    let (parsed, agent_error) = Actor::from_value_deferring_agent(actor)?;
    let Some(act) = Action::from_name(action) else {
        let shown = if eucora_license_core::internal::error::is_displayable_name(&action.replace('.', "_")) {
            format!(" `{action}`")
        } else {
            String::new()
        };
        return Err(Error::new(codes::UNKNOWN_ACTION, format!("unknown action{shown}")));
    };
    match (parsed, agent_error) {
        (Some(a), _) => Ok(authorize(&a, act, policy)),
        (None, Some(e)) => Err(e),
        (None, None) => Err(Error::new(codes::INVALID_ACTOR, "no actor")),
    }
}
