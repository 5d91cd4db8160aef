//! `cargo run --release --example generate_history -- N BRAID_DIR [ALEMBIC_DIR]`
//! writes a generated history of N revisions (see benches/support) for the
//! benchmarks and `make bench-compare`.

#[path = "../benches/support/generate.rs"]
mod generate;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: generate_history N BRAID_DIR [ALEMBIC_DIR]");
        std::process::exit(2);
    }
    let n: usize = args[1].parse().expect("N is a number");
    let revs = generate::history(n);
    generate::write_braid(std::path::Path::new(&args[2]), &revs).expect("write braid files");
    if let Some(dir) = args.get(3) {
        generate::write_alembic(std::path::Path::new(dir), &revs).expect("write alembic files");
    }
    eprintln!("wrote {} revisions", revs.len());
}
