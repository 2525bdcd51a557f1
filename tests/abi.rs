//! The ABI as shipped: the checked-in list of exports (`abi/libhttpx.sym`) against the
//! header and the library cargo built, the version nodes, the header in every C and C++
//! language mode the installed compilers know, and a man page for every export.
//! No servers; the installed-library checks (SONAME, `readelf -V`, consumers) are in
//! `scripts/install-check.sh`. Policy: `docs/ABI.md`. After changing `src/ffi/`, run
//! `scripts/regen-header.sh` and commit `include/httpx.h` and `abi/libhttpx.sym`.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const FIX: &str = "run `bash scripts/regen-header.sh` and commit include/httpx.h and abi/libhttpx.sym";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("httpx-abi-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Runs a command with a time bound; (success, stdout+stderr).
fn run(cmd: &mut Command, limit: Duration) -> (bool, String) {
    let out_path = std::env::temp_dir().join(format!("httpx-abi-out-{}-{:?}", std::process::id(), Instant::now()));
    let file = fs::File::create(&out_path).unwrap();
    cmd.stdout(file.try_clone().unwrap()).stderr(file);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return (false, format!("spawn {cmd:?}: {e}")),
    };
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = fs::read_to_string(&out_path).unwrap_or_default();
    let _ = fs::remove_file(&out_path);
    match status {
        Some(st) => (st.success(), text),
        None => (false, format!("timed out after {limit:?}\n{text}")),
    }
}

fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

/// Functions the header declares (one declaration a line: cbindgen `args = "horizontal"`).
fn header_functions(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut in_comment = false;
    for line in text.lines() {
        let s = line.trim();
        if in_comment {
            in_comment = !s.contains("*/");
            continue;
        }
        if s.starts_with("/*") {
            in_comment = !s.contains("*/");
            continue;
        }
        if s.is_empty() || s.starts_with('#') || s.starts_with("typedef") || line.starts_with(' ') {
            continue;
        }
        if let Some(open) = s.find('(') {
            let before = &s[..open];
            let name = before.rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or("");
            if name.starts_with("httpx_") && s.ends_with(");") {
                names.insert(name.to_string());
            }
        }
    }
    names
}

/// abi/libhttpx.sym: symbol -> version node.
fn symbol_list() -> BTreeMap<String, String> {
    let path = root().join("abi/libhttpx.sym");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}; {FIX}", path.display()));
    let mut map = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts.len(), 2, "abi/libhttpx.sym:{}: expected `symbol NODE`, got {line:?}", i + 1);
        assert!(map.insert(parts[0].to_string(), parts[1].to_string()).is_none(), "duplicate {}", parts[0]);
    }
    map
}

fn diff(a_name: &str, a: &BTreeSet<String>, b_name: &str, b: &BTreeSet<String>) -> String {
    let only_a: Vec<_> = a.difference(b).collect();
    let only_b: Vec<_> = b.difference(a).collect();
    format!("only in {a_name}: {only_a:?}\nonly in {b_name}: {only_b:?}")
}

/// Every function of include/httpx.h is in abi/libhttpx.sym and nothing else is.
#[test]
fn symbol_list_matches_header() {
    let header = fs::read_to_string(root().join("include/httpx.h")).unwrap();
    let declared = header_functions(&header);
    assert!(declared.len() > 100, "parsed only {} functions from include/httpx.h", declared.len());
    let listed: BTreeSet<String> = symbol_list().into_keys().collect();
    assert!(
        declared == listed,
        "abi/libhttpx.sym and include/httpx.h disagree: {FIX}\n{}",
        diff("include/httpx.h", &declared, "abi/libhttpx.sym", &listed)
    );
    // The header cargo generated for this build says the same (the drift test in
    // tests/c_api.rs checks the whole text).
    let generated = header_functions(httpx::GENERATED_HEADER);
    assert!(
        generated == listed,
        "generated header != abi list: {FIX}\n{}",
        diff("generated", &generated, "list", &listed)
    );
}

