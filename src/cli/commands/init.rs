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
fn build_script(dirs: &[String]) -> String {
    let mut s = format!(
        "// Written by `braid init --build-script`: rebuild when a migration is\n\
         // added to or removed from {} (braid::embed!() already tracks edits).\n\
         fn main() {{\n",
        dirs.iter()
            .map(|d| format!("{d}/"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for d in dirs {
        s.push_str(&format!("    println!(\"cargo:rerun-if-changed={d}\");\n"));
    }
    s.push_str("}\n");
    s
}

/// Writes build.rs, refusing only to overwrite one.
fn write_build_script(cwd: &Path, dirs: &[String]) -> Result<(), CommandError> {
    let build = cwd.join("build.rs");
    if build.exists() {
        let lines: Vec<String> = dirs
            .iter()
            .map(|d| format!("`println!(\"cargo:rerun-if-changed={d}\");`"))
            .collect();
        return Err(
            CommandError::new(format!("{} already exists", build.display()))
                .hint(format!("add {} to its main", lines.join(" and "))),
        );
    }
    std::fs::write(&build, build_script(dirs))
        .map_err(|e| CommandError::new(format!("cannot write {}: {e}", build.display())))
}

/// The migrations directories an existing braid.toml lists (relative, as
/// written), or `migrations`.
fn configured_directories(config: &Path) -> Result<Vec<String>, CommandError> {
    let text = std::fs::read_to_string(config)
        .map_err(|e| CommandError::new(format!("cannot read {}: {e}", config.display())))?;
    let value: toml::Value = toml::from_str(&text)
        .map_err(|e| CommandError::new(format!("{}: {e}", config.display())))?;
    let dirs: Vec<String> = value
        .get("migrations")
        .and_then(|m| m.get("directories"))
        .and_then(|d| d.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str().map(|d| d.trim_end_matches('/').to_owned()))
                .collect()
        })
        .unwrap_or_default();
    Ok(if dirs.is_empty() {
        vec!["migrations".to_owned()]
    } else {
        dirs
    })
}

pub fn run(cwd: &Path, args: &Args, quiet: bool) -> Result<(), CommandError> {
    let config = cwd.join(braid::config::CONFIG_FILE);
    // A project braid already has: only the build script is added, for
    // the directories braid.toml lists.
    if config.exists() && args.build_script {
        let dirs = configured_directories(&config)?;
        write_build_script(cwd, &dirs)?;
        if !quiet {
            eprintln!("wrote build.rs for {}", dirs.join(", "));
        }
        crate::cli::out(&format!("{}\n", cwd.join("build.rs").display()));
        return Ok(());
    }
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
    let dirs = [args.dir.trim_end_matches('/').to_owned()];
    if args.build_script && cwd.join("build.rs").exists() {
        // Nothing written: the same refusal as below, before braid.toml.
        return write_build_script(cwd, &dirs);
    }
    std::fs::write(&config, text)
        .map_err(|e| CommandError::new(format!("cannot write {}: {e}", config.display())))?;
    if args.build_script {
        write_build_script(cwd, &dirs)?;
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
