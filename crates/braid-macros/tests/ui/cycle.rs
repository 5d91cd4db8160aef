//! `embed!` on fixtures/cycle: a compile error naming the files.

fn main() {
    let _ = braid_macros::embed!("fixtures/cycle");
}
