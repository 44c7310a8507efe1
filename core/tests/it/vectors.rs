//! Published test vectors: RFC 8785 (JCS) and RFC 9162 Merkle tree roots.
//! The data files live in `fixtures/` and are shared with the bindings' tests.

use crate::common::fixtures;
use eucora_license_core::internal::canonical;
use eucora_license_core::internal::merkle;
use eucora_license_core::ErrorCode;
use proptest::prelude::*;
use serde_json::Value;

const JCS_CASES: [&str; 6] = ["arrays", "french", "structures", "unicode", "values", "weird"];
/// Vectors whose input holds a number written with a fraction or exponent.
const WITH_FLOATS: [&str; 2] = ["structures", "values"];

fn jcs_case(name: &str) -> (Value, Vec<u8>) {
    let input = std::fs::read(fixtures().join(format!("jcs/input/{name}.json"))).unwrap();
    let output = std::fs::read(fixtures().join(format!("jcs/output/{name}.json"))).unwrap();
    (serde_json::from_slice(&input).unwrap(), output)
}

#[test]
fn jcs_vectors_reference_implementation() {
    // The full JCS implementation (floats included) reproduces every vector,
    // which pins the vector files themselves.
    for name in JCS_CASES {
        let (value, expected) = jcs_case(name);
        let got = serde_json_canonicalizer::to_vec(&value).unwrap();
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&expected), "{name}");
    }
}

#[test]
fn jcs_vectors_our_writer() {
    // Our writer is byte-identical on every integer-only vector and refuses
    // floats, which hashed data never holds.
    for name in JCS_CASES {
        let (value, expected) = jcs_case(name);
        match canonical::to_vec(&value) {
            Ok(got) => {
                assert!(!WITH_FLOATS.contains(&name), "{name} should have been refused");
                assert_eq!(got, expected, "{name}");
            }
            Err(e) => {
                assert!(WITH_FLOATS.contains(&name), "{name}: {e}");
                assert_eq!(e.code(), ErrorCode::NonCanonical);
            }
        }
    }
}

#[test]
fn jcs_edge_cases() {
    // Large integers up to 2^53 - 1, escapes, and UTF-16 ordering beyond the BMP.
    let v: Value =
        serde_json::from_str(r#"{"max":9007199254740991,"min":-9007199254740991,"\ud83d\ude00":"a\u0000b","\uffff":1}"#).unwrap();
    let ours = canonical::to_vec(&v).unwrap();
    assert_eq!(ours, serde_json_canonicalizer::to_vec(&v).unwrap());
    assert_eq!(
        String::from_utf8(ours).unwrap(),
        "{\"max\":9007199254740991,\"min\":-9007199254740991,\"\u{1f600}\":\"a\\u0000b\",\"\u{ffff}\":1}"
    );
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53) + 1..(1i64 << 53)).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[\\u{0}-\\u{1f}\"\\\\a-z\\u{e000}-\\u{ffff}\\u{10000}-\\u{10ffff}]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z\\u{e000}-\\u{ffff}\\u{10000}-\\u{10ffff}]{0,4}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn our_writer_equals_reference_on_integer_only_json(v in json_value()) {
        prop_assert_eq!(canonical::to_vec(&v).unwrap(), serde_json_canonicalizer::to_vec(&v).unwrap());
    }
}

#[test]
fn rfc9162_reference_roots_for_0_to_8_leaves() {
    let doc: Value = serde_json::from_slice(&std::fs::read(fixtures().join("merkle/rfc9162.json")).unwrap()).unwrap();
    let leaves: Vec<Vec<u8>> = doc["leaves_hex"].as_array().unwrap().iter().map(|h| hex::decode(h.as_str().unwrap()).unwrap()).collect();
    let roots = doc["roots_hex"].as_object().unwrap();
    assert_eq!(roots.len(), 9);
    for (size, root) in roots {
        let n: usize = size.parse().unwrap();
        let got = merkle::root(leaves[..n].iter().map(Vec::as_slice));
        assert_eq!(hex::encode(got.0), root.as_str().unwrap(), "tree of {n} leaves");
    }
}

