/*
 * Tests of the C ABI (include/eucora_license.h): its conventions (status
 * codes, NULL and dangling handles, buffer sizes, bad input) and every golden
 * vector of fixtures/golden, compared with expected.json.
 *
 * Build and run (scripts/test does this, under valgrind):
 *   cc -std=c99 -Iffi/include ffi/tests/ffi_test.c -Ltarget/debug -leucora_license \
 *      -Wl,-rpath,$PWD/target/debug -o target/ffi_test
 *   target/ffi_test fixtures/golden
 *
 * JSON is never parsed here: a few values are picked out of expected.json by
 * key, and whole documents are compared in canonical form, which the library
 * itself writes (eucora_license_canonicalize).
 */
#define _POSIX_C_SOURCE 200809L

#include "eucora_license.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int passed, failed;

static void check(int ok, const char *name, const char *detail) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s%s%s\n", name, detail ? ": " : "", detail ? detail : "");
    }
}

static const char *last_error(void) {
    static char buf[4096];
    size_t len = 0;
    if (eucora_license_last_error(buf, sizeof buf, &len) != EUCORA_LICENSE_OK) {
        strcpy(buf, "(last error did not fit)");
    }
    return buf;
}

/* ------------------------------------------------------------------ files */

/* The file's bytes plus a NUL (not counted in *len); NULL if it cannot be read. */
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap *= 2;
            char *bigger = realloc(buf, cap);
            if (!bigger) { free(buf); fclose(f); return NULL; }
            buf = bigger;
        }
        size_t got = fread(buf + n, 1, 4096, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ------------------------------------------------------------------ JSON picking */

/* Length of the JSON value starting at p (a string, a number, a literal, or a
 * balanced array/object), honouring string escapes. */
static size_t value_span(const char *p) {
    const char *s = p;
    int depth = 0;
    do {
        if (*s == '"') {
            for (s++; *s && *s != '"'; s++) {
                if (*s == '\\' && s[1]) s++;
            }
            if (*s) s++;
        } else if (*s == '[' || *s == '{') {
            depth++;
            s++;
        } else if (*s == ']' || *s == '}') {
            depth--;
            s++;
        } else if (depth == 0) {
            while (*s && *s != ',' && *s != '}' && *s != ']' && *s != ' ' && *s != '\n') s++;
        } else {
            s++;
        }
    } while (depth > 0 && *s);
    return (size_t)(s - p);
}

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    return p;
}

/* The value of "key" among the members of the top-level object in text, or NULL. */
static const char *find_value(const char *text, const char *key) {
    const char *p = skip_ws(text);
    if (*p != '{') return NULL;
    p = skip_ws(p + 1);
    size_t klen = strlen(key);
    while (*p == '"') {
        size_t n = value_span(p);
        int match = n == klen + 2 && strncmp(p + 1, key, klen) == 0;
        p = skip_ws(p + n);
        if (*p != ':') return NULL;
        p = skip_ws(p + 1);
        if (match) return p;
        p = skip_ws(p + value_span(p));
        if (*p != ',') return NULL;
        p = skip_ws(p + 1);
    }
    return NULL;
}

/* A string value without escapes, copied into out; "" when absent or null. */
static void find_string(const char *text, const char *key, char *out, size_t cap) {
    out[0] = 0;
    const char *v = find_value(text, key);
    if (!v || *v != '"') return;
    size_t n = value_span(v);
    if (n < 2 || n - 2 >= cap) return;
    memcpy(out, v + 1, n - 2);
    out[n - 2] = 0;
}

static long long find_int(const char *text, const char *key) {
    const char *v = find_value(text, key);
    return v ? strtoll(v, NULL, 10) : -1;
}

/* ------------------------------------------------------------------ library helpers */

typedef int32_t (*text_fn)(const EucoraLicenseOutcome *, char *, size_t, size_t *);

/* An outcome's text output, malloc'ed (size asked first), or NULL with *status set. */
static char *outcome_text(const EucoraLicenseOutcome *o, text_fn fn, int32_t *status) {
    size_t len = 0;
    *status = fn(o, NULL, 0, &len);
    if (*status != EUCORA_LICENSE_OK) return NULL;
    char *buf = malloc(len + 1);
    *status = fn(o, buf, len + 1, &len);
    if (*status != EUCORA_LICENSE_OK) { free(buf); return NULL; }
    return buf;
}

/* Canonical form of a JSON text (malloc'ed), or NULL with *status set. */
static char *canonical(const char *json, size_t len, int32_t *status) {
    size_t need = 0;
    *status = eucora_license_canonicalize((const uint8_t *)json, len, NULL, 0, &need);
    if (*status != EUCORA_LICENSE_OK) return NULL;
    char *buf = malloc(need + 1);
    *status = eucora_license_canonicalize((const uint8_t *)json, len, buf, need + 1, &need);
    if (*status != EUCORA_LICENSE_OK) { free(buf); return NULL; }
    return buf;
}

