//! `embed!()`: reads migration directories at compile time, validates
//! every file and the graph with braid's own code (`braid-core`), and
//! expands to the files' text (`include_str!`, so editing a file rebuilds
//! the crate). A bad header or an invalid graph is a compile error naming
//! the file and line. Use it through `braid::embed!`.
//!
//! Adding a new file is seen only when cargo reruns the crate's build:
//! `braid init --build-script` writes a build.rs with
//! `cargo:rerun-if-changed` on the directories.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{LitStr, Token};

/// The directories `braid.toml` lists under `[migrations] directories`
/// (default `migrations`), relative to the crate.
fn configured(root: &Path) -> Result<Vec<String>, String> {
    let path = root.join("braid.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(vec!["migrations".into()]);
    };
    let value: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let dirs = value
        .get("migrations")
        .and_then(|m| m.get("directories"))
        .and_then(|d| d.as_array());
    Ok(match dirs {
        Some(list) => list
            .iter()
            .filter_map(|d| d.as_str().map(str::to_owned))
            .collect(),
        None => vec!["migrations".into()],
    })
}

/// A directory, or the word `partial`.
enum Item {
    Dir(LitStr),
    Word(syn::Ident),
}

impl syn::parse::Parse for Item {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Item> {
        if input.peek(LitStr) {
            input.parse().map(Item::Dir)
        } else {
            input.parse().map(Item::Word)
        }
    }
}

/// The crate whose directories are embedded: `CARGO_MANIFEST_DIR`, or
/// `BRAID_EMBED_ROOT` when set. The compile-fail tests set the latter: trybuild
/// builds each case in a crate of its own under `target/`, whose manifest
/// directory holds none of the fixtures (dtolnay/trybuild#202).
fn crate_root() -> Result<PathBuf, String> {
    std::env::var_os("BRAID_EMBED_ROOT")
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .map(PathBuf::from)
        .ok_or_else(|| "CARGO_MANIFEST_DIR is not set".to_owned())
}

/// `path` as the user wrote it: relative to the crate where it can be.
fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn expand(input: proc_macro2::TokenStream) -> Result<proc_macro2::TokenStream, String> {
    let root = crate_root()?;
    let items = Punctuated::<Item, Token![,]>::parse_terminated
        .parse2(input)
        .map_err(|e| e.to_string())?;
    let mut given = Vec::new();
    let mut partial = false;
    for item in items {
        match item {
            Item::Dir(d) => given.push(d.value()),
            Item::Word(w) if w == "partial" => partial = true,
            Item::Word(w) => {
                return Err(format!(
                    "braid::embed!: expected a directory or `partial`, found `{w}`"
                ));
            }
        }
    }
    let dirs: Vec<String> = if given.is_empty() {
        configured(&root)?
    } else {
        given
    };
    let paths: Vec<PathBuf> = dirs.iter().map(|d| root.join(d)).collect();
    let loaded = braid_core::history::History::load(&paths);
    // `partial`: parents and dependencies may come from another crate's
    // set, merged at run time (where the whole graph is checked).
    let loaded = match loaded {
        Err(braid_core::history::HistoryError::Graph(problems)) if partial => {
            use braid_core::graph::GraphProblem;
            let left: Vec<_> = problems
                .into_iter()
                .filter(|p| {
                    !matches!(
                        p.problem,
                        GraphProblem::MissingParent { .. } | GraphProblem::MissingDependency { .. }
                    )
                })
                .collect();
            if left.is_empty() {
                let migrations =
                    braid_core::migration::load_directories(&paths).map_err(|e| e.to_string())?;
                return Ok(tokens(&root, migrations.iter()));
            }
            Err(braid_core::history::HistoryError::Graph(left))
        }
        other => other,
    };
    let history = loaded.map_err(|e| {
        use braid_core::history::HistoryError;
        let lines: Vec<String> = match &e {
            HistoryError::Load(errors) => errors
                .0
                .iter()
                .map(|l| match (l.line, l.column) {
                    (Some(line), Some(column)) => {
                        format!("{}:{line}:{column}: {}", shown(&root, &l.path), l.message)
                    }
                    (Some(line), None) => {
                        format!("{}:{line}: {}", shown(&root, &l.path), l.message)
                    }
                    _ => format!("{}: {}", shown(&root, &l.path), l.message),
                })
                .collect(),
            HistoryError::Graph(problems) => problems
                .iter()
                .map(|p| {
                    let files: Vec<String> = p
                        .locations()
                        .iter()
                        .map(|x| shown(&root, Path::new(x)))
                        .collect();
                    format!("{} ({})", p.problem, files.join(", "))
                })
                .collect(),
        };
        format!("braid::embed!: {e}\n{}", lines.join("\n"))
    })?;
    let migrations = history
        .graph
        .sorted_nodes()
        .iter()
        .map(|n| history.migration(*n));
    Ok(tokens(&root, migrations))
}

