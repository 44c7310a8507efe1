//! The committed header is what cbindgen (the version pinned in Cargo.toml)
//! generates from src/lib.rs today. `EUCORA_BLESS=1` rewrites it.

use std::path::Path;

#[test]
fn header_matches_the_source() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new().with_config(config).with_src(dir.join("src/lib.rs")).generate().unwrap();
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let path = dir.join("include/eucora_license.h");
    if std::env::var_os("EUCORA_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date with ffi/src/lib.rs: regenerate it with\n  EUCORA_BLESS=1 cargo test -p eucora-license-ffi --test header\nand commit it",
        path.display()
    );
}
