//! Release chores of the workspace (the `cargo xtask` pattern; the alias is
//! in `.cargo/config.toml`):
//!
//! - `cargo xtask dist` writes to `target/dist/`: the man pages and the bash
//!   and zsh completions of `auparse` and `auparse-fsaction`, generated from
//!   their clap definitions in auparse-tools (the code that parses their
//!   command lines), and the plugin conf, logrotate snippet and sample audit
//!   rule the Debian package ships, from the same functions that
//!   `--print-config` uses.
//! - `cargo xtask deb [CARGO-DEB OPTION]...` runs `dist`, then
//!   `cargo deb -p auparse-tools --strip` (the package `auparse`, into
//!   `target/debian/`; metadata in auparse-tools/Cargo.toml).

use auparse_tools::cli::Cli;
use auparse_tools::fsaction::{self, PluginCli};
use clap::CommandFactory as _;
use clap_complete::Shell;
use clap_mangen::roff::{roman, Roff};
use clap_mangen::Man;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask dist | cargo xtask deb [CARGO-DEB OPTION]...";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dist") if args.len() == 1 => dist().map(|dir| {
            println!("wrote {}", dir.display());
        }),
        Some("deb") => dist().and_then(|_| deb(&args[1..])),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (this crate's parent directory).
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `target/dist/` of the workspace: auparse-tools/Cargo.toml's
/// `[package.metadata.deb]` assets name it as `../target/dist/...`.
fn dist_dir() -> PathBuf {
    workspace_root().join("target").join("dist")
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// gzip -9n: no name and no time stamp in the header, so that the same
/// page gives the same bytes (Debian policy 12.1 wants pages compressed).
fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)
        .and_then(|()| enc.finish())
        .map_err(|e| format!("gzip: {e}"))
}