static const char *run_status_name(int32_t s) {
    return s == EUCORA_LICENSE_RUN_OK ? "ok" : s == EUCORA_LICENSE_RUN_DEGRADED ? "degraded" : s == EUCORA_LICENSE_RUN_FAILED ? "failed" : "?";
}

/* `"key":<value>` of a canonical document (malloc'ed), or NULL. */
static char *member(const char *canon, const char *key) {
    const char *v = find_value(canon, key);
    if (!v) return NULL;
    size_t n = value_span(v), k = strlen(key) + 3;
    char *out = malloc(k + n + 1);
    snprintf(out, k + 1, "\"%s\":", key);
    memcpy(out + k, v, n);
    out[k + n] = 0;
    return out;
}

/* ------------------------------------------------------------------ golden cases */

static void golden_reconcile(const char *name, const char *dir, const char *expected) {
    char want_status[32], want_hash[128], msg[512];
    find_string(expected, "status", want_status, sizeof want_status);
    find_string(expected, "snapshot_hash", want_hash, sizeof want_hash);

    char *prev_path = join(dir, "previous.json");
    size_t prev_len = 0;
    char *prev = read_file(prev_path, &prev_len);
    free(prev_path);

    EucoraLicenseOutcome *o = NULL;
    int32_t rc;
    char *bundle_dir = join(dir, "bundle");
    if (is_dir(bundle_dir)) {
        rc = eucora_license_reconcile_dir(bundle_dir, (const uint8_t *)prev, prev_len, &o);
    } else {
        char *files_path = join(dir, "files.json");
        size_t files_len = 0;
        char *files = read_file(files_path, &files_len);
        rc = eucora_license_reconcile_json((const uint8_t *)files, files_len, (const uint8_t *)prev, prev_len, &o);
        free(files);
        free(files_path);
    }
    free(bundle_dir);
    snprintf(msg, sizeof msg, "%s: reconcile returned %s (%s)", name, eucora_license_status_name(rc), rc ? last_error() : "");
    check(rc == EUCORA_LICENSE_OK && o != NULL, msg, NULL);
    if (rc != EUCORA_LICENSE_OK) { free(prev); return; }

    int32_t run = -1;
    eucora_license_outcome_status(o, &run);
    snprintf(msg, sizeof msg, "%s: status %s, expected %s", name, run_status_name(run), want_status);
    check(strcmp(run_status_name(run), want_status) == 0, msg, NULL);

    int32_t st;
    if (run != EUCORA_LICENSE_RUN_FAILED) {
        char *hash = outcome_text(o, eucora_license_outcome_snapshot_hash, &st);
        snprintf(msg, sizeof msg, "%s: snapshot_hash %s, expected %s", name, hash ? hash : eucora_license_status_name(st), want_hash);
        check(hash && strcmp(hash, want_hash) == 0, msg, NULL);
        free(hash);

        /* The evidence pack verifies offline and replays to the same hash. */
        size_t pack_len = 0;
        st = eucora_license_outcome_evidence_pack(o, NULL, 0, &pack_len);
        uint8_t *pack = malloc(pack_len ? pack_len : 1);
        if (st == EUCORA_LICENSE_OK) st = eucora_license_outcome_evidence_pack(o, pack, pack_len, &pack_len);
        int32_t verified = 0;
        size_t report_len = 0;
        if (st == EUCORA_LICENSE_OK) {
            st = eucora_license_verify_pack(pack, pack_len, (const uint8_t *)prev, prev_len, &verified, NULL, 0, &report_len);
        }
        snprintf(msg, sizeof msg, "%s: evidence pack verifies (%s, verified %d)", name, eucora_license_status_name(st), (int)verified);
        check(st == EUCORA_LICENSE_OK && verified == 1, msg, NULL);
        free(pack);
    } else {
        /* No snapshot: its accessors answer with the run's first error code. */
        int32_t first = 0;
        eucora_license_outcome_error_code(o, &first);
        size_t len = 0;
        st = eucora_license_outcome_snapshot_hash(o, NULL, 0, &len);
        snprintf(msg, sizeof msg, "%s: snapshot of a failed run is %s, first error %s", name,
                 eucora_license_status_name(st), eucora_license_status_name(first));
        check(st == first && first != EUCORA_LICENSE_OK, msg, NULL);

        /* The run report carries exactly the expected reasons and errors. */
        char *report = outcome_text(o, eucora_license_outcome_report_json, &st);
        int32_t cst;
        char *want = canonical(expected, strlen(expected), &cst);
        for (int i = 0; i < 2; i++) {
            const char *key = i == 0 ? "reasons" : "errors";
            char *m = want ? member(want, key) : NULL;
            snprintf(msg, sizeof msg, "%s: run report %s", name, key);
            check(report && m && strstr(report, m) != NULL, msg, m);
            free(m);
        }
        free(want);
        free(report);
    }
    check(eucora_license_outcome_free(o) == EUCORA_LICENSE_OK, "outcome_free", name);
    free(prev);
}

