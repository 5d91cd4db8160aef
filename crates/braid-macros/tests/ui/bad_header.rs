//! `embed!` on fixtures/bad_header: a compile error naming the files.

fn main() {
    let _ = braid_macros::embed!("fixtures/bad_header");
}
