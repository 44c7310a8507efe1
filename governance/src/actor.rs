//! Actors (DESIGN D1): a user `{"type": "user", "id", "roles"}` or an agent
//! `{"type": "agent", "agent", "on_behalf_of": <actor>}`. Parsed strictly
//! (unknown keys refused) but kept as given, roles in their order, so the
//! actor written back into a proposal or an audit entry is the one the host
//! passed ("hashed as given", D6). `on_behalf_of` may itself be an agent so
//! that `authorize` can name the chain (`agent_chain`) instead of failing.

use crate::error::{codes, Error, Result};
use eucora_license_core::{AgentName, Role};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// How deep `on_behalf_of` may nest before the actor is refused (a chain is
/// refused by `authorize` anyway; this only bounds recursion).
const MAX_DEPTH: usize = 8;

/// A D1 actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person, authenticated by the host.
    User {
        /// The host's user id (non-empty).
        id: String,
        /// Roles as given (a set for every decision; order and repeats kept
        /// only to write the actor back as given).
        roles: Vec<Role>,
    },
    /// An agent acting under someone's delegated authority.
    Agent {
        /// Which agent.
        agent: AgentName,
        /// Who delegated (a user; an agent here is an `agent_chain`).
        on_behalf_of: Box<Actor>,
    },
}

impl Actor {
    /// A user.
    pub fn user(id: &str, roles: &[Role]) -> Actor {
        Actor::User { id: id.to_string(), roles: roles.to_vec() }
    }

    /// An agent on behalf of `delegator`.
    pub fn agent(agent: AgentName, delegator: Actor) -> Actor {
        Actor::Agent { agent, on_behalf_of: Box::new(delegator) }
    }

    /// Parse an actor. Errors, first by kind then in document order:
    /// `invalid_actor` (shape), `unknown_role`, `unknown_agent` (D6 puts
    /// `unknown_action` between the last two; [`crate::authorize_json`]
    /// checks it there).
    pub fn from_value(v: &Value) -> Result<Actor> {
        let raw = shape(v, "$", 0)?;
        if let Some(e) = first_unknown(&raw, Unknown::Role) {
            return Err(e);
        }
        if let Some(e) = first_unknown(&raw, Unknown::Agent) {
            return Err(e);
        }
        Ok(resolve(&raw))
    }

    /// Parse an actor, leaving an unknown agent name for later: the
    /// `unknown_agent` error, if any, is returned beside the actor so the
    /// caller can rank `unknown_action` before it.
    pub(crate) fn from_value_deferring_agent(v: &Value) -> Result<(Option<Actor>, Option<Error>)> {
        let raw = shape(v, "$", 0)?;
        if let Some(e) = first_unknown(&raw, Unknown::Role) {
            return Err(e);
        }
        match first_unknown(&raw, Unknown::Agent) {
            Some(e) => Ok((None, Some(e))),
            None => Ok((Some(resolve(&raw)), None)),
        }
    }

    /// The actor as JSON, as given.
    pub fn to_value(&self) -> Value {
        match self {
            Actor::User { id, roles } => json!({"type": "user", "id": id, "roles": roles}),
            Actor::Agent { agent, on_behalf_of } => json!({"type": "agent", "agent": agent, "on_behalf_of": on_behalf_of.to_value()}),
        }
    }

    /// True for a user (D6: a human is an actor of type `user`).
    pub fn is_human(&self) -> bool {
        matches!(self, Actor::User { .. })
    }

    /// The user id, when the actor is a user.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Actor::User { id, .. } => Some(id),
            Actor::Agent { .. } => None,
        }
    }

    /// The user ids responsible for this actor: the user itself, or every
    /// user up the `on_behalf_of` chain (for `self_approval`).
    pub fn responsible_users(&self) -> BTreeSet<&str> {
        match self {
            Actor::User { id, .. } => BTreeSet::from([id.as_str()]),
            Actor::Agent { on_behalf_of, .. } => on_behalf_of.responsible_users(),
        }
    }

    /// The role set of a user (empty for an agent).
    pub fn role_set(&self) -> BTreeSet<Role> {
        match self {
            Actor::User { roles, .. } => roles.iter().copied().collect(),
            Actor::Agent { .. } => BTreeSet::new(),
        }
    }
}