static void golden_jcs(const char *name, const char *dir, const char *expected) {
    char msg[512], want_error[64], want_hex[8192];
    find_string(expected, "error", want_error, sizeof want_error);
    find_string(expected, "canonical_hex", want_hex, sizeof want_hex);
    char *path = join(dir, "input.json");
    size_t len = 0;
    char *input = read_file(path, &len);
    free(path);
    int32_t st;
    char *out = canonical(input, len, &st);
    if (want_error[0]) {
        snprintf(msg, sizeof msg, "%s: %s, expected %s", name, eucora_license_status_name(st), want_error);
        check(out == NULL && strcmp(eucora_license_status_name(st), want_error) == 0, msg, NULL);
    } else if (!out) {
        snprintf(msg, sizeof msg, "%s: canonicalize failed: %s", name, last_error());
        check(0, msg, NULL);
    } else {
        size_t n = strlen(out);
        char *hex = malloc(2 * n + 1);
        for (size_t i = 0; i < n; i++) snprintf(hex + 2 * i, 3, "%02x", (unsigned char)out[i]);
        snprintf(msg, sizeof msg, "%s: canonical bytes", name);
        check(strcmp(hex, want_hex) == 0, msg, hex);
        free(hex);
    }
    free(out);
    free(input);
}

static void golden_ruleset(const char *name, const char *dir, const char *case_json, const char *expected) {
    char msg[512];
    char *path = join(dir, "input.json");
    size_t len = 0;
    char *input = read_file(path, &len);
    free(path);
    const char *ids = find_value(case_json, "sku_ids");
    size_t ids_len = ids ? value_span(ids) : 0;
    size_t out_len = 0;
    int32_t st = eucora_license_validate_ruleset((const uint8_t *)input, len, (const uint8_t *)ids, ids_len, NULL, 0, &out_len);
    char *got = malloc(out_len + 1);
    if (st == EUCORA_LICENSE_OK) {
        st = eucora_license_validate_ruleset((const uint8_t *)input, len, (const uint8_t *)ids, ids_len, got, out_len + 1, &out_len);
    }
    int32_t cst;
    char *want = canonical(expected, strlen(expected), &cst);
    snprintf(msg, sizeof msg, "%s: validate_ruleset", name);
    check(st == EUCORA_LICENSE_OK && want && strcmp(got, want) == 0, msg, st == EUCORA_LICENSE_OK ? got : last_error());

    /* hash_ruleset agrees: the expected hash when valid (without a catalog). */
    char want_hash[128], hash[128];
    find_string(expected, "hash", want_hash, sizeof want_hash);
    st = eucora_license_hash_ruleset((const uint8_t *)input, len, hash, sizeof hash, NULL);
    if (want_hash[0]) {
        snprintf(msg, sizeof msg, "%s: hash_ruleset", name);
        check(st == EUCORA_LICENSE_OK && strcmp(hash, want_hash) == 0, msg, st ? last_error() : hash);
    } else if (!ids) {
        snprintf(msg, sizeof msg, "%s: hash_ruleset refuses an invalid ruleset (%s)", name, eucora_license_status_name(st));
        check(st == EUCORA_LICENSE_INVALID_RULESET, msg, NULL);
    }
    free(want);
    free(got);
    free(input);
}

static void golden_sidebar(const char *name, const char *dir, const char *case_json, const char *expected) {
    char msg[512], now[64];
    find_string(case_json, "now", now, sizeof now);
    long long interval = find_int(case_json, "schedule_interval_secs");
    long long factor = find_int(case_json, "stale_factor");
    char *sp = join(dir, "snapshot.json"), *lp = join(dir, "last_run.json");
    size_t slen = 0, llen = 0;
    char *snap = read_file(sp, &slen), *last = read_file(lp, &llen);
    free(sp);
    free(lp);
    size_t out_len = 0;
    int32_t st = eucora_license_sidebar((const uint8_t *)snap, slen, (const uint8_t *)last, llen, now, interval, factor, NULL, 0, &out_len);
    char *got = malloc(out_len + 1);
    if (st == EUCORA_LICENSE_OK) {
        st = eucora_license_sidebar((const uint8_t *)snap, slen, (const uint8_t *)last, llen, now, interval, factor, got, out_len + 1, &out_len);
    }
    int32_t cst;
    char *want = canonical(expected, strlen(expected), &cst);
    snprintf(msg, sizeof msg, "%s: sidebar state", name);
    check(st == EUCORA_LICENSE_OK && want && strcmp(got, want) == 0, msg, st == EUCORA_LICENSE_OK ? got : last_error());
    free(want);
    free(got);
    free(snap);
    free(last);
}

