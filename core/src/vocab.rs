//! The shared row vocabulary: the closed sets of names that input parsing,
//! the ruleset and the adapters all speak (signal kinds, assignment
//! statuses, the canonical signal columns, row-level errors).
//!
//! A leaf: it imports nothing from the crate, so every layer may use it.
//! It exists to break the import cycles `signals` <-> `adapters` and
//! `signals` <-> `ruleset`: the items both sides need live here.

/// What a signal says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A license was assigned (seat, device license).
    Assignment,
    /// Software is installed.
    Installation,
    /// Software was used.
    Usage,
    /// A concurrent license checkout.
    Session,
}

impl Kind {
    pub(crate) fn parse(s: &str) -> Option<Kind> {
        match s {
            "assignment" => Some(Kind::Assignment),
            "installation" => Some(Kind::Installation),
            "usage" => Some(Kind::Usage),
            "session" => Some(Kind::Session),
            _ => None,
        }
    }

    /// The contract's name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Assignment => "assignment",
            Kind::Installation => "installation",
            Kind::Usage => "usage",
            Kind::Session => "session",
        }
    }
}

/// Assignment status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// In force (the default).
    Active,
    /// Taken back.
    Revoked,
    /// Temporarily not in force.
    Suspended,
}

impl Status {
    pub(crate) fn parse(s: &str) -> Option<Status> {
        match s {
            "" | "active" => Some(Status::Active),
            "revoked" => Some(Status::Revoked),
            "suspended" => Some(Status::Suspended),
            _ => None,
        }
    }

    /// The contract's name.
    pub fn name(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Revoked => "revoked",
            Status::Suspended => "suspended",
        }
    }
}

/// The canonical columns, in the contract's order.
pub(crate) const COLUMNS: [&str; 16] = [
    "source",
    "raw_id",
    "observed_at",
    "sku",
    "product",
    "kind",
    "status",
    "user",
    "device_serial",
    "device_id",
    "device_name",
    "last_used_at",
    "session_start",
    "session_end",
    "quantity",
    "confidence",
];
/// A row-level problem in an import. Ordered by line, column, code name,
/// message (the code by its name, so sorting is as when it was a string).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowError {
    /// 1-based line.
    pub line: u64,
    /// Column (field) name.
    pub column: String,
    /// Stable code, e.g. `missing_field`, `malformed_instant`.
    pub code: RowErrorCode,
    /// Human-readable message (never echoes the field's value).
    pub message: String,
}

impl Ord for RowError {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.line, &self.column, self.code.name(), &self.message).cmp(&(other.line, &other.column, other.code.name(), &other.message))
    }
}

impl PartialOrd for RowError {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Declares a closed vocabulary: an enum whose variants each carry one stable
/// snake_case name, from one table. Generates `name()`, `from_name()`, `ALL`
/// (declaration order), `Display`, and serde as the name string.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name { $( $(#[$vmeta])* $variant, )+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable snake_case name.
            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// The value with this name, if any.
            pub fn from_name(name: &str) -> Option<$name> {
                match name { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Every name, in declaration order.
            pub fn names() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.name()).collect()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::from_name(&text).ok_or_else(|| {
                    serde::de::Error::unknown_variant(&text, &[$($text),+])
                })
            }
        }
    };
}