#[test]
fn rfc9162_reference_inclusion_and_consistency_proofs() {
    let read = |name: &str| -> Value { serde_json::from_slice(&std::fs::read(fixtures().join(name)).unwrap()).unwrap() };
    let (trees, doc) = (read("merkle/rfc9162.json"), read("merkle/rfc9162-proofs.json"));
    let data: Vec<Vec<u8>> = trees["leaves_hex"].as_array().unwrap().iter().map(|h| hex::decode(h.as_str().unwrap()).unwrap()).collect();
    let hashes: Vec<_> = data.iter().map(|d| merkle::leaf_hash(d)).collect();
    let path_of = |v: &Value| -> Vec<_> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let mut d = [0u8; 32];
                hex::decode_to_slice(h.as_str().unwrap(), &mut d).unwrap();
                eucora_license_core::Digest32(d)
            })
            .collect()
    };
    let root = |n: usize| merkle::root_of_leaves(hashes[..n].to_vec());
    let flip = |p: &[eucora_license_core::Digest32], i: usize| {
        let mut q = p.to_vec();
        q[i].0[0] ^= 16;
        q
    };
    for v in doc["inclusion"].as_array().unwrap() {
        let (leaf, size) = (v["leaf"].as_u64().unwrap(), v["size"].as_u64().unwrap());
        let path = path_of(&v["path"]);
        let (i, n) = ((leaf - 1) as usize, size as usize);
        assert_eq!(merkle::inclusion_path(&hashes[..n], i), path, "inclusion {leaf} of {size}");
        assert!(merkle::verify_inclusion(&hashes[i], leaf - 1, size, &path, &root(n)));
        for (idx, sz) in [(leaf.wrapping_sub(2), size), (leaf, size), ((leaf - 1) ^ 2, size), (leaf - 1, size * 2), (leaf - 1, size / 2)] {
            if (idx, sz) != (leaf - 1, size) {
                assert!(!merkle::verify_inclusion(&hashes[i], idx, sz, &path, &root(n)), "inclusion {leaf} of {size} as {idx}/{sz}");
            }
        }
        let mut longer = path.clone();
        longer.push(root(n));
        assert!(!merkle::verify_inclusion(&hashes[i], leaf - 1, size, &longer, &root(n)));
        for k in 0..path.len() {
            assert!(!merkle::verify_inclusion(&hashes[i], leaf - 1, size, &flip(&path, k), &root(n)));
        }
        if !path.is_empty() {
            assert!(!merkle::verify_inclusion(&hashes[i], leaf - 1, size, &path[..path.len() - 1], &root(n)));
        }
    }
    for v in doc["consistency"].as_array().unwrap() {
        let (m, n) = (v["size1"].as_u64().unwrap(), v["size2"].as_u64().unwrap());
        let path = path_of(&v["path"]);
        let (r1, r2) = (root(m as usize), root(n as usize));
        assert_eq!(merkle::consistency_path(&hashes[..n as usize], m as usize), path, "consistency {m} -> {n}");
        assert!(merkle::verify_consistency(m, n, &r1, &r2, &path), "consistency {m} -> {n}");
        if path.is_empty() {
            continue;
        }
        let some = merkle::leaf_hash(b"WrongRoot");
        let probes: Vec<(u64, u64, _, _, Vec<_>)> = vec![
            (m - 1, n, r1, r2, path.clone()),
            (m + 1, n, r1, r2, path.clone()),
            (m ^ 2, n, r1, r2, path.clone()),
            (m, n * 2, r1, r2, path.clone()),
            (m, n / 2, r1, r2, path.clone()),
            (m, n, some, r2, path.clone()),
            (m, n, r1, some, path.clone()),
            (m, n, r2, r1, path.clone()),
            (m, n, r1, r2, Vec::new()),
            (m, n, r1, r2, [path.clone(), vec![r1]].concat()),
            (m, n, r1, r2, [path.clone(), vec![r2]].concat()),
            (m, n, r1, r2, [vec![r1], path.clone()].concat()),
            (m, n, r1, r2, [vec![r2], path.clone()].concat()),
            (m, n, r1, r2, [vec![path[0]], path.clone()].concat()),
            (m, n, r1, r2, path[..path.len() - 1].to_vec()),
        ];
        for (k, (a, b, x, y, p)) in probes.into_iter().enumerate() {
            assert!(!merkle::verify_consistency(a, b, &x, &y, &p), "consistency {m} -> {n}, probe {k}");
        }
        for k in 0..path.len() {
            assert!(!merkle::verify_consistency(m, n, &r1, &r2, &flip(&path, k)), "consistency {m} -> {n}, flipped node {k}");
        }
    }
}
