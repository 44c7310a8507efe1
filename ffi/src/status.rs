//! The ABI's numbers: status codes (the engine's error codes keep their
//! numbers, the ABI adds 100-102), run statuses and the ABI version.

/// Success.
pub const EUCORA_LICENSE_OK: i32 = 0;
/// Bad input: malformed JSON/CSV, a missing required file, text that is not UTF-8.
pub const EUCORA_LICENSE_INVALID_INPUT: i32 = 1;
/// The ruleset is missing, malformed or invalid.
pub const EUCORA_LICENSE_INVALID_RULESET: i32 = 2;
/// Catalog, entitlement, pool or directory data contradict each other.
pub const EUCORA_LICENSE_CATALOG_INTEGRITY: i32 = 3;
/// Two signals share (source, raw_id) but differ.
pub const EUCORA_LICENSE_CONFLICTING_DUPLICATE: i32 = 4;
/// A (previous) snapshot does not verify.
pub const EUCORA_LICENSE_PREVIOUS_SNAPSHOT_INVALID: i32 = 5;
/// An import rejected more rows than max_reject_percent allows.
pub const EUCORA_LICENSE_REJECT_THRESHOLD_EXCEEDED: i32 = 6;
/// Data to hash is not representable canonically (a float, an integer beyond 2^53-1).
pub const EUCORA_LICENSE_NON_CANONICAL: i32 = 7;
/// A bug inside the library (a caught panic, for one); please report it.
pub const EUCORA_LICENSE_INTERNAL: i32 = 99;
/// A NULL pointer where one is required, a NULL data pointer with a non-zero
/// length, or a C string that is not UTF-8.
pub const EUCORA_LICENSE_INVALID_ARGUMENT: i32 = 100;
/// The output buffer is too small; the length output holds the size needed.
pub const EUCORA_LICENSE_BUFFER_TOO_SMALL: i32 = 101;
/// A handle that is NULL, already freed, never issued, or of another type.
pub const EUCORA_LICENSE_INVALID_HANDLE: i32 = 102;

/// Run status of an outcome: a snapshot, every expected source reported.
pub const EUCORA_LICENSE_RUN_OK: i32 = 0;
/// Run status of an outcome: a snapshot, some source missing or degraded.
pub const EUCORA_LICENSE_RUN_DEGRADED: i32 = 1;
/// Run status of an outcome: failed closed, no snapshot (see the run report).
pub const EUCORA_LICENSE_RUN_FAILED: i32 = 2;

/// The version of this ABI; it changes only when a declaration changes incompatibly.
pub const EUCORA_LICENSE_ABI_VERSION: i32 = 1;