vocabulary! {
    /// Why an input row (or adapter record) was rejected: the `code` of a
    /// [`RowError`].
    pub enum RowErrorCode {
        /// A required field is empty or absent.
        MissingField = "missing_field",
        /// The file has no column for a required field.
        MissingColumn = "missing_column",
        /// A JSON line is not a JSON object.
        MalformedJson = "malformed_json",
        /// A JSON object repeats a key.
        DuplicateKey = "duplicate_key",
        /// A JSON value of the wrong type.
        WrongType = "wrong_type",
        /// `kind` is not one of the signal kinds.
        UnknownKind = "unknown_kind",
        /// `status` is not one of the assignment statuses.
        UnknownStatus = "unknown_status",
        /// An instant that is not RFC 3339.
        MalformedInstant = "malformed_instant",
        /// A date-time with no UTC offset.
        MissingOffset = "missing_offset",
        /// `confidence` is not a decimal in [0, 1].
        BadConfidence = "bad_confidence",
        /// `quantity` is not a positive integer in range.
        BadQuantity = "bad_quantity",
        /// A record that is not the expected shape.
        InvalidRecord = "invalid_record",
        /// An id that is not usable (e.g. the all-zero GUID).
        InvalidId = "invalid_id",
        /// A field with an invalid value or type.
        InvalidField = "invalid_field",
        /// A count that is not a non-negative integer.
        InvalidNumber = "invalid_number",
        /// A checkout quantity out of range.
        InvalidQuantity = "invalid_quantity",
        /// A record repeated within the input.
        DuplicateRecord = "duplicate_record",
        /// A record with no id.
        MissingId = "missing_id",
        /// A record with no product.
        MissingProduct = "missing_product",
        /// A session with no start.
        MissingSessionStart = "missing_session_start",
        /// A record with neither a SKU nor a product.
        MissingSkuAndProduct = "missing_sku_and_product",
        /// A value that does not parse.
        MalformedValue = "malformed_value",
        /// A start time that does not parse.
        MalformedStart = "malformed_start",
        /// A clock time that is not H:MM:SS.
        MalformedTime = "malformed_time",
        /// A FlexLM OUT line of the wrong shape.
        MalformedCheckout = "malformed_checkout",
        /// A FlexLM IN line of the wrong shape.
        MalformedCheckin = "malformed_checkin",
        /// A checkout that starts after the capture instant.
        StartAfterCapture = "start_after_capture",
        /// A resource the adapter does not know.
        UnknownResource = "unknown_resource",
        /// A state the adapter does not know.
        UnknownState = "unknown_state",
        /// A FlexLM start weekday that does not match the inferred date.
        WeekdayMismatch = "weekday_mismatch",
        /// A FlexLM checkout before the log's first date.
        UndatedLine = "undated_line",
        /// A repeated record whose values differ from the first.
        ConflictingDuplicate = "conflicting_duplicate",
        /// A machine name that matches several current systems.
        AmbiguousSystem = "ambiguous_system",
    }
}

impl PartialEq<&str> for RowErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

vocabulary! {
    /// Why the engine set a signal (or a directory alias) aside or flagged it:
    /// the `code` of an exception record.
    pub enum ExceptionCode {
        /// `observed_at` is after the run's `as_of`.
        FutureSignal = "future_signal",
        /// The signal's SKU is not in the catalog.
        UnknownSku = "unknown_sku",
        /// The signal's product matches no `sku_mappings` rule.
        UnmappedProduct = "unmapped_product",
        /// Confidence below `min_confidence`.
        LowConfidence = "low_confidence",
        /// A session whose end is not after its start.
        InvalidInterval = "invalid_interval",
        /// Counted, but flagged for a human to look at.
        NeedsReview = "needs_review",
        /// A feature SKU consumed without its base SKU.
        FeatureWithoutBase = "feature_without_base",
        /// No device or user can be determined for the SKU's model.
        Unattributable = "unattributable",
        /// One identity hint resolves to more than one principal.
        AmbiguousIdentity = "ambiguous_identity",
        /// A directory alias that contradicts another.
        ConflictingAlias = "conflicting_alias",
    }
}

vocabulary! {
    /// Why a unit was added to or removed from a SKU's consumption, or why an
    /// entitlement changed. Declaration order is precedence: when a removed
    /// unit's signals disagree, the earliest reason wins (`new_signal` and
    /// the entitlement reasons never compete).
    pub enum DiffReason {
        /// The unit's signals now belong to another (merged or split) identity.
        MergedIdentity = "merged_identity",
        /// The assignment was revoked or suspended.
        Revoked = "revoked",
        /// Signals below the minimum confidence.
        BelowConfidence = "below_confidence",
        /// Mapped elsewhere (or here) by a changed ruleset.
        RulesetChanged = "ruleset_changed",
        /// Reported under another product with the same ruleset.
        Remapped = "remapped",
        /// No signal within the lookback window.
        AgedOut = "aged_out",
        /// No device or user can be determined any more.
        Unattributable = "unattributable",
        /// The unit's source is expected but reported nothing.
        SourceMissing = "source_missing",
        /// The source reported, but not this unit.
        NotReported = "not_reported",
        /// Set aside for another exception.
        Excluded = "excluded",
        /// A concurrent unit now (or no longer) open at the peak.
        PeakMoved = "peak_moved",
        /// A unit newly reported.
        NewSignal = "new_signal",
        /// An entitlement came into force.
        EntitlementStarted = "entitlement_started",
        /// An entitlement ended.
        EntitlementEnded = "entitlement_ended",
        /// An entitlement's quantity changed.
        QuantityChanged = "quantity_changed",
    }
}

