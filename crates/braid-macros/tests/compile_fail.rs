//! `embed!` on bad migration directories fails the build with an error
//! naming the file and line (trybuild compiles each case in `tests/ui` and
//! compares the compiler's message with its `.stderr`).

#[test]
#[allow(unsafe_code)]
fn bad_migrations_are_compile_errors() {
    // trybuild builds each case as a crate of its own under `target/`; the
    // macro reads the fixtures relative to this crate instead. The builds
    // inherit this process's environment.
    // SAFETY: set before trybuild starts; this binary runs no other test
    // that reads the environment.
    unsafe { std::env::set_var("BRAID_EMBED_ROOT", env!("CARGO_MANIFEST_DIR")) };
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