/// An actor with its names still unchecked.
enum Raw {
    User { id: String, roles: Vec<(String, String)> },
    Agent { agent: String, path: String, on_behalf_of: Box<Raw> },
}

#[derive(Clone, Copy)]
enum Unknown {
    Role,
    Agent,
}

fn invalid(path: &str, message: &str) -> Error {
    Error::at(codes::INVALID_ACTOR, path, message)
}

fn shape(v: &Value, path: &str, depth: usize) -> Result<Raw> {
    if depth > MAX_DEPTH {
        return Err(invalid(path, "`on_behalf_of` nests too deep"));
    }
    let Some(o) = v.as_object() else { return Err(invalid(path, "an actor is a JSON object")) };
    let keys = |allowed: &[&str]| -> Result<()> {
        for k in allowed {
            if !o.contains_key(*k) {
                return Err(invalid(&format!("{path}.{k}"), &format!("required key `{k}` is missing")));
            }
        }
        match o.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) if eucora_license_core::internal::error::is_displayable_name(k) => {
                Err(invalid(&format!("{path}.{k}"), &format!("unknown key `{k}`")))
            }
            Some(_) => Err(invalid(path, "unknown key")),
            None => Ok(()),
        }
    };
    match o.get("type").and_then(Value::as_str) {
        Some("user") => {
            keys(&["type", "id", "roles"])?;
            let id = match &o["id"] {
                Value::String(s) if !s.is_empty() => s.clone(),
                _ => return Err(invalid(&format!("{path}.id"), "expected a non-empty string")),
            };
            let Some(items) = o["roles"].as_array() else { return Err(invalid(&format!("{path}.roles"), "expected an array of roles")) };
            let mut roles = Vec::new();
            for (i, r) in items.iter().enumerate() {
                let p = format!("{path}.roles[{i}]");
                let Some(s) = r.as_str() else { return Err(invalid(&p, "expected a role name")) };
                roles.push((s.to_string(), p));
            }
            Ok(Raw::User { id, roles })
        }
        Some("agent") => {
            keys(&["type", "agent", "on_behalf_of"])?;
            let Some(agent) = o["agent"].as_str() else { return Err(invalid(&format!("{path}.agent"), "expected an agent name")) };
            let inner = shape(&o["on_behalf_of"], &format!("{path}.on_behalf_of"), depth + 1)?;
            Ok(Raw::Agent { agent: agent.to_string(), path: format!("{path}.agent"), on_behalf_of: Box::new(inner) })
        }
        _ => Err(invalid(&format!("{path}.type"), "`type` must be \"user\" or \"agent\"")),
    }
}

fn first_unknown(raw: &Raw, what: Unknown) -> Option<Error> {
    let shown = |s: &str| if eucora_license_core::internal::error::is_displayable_name(s) { format!(" `{s}`") } else { String::new() };
    match (raw, what) {
        (Raw::User { roles, .. }, Unknown::Role) => roles
            .iter()
            .find(|(r, _)| Role::from_name(r).is_none())
            .map(|(r, p)| Error::at(codes::UNKNOWN_ROLE, p.clone(), format!("unknown role{}", shown(r)))),
        (Raw::User { .. }, Unknown::Agent) => None,
        (Raw::Agent { agent, path, on_behalf_of }, Unknown::Agent) if AgentName::from_name(agent).is_none() => {
            let _ = on_behalf_of;
            Some(Error::at(codes::UNKNOWN_AGENT, path.clone(), format!("unknown agent{}", shown(agent))))
        }
        (Raw::Agent { on_behalf_of, .. }, _) => first_unknown(on_behalf_of, what),
    }
}

/// Names are known (checked before).
fn resolve(raw: &Raw) -> Actor {
    match raw {
        Raw::User { id, roles } => Actor::User { id: id.clone(), roles: roles.iter().filter_map(|(r, _)| Role::from_name(r)).collect() },
        Raw::Agent { agent, on_behalf_of, .. } => Actor::Agent {
            agent: AgentName::from_name(agent).unwrap_or(AgentName::TruthBuilder),
            on_behalf_of: Box::new(resolve(on_behalf_of)),
        },
    }
}
