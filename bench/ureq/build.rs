// Records the ureq version from Cargo.lock for `bench_ureq --version`.
fn main() {
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let mut v = "unknown".to_string();
    let mut it = lock.lines();
    while let Some(l) = it.next() {
        if l == "name = \"ureq\"" {
            if let Some(n) = it.next() {
                v = n.trim_start_matches("version = ").trim_matches('"').to_string();
            }
        }
    }
    println!("cargo:rustc-env=UREQ_VERSION={v}");
    println!("cargo:rerun-if-changed=Cargo.lock");
}
