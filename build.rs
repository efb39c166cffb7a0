//! Turns the libauparse version published by auparse-sys (`DEP_AUPARSE_VERSION`)
//! into cfg flags, declared in one place.

fn main() {
    println!("cargo::rerun-if-env-changed=DEP_AUPARSE_VERSION");
    println!("cargo::rustc-check-cfg=cfg(auparse_metrics)");
    println!("cargo::rustc-check-cfg=cfg(auparse_v4)");
    println!("cargo::rustc-check-cfg=cfg(auparse_rules_3_0)");
    let version = std::env::var("DEP_AUPARSE_VERSION").unwrap_or_default();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let v = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    // The field-type and interpretation rules that src/typecache.rs, src/interp_rule.rs,
    // src/enriched.rs and src/interpcache.rs rely on
    // were read from 3.0.x (and are checked against it by tests).
    if v.0 == 3 && v.1 == 0 {
        println!("cargo::rustc-cfg=auparse_rules_3_0");
    }
    // auparse_metrics() appeared in 3.1.3.
    if v >= (3, 1, 3) {
        println!("cargo::rustc-cfg=auparse_metrics");
    }
    // 4.x groups LOGIN+SYSCALL into one event and keeps most state per parser.
    if v >= (4, 0, 0) {
        println!("cargo::rustc-cfg=auparse_v4");
    }
    println!("cargo::rustc-env=AUPARSE_LIBAUPARSE_VERSION={version}");
}
