//! `acp-cockpit drafts`: the node drafts the add-node dialog saved, outside the TUI.

use std::path::{Path, PathBuf};

use clap::{Args as ClapArgs, Subcommand};

use super::GlobalArgs;
use super::output::{Format, print_structured};
use crate::domain::draft::Draft;
use crate::engine::store::{DraftStore, Problem, StoreError, UnreadableDraft};

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table, global = true)]
    pub output: Format,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// List the drafts, newest first.
    #[command(alias = "ls")]
    List,
    /// Show one draft.
    Show { name: String },
    /// Delete a draft.
    #[command(alias = "delete")]
    Rm { name: String },
    /// Rename a draft.
    Rename { from: String, to: String },
    /// Write a draft to a file (or to standard output with `-`).
    Export {
        name: String,
        #[arg(short = 'f', long = "file", default_value = "-")]
        file: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Move corrupt draft files aside (to <file>.corrupt-<time>) so their names can be reused.
    /// Drafts written by a newer acp-cockpit are not corrupt and are left alone.
    Repair,
    /// Save a draft file as a new draft.
    Import {
        file: PathBuf,
        /// Name of the new draft (default: the name in the file; a taken name gets a suffix).
        #[arg(long)]
        name: Option<String>,
    },
}

/// The data directory (`ACP_COCKPIT_DATA_DIR`, else the per-user data directory).
pub fn data_dir() -> anyhow::Result<PathBuf> {
    Ok(crate::config::Paths::resolve()?.data_dir)
}

/// Files the listing could not open; they were left as they are.
fn report_unreadable(unreadable: &[UnreadableDraft]) {
    for u in unreadable {
        match u.problem {
            Problem::Newer { .. } => {
                eprintln!("note: draft file {}: {}", u.file.display(), u.reason)
            }
            Problem::Corrupt => eprintln!(
                "warning: draft file {} cannot be read ({}); it was left as it is \
                 (`acp-cockpit drafts repair` moves it aside)",
                u.file.display(),
                u.reason
            ),
        }
    }
}

fn store_err(e: StoreError) -> anyhow::Error {
    match e.hint() {
        Some(h) => anyhow::anyhow!("{e}\nhint: {h}"),
        None => anyhow::anyhow!("{e}"),
    }
}

fn print_table(drafts: &[Draft]) {
    let rows: Vec<[String; 6]> = drafts
        .iter()
        .map(|d| match &d.form {
            // A whole Create form: its cluster and node count instead of one node's fields.
            Some(f) => [
                d.name.clone(),
                "cluster".to_string(),
                format!("{} node(s)", f.nodes),
                f.cluster.clone(),
                "-".to_string(),
                d.saved_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            ],
            None => [
                d.name.clone(),
                d.node.node_type.label().to_string(),
                d.node.ipv4.clone(),
                d.node.display_name.clone(),
                d.node.auth.label().to_string(),
                d.saved_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            ],
        })
        .collect();
    let head = [
        "NAME",
        "KIND",
        "IPV4 / NODES",
        "DISPLAY NAME / CLUSTER",
        "AUTH",
        "SAVED (UTC)",
    ];
    let mut widths = head.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i == 5 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        println!("{}", s.trim_end());
    };
    line(head);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]);
    }
}