vocabulary! {
    /// What disagrees between a vendor portal's figures and ours (run
    /// report `entitlement_observations[].discrepancies`).
    pub enum Discrepancy {
        /// The portal's product maps to no SKU.
        UnmappedProduct = "unmapped_product",
        /// The portal's enabled units differ from our entitled.
        EntitledMismatch = "entitled_mismatch",
        /// The portal's consumed differs from ours.
        ConsumedMismatch = "consumed_mismatch",
    }
}

vocabulary! {
    /// The status of one check of an evidence pack's verification.
    pub enum CheckStatus {
        /// The check held.
        Passed = "passed",
        /// The check failed (the first failure names the pack's defect).
        Failed = "failed",
        /// Not run: an earlier check it depends on failed.
        Skipped = "skipped",
    }
}

vocabulary! {
    /// The kind of a snapshot health reason (`<kind>:<source>`).
    pub enum HealthReasonKind {
        /// An expected source sent nothing.
        SourceMissing = "source_missing",
        /// A source sent far fewer signals than the run before.
        SourceDegraded = "source_degraded",
    }
}

vocabulary! {
    /// The `code` of a ruleset validation issue.
    pub enum RulesetIssueCode {
        /// The document is not JSON.
        InvalidJson = "invalid_json",
        /// A required key is absent.
        MissingKey = "missing_key",
        /// A key the schema does not define.
        UnknownKey = "unknown_key",
        /// A value of the wrong JSON type.
        WrongType = "wrong_type",
        /// A number or text outside its range or form.
        OutOfRange = "out_of_range",
        /// A mapping names a SKU the catalog does not declare.
        UnknownSku = "unknown_sku",
    }
}

vocabulary! {
    /// A SKU's compliance status in a snapshot.
    pub enum ComplianceStatus {
        /// Consumed exceeds entitled.
        OverDeployed = "over_deployed",
        /// Consumed below the under-utilization threshold.
        UnderUtilized = "under_utilized",
        /// Neither.
        Compliant = "compliant",
    }
}

vocabulary! {
    /// A snapshot's health.
    pub enum Health {
        /// Every expected source reported.
        Ok = "ok",
        /// Some source missing or collapsed.
        Degraded = "degraded",
    }
}

vocabulary! {
    /// The sidebar's state of the latest truth, most severe first.
    pub enum SidebarState {
        /// The latest run failed closed.
        Failed = "failed",
        /// Never reconciled, or the last success is older than the limit.
        Stale = "stale",
        /// The last success was degraded.
        Degraded = "degraded",
        /// Fresh and healthy.
        Ok = "ok",
    }
}

vocabulary! {
    /// The `code` of the sidebar's `reason`, when its state is not `ok`.
    pub enum SidebarReason {
        /// State `failed`: the latest run failed closed.
        ReconciliationFailed = "reconciliation_failed",
        /// State `stale`: there is no successful run.
        NeverReconciled = "never_reconciled",
        /// State `stale`: the last success is older than the limit.
        Stale = "stale",
        /// State `degraded`: the last success was degraded.
        SourceDegraded = "source_degraded",
    }
}

vocabulary! {
    /// A source's coverage status in a snapshot.
    pub enum CoverageStatus {
        /// Reported as expected.
        Ok = "ok",
        /// Expected but reported nothing.
        Missing = "missing",
        /// Reported far fewer signals than last time.
        Degraded = "degraded",
    }
}

vocabulary! {
    /// Status of a run.
    pub enum RunStatus {
        /// Snapshot written, every expected source reported.
        Ok = "ok",
        /// Snapshot written, some source missing or collapsed.
        Degraded = "degraded",
        /// No snapshot: the run failed closed.
        Failed = "failed",
    }
}

vocabulary! {
    /// The class of a canonical device key (`serial:V`, `id:V`, `name:V`).
    pub enum DeviceKeyPrefix {
        /// A hardware serial number.
        Serial = "serial",
        /// A device id (e.g. the Entra device id).
        Id = "id",
        /// A hostname.
        Name = "name",
    }
}

impl DeviceKeyPrefix {
    /// The key prefix, the name followed by `:`.
    pub const fn prefix(self) -> &'static str {
        match self {
            DeviceKeyPrefix::Serial => "serial:",
            DeviceKeyPrefix::Id => "id:",
            DeviceKeyPrefix::Name => "name:",
        }
    }

    /// `prefix` + `value`.
    pub fn key(self, value: &str) -> String {
        format!("{}{value}", self.prefix())
    }
}

