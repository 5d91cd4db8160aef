//! `braid init [DIR]`: writes `braid.toml` and an empty migrations directory.

use std::path::Path;

use crate::cli::CommandError;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The migrations directory to create.
    #[arg(default_value = "migrations")]
    dir: String,
    /// Also write build.rs for an application that embeds its migrations
    /// (`braid::embed!()`): cargo then rebuilds when a file is added.
    #[arg(long = "build-script")]
    build_script: bool,
}

/// The build script an embedding crate needs: `embed!()` tracks each file
/// it read (`include_str!`), so an edit rebuilds, but a file added to the
/// directory is only seen when cargo reruns the build, which
/// `rerun-if-changed` on the directory makes it do.
fn build_script(dir: &str) -> String {
    format!(
        "// Written by `braid init --build-script`: rebuild when a migration is\n\
         // added to or removed from {dir}/ (braid::embed!() already tracks edits).\n\
         fn main() {{\n    println!(\"cargo:rerun-if-changed={dir}\");\n}}\n"
    )
}

pub fn run(cwd: &Path, args: &Args, quiet: bool) -> Result<(), CommandError> {
    let config = cwd.join(braid::config::CONFIG_FILE);
    if config.exists() {
        return Err(
            CommandError::new(format!("{} already exists", config.display()))
                .hint("edit it, or remove it to start over"),
        );
    }
    let dir = cwd.join(&args.dir);
    std::fs::create_dir_all(&dir)
        .map_err(|e| CommandError::new(format!("cannot create {}: {e}", dir.display())))?;
    let dir_toml = toml::Value::String(args.dir.clone()).to_string();
    let text = format!(
        "# braid configuration (see README.md, Configuration)\n\
         [migrations]\n\
         directories = [{dir_toml}]\n\
         # single_head = true   # `braid check` fails when the history has several heads\n\
         \n\
         [database]\n\
         # The URL can also come from --url, DATABASE_URL or DATABASE_HOST/PORT/NAME/USER/PASSWORD.\n\
         url = \"sqlite://braid.db\"\n\
         # schema = \"boneca\"          # PostgreSQL schema for the version tables and search_path\n\
         version_table = \"braid_version\"\n"
    );
    let build = cwd.join("build.rs");
    if args.build_script && build.exists() {
        return Err(
            CommandError::new(format!("{} already exists", build.display())).hint(format!(
                "add `println!(\"cargo:rerun-if-changed={}\");` to it",
                args.dir
            )),
        );
    }
    std::fs::write(&config, text)
        .map_err(|e| CommandError::new(format!("cannot write {}: {e}", config.display())))?;
    if args.build_script {
        std::fs::write(&build, build_script(args.dir.trim_end_matches('/')))
            .map_err(|e| CommandError::new(format!("cannot write {}: {e}", build.display())))?;
    }
    if !quiet {
        eprintln!(
            "wrote {} and {}/",
            braid::config::CONFIG_FILE,
            args.dir.trim_end_matches('/')
        );
    }
    crate::cli::out(&format!("{}\n", config.display()));
    Ok(())
}
