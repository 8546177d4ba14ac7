use super::*;

fn run(args: &[&str]) -> Result<Command, UsageError> {
    parse(args.iter().map(std::ffi::OsString::from))
}

#[test]
fn flags_attach_to_last_product() {
    let Ok(Command::Run(a, _)) = run(&[
        "--product",
        "a",
        "--product",
        "b",
        "--key-file",
        "2:/k.pem",
        "--expired",
        "2:5",
    ]) else {
        panic!("parse failed");
    };
    assert_eq!(a.first_product(), "a");
    assert_eq!(
        a.products[1].keys,
        [KeySpec {
            version: 2,
            key_file: Some(PathBuf::from("/k.pem")),
            expired_at: Some(5),
        }]
    );
}

#[test]
fn rejects_bad_values() {
    assert!(run(&["--throttle", "x"]).is_err());
    assert!(run(&["--expired", "1"]).is_err());
    assert!(run(&["--credentials", "onlyid"]).is_err());
    assert!(run(&["--listen", "nope"]).is_err());
    assert!(run(&["--bogus"]).is_err());
}

#[test]
fn errors_name_the_flag_as_the_table_spells_it() {
    let Err(e) = run(&["--throttle", "0"]) else {
        panic!("accepted a zero rate");
    };
    assert_eq!(
        e.to_string(),
        "--throttle: \"0\" is not a positive number of calls per second; see `entitled-emulator --help`"
    );
}

#[test]
fn help_and_version_stop_parsing_in_either_spelling() {
    assert!(matches!(run(&["-h", "--bogus"]), Ok(Command::Help)));
    assert!(matches!(run(&["--help"]), Ok(Command::Help)));
    assert!(matches!(run(&["-V"]), Ok(Command::Version)));
    assert!(matches!(run(&["--version"]), Ok(Command::Version)));
}

#[test]
fn mentioned_flags_come_from_emulator_command_lines_and_backquotes_only() {
    let text =
        "entitled-emulator --tls \\\n    --region r\ncargo bench -p entitled-emulator --bench b\n\
                aws x --endpoint-url u\nsee `--deny CODE`, `-x`\n";
    assert_eq!(mentioned_flags(text), ["--tls", "--region", "--deny"]);
}

#[test]
fn the_table_is_sound() {
    PROGRAM.assert_table_is_sound();
}

/// Repeatable flags add, the rest may be given once, as in the guard and the sidecar.
#[test]
fn a_flag_that_is_not_repeatable_is_refused_twice() {
    let Err(e) = run(&["--region", "a", "--region", "b"]) else {
        panic!("a second --region was accepted");
    };
    assert!(e.to_string().starts_with("--region is given twice"), "{e}");
    assert!(matches!(
        run(&["--deny", "a", "--deny", "b"]),
        Ok(Command::Run(..))
    ));
}

#[test]
fn help_lists_every_flag_of_the_table() {
    let help = help();
    for flag in flags::FLAGS {
        assert!(help.contains(&format!(" {}", flag.long)), "{}", flag.long);
    }
}

/// The crate README's flag list is the table's rendering, line for line.
#[test]
fn crate_readme_flag_list_is_the_table() {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("<!-- flags: rendered from src/cli/flags.rs -->\n```text\n")
        .expect("the README's flag list marker");
    let block = &readme[start..];
    let block = &block[block.find("```text\n").unwrap() + 8..];
    let block = &block[..block.find("```").unwrap()];
    assert_eq!(
        block,
        PROGRAM.render_flags(),
        "update the README's flag list from `entitled-emulator --help`"
    );
}

/// Every emulator flag either README mentions (in an `entitled-emulator` command line or in
/// backquotes) is in the table.
#[test]
fn readmes_mention_only_flags_of_the_table() {
    let crate_readme = include_str!("../../README.md");
    let top = include_str!("../../../../README.md");
    let emulator_section = &top[top.find("## The emulator").expect("emulator section")..];
    let emulator_section = &emulator_section[..emulator_section.find("\n## Evidence").unwrap()];
    for text in [crate_readme, emulator_section] {
        let mentioned = mentioned_flags(text);
        assert!(
            mentioned.iter().any(|f| f == "--public-key-out"),
            "{mentioned:?}"
        );
        for flag in mentioned {
            assert!(
                flags::FLAGS.iter().any(|f| f.long == flag)
                    || [
                        "--log-format",
                        "--quiet",
                        "--verbose",
                        "--help",
                        "--version"
                    ]
                    .contains(&flag.as_str()),
                "README mentions {flag}, which entitled-emulator does not have"
            );
        }
    }
}

/// The `--flags` of `entitled-emulator ...` command lines (continuations joined) and of
/// backquoted spans that start with `--`.
fn mentioned_flags(text: &str) -> Vec<String> {
    let joined = text.replace("\\\n", " ");
    let mut found = Vec::new();
    let mut flags_in = |s: &str| {
        for word in s.split_whitespace() {
            let name: String = word
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if name.len() > 2 && name.starts_with("--") {
                found.push(name);
            }
        }
    };
    for line in joined.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("entitled-emulator ") {
            flags_in(rest);
        } else if let Some((_, rest)) = line.split_once("-p entitled-emulator -- ") {
            flags_in(rest);
        }
    }
    for span in joined.split('`').skip(1).step_by(2) {
        if span.starts_with("--") {
            flags_in(span.split_whitespace().next().unwrap_or(""));
        }
    }
    found
}
