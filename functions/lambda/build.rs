//! The function binary is linked as a fixed-address (non-PIE) executable on Linux: a
//! position-independent one spends its cold start applying some 75,000 relocations (a
//! quarter of the instructions of a health cold start, and a page fault for every page of
//! pointers they touch); docs/BENCHMARKS.md, "Cold start on Lambda", has the figures and
//! docs/SECURITY.md what it gives up (the executable's own code at a known address; the
//! libraries, stack and heap stay randomised).
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