/* A text answer of the two-call pattern (length, then the buffer), malloc'ed;
 * NULL with *status set on failure. ok_out gets the verdict. */
typedef int32_t (*verify_fn)(const uint8_t *, size_t, const uint8_t *, size_t, int32_t *, char *, size_t, size_t *);

static char *verify_text(verify_fn fn, const char *a, size_t a_len, const char *b, size_t b_len, int32_t *ok, int32_t *status) {
    size_t len = 0;
    *status = fn((const uint8_t *)a, a_len, (const uint8_t *)b, b_len, ok, NULL, 0, &len);
    if (*status != EUCORA_LICENSE_OK) return NULL;
    char *buf = malloc(len + 1);
    *status = fn((const uint8_t *)a, a_len, (const uint8_t *)b, b_len, ok, buf, len + 1, &len);
    if (*status != EUCORA_LICENSE_OK) { free(buf); return NULL; }
    return buf;
}

/* `{"ok", "size", "failure"}` of log.jsonl, against case.json's checkpoint when present. */
static void golden_audit_verify(const char *name, const char *dir, const char *case_json, const char *expected) {
    char msg[512];
    char *path = join(dir, "log.jsonl");
    size_t log_len = 0;
    char *log = read_file(path, &log_len);
    free(path);
    const char *cp = find_value(case_json, "checkpoint");
    int32_t ok = -1, st, cst;
    char *got = log ? verify_text(eucora_license_audit_verify, log, log_len, cp, cp ? value_span(cp) : 0, &ok, &st) : NULL;
    char *want = canonical(expected, strlen(expected), &cst);
    const char *want_ok = find_value(expected, "ok");
    snprintf(msg, sizeof msg, "%s: audit_verify", name);
    check(got && want && strcmp(got, want) == 0, msg, got ? got : last_error());
    snprintf(msg, sizeof msg, "%s: audit_verify ok_out", name);
    check(want_ok && ok == (strncmp(want_ok, "true", 4) == 0), msg, NULL);
    free(want);
    free(got);
    free(log);
}

