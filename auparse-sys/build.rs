//! Build script for auparse-sys: find libauparse with pkg-config, generate the
//! bindings with bindgen from the installed header, and publish the library
//! version to dependents as `DEP_AUPARSE_VERSION`.

use std::env;
use std::path::PathBuf;

const INSTALL_HINT: &str =
    "on Debian/Ubuntu: `apt-get install libauparse-dev libclang-dev pkg-config`; \
on Fedora/RHEL: `dnf install audit-libs-devel clang-devel pkgconf-pkg-config`";

fn main() {
    println!("cargo::rerun-if-changed=wrapper.h");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo::rerun-if-env-changed=LIBCLANG_PATH");

    let lib = match pkg_config::Config::new()
        .atleast_version("3.0")
        .probe("auparse")
    {
        Ok(lib) => lib,
        Err(e) => panic!(
            "\n\nauparse-sys: could not find libauparse >= 3.0 with pkg-config ({e}).\n\
             Install the development package and pkg-config ({INSTALL_HINT}).\n\n"
        ),
    };
    for dir in &lib.include_paths {
        println!(
            "cargo::rerun-if-changed={}",
            dir.join("auparse.h").display()
        );
    }

    let mut builder = bindgen::Builder::default()
        .header("wrapper.h")
        .allowlist_function("(auparse|ausearch)_.*")
        .allowlist_type(
            "(auparse|ausearch|ausource|austop|au_event|normalize_option|user_destroy).*",
        )
        .allowlist_var("(AUSOURCE|AUSEARCH|AUPARSE|NORM)_.*")
        // C enums stay plain integer constants: libauparse adds field types
        // between releases, and an unknown value in a Rust enum is UB.
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .layout_tests(true)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for dir in &lib.include_paths {
        builder = builder.clang_arg(format!("-I{}", dir.display()));
    }
    let bindings = match builder.generate() {
        Ok(b) => b,
        Err(e) => panic!(
            "\n\nauparse-sys: bindgen could not generate bindings from auparse.h ({e}).\n\
             bindgen needs libclang and the libauparse headers ({INSTALL_HINT}).\n\n"
        ),
    };
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings
        .write_to_file(out.join("bindings.rs"))
        .expect("write bindings.rs to OUT_DIR");

    println!(
        "cargo::rustc-env=AUPARSE_SYS_LIBAUPARSE_VERSION={}",
        lib.version
    );
    // Published to dependents as DEP_AUPARSE_VERSION (the `links` key is "auparse").
    println!("cargo::metadata=version={}", lib.version);
    for dir in &lib.include_paths {
        println!("cargo::metadata=include={}", dir.display());
    }
}
