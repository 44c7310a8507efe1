//! The shipped default policy (`rulesets/default/policy-v1.json`, when the
//! source tree has it) carries exactly D1's table and D2/D6's defaults: the
//! governance sections this crate's tests build inline.

use eucora_license_governance::policy::default_document;
use eucora_license_governance::Policy;

#[test]
fn the_shipped_policy_has_d1s_governance_sections() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../rulesets/default/policy-v1.json");
    let Ok(bytes) = std::fs::read(path) else {
        eprintln!("{path} is not in this tree; nothing to compare");
        return;
    };
    let shipped = Policy::from_slice(&bytes).expect("the shipped policy is valid");
    let inline = Policy::from_value(&default_document()).unwrap();
    assert_eq!(shipped.roles, inline.roles);
    assert_eq!(shipped.exclusive, inline.exclusive);
    assert_eq!(shipped.agents, inline.agents);
    assert_eq!(shipped.approvals, inline.approvals);
}