vocabulary! {
    /// A role of DESIGN D1 (a user actor's `roles`).
    pub enum Role {
        /// Administers the catalog, integrations and imports; proposes.
        LicenseAdmin = "license_admin",
        /// Reads everything, exports evidence, runs audits.
        LicenseAuditor = "license_auditor",
        /// Approves proposals.
        OpsManager = "ops_manager",
        /// Runs agents (and what they may need); proposes.
        AgentOperator = "agent_operator",
        /// Sees the sidebar and the dashboard.
        Viewer = "viewer",
    }
}

vocabulary! {
    /// An action of DESIGN D1, the closed list in D1's order (an unknown
    /// action is an error, never a "no").
    pub enum Action {
        /// See the sidebar state.
        ViewSidebar = "view.sidebar",
        /// See the dashboard.
        ViewDashboard = "view.dashboard",
        /// See the alerts.
        ViewAlerts = "view.alerts",
        /// See the recommendations.
        ViewRecommendations = "view.recommendations",
        /// See evidence packs.
        ViewEvidence = "view.evidence",
        /// Export evidence.
        EvidenceExport = "evidence.export",
        /// Run an audit.
        AuditRun = "audit.run",
        /// Write the catalog.
        CatalogWrite = "catalog.write",
        /// Write an integration's settings.
        IntegrationWrite = "integration.write",
        /// Upload an import.
        ImportUpload = "import.upload",
        /// Run a reconciliation.
        ReconcileRun = "reconcile.run",
        /// Propose an entitlement change.
        EntitlementPropose = "entitlement.propose",
        /// Approve an entitlement change.
        EntitlementApprove = "entitlement.approve",
        /// Propose a ruleset version.
        RulesetPropose = "ruleset.propose",
        /// Approve a ruleset version.
        RulesetApprove = "ruleset.approve",
        /// Propose a mapping (alias or SKU rule).
        MappingPropose = "mapping.propose",
        /// Approve a mapping.
        MappingApprove = "mapping.approve",
        /// Propose acting on a recommendation.
        RecommendationPropose = "recommendation.propose",
        /// Approve acting on a recommendation.
        RecommendationApprove = "recommendation.approve",
        /// Propose a policy version.
        PolicyPropose = "policy.propose",
        /// Approve a policy version.
        PolicyApprove = "policy.approve",
        /// Run an agent.
        AgentRun = "agent.run",
    }
}

impl Action {
    /// True for the `*.approve` actions, which no agent ever holds (D1).
    pub fn is_approve(self) -> bool {
        self.name().ends_with(".approve")
    }
}

vocabulary! {
    /// The agents of DESIGN D4 (an agent actor's `agent`).
    pub enum AgentName {
        /// Portal observations and contracts to entitlement proposals.
        InventoryExtractor = "inventory_extractor",
        /// Raw exports to signals and mapping proposals.
        ConsumptionDiscovery = "consumption_discovery",
        /// Reconciles.
        TruthBuilder = "truth_builder",
        /// Alerts.
        AnomalyDetector = "anomaly_detector",
        /// Recommendations as proposals.
        OptimizationAdvisor = "optimization_advisor",
    }
}

vocabulary! {
    /// The `reason` of an authorization decision (DESIGN D1).
    pub enum AuthorizeReason {
        /// The action is allowed.
        Allowed = "allowed",
        /// No role of the user holds the action (deny by default).
        RoleLacksAction = "role_lacks_action",
        /// The agent's own list does not hold the action.
        AgentNotPermitted = "agent_not_permitted",
        /// The delegating user lacks the action or `agent.run`.
        DelegatorLacksAction = "delegator_lacks_action",
        /// An `*.approve` action asked by an agent.
        ApprovalNeedsHuman = "approval_needs_human",
        /// The user (or the delegator) holds both roles of an exclusive pair.
        ConflictingRoles = "conflicting_roles",
        /// An agent acting on behalf of an agent.
        AgentChain = "agent_chain",
    }
}