/// Version nodes are HTTPX_<major>.<minor>, with the SONAME's major, and none is newer
/// than the crate version (a symbol keeps the node of the release that added it).
#[test]
fn version_nodes_are_well_formed() {
    let major: u32 = env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap();
    let minor: u32 = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap();
    let cmake = fs::read_to_string(root().join("CMakeLists.txt")).unwrap();
    let soversion: u32 = cmake
        .lines()
        .find_map(|l| l.trim().strip_prefix("set(HTTPX_SOVERSION ").and_then(|r| r.strip_suffix(')')))
        .expect("set(HTTPX_SOVERSION N) in CMakeLists.txt")
        .parse()
        .unwrap();
    assert_eq!(soversion, major, "SONAME major (CMakeLists.txt) != crate major: see docs/ABI.md");
    for (sym, node) in symbol_list() {
        let v = node.strip_prefix("HTTPX_").unwrap_or_else(|| panic!("{sym}: node {node} is not HTTPX_<maj>.<min>"));
        let (a, b) = v.split_once('.').unwrap_or_else(|| panic!("{sym}: node {node} is not HTTPX_<maj>.<min>"));
        let (a, b): (u32, u32) = (a.parse().unwrap(), b.parse().unwrap());
        assert_eq!(a, soversion, "{sym}: node {node} has another major than libhttpx.so.{soversion}");
        assert!(b <= minor || a < major, "{sym}: node {node} is newer than the crate version {major}.{minor}");
    }
}

/// The cdylib of this build exports exactly the listed functions and nothing else.
#[test]
fn built_library_exports_exactly_the_list() {
    let Some(nm) = tool("nm") else {
        assert!(!in_ci(), "CI is set but nm (binutils) is missing");
        eprintln!("nm not installed: skipped");
        return;
    };
    // This test binary lives in target/<profile>/deps/, next to the cdylib cargo test built.
    let deps = std::env::current_exe().unwrap().parent().unwrap().to_path_buf();
    let so = [deps.join("libhttpx.so"), deps.parent().unwrap().join("libhttpx.so")]
        .into_iter()
        .find(|p| p.exists())
        .expect("libhttpx.so next to the test binary (crate-type cdylib)");
    let (ok, out) = run(Command::new(nm).args(["-D", "--defined-only"]).arg(&so), Duration::from_secs(60));
    assert!(ok, "nm -D {}: {out}", so.display());
    let exported: BTreeSet<String> = out
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(|s| s.split('@').next().unwrap().to_string())
        .collect();
    let stray: Vec<_> = exported.iter().filter(|s| !s.starts_with("httpx_")).collect();
    assert!(stray.is_empty(), "{} exports symbols that are not httpx_*: {stray:?}", so.display());
    let listed: BTreeSet<String> = symbol_list().into_keys().collect();
    assert!(
        exported == listed,
        "{} exports differ from abi/libhttpx.sym: {FIX}\n{}",
        so.display(),
        diff("library", &exported, "abi/libhttpx.sym", &listed)
    );
}