/// A rendered page as text.
fn render(f: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Result<String, String> {
    let mut buf = Vec::new();
    f(&mut buf).map_err(|e| format!("man page: {e}"))?;
    String::from_utf8(buf).map_err(|e| format!("man page: {e}"))
}

/// What roff puts before every rendering (the `Aq` string for apostrophes).
const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// A rendered section, without the preamble (the page has it once).
fn section(f: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Result<String, String> {
    let text = render(f)?;
    text.strip_prefix(PREAMBLE)
        .map(str::to_string)
        .ok_or_else(|| "man page: roff preamble not where expected".to_string())
}

/// A SEE ALSO section naming the other pages.
fn see_also(except: &str, subcommands: &[String]) -> String {
    let mut pages: Vec<String> = vec!["auparse(1)".into()];
    pages.extend(subcommands.iter().map(|s| format!("auparse-{s}(1)")));
    pages.push("auparse-fsaction(8)".into());
    pages.retain(|p| !p.starts_with(&format!("{except}(")));
    pages.extend(
        ["ausearch(8)", "auditd(8)", "auditd.conf(5)", "auditctl(8)"]
            .iter()
            .map(|s| s.to_string()),
    );
    let roff = Roff::new()
        .control("SH", ["SEE ALSO"])
        .text([roman(pages.join(", "))])
        .render();
    roff.strip_prefix(PREAMBLE).unwrap_or(&roff).to_string()
}

/// The man pages: auparse(1), auparse-SUBCOMMAND(1) for each subcommand but
/// fsaction, and auparse-fsaction(8) for the plugin binary and the
/// `auparse fsaction` subcommand (one program; a section 1 page of the same
/// name would hide the plugin's from `man auparse-fsaction`).
fn man_pages() -> Result<Vec<(String, String)>, String> {
    // No `auparse help` in the pages (as clap_mangen::generate_to does).
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let subs: Vec<String> = cli
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| s.get_name().to_string())
        .collect();
    let source = format!("auparse {}", cli.get_version().unwrap_or_default());
    let mut pages = Vec::new();

    // auparse(1); its SUBCOMMANDS list names auparse-fsaction(8).
    let man = Man::new(cli.clone()).source(&source);
    let mut page = render(|w| man.render(w))?;
    let wrong = "auparse\\-fsaction(1)";
    if !page.contains(wrong) {
        return Err(format!("auparse.1: no `{wrong}` to point at section 8"));
    }
    page = page.replace(wrong, "auparse\\-fsaction(8)");
    page += &see_also("auparse", &subs);
    pages.push(("auparse.1".to_string(), page));

    for name in subs.iter().filter(|s| *s != "fsaction") {
        let sub = cli
            .find_subcommand(name)
            .ok_or_else(|| format!("no subcommand {name}"))?
            .clone();
        let man = Man::new(sub).source(&source);
        let mut page = render(|w| man.render(w))?;
        let title = format!("auparse-{name}");
        page += &see_also(&title, &subs);
        pages.push((format!("{title}.1"), page));
    }

    // auparse-fsaction(8): the plugin binary's page, then the options of
    // `auparse fsaction` (which --print-config and a --config file take).
    let plugin = Man::new(PluginCli::command())
        .section("8")
        .source(&source)
        .manual("System Administration");
    let mut page = render(|w| plugin.render_title(w))?;
    page += &section(|w| plugin.render_name_section(w))?;
    page += &section(|w| plugin.render_synopsis_section(w))?;
    page += &section(|w| plugin.render_description_section(w))?;
    page += &section(|w| plugin.render_options_section(w))?;
    let sub = cli
        .find_subcommand("fsaction")
        .ok_or("no subcommand fsaction")?
        .clone();
    let sub_man = Man::new(sub.clone());
    let about = Roff::new()
        .control("SH", ["THE auparse fsaction COMMAND"])
        .text([roman(format!(
            "auparse fsaction [OPTIONS] [INPUT]... is the same program for audit logs, \
             ausearch --raw output or the plugin stream on standard input: {}",
            sub.get_about().map(|a| a.to_string()).unwrap_or_default()
        ))])
        .control("PP", [])
        .text([roman(
            "Its options follow; --print-config takes them, and a --config file sets the \
             long ones as `option = value` lines.",
        )])
        .render();
    page += about.strip_prefix(PREAMBLE).unwrap_or(&about);
    let options = section(|w| sub_man.render_options_section(w))?;
    let options = options
        .strip_prefix(".SH OPTIONS\n")
        .ok_or("auparse fsaction: options section not where expected")?;
    page += ".SH \"OPTIONS OF auparse fsaction\"\n";
    page += options;
    let notes = section(|w| plugin.render_extra_section(w))?;
    page += &notes
        .strip_prefix(".SH EXTRA\n")
        .map(|rest| format!(".SH NOTES\n{rest}"))
        .ok_or("auparse-fsaction: after-help section not where expected")?;
    page += &section(|w| plugin.render_version_section(w))?;
    page += &see_also("auparse-fsaction", &subs);
    pages.push(("auparse-fsaction.8".to_string(), page));
    Ok(pages)
}

/// Writes everything the package ships that is generated; returns the
/// directory.
fn dist() -> Result<PathBuf, String> {
    let dir = dist_dir();
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    for (name, page) in man_pages()? {
        write(
            &dir.join("man").join(format!("{name}.gz")),
            &gzip(page.as_bytes())?,
        )?;
    }
    for (bin, mut cmd) in [
        ("auparse", Cli::command()),
        ("auparse-fsaction", PluginCli::command()),
    ] {
        for (shell, sub, file) in [
            (Shell::Bash, "bash", bin.to_string()),
            (Shell::Zsh, "zsh", format!("_{bin}")),
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, bin, &mut buf);
            write(&dir.join("completions").join(sub).join(file), &buf)?;
        }
    }
    let bin = Path::new(fsaction::INSTALLED_PLUGIN);
    let output = Path::new(fsaction::DEFAULT_OUTPUT);
    let key = fsaction::DEFAULT_KEY;
    let conf = format!(
        "# auparse-fsaction, the auditd plugin that logs filesystem changes under\n\
         # the directories of `-w DIR -p wa -k {key}` audit rules to {output}.\n\
         # Shipped inactive: set `active = yes`, add a rule (example:\n\
         # /usr/share/doc/auparse/examples/auparse-fsaction.rules) and restart\n\
         # auditd (service auditd restart). args is `LOGFILE [KEY]` or\n\
         # `--config FILE` (auditd passes at most two words); after changing\n\
         # LOGFILE, change /etc/logrotate.d/auparse-fsaction too.\n\
         # See auparse-fsaction(8).\n{conf}",
        output = output.display(),
        conf = fsaction::plugin_conf(bin, &format!("{} {key}", output.display()), false)
    );
    write(
        &dir.join("etc").join("auparse-fsaction.conf"),
        conf.as_bytes(),
    )?;
    let logrotate = format!(
        "# Rotation of the auparse-fsaction plugin's log: the plugin reopens it on\n\
         # SIGHUP. Keep the path the same as in /etc/audit/plugins.d/auparse-fsaction.conf.\n{}",
        fsaction::logrotate_conf(output, bin)
    );
    write(&dir.join("etc").join("logrotate"), logrotate.as_bytes())?;
    let rules = format!(
        "# A sample audit rule for the auparse-fsaction plugin (not loaded by\n\
         # itself). Copy it to /etc/audit/rules.d/, put the directory to watch in\n\
         # place of /srv/data, and load it: augenrules --load (or auditctl -R FILE).\n\
         # The key must be the plugin's (the second word of its args).\n{}",
        fsaction::audit_rule(Path::new("/srv/data"), key)
    );
    write(
        &dir.join("examples").join("auparse-fsaction.rules"),
        rules.as_bytes(),
    )?;
    Ok(dir)
}

/// `cargo deb -p auparse-tools --strip EXTRA...` from the workspace root.
fn deb(extra: &[String]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["deb", "-p", "auparse-tools", "--strip"])
        .args(extra)
        .status()
        .map_err(|e| format!("cargo deb: {e} (install it: cargo install cargo-deb --locked)"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo deb: {status} (not installed? cargo install cargo-deb --locked)"
        ))
    }
}