fn print_draft(d: &Draft) {
    if let Some(f) = &d.form {
        println!("Name:               {}", d.name);
        println!(
            "Saved:              {} (revision {})",
            d.saved_at.to_rfc3339(),
            d.revision
        );
        println!("Kind:               the whole Create form (no passwords)");
        println!("Cluster:            {}", f.cluster);
        println!("Nodes:              {}", f.nodes);
        println!("Manifest (secrets masked):");
        for l in f.manifest.lines() {
            println!("  {l}");
        }
        return;
    }
    let n = &d.node;
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    println!("Name:               {}", d.name);
    println!(
        "Saved:              {} (revision {})",
        d.saved_at.to_rfc3339(),
        d.revision
    );
    println!("Type:               {}", n.node_type.label());
    println!("IPv4 Address:       {}", or_dash(&n.ipv4));
    println!("IPv6 Address:       {}", or_dash(&n.ipv6));
    println!(
        "Application Deployable: {}",
        if n.app_deployable { "yes" } else { "no" }
    );
    println!("Display Name:       {}", or_dash(&n.display_name));
    println!("SSH Connection IP:  {}", or_dash(&n.ssh_ip));
    println!("Network Interface:  {}", or_dash(&n.nic));
    println!("SSH Port:           {}", n.ssh_port);
    println!("SSH Username:       {}", or_dash(&n.ssh_user));
    if n.proxy.enabled {
        println!(
            "Proxy:              socks5 {} (user {})",
            or_dash(&n.proxy.address),
            or_dash(&n.proxy.username)
        );
    } else {
        println!("Proxy:              off");
    }
    println!("SSH Authentication: {}", n.auth.label());
    if n.auth == crate::domain::draft::SshAuth::Key {
        println!("Private Key File:   {}", or_dash(&n.key_path));
    }
    let ask: Vec<&str> = n.secrets_to_ask().iter().map(|s| s.label()).collect();
    println!("Asked on restore:   {}", ask.join(", "));
}

pub async fn run(args: Args, _global: &GlobalArgs) -> anyhow::Result<i32> {
    let dir = data_dir()?;
    run_in(args, &dir)
}

/// Runs against an explicit data directory (tests and callers that resolved it already).
pub fn run_in(args: Args, data_dir: &Path) -> anyhow::Result<i32> {
    let store = DraftStore::new(data_dir);
    match args.action {
        Action::List => {
            let listing = store.list().map_err(store_err)?;
            report_unreadable(&listing.unreadable);
            match args.output {
                Format::Table if listing.drafts.is_empty() => {
                    println!(
                        "No drafts. Save one from the add-node dialog of the Create pane \
                         or import one with `acp-cockpit drafts import FILE`."
                    );
                }
                Format::Table => print_table(&listing.drafts),
                f => print_structured(&listing, f)?,
            }
        }
        Action::Show { name } => {
            let draft = store.load(&name).map_err(store_err)?;
            match args.output {
                Format::Table => print_draft(&draft),
                f => print_structured(&draft, f)?,
            }
        }
        Action::Rm { name } => {
            store.delete(&name).map_err(store_err)?;
            eprintln!("deleted draft '{name}'");
        }
        Action::Rename { from, to } => {
            store.rename(&from, &to).map_err(store_err)?;
            eprintln!("renamed draft '{from}' to '{to}'");
        }
        Action::Export { name, file, force } => {
            if file.as_os_str() == "-" {
                let draft = store.load(&name).map_err(store_err)?;
                match args.output {
                    Format::Yaml => print_structured(&draft, Format::Yaml)?,
                    _ => print_structured(&draft, Format::Json)?,
                }
            } else {
                store.export(&name, &file, force).map_err(store_err)?;
                eprintln!("exported draft '{name}' to {}", file.display());
            }
        }
        Action::Repair => {
            let moved = store.repair().map_err(store_err)?;
            if moved.is_empty() {
                eprintln!("no corrupt draft files in {}", store.dir().display());
            }
            for c in &moved {
                eprintln!(
                    "moved the corrupt draft file {} ({}) to {}",
                    c.file.display(),
                    c.error,
                    c.moved_to.display()
                );
            }
            if !matches!(args.output, Format::Table) {
                print_structured(&moved, args.output)?;
            }
        }
        Action::Import { file, name } => {
            // A file that cannot be read is a wrong path, not a data-directory problem (the
            // store's general hint for read errors).
            if let Err(e) = std::fs::metadata(&file) {
                anyhow::bail!(
                    "cannot read {}: {e}\nhint: check the path; a relative path is taken from the current directory",
                    file.display()
                );
            }
            let d = store.import(&file, name.as_deref()).map_err(store_err)?;
            match args.output {
                Format::Table => eprintln!("imported {} as draft '{}'", file.display(), d.name),
                f => print_structured(&d, f)?,
            }
        }
    }
    Ok(0)
}
