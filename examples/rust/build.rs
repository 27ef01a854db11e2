//! Links libtolk_c.so. TOLK_LIB_DIR (one folder, or several separated by ':') says where it is;
//! the default is the CMake build tree of this repository: ../../build and ../../build/capi.
//! Each folder also goes into the binaries' RUNPATH, so tests and examples run without
//! LD_LIBRARY_PATH (libtolk_c.so finds libtolk.so through its own RUNPATH).
use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=TOLK_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let dirs: Vec<PathBuf> = match env::var("TOLK_LIB_DIR") {
        Ok(v) if !v.is_empty() => env::split_paths(&v).collect(),
        _ => vec![manifest.join("../../build"), manifest.join("../../build/capi")],
    };
    let mut found = false;
    for dir in &dirs {
        // Canonical paths keep the RUNPATH free of "..", and skip folders that do not exist.
        let dir = match dir.canonicalize() {
            Ok(d) => d,
            Err(_) => continue,
        };
        found |= dir.join("libtolk_c.so").exists();
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    if !found {
        println!(
            "cargo:warning=libtolk_c.so not found in {:?}; set TOLK_LIB_DIR to the folder holding it",
            dirs
        );
    }
    println!("cargo:rustc-link-lib=dylib=tolk_c");
}