/// `Embedded::new(&[File { path, source: include_str!(…), parsed: … }, …])`:
/// each file's text, and its header and sections as parsed here, so that
/// start-up does not parse them again.
fn tokens<'a>(
    root: &Path,
    migrations: impl Iterator<Item = &'a braid_core::migration::Migration>,
) -> proc_macro2::TokenStream {
    let entries = migrations.map(|m| {
        let abs = m.path.display().to_string();
        let rel = shown(root, &m.path);
        let parsed = opt(Some(parsed(m)));
        quote! { ::braid::embed::File { path: #rel, source: include_str!(#abs), parsed: #parsed } }
    });
    // A static: the files and their constants are data in the binary, not
    // code that builds them at start-up.
    quote! {
        {
            static FILES: &[::braid::embed::File] = &[ #(#entries),* ];
            ::braid::embed::Embedded::new(FILES)
        }
    }
}

/// An `Option` as tokens, with the absolute paths a crate's own `Some`
/// or `None` cannot shadow.
fn opt(v: Option<impl quote::ToTokens>) -> proc_macro2::TokenStream {
    match v {
        Some(v) => quote! { ::core::option::Option::Some(#v) },
        None => quote! { ::core::option::Option::None },
    }
}

/// The `braid::migration::Parsed` constant of one migration.
fn parsed(m: &braid_core::migration::Migration) -> proc_macro2::TokenStream {
    let nanos = |d: Option<std::time::Duration>| opt(d.map(|d| d.as_nanos() as u64));
    let section = |s: &braid_core::migration::Section| {
        let (start, end, line) = (s.range.start, s.range.end, s.first_line);
        quote! { [#start, #end, #line] }
    };
    let id = m.id.as_str();
    let downs = m.down_revisions.iter().map(|r| r.as_str());
    let labels = m.branch_labels.iter().map(|l| l.as_str());
    let depends = m.depends_on.iter();
    let message = opt(m.message.as_deref());
    let created = opt(m.created.as_deref());
    let transactional = m.transactional;
    let lock_timeout = nanos(m.lock_timeout);
    let lock_retries = opt(m.lock_retries);
    let statement_timeout = nanos(m.statement_timeout);
    let up = section(&m.up);
    let down = opt(m.down.as_ref().map(section));
    let untranslated = opt(m.untranslated);
    let checksum = m.checksum.as_bytes();
    quote! {
        ::braid::migration::Parsed {
            id: #id,
            down_revisions: &[#(#downs),*],
            branch_labels: &[#(#labels),*],
            depends_on: &[#(#depends),*],
            message: #message,
            created: #created,
            transactional: #transactional,
            lock_timeout_nanos: #lock_timeout,
            lock_retries: #lock_retries,
            statement_timeout_nanos: #statement_timeout,
            up: #up,
            down: #down,
            untranslated: #untranslated,
            checksum: [#(#checksum),*],
        }
    }
}

/// Embeds the migrations of `braid.toml`'s directories, or of the
/// directories given (`embed!("migrations", "more")`), relative to the
/// crate's root. See `braid::embed!`.
#[proc_macro]
pub fn embed(input: TokenStream) -> TokenStream {
    match expand(input.into()) {
        Ok(tokens) => tokens.into(),
        Err(message) => quote! { compile_error!(#message) }.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_for(dir: &str) -> String {
        expand(quote! { #dir }).unwrap_err()
    }

    #[test]
    fn bad_files_and_graphs_are_compile_errors_naming_file_and_line() {
        let e = error_for("fixtures/bad_header");
        assert!(e.contains("fixtures/bad_header/a1.sql:3:4:"), "{e}");
        assert!(e.contains("colour"), "{e}");
        let e = error_for("fixtures/cycle");
        assert!(e.contains("cycle"), "{e}");
        assert!(e.contains("c1.sql") && e.contains("c2.sql"), "{e}");
        let e = error_for("fixtures/missing_parent");
        assert!(e.contains("gone") && e.contains("m1.sql"), "{e}");
    }

    #[test]
    fn a_partial_set_may_name_parents_from_another_crate() {
        let tokens = expand(quote! { "fixtures/missing_parent", partial })
            .unwrap()
            .to_string();
        assert!(tokens.contains("m1.sql"), "{tokens}");
        let e = expand(quote! { "fixtures/cycle", partial }).unwrap_err();
        assert!(e.contains("cycle"), "{e}");
        let e = expand(quote! { "fixtures/good", whole }).unwrap_err();
        assert!(e.contains("expected a directory or `partial`"), "{e}");
    }

    #[test]
    fn good_directories_expand_to_the_files() {
        let tokens = expand(quote! { "fixtures/good" }).unwrap().to_string();
        assert!(tokens.contains("include_str !"), "{tokens}");
        assert!(tokens.contains("fixtures/good/g1.sql"), "{tokens}");
    }
}
