//! `completions SHELL` and the hidden `man`: shell completion scripts and
//! the manual page, generated from the clap definition so that they never
//! fall behind the commands.

use clap::ValueEnum;

use crate::cli::{CommandError, definition, out};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(args: &Args) -> Result<(), CommandError> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut definition(), "braid", &mut script);
    out(&String::from_utf8_lossy(&script));
    Ok(())
}

/// One page for the whole command line: clap_mangen renders a page per
/// command and points at `braid-init(1)` and so on; `make install` installs
/// one `braid.1`, so each command's synopsis and options follow the main
/// page here, and the list of commands names them as they are typed.
pub fn man() -> Result<(), CommandError> {
    let cli = definition();
    let mut page = Vec::new();
    let fail = |e: std::io::Error| CommandError::new(format!("cannot render the manual page: {e}"));
    clap_mangen::Man::new(cli.clone())
        .render(&mut page)
        .map_err(fail)?;
    let mut text = String::from_utf8_lossy(&page).into_owned();
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        text = text.replace(
            &format!("braid\\-{name}(1)"),
            &format!("\\fBbraid {name}\\fR"),
        );
        let mut part = Vec::new();
        let man = clap_mangen::Man::new(sub.clone().bin_name(format!("braid {name}")));
        man.render_synopsis_section(&mut part).map_err(fail)?;
        man.render_description_section(&mut part).map_err(fail)?;
        man.render_options_section(&mut part).map_err(fail)?;
        let part = String::from_utf8_lossy(&part)
            .replace(
                ".SH SYNOPSIS\n",
                &format!(".SH \"BRAID {}\"\n", name.to_uppercase()),
            )
            .replace(".SH DESCRIPTION\n", ".PP\n")
            .replace(".SH OPTIONS\n", ".PP\nOptions:\n");
        text.push_str(&part);
    }
    let text = text.replace("braid\\-help(1)", "\\fBbraid help\\fR");
    out(&text);
    Ok(())
}
