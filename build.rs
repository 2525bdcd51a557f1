//! Generates the C header from `src/ffi/` with cbindgen, into `$OUT_DIR/httpx.h` only.
//!
//! Cargo expects build scripts to write nothing outside `OUT_DIR`, so this script never
//! touches the committed `include/httpx.h`. The committed header is the product: the crate
//! embeds the generated one (`httpx::GENERATED_HEADER`) and the drift test
//! (`tests/c_api.rs` `committed_header_matches_generated`) fails when the two differ.
//! `scripts/regen-header.sh` copies this file over `include/httpx.h` and refreshes the
//! checked-in list of exported symbols (`abi/libhttpx.sym`).
//!
//! One post-processing step: cbindgen closes its `extern "C"` guards with C++-style
//! `// __cplusplus` comments, which C89/C90 `-pedantic` rejects. They become `/* */`
//! comments so the header compiles in every C mode from C89 on.

#[cfg(feature = "capi")]
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    link_flags();
    // Without the `capi` feature there is no C ABI and no header to generate (and
    // cbindgen is not even built).
    #[cfg(feature = "capi")]
    generate_header();
}

/// Link flags of the cdylib (peak RSS, issue 16; measured in bench/RESULTS.md "Issue 16:
/// where the RSS goes"). Only for Linux/glibc ELF targets; CMakeLists.txt passes the same two
/// flags when it links the shipped libhttpx.so from libhttpx.a.
///
/// - `link/hot.ld`: the functions of the common paths first, together (output section
///   `.text.hot`), so the kernel's 64 KiB fault-around maps few code pages (release builds:
///   the list names release symbols). A linker script with `INSERT BEFORE .text` only adds
///   that section to the default layout; GNU ld and lld both read it. A name missing from a
///   build matches nothing.
/// - `-z pack-relative-relocs` (DT_RELR): the 13,000 relative relocations in 4 KB instead of
///   320 KB of `.rela.dyn` that ld.so reads whole at load. The library then needs glibc 2.36
///   at run time, so it is on only when the glibc this is built on is 2.36 or newer (a library
///   built against a glibc does not run on an older one anyway: it already needs 2.34).
///   `HTTPX_RELR=0` / `=1` overrides the check.
fn link_flags() {
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    println!("cargo:rerun-if-changed=link/hot.ld");
    println!("cargo:rerun-if-env-changed=HTTPX_RELR");
    println!("cargo:rerun-if-env-changed=HTTPX_HOT_TEXT");
    if env("CARGO_CFG_TARGET_OS") != "linux" || env("CARGO_CFG_TARGET_ENV") != "gnu" {
        return;
    }
    if env("PROFILE") == "release" && env("HTTPX_HOT_TEXT") != "0" {
        let script = std::path::Path::new(&env("CARGO_MANIFEST_DIR")).join("link/hot.ld");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-T,{}", script.display());
    }
    let relr = match env("HTTPX_RELR").as_str() {
        "1" => true,
        "0" => false,
        _ => env("HOST") == env("TARGET") && host_glibc_at_least(2, 36),
    };
    if relr {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,pack-relative-relocs");
    }
}

/// The build machine's glibc version from `getconf GNU_LIBC_VERSION` ("glibc 2.36").
fn host_glibc_at_least(major: u32, minor: u32) -> bool {
    let out = match std::process::Command::new("getconf").arg("GNU_LIBC_VERSION").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        _ => return false,
    };
    let mut nums = out.trim().trim_start_matches("glibc ").split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (nums.next().unwrap_or(0), nums.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

#[cfg(feature = "capi")]
fn generate_header() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        // cbindgen follows the `pub mod` lines of mod.rs to the other ffi files.
        .with_src(crate_dir.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen failed to generate the header from src/ffi/");
    let mut raw = Vec::new();
    bindings.write(&mut raw);
    let text = String::from_utf8(raw).expect("cbindgen wrote non-UTF-8");
    let text = c89_comments(&text);
    let generated = out_dir.join("httpx.h");
    // Write only when it changed, so the mtime (and anything keyed on it) stays put.
    if std::fs::read(&generated).ok().as_deref() != Some(text.as_bytes()) {
        std::fs::write(&generated, text.as_bytes()).expect("write $OUT_DIR/httpx.h");
    }
}

#[cfg(feature = "capi")]
/// Turns the `// ...` comments cbindgen puts after its own guard lines (`#endif //
/// __cplusplus`, `}  // extern "C"`) into `/* ... */`. Only lines that start with `#endif`,
/// `#else` or `}` are touched, so doc comments and string constants stay as they are.
fn c89_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let (body, nl) = line.strip_suffix('\n').map(|b| (b, "\n")).unwrap_or((line, ""));
        let guard = ["#endif", "#else", "}"].iter().any(|p| body.starts_with(p));
        match body.find("//") {
            Some(pos) if guard && !body[..pos].contains('"') => {
                let comment = body[pos..].trim_start_matches('/').trim();
                out.push_str(body[..pos].trim_end());
                out.push_str(" /* ");
                out.push_str(comment);
                out.push_str(" */");
                out.push_str(nl);
            }
            _ => out.push_str(line),
        }
    }
    out
}