vocabulary! {
    /// Why an approval does not count (DESIGN D2); declaration order is the
    /// order of the checks (D6): the first failing one is the reason.
    pub enum ApprovalRefusal {
        /// The approval names another proposal.
        UnknownProposal = "unknown_proposal",
        /// The approved payload hash is not the payload's hash now.
        PayloadChanged = "payload_changed",
        /// The approver is not a user.
        ApproverNotHuman = "approver_not_human",
        /// The approver holds both roles of an exclusive pair.
        ConflictingRoles = "conflicting_roles",
        /// No role of the approver is one of the kind's `approver_roles`.
        ApproverLacksRole = "approver_lacks_role",
        /// The approver proposed (or an agent proposed on the approver's behalf).
        SelfApproval = "self_approval",
        /// Given at or after the proposal's expiry.
        ApprovalAfterExpiry = "approval_after_expiry",
        /// Given after `now` or before the proposal was made.
        ApprovalOutOfTime = "approval_out_of_time",
        /// The same approver already counted.
        DuplicateApprover = "duplicate_approver",
    }
}

vocabulary! {
    /// The kind of a proposal (DESIGN D2).
    pub enum ProposalKind {
        /// New entitlement rows.
        EntitlementCreate = "entitlement.create",
        /// Changed entitlement rows.
        EntitlementUpdate = "entitlement.update",
        /// An entitlement ended.
        EntitlementEnd = "entitlement.end",
        /// A complete ruleset.
        RulesetVersion = "ruleset.version",
        /// A directory alias row.
        MappingAlias = "mapping.alias",
        /// A `sku_mappings` rule.
        MappingSku = "mapping.sku",
        /// Acting on a C3 recommendation.
        Recommendation = "recommendation",
        /// A complete policy.
        PolicyVersion = "policy.version",
    }
}

impl ProposalKind {
    /// The D1 action a proposer needs for this kind.
    pub fn propose_action(self) -> Action {
        match self {
            ProposalKind::EntitlementCreate | ProposalKind::EntitlementUpdate | ProposalKind::EntitlementEnd => Action::EntitlementPropose,
            ProposalKind::RulesetVersion => Action::RulesetPropose,
            ProposalKind::MappingAlias | ProposalKind::MappingSku => Action::MappingPropose,
            ProposalKind::Recommendation => Action::RecommendationPropose,
            ProposalKind::PolicyVersion => Action::PolicyPropose,
        }
    }
}

vocabulary! {
    /// The state of a proposal as `decide` finds it (DESIGN D2).
    pub enum ProposalState {
        /// Waiting for approvals.
        Pending = "pending",
        /// A quorum of counted approvals and no counted reject.
        Approved = "approved",
        /// A counted reject.
        Rejected = "rejected",
        /// Expired before quorum.
        Expired = "expired",
    }
}

vocabulary! {
    /// An approver's decision.
    pub enum ApprovalDecision {
        /// For.
        Approve = "approve",
        /// Against.
        Reject = "reject",
    }
}

vocabulary! {
    /// Why an audit log does not verify (DESIGN D3, D6).
    pub enum AuditFailure {
        /// An entry's hash is not the hash of its content.
        EntryHashMismatch = "entry_hash_mismatch",
        /// An entry's `seq` is not its position.
        SeqGap = "seq_gap",
        /// An entry's `prev_hash` is not the previous entry's hash.
        PrevHashMismatch = "prev_hash_mismatch",
        /// The log does not match the checkpoint kept outside it.
        CheckpointMismatch = "checkpoint_mismatch",
    }
}

