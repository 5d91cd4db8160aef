//! The `braid` binary: the command line over the `braid` library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
