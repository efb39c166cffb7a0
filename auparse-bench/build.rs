//! Compiles the C reference loop (`c/ref_loop.c`) against the installed
//! libauparse, found with pkg-config.

fn main() {
    println!("cargo::rerun-if-changed=c/ref_loop.c");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=PKG_CONFIG_PATH");
    let lib = pkg_config::Config::new()
        .atleast_version("3.0")
        .cargo_metadata(false)
        .probe("auparse")
        .unwrap_or_else(|e| {
            panic!("auparse-bench: libauparse not found with pkg-config ({e}); apt-get install libauparse-dev pkg-config")
        });
    let mut build = cc::Build::new();
    build.file("c/ref_loop.c").opt_level(2).warnings(true);
    for dir in &lib.include_paths {
        build.include(dir);
    }
    build.compile("auparse_ref_loop");
    // Link libauparse after the static reference loop that needs it.
    for dir in &lib.link_paths {
        println!("cargo::rustc-link-search=native={}", dir.display());
    }
    for name in &lib.libs {
        println!("cargo::rustc-link-lib={name}");
    }
}
