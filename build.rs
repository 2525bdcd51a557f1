//! Generates the C header from `src/ffi/` with cbindgen.
//!
//! The header is always written to `$OUT_DIR/httpx.h` (the crate embeds it so a
//! test can compare it with the committed `include/httpx.h`). Outside CI the
//! committed copy is refreshed too; in CI (`CI` set) it is left alone so a stale
//! header fails the drift test instead of being silently fixed.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=CI");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        // cbindgen follows the `pub mod` lines of mod.rs to the other ffi files.
        .with_src(crate_dir.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen failed to generate include/httpx.h");
    let generated = out_dir.join("httpx.h");
    bindings.write_to_file(&generated);
    if std::env::var_os("CI").is_none() {
        let committed = crate_dir.join("include/httpx.h");
        let new = std::fs::read(&generated).expect("read generated header");
        if std::fs::read(&committed).ok().as_deref() != Some(&new[..]) {
            std::fs::create_dir_all(crate_dir.join("include")).expect("mkdir include");
            std::fs::write(&committed, &new).expect("write include/httpx.h");
        }
    }
}
