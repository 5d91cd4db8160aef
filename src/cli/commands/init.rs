//! `braid init [DIR]`: writes `braid.toml` and an empty migrations directory.

use std::path::Path;

use crate::cli::CommandError;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The migrations directory to create.
    #[arg(default_value = "migrations")]
    dir: String,
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
    std::fs::write(&config, text)
        .map_err(|e| CommandError::new(format!("cannot write {}: {e}", config.display())))?;
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