/* The verdict of case.json's proof against its checkpoint. */
static void golden_audit_proof(const char *name, const char *case_json, const char *expected) {
    char msg[512];
    const char *proof = find_value(case_json, "proof"), *cp = find_value(case_json, "checkpoint");
    int32_t ok = -1, st = -1, cst;
    char *got = proof && cp ? verify_text(eucora_license_audit_verify_proof, proof, value_span(proof), cp, value_span(cp), &ok, &st) : NULL;
    char *want = canonical(expected, strlen(expected), &cst);
    const char *want_ok = find_value(expected, "ok");
    snprintf(msg, sizeof msg, "%s: audit_verify_proof", name);
    check(got && want && strcmp(got, want) == 0, msg, got ? got : last_error());
    snprintf(msg, sizeof msg, "%s: audit_verify_proof ok_out", name);
    check(want_ok && ok == (strncmp(want_ok, "true", 4) == 0), msg, NULL);
    free(want);
    free(got);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Governance kinds the C ABI has no function for (fixtures/golden/README.md). */
static int is_governance_skipped(const char *kind) {
    static const char *skipped[] = {"authorize", "decide", "apply", "audit-prove"};
    for (size_t i = 0; i < sizeof skipped / sizeof *skipped; i++) {
        if (strcmp(kind, skipped[i]) == 0) return 1;
    }
    return 0;
}

static int run_golden(const char *root) {
    DIR *d = opendir(root);
    if (!d) {
        printf("FAIL cannot open %s\n", root);
        failed++;
        return 0;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    int cases = 0;
    for (size_t i = 0; i < n; i++) {
        char *dir = join(root, names[i]);
        char *case_path = join(dir, "case.json"), *expected_path = join(dir, "expected.json");
        char *case_json = read_file(case_path, NULL), *expected = read_file(expected_path, NULL);
        if (case_json && expected) {
            char kind[32];
            find_string(case_json, "kind", kind, sizeof kind);
            cases++;
            if (strcmp(kind, "reconcile") == 0) golden_reconcile(names[i], dir, expected);
            else if (strcmp(kind, "jcs") == 0) golden_jcs(names[i], dir, expected);
            else if (strcmp(kind, "ruleset") == 0) golden_ruleset(names[i], dir, case_json, expected);
            else if (strcmp(kind, "sidebar") == 0) golden_sidebar(names[i], dir, case_json, expected);
            else if (strcmp(kind, "audit-verify") == 0) golden_audit_verify(names[i], dir, case_json, expected);
            else if (strcmp(kind, "audit-proof") == 0) golden_audit_proof(names[i], case_json, expected);
            else if (is_governance_skipped(kind)) cases--; /* iterated by the governance crate, Python, Node */
            else check(0, names[i], "unknown kind");
        }
        free(case_json);
        free(expected);
        free(case_path);
        free(expected_path);
        free(dir);
        free(names[i]);
    }
    free(names);
    return cases;
}

/* ------------------------------------------------------------------ conventions */

static void test_conventions(const char *golden) {
    char buf[256];
    size_t len = 12345;
    int32_t st;

    /* Version: ask for the length, then fit, then too small. */
    check(eucora_license_version(NULL, 0, &len) == EUCORA_LICENSE_OK && len > 0 && len < 64, "version length query", NULL);
    check(eucora_license_version(buf, sizeof buf, NULL) == EUCORA_LICENSE_OK && strlen(buf) == len, "version into a buffer", buf);
    memset(buf, 'x', sizeof buf);
    check(eucora_license_version(buf, 2, &len) == EUCORA_LICENSE_BUFFER_TOO_SMALL && buf[0] == 0 && buf[2] == 'x',
          "version into a too-small buffer: empty string, nothing past the capacity", NULL);
    check(eucora_license_last_error_code() == EUCORA_LICENSE_BUFFER_TOO_SMALL && strstr(last_error(), "needs") != NULL,
          "last error after a too-small buffer", last_error());
    check(eucora_license_version(NULL, 8, &len) == EUCORA_LICENSE_INVALID_ARGUMENT, "NULL buffer with a capacity", NULL);
    check(strcmp(eucora_license_status_name(EUCORA_LICENSE_CATALOG_INTEGRITY), "catalog_integrity") == 0 &&
              strcmp(eucora_license_status_name(12345), "unknown") == 0,
          "status names", NULL);

    /* NULL pointers are status codes, never crashes. */
    EucoraLicenseOutcome *o = (EucoraLicenseOutcome *)0x1;
    check(eucora_license_reconcile_dir(NULL, NULL, 0, &o) == EUCORA_LICENSE_INVALID_ARGUMENT && o == NULL,
          "reconcile_dir(NULL dir) and the output handle reset to NULL", NULL);
    check(eucora_license_reconcile_dir(golden, NULL, 0, NULL) == EUCORA_LICENSE_INVALID_ARGUMENT, "reconcile_dir(NULL outcome_out)", NULL);
    check(eucora_license_reconcile_json(NULL, 10, NULL, 0, &o) == EUCORA_LICENSE_INVALID_ARGUMENT, "reconcile_json(NULL, 10)", NULL);
    check(eucora_license_reconcile(NULL, NULL, 0, &o) == EUCORA_LICENSE_INVALID_HANDLE, "reconcile(NULL bundle)", NULL);
    check(eucora_license_bundle_new(NULL) == EUCORA_LICENSE_INVALID_ARGUMENT, "bundle_new(NULL)", NULL);
    check(eucora_license_bundle_add_file(NULL, "a", (const uint8_t *)"x", 1) == EUCORA_LICENSE_INVALID_HANDLE, "add_file(NULL bundle)", NULL);
    check(eucora_license_outcome_status(NULL, (int32_t *)buf) == EUCORA_LICENSE_INVALID_HANDLE, "outcome_status(NULL)", NULL);
    check(eucora_license_canonicalize(NULL, 3, buf, sizeof buf, &len) == EUCORA_LICENSE_INVALID_ARGUMENT, "canonicalize(NULL, 3)", NULL);
    check(eucora_license_hash_ruleset(NULL, 0, buf, sizeof buf, &len) == EUCORA_LICENSE_INVALID_RULESET,
          "hash_ruleset(NULL, 0) is an empty, invalid document", last_error());
    check(eucora_license_sidebar(NULL, 0, NULL, 0, NULL, 86400, 2, buf, sizeof buf, &len) == EUCORA_LICENSE_INVALID_ARGUMENT,
          "sidebar(now NULL)", NULL);
    check(eucora_license_verify_pack(NULL, 0, NULL, 0, NULL, NULL, 0, NULL) == EUCORA_LICENSE_INVALID_ARGUMENT,
          "verify_pack(verified_out NULL)", NULL);
    check(eucora_license_bundle_free(NULL) == EUCORA_LICENSE_OK && eucora_license_outcome_free(NULL) == EUCORA_LICENSE_OK,
          "free(NULL) does nothing", NULL);

    /* Bad input: invalid JSON, a path leaving the bundle, text that is not UTF-8. */
    check(eucora_license_reconcile_json((const uint8_t *)"{", 1, NULL, 0, &o) == EUCORA_LICENSE_INVALID_INPUT && o == NULL,
          "reconcile_json(\"{\") is invalid_input", last_error());
    check(eucora_license_reconcile_json((const uint8_t *)"{\"a\": 1}", 8, NULL, 0, &o) == EUCORA_LICENSE_INVALID_INPUT,
          "reconcile_json with a number as file content", last_error());
    check(eucora_license_canonicalize((const uint8_t *)"[1.5]", 5, buf, sizeof buf, &len) == EUCORA_LICENSE_NON_CANONICAL,
          "canonicalize([1.5]) is non_canonical", NULL);
    check(eucora_license_sidebar(NULL, 0, NULL, 0, "yesterday", 86400, 2, buf, sizeof buf, &len) == EUCORA_LICENSE_INVALID_INPUT,
          "sidebar(now \"yesterday\")", NULL);
    check(eucora_license_sidebar((const uint8_t *)"{}", 2, NULL, 0, "2026-11-22T06:00:00Z", 86400, 2, buf, sizeof buf, &len) ==
              EUCORA_LICENSE_PREVIOUS_SNAPSHOT_INVALID,
          "sidebar with a snapshot that does not verify", NULL);
    check(eucora_license_sidebar(NULL, 0, NULL, 0, "2026-11-22T06:00:00Z", 0, 2, buf, sizeof buf, &len) == EUCORA_LICENSE_INVALID_INPUT,
          "sidebar with a zero schedule interval", NULL);
    check(eucora_license_reconcile_dir("/nonexistent/bundle", NULL, 0, &o) == EUCORA_LICENSE_INVALID_INPUT, "reconcile_dir of a missing directory", NULL);

    EucoraLicenseBundle *b = NULL;
    check(eucora_license_bundle_new(&b) == EUCORA_LICENSE_OK && b != NULL, "bundle_new", NULL);
    check(eucora_license_bundle_add_file(b, "../etc/passwd", (const uint8_t *)"x", 1) == EUCORA_LICENSE_INVALID_INPUT,
          "add_file refuses a path outside the bundle", NULL);
    check(eucora_license_bundle_add_file(b, "a\xff.csv", (const uint8_t *)"x", 1) == EUCORA_LICENSE_INVALID_ARGUMENT,
          "add_file refuses a path that is not UTF-8", NULL);
    check(eucora_license_bundle_add_file(b, "x.csv", NULL, 4) == EUCORA_LICENSE_INVALID_ARGUMENT, "add_file(NULL data, 4)", NULL);

    /* The demo, file by file, through a bundle handle: the same snapshot as the directory. */
    static const char *demo_files[] = {"bundle.json", "catalog.json", "directory.csv", "entitlements.csv", "pools.csv",
                                       "ruleset.json", "signals/entra.csv", "signals/flexlm.csv", "signals/intune.csv",
                                       "signals/jamf.jsonl", "signals/sccm.csv"};
    char *demo = join(golden, "reconcile-demo/bundle");
    for (size_t i = 0; i < sizeof demo_files / sizeof *demo_files; i++) {
        char *p = join(demo, demo_files[i]);
        size_t n = 0;
        char *data = read_file(p, &n);
        check(data && eucora_license_bundle_add_file(b, demo_files[i], (const uint8_t *)data, n) == EUCORA_LICENSE_OK, "add_file", demo_files[i]);
        free(data);
        free(p);
    }
    EucoraLicenseOutcome *from_bundle = NULL, *from_dir = NULL;
    check(eucora_license_reconcile(b, NULL, 0, &from_bundle) == EUCORA_LICENSE_OK, "reconcile(bundle)", last_error());
    check(eucora_license_reconcile_dir(demo, NULL, 0, &from_dir) == EUCORA_LICENSE_OK, "reconcile_dir(demo)", last_error());
    free(demo);
    char h1[128] = "", h2[128] = "";
    eucora_license_outcome_snapshot_hash(from_bundle, h1, sizeof h1, NULL);
    eucora_license_outcome_snapshot_hash(from_dir, h2, sizeof h2, NULL);
    check(h1[0] && strcmp(h1, h2) == 0, "bundle handle and directory give one snapshot", h1);

    /* Buffers: the hash is 71 bytes; 71 is one short (the NUL). */
    char small[71];
    len = 0;
    check(eucora_license_outcome_snapshot_hash(from_dir, small, sizeof small, &len) == EUCORA_LICENSE_BUFFER_TOO_SMALL && len == 71 && small[0] == 0,
          "snapshot_hash into 71 bytes: too small, length 71", NULL);

    /* A tampered pack does not verify; the report names the first failed check. */
    size_t pack_len = 0;
    st = eucora_license_outcome_evidence_pack(from_dir, NULL, 0, &pack_len);
    uint8_t *pack = malloc(pack_len);
    st = st ? st : eucora_license_outcome_evidence_pack(from_dir, pack, pack_len, &pack_len);
    check(st == EUCORA_LICENSE_OK && pack_len > 1024, "evidence pack", last_error());
    uint8_t tiny[8];
    check(eucora_license_outcome_evidence_pack(from_dir, tiny, sizeof tiny, &len) == EUCORA_LICENSE_BUFFER_TOO_SMALL && len == pack_len,
          "evidence pack into 8 bytes", NULL);
    pack[pack_len / 2] ^= 0x20;
    int32_t verified = -1;
    size_t report_len = 0;
    st = eucora_license_verify_pack(pack, pack_len, NULL, 0, &verified, NULL, 0, &report_len);
    char *report = malloc(report_len + 1);
    st = st ? st : eucora_license_verify_pack(pack, pack_len, NULL, 0, &verified, report, report_len + 1, &report_len);
    check(st == EUCORA_LICENSE_OK && verified == 0 && strstr(report, "\"first_failure\":\"") != NULL, "a tampered pack does not verify", report);
    free(report);
    free(pack);
    check(eucora_license_verify_pack((const uint8_t *)"junk", 4, NULL, 0, &verified, NULL, 0, NULL) == EUCORA_LICENSE_OK && verified == 0,
          "junk is not a pack", NULL);

    /* Dangling, double-freed, made-up and mistyped handles are refused. */
    int32_t run = -1;
    check(eucora_license_outcome_free(from_bundle) == EUCORA_LICENSE_OK, "outcome_free", NULL);
    check(eucora_license_outcome_status(from_bundle, &run) == EUCORA_LICENSE_INVALID_HANDLE && run == -1, "a freed outcome is refused", NULL);
    check(eucora_license_outcome_snapshot_hash(from_bundle, h1, sizeof h1, NULL) == EUCORA_LICENSE_INVALID_HANDLE, "a freed outcome's hash", NULL);
    check(eucora_license_outcome_free(from_bundle) == EUCORA_LICENSE_INVALID_HANDLE, "a second free is refused", NULL);
    check(eucora_license_outcome_status((const EucoraLicenseOutcome *)b, &run) == EUCORA_LICENSE_INVALID_HANDLE, "a bundle is not an outcome", NULL);
    check(eucora_license_bundle_free((EucoraLicenseBundle *)from_dir) == EUCORA_LICENSE_INVALID_HANDLE, "an outcome is not a bundle", NULL);
    check(eucora_license_outcome_status((const EucoraLicenseOutcome *)(uintptr_t)0x7f000001u, &run) == EUCORA_LICENSE_INVALID_HANDLE,
          "a made-up handle is refused", NULL);
    check(eucora_license_last_error_code() == EUCORA_LICENSE_INVALID_HANDLE && strstr(last_error(), "handle") != NULL,
          "last error names the handle", last_error());
    check(eucora_license_outcome_free(from_dir) == EUCORA_LICENSE_OK, "outcome_free", NULL);
    check(eucora_license_bundle_free(b) == EUCORA_LICENSE_OK, "bundle_free", NULL);
    check(eucora_license_bundle_add_file(b, "a.csv", (const uint8_t *)"x", 1) == EUCORA_LICENSE_INVALID_HANDLE, "a freed bundle is refused", NULL);
}

/* The audit verifiers: NULL and bad arguments are status codes; a log or a
 * proof that does not hold is an answer (OK, ok_out 0), not an error. */
static void test_audit_conventions(const char *golden) {
    char buf[512];
    size_t len = 0;
    int32_t ok = -1, st;

    check(eucora_license_audit_verify(NULL, 5, NULL, 0, &ok, buf, sizeof buf, &len) == EUCORA_LICENSE_INVALID_ARGUMENT,
          "audit_verify(NULL log, 5)", NULL);
    check(eucora_license_audit_verify(NULL, 0, NULL, 0, NULL, buf, sizeof buf, &len) == EUCORA_LICENSE_INVALID_ARGUMENT,
          "audit_verify(ok_out NULL)", NULL);
    check(eucora_license_audit_verify(NULL, 0, NULL, 3, &ok, buf, sizeof buf, &len) == EUCORA_LICENSE_INVALID_ARGUMENT,
          "audit_verify(NULL checkpoint, 3)", NULL);
    check(eucora_license_audit_verify(NULL, 0, NULL, 0, &ok, NULL, 8, &len) == EUCORA_LICENSE_INVALID_ARGUMENT,
          "audit_verify(NULL buffer with a capacity)", NULL);
    st = eucora_license_audit_verify(NULL, 0, NULL, 0, &ok, buf, sizeof buf, &len);
    check(st == EUCORA_LICENSE_OK && ok == 1 && strcmp(buf, "{\"failure\":null,\"ok\":true,\"size\":0}") == 0 && len == strlen(buf),
          "audit_verify of the empty log", buf);
    check(eucora_license_audit_verify(NULL, 0, (const uint8_t *)"junk", 4, &ok, buf, sizeof buf, &len) == EUCORA_LICENSE_INVALID_INPUT &&
              strstr(last_error(), "invalid_checkpoint") != NULL,
          "audit_verify with a checkpoint that is not JSON", last_error());
    check(eucora_license_audit_verify(NULL, 0, (const uint8_t *)"{\"size\":1}", 10, &ok, buf, sizeof buf, &len) == EUCORA_LICENSE_INVALID_INPUT,
          "audit_verify with a checkpoint missing its root", last_error());
    check(eucora_license_audit_verify((const uint8_t *)"junk\n", 5, NULL, 0, &ok, buf, sizeof buf, &len) == EUCORA_LICENSE_OK && ok == 0 &&
              strstr(buf, "\"entry_hash_mismatch\",\"seq\":1") != NULL,
          "audit_verify of a line that is not JSON names entry 1", buf);
    check(eucora_license_audit_verify(NULL, 0, NULL, 0, &ok, buf, 4, &len) == EUCORA_LICENSE_BUFFER_TOO_SMALL && buf[0] == 0 && len == 35,
          "audit_verify into a too-small buffer", NULL);

    check(eucora_license_audit_verify_proof(NULL, 4, NULL, 0, &ok, buf, sizeof buf, &len) == EUCORA_LICENSE_INVALID_ARGUMENT,
          "audit_verify_proof(NULL proof, 4)", NULL);
    check(eucora_license_audit_verify_proof(NULL, 0, NULL, 0, NULL, buf, sizeof buf, &len) == EUCORA_LICENSE_INVALID_ARGUMENT,
          "audit_verify_proof(ok_out NULL)", NULL);
    ok = -1;
    check(eucora_license_audit_verify_proof((const uint8_t *)"junk", 4, (const uint8_t *)"{}", 2, &ok, buf, sizeof buf, &len) == EUCORA_LICENSE_OK &&
              ok == 0 && strcmp(buf, "{\"ok\":false,\"reason\":\"malformed_checkpoint\"}") == 0,
          "audit_verify_proof of junk against {}: malformed_checkpoint", buf);
    static const char empty_cp[] = "{\"size\":0,\"root\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"head_hash\":null}";
    check(eucora_license_audit_verify_proof((const uint8_t *)"junk", 4, (const uint8_t *)empty_cp, strlen(empty_cp), &ok, buf, sizeof buf, &len) ==
                  EUCORA_LICENSE_OK &&
              ok == 0 && strcmp(buf, "{\"ok\":false,\"reason\":\"malformed_proof\"}") == 0,
          "audit_verify_proof of junk against the empty checkpoint: malformed_proof", buf);

    check(eucora_license_audit_checkpoint(NULL, 2, buf, sizeof buf, &len) == EUCORA_LICENSE_INVALID_ARGUMENT, "audit_checkpoint(NULL, 2)", NULL);
    check(eucora_license_audit_checkpoint(NULL, 0, buf, sizeof buf, &len) == EUCORA_LICENSE_OK &&
              strcmp(buf, "{\"head_hash\":null,\"root\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":0}") == 0,
          "audit_checkpoint of the empty log", buf);

    /* A checkpoint taken through the ABI verifies the log it came from; a tampered log has none. */
    char *ok_path = join(golden, "audit-verify-checkpoint-ok/log.jsonl"), *bad_path = join(golden, "audit-verify-entry-hash-mismatch/log.jsonl");
    size_t n = 0, bad_n = 0;
    char *log = read_file(ok_path, &n), *bad = read_file(bad_path, &bad_n);
    st = log ? eucora_license_audit_checkpoint((const uint8_t *)log, n, buf, sizeof buf, &len) : -1;
    check(st == EUCORA_LICENSE_OK && strstr(buf, "\"size\":7") != NULL, "audit_checkpoint of a 7-entry log", st ? last_error() : buf);
    char cp[512];
    snprintf(cp, sizeof cp, "%s", buf);
    ok = -1;
    st = log ? eucora_license_audit_verify((const uint8_t *)log, n, (const uint8_t *)cp, strlen(cp), &ok, buf, sizeof buf, &len) : -1;
    check(st == EUCORA_LICENSE_OK && ok == 1, "the log verifies against its own checkpoint", buf);
    st = bad ? eucora_license_audit_checkpoint((const uint8_t *)bad, bad_n, buf, sizeof buf, &len) : -1;
    check(st == EUCORA_LICENSE_INVALID_INPUT && strstr(last_error(), "entry_hash_mismatch") != NULL, "audit_checkpoint of a tampered log",
          last_error());
    free(log);
    free(bad);
    free(ok_path);
    free(bad_path);
}

int main(int argc, char **argv) {
    const char *golden = argc > 1 ? argv[1] : "fixtures/golden";
    test_conventions(golden);
    test_audit_conventions(golden);
    int cases = run_golden(golden);
    check(cases >= 30, "at least 30 golden cases", NULL);
    printf("C ABI: %d golden cases\n", cases);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
