//! `embed!` on fixtures/missing_parent: a compile error naming the files.

fn main() {
    let _ = braid_macros::embed!("fixtures/missing_parent");
}