/// Every closed vocabulary, by table name, each in declaration order (what
/// the bindings export).
pub fn vocabularies() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("exception_codes", ExceptionCode::names()),
        ("diff_reasons", DiffReason::names()),
        ("compliance_statuses", ComplianceStatus::names()),
        ("health_states", Health::names()),
        ("sidebar_states", SidebarState::names()),
        ("sidebar_reasons", SidebarReason::names()),
        ("coverage_statuses", CoverageStatus::names()),
        ("run_statuses", RunStatus::names()),
        ("device_key_prefixes", DeviceKeyPrefix::ALL.iter().map(|p| p.prefix()).collect()),
        ("row_error_codes", RowErrorCode::names()),
        ("discrepancies", Discrepancy::names()),
        ("check_statuses", CheckStatus::names()),
        ("health_reason_kinds", HealthReasonKind::names()),
        ("ruleset_issue_codes", RulesetIssueCode::names()),
        ("roles", Role::names()),
        ("actions", Action::names()),
        ("agents", AgentName::names()),
        ("authorize_reasons", AuthorizeReason::names()),
        ("approval_refusals", ApprovalRefusal::names()),
        ("proposal_kinds", ProposalKind::names()),
        ("proposal_states", ProposalState::names()),
        ("approval_decisions", ApprovalDecision::names()),
        ("audit_failures", AuditFailure::names()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_is_snake_case_unique_and_round_trips() {
        fn check<T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + serde::Serialize + serde::de::DeserializeOwned>(
            all: &[T],
            name: impl Fn(T) -> &'static str,
            from_name: impl Fn(&str) -> Option<T>,
        ) {
            let mut seen = std::collections::BTreeSet::new();
            for &v in all {
                let n = name(v);
                assert!(!n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{n}");
                assert!(!n.starts_with('_') && !n.ends_with('_') && !n.contains("__"), "{n}");
                assert!(seen.insert(n), "duplicate {n}");
                assert_eq!(from_name(n), Some(v));
                assert_eq!(v.to_string(), n);
                let json = serde_json::to_string(&v).unwrap();
                assert_eq!(json, format!("\"{n}\""));
                assert_eq!(serde_json::from_str::<T>(&json).unwrap(), v);
            }
            assert_eq!(from_name("no_such_name"), None);
            assert!(serde_json::from_str::<T>("\"no_such_name\"").is_err());
        }
        check(ExceptionCode::ALL, ExceptionCode::name, ExceptionCode::from_name);
        check(DiffReason::ALL, DiffReason::name, DiffReason::from_name);
        check(ComplianceStatus::ALL, ComplianceStatus::name, ComplianceStatus::from_name);
        check(Health::ALL, Health::name, Health::from_name);
        check(SidebarState::ALL, SidebarState::name, SidebarState::from_name);
        check(SidebarReason::ALL, SidebarReason::name, SidebarReason::from_name);
        check(CoverageStatus::ALL, CoverageStatus::name, CoverageStatus::from_name);
        check(RunStatus::ALL, RunStatus::name, RunStatus::from_name);
        check(DeviceKeyPrefix::ALL, DeviceKeyPrefix::name, DeviceKeyPrefix::from_name);
        check(RowErrorCode::ALL, RowErrorCode::name, RowErrorCode::from_name);
        check(Discrepancy::ALL, Discrepancy::name, Discrepancy::from_name);
        check(CheckStatus::ALL, CheckStatus::name, CheckStatus::from_name);
        check(HealthReasonKind::ALL, HealthReasonKind::name, HealthReasonKind::from_name);
        check(RulesetIssueCode::ALL, RulesetIssueCode::name, RulesetIssueCode::from_name);
        check(Role::ALL, Role::name, Role::from_name);
        check(AgentName::ALL, AgentName::name, AgentName::from_name);
        check(AuthorizeReason::ALL, AuthorizeReason::name, AuthorizeReason::from_name);
        check(ApprovalRefusal::ALL, ApprovalRefusal::name, ApprovalRefusal::from_name);
        check(ProposalState::ALL, ProposalState::name, ProposalState::from_name);
        check(ApprovalDecision::ALL, ApprovalDecision::name, ApprovalDecision::from_name);
        check(AuditFailure::ALL, AuditFailure::name, AuditFailure::from_name);
        // Actions and kinds are dotted names (`view.sidebar`), round-tripped here.
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(*a));
            assert_eq!(serde_json::from_str::<Action>(&serde_json::to_string(a).unwrap()).unwrap(), *a);
        }
        for k in ProposalKind::ALL {
            assert_eq!(ProposalKind::from_name(k.name()), Some(*k));
            assert!(k.propose_action().name().ends_with(".propose"));
        }
        assert_eq!(Action::ALL.iter().filter(|a| a.is_approve()).count(), 5);
        for p in DeviceKeyPrefix::ALL {
            assert_eq!(p.prefix(), format!("{}:", p.name()));
        }
    }

    #[test]
    fn removal_precedence_is_declaration_order() {
        let order = [
            "merged_identity",
            "revoked",
            "below_confidence",
            "ruleset_changed",
            "remapped",
            "aged_out",
            "unattributable",
            "source_missing",
            "not_reported",
            "excluded",
            "peak_moved",
        ];
        let got: Vec<&str> = DiffReason::ALL.iter().take(order.len()).map(|r| r.name()).collect();
        assert_eq!(got, order);
        assert!(DiffReason::ALL.windows(2).all(|w| w[0] < w[1]));
    }
}