/// The header compiles warning-free with -pedantic -Werror as C89 up to C2x and C++98 up
/// to C++23: every mode of that list the installed gcc/g++ accept (others are reported
/// as skipped).
#[test]
fn header_compiles_in_every_language_mode() {
    let dir = scratch("modes");
    // C89-clean: declarations first, /* */ comments, no // and no mixed code.
    let src = dir.join("modes.c");
    fs::write(
        &src,
        "#include \"httpx.h\"\n#include \"httpx.h\" /* include guard */\n\
         static httpx_code use_header(void) {\n\
         \x20   httpx_client_config *cfg = NULL; /* stddef.h comes with httpx.h */\n\
         \x20   httpx_code rc = httpx_client_config_new(&cfg);\n\
         \x20   httpx_client_config_free(cfg);\n\
         \x20   return rc == HTTPX_OK ? HTTPX_E_INTERNAL : rc;\n}\n\
         int main(void) { return use_header() == HTTPX_OK && httpx_version() != NULL; }\n",
    )
    .unwrap();
    let strict = ["-pedantic", "-pedantic-errors", "-Wall", "-Wextra", "-Werror", "-Wundef", "-Wshadow"];
    let c_modes = ["c89", "c90", "gnu89", "c99", "c11", "c17", "c2x", "c23"];
    let cxx_modes = ["c++98", "c++03", "c++11", "c++14", "c++17", "c++20", "c++23", "c++2b", "c++26"];
    let mut failures = Vec::new();
    let mut passed = Vec::new();
    let mut skipped = Vec::new();
    for (compiler, lang, modes) in [("cc", "c", &c_modes[..]), ("c++", "c++", &cxx_modes[..])] {
        let Some(cc) = tool(compiler) else {
            assert!(!in_ci(), "CI is set but {compiler} is missing");
            skipped.push(format!("{compiler} (not installed)"));
            continue;
        };
        for std in modes {
            // Does this compiler know the mode at all?
            let (known, _) = run(
                Command::new(&cc).args(["-x", lang, &format!("-std={std}"), "-E", "-o", "/dev/null", "/dev/null"]),
                Duration::from_secs(60),
            );
            if !known {
                skipped.push(format!("{compiler} -std={std}"));
                continue;
            }
            let mut cmd = Command::new(&cc);
            cmd.args(["-x", lang, &format!("-std={std}")]).args(strict);
            if lang == "c++" {
                cmd.args(["-Wold-style-cast", "-Wzero-as-null-pointer-constant"]);
            } else {
                cmd.args(["-Wstrict-prototypes", "-Wmissing-prototypes"]);
            }
            cmd.arg("-I").arg(root().join("include")).arg("-c").arg(&src).arg("-o").arg(dir.join("modes.o"));
            let (ok, out) = run(&mut cmd, Duration::from_secs(120));
            if ok {
                passed.push(format!("{compiler} -std={std}"));
            } else {
                failures.push(format!("{compiler} -std={std}:\n{out}"));
            }
        }
    }
    let _ = fs::remove_dir_all(&dir);
    eprintln!("header compiles with: {}\nskipped (unknown to the compiler): {}", passed.join(", "), skipped.join(", "));
    assert!(failures.is_empty(), "include/httpx.h fails in these modes:\n{}", failures.join("\n"));
    for must in ["cc -std=c89", "cc -std=c99", "cc -std=c11", "c++ -std=c++98", "c++ -std=c++11", "c++ -std=c++17"] {
        assert!(passed.iter().any(|p| p == must) || !in_ci(), "{must} was not tested");
    }
}

/// scripts/gen-man.py writes a man page and an HTML page for every export, an error page
/// with every code, and `man -l` renders a page.
#[test]
fn man_page_for_every_export() {
    let Some(python) = tool("python3") else {
        assert!(!in_ci(), "CI is set but python3 is missing");
        eprintln!("python3 not installed: skipped");
        return;
    };
    let dir = scratch("man");
    let (man3, html) = (dir.join("man3"), dir.join("html"));
    let (ok, out) = run(
        Command::new(python)
            .arg(root().join("scripts/gen-man.py"))
            .arg("--header")
            .arg(root().join("include/httpx.h"))
            .arg("--man-dir")
            .arg(&man3)
            .arg("--html-dir")
            .arg(&html),
        Duration::from_secs(120),
    );
    assert!(ok, "gen-man.py failed:\n{out}");
    let mut missing = Vec::new();
    for sym in symbol_list().keys() {
        for page in [man3.join(format!("{sym}.3")), html.join(format!("{sym}.html"))] {
            match fs::read_to_string(&page) {
                Ok(t) if t.contains(sym.as_str()) => {}
                _ => missing.push(page.display().to_string()),
            }
        }
    }
    assert!(missing.is_empty(), "exports without a page: {missing:?}");
    let errors = fs::read_to_string(man3.join("httpx-errors.3")).expect("httpx-errors.3");
    let header = fs::read_to_string(root().join("include/httpx.h")).unwrap();
    for line in header.lines() {
        if let Some(name) = line.strip_prefix("#define HTTPX_E_").and_then(|r| r.split_whitespace().next()) {
            assert!(errors.contains(&format!("HTTPX_E_{name}")), "httpx-errors.3 lacks HTTPX_E_{name}");
        }
    }
    assert!(!out.contains("has no doc comment"), "an export has no doc comment:\n{out}");
    match tool("man") {
        Some(man) => {
            let (ok, text) = run(
                Command::new(man).env("MANWIDTH", "80").arg("-l").arg(man3.join("httpx_client_send.3")),
                Duration::from_secs(60),
            );
            assert!(ok && text.contains("SYNOPSIS") && text.contains("httpx_client_send"), "man -l failed:\n{text}");
        }
        None => {
            assert!(!in_ci(), "CI is set but man is not installed (apt-get install man-db)");
            eprintln!("man not installed: rendering not checked");
        }
    }
    let _ = fs::remove_dir_all(&dir);
}
