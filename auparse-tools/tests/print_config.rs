//! `--print-config` of both binaries (`auparse fsaction --print-config` and
//! `auparse-fsaction --print-config`), and the plugin binary's command line.
//!
//! The plugin a printed conf must name is found here from the filesystem:
//! /usr/sbin/auparse-fsaction when it is installed (the Debian package), else
//! the auparse-fsaction this `cargo test` built.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const AUPARSE: &str = env!("CARGO_BIN_EXE_auparse");
const PLUGIN: &str = env!("CARGO_BIN_EXE_auparse-fsaction");

fn run(bin: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The plugin conf part (`key = value` lines of section 2) of a printed config.
fn plugin_conf(printed: &str) -> BTreeMap<String, String> {
    let start = printed
        .find("# 2. auditd plugin")
        .expect("section 2 is printed");
    let section = printed[start..].split("\n\n").next().unwrap();
    section
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('=').expect("key = value");
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect()
}

fn expected_plugin() -> PathBuf {
    let installed = Path::new("/usr/sbin/auparse-fsaction");
    if installed.is_file() {
        installed.to_path_buf()
    } else {
        std::fs::canonicalize(PLUGIN).unwrap()
    }
}

#[test]
fn both_binaries_print_a_conf_naming_a_plugin_that_exists() {
    let watch = std::env::temp_dir();
    let watch = watch.to_str().unwrap();
    let common = [
        "--print-config",
        "--watch",
        watch,
        "--output",
        "/var/log/x.log",
    ];
    let (code, from_plugin, err) = run(PLUGIN, &common);
    assert_eq!(code, 0, "{err}");
    let mut args = vec!["fsaction"];
    args.extend(common);
    let (code, from_auparse, err) = run(AUPARSE, &args);
    assert_eq!(code, 0, "{err}");

    for printed in [&from_plugin, &from_auparse] {
        let conf = plugin_conf(printed);
        let path = PathBuf::from(&conf["path"]);
        assert_eq!(path, expected_plugin(), "{printed}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "{} is not executable", path.display());
        assert_eq!(conf["args"], "/var/log/x.log fsaction");
        assert_eq!(conf["active"], "yes");
        assert_eq!(conf["format"], "string");
        // The comment says which binary and why.
        let why = printed
            .lines()
            .find(|l| l.starts_with("# path: "))
            .expect("a `# path:` comment");
        if path.starts_with("/usr/sbin") {
            assert!(why.contains("installed plugin"), "{why}");
        } else {
            assert!(why.contains("does not exist"), "{why}");
        }
        assert!(printed.contains(&format!("-w {watch} -p wa -k fsaction\n")));
        assert!(printed.contains(&format!("pkill -HUP -f '^{}'", path.display())));
        // auditd.conf settings, as comments only.
        for setting in [
            "#    q_depth = 99999\n",
            "#    overflow_action = SYSLOG\n",
            "#    end_of_event_timeout = 10\n",
        ] {
            assert!(printed.contains(setting), "{setting}");
        }
    }
    // Both print the same conf; only the comment naming the printer differs.
    let uncommented = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(uncommented(&from_plugin), uncommented(&from_auparse));
}

#[test]
fn plugin_print_config_takes_the_options_of_auparse_fsaction() {
    // Options beyond two words: a --config file is printed.
    let (code, out, err) = run(
        PLUGIN,
        &[
            "--print-config",
            "--watch",
            "/srv/data",
            "-k",
            "a",
            "-k",
            "b",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        plugin_conf(&out)["args"],
        "--config /etc/audit/auparse-fsaction.conf"
    );
    assert!(out.contains("key = a\nkey = b\nformat = json\n"), "{out}");
}

#[test]
fn plugin_command_line_errors() {
    // No --watch: a usage error from clap (exit 2), naming --watch.
    let (code, out, err) = run(PLUGIN, &["--print-config", "/srv/data"]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("--watch"), "{err}");
    // An INPUT with --print-config is refused with a one-line error.
    let (code, _, err) = run(PLUGIN, &["--print-config", "--watch", "/a", "/srv/b"]);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--watch /srv/b"), "{err}");
    // Three words: auditd's plugin form is LOGFILE [KEY].
    let (code, _, err) = run(PLUGIN, &["a", "b", "c"]);
    assert_eq!(code, 2);
    assert!(err.contains("unexpected argument 'c'"), "{err}");
    let (code, _, err) = run(PLUGIN, &["--config"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(PLUGIN, &["--config", "/x", "/var/log/y"]);
    assert_eq!(code, 2, "{err}");
    let (code, out, _) = run(PLUGIN, &["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("auparse-fsaction LOGFILE [KEY]"), "{out}");
    let (code, out, _) = run(PLUGIN, &["--version"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!("auparse-fsaction {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn plugin_two_word_forms_still_run() {
    // LOGFILE KEY: runs on an empty stdin, creates LOGFILE, exits 0.
    let dir = std::env::temp_dir().join(format!("auparse-pc.{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("out.log");
    let status = Command::new(PLUGIN)
        .args([log.to_str().unwrap(), "somekey"])
        .stdin(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read(&log).unwrap(), b"");
    // --config FILE: a bad line is reported with its line number.
    let conf = dir.join("bad.conf");
    std::fs::write(&conf, "output = -\nbogus = 1\n").unwrap();
    let (code, _, err) = run(PLUGIN, &["--config", conf.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.conf:2: unknown option 'bogus'"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
