use super::*;
use entitled_shell::{Format, Verbosity};

fn run(args: &[&str]) -> Result<Args, String> {
    match parse(args.iter().map(Into::into).collect()).map_err(|e| e.to_string())? {
        Command::Run(a) => Ok(a),
        other => Err(format!("{other:?}")),
    }
}

const REQUIRED: [&str; 6] = ["--product-code", "p", "--dimension", "u", "--journal", "/j"];

fn with_required(extra: &[&'static str]) -> Vec<&'static str> {
    REQUIRED.iter().chain(extra).copied().collect()
}

#[test]
fn the_table_is_sound() {
    PROGRAM.assert_table_is_sound();
}

#[test]
fn every_flag_of_the_sidecar() {
    let a = run(&[
        "--product-code",
        "p",
        "--dimension",
        "users",
        "--dimension=hosts",
        "--journal",
        "/j",
        "--listen",
        "unix:/run/meter.sock",
        "--shutdown-timeout",
        "10s",
        "--log-format",
        "json",
        "-v",
    ])
    .unwrap();
    assert_eq!(a.dimensions, ["users", "hosts"]);
    assert_eq!(a.listen, Listen::Unix("/run/meter.sock".into()));
    assert_eq!(a.shutdown_timeout, Duration::from_secs(10));
    assert_eq!(
        (a.logger.format, a.logger.verbosity),
        (Format::Json, Verbosity::Verbose)
    );
    let d = run(&REQUIRED).unwrap();
    assert_eq!(d.listen, Listen::Tcp("127.0.0.1:9464".parse().unwrap()));
    assert_eq!(d.shutdown_timeout, Duration::from_secs(25));
    assert_eq!(d.logger.program, "entitled-meter");
}

#[test]
fn bad_command_lines_are_refused() {
    let too_many: Vec<String> = (0..=MAX_DIMENSIONS)
        .flat_map(|i| ["--dimension".to_owned(), format!("d{i}")])
        .collect();
    let too_many: Vec<&str> = ["--product-code", "p", "--journal", "/j"]
        .into_iter()
        .chain(too_many.iter().map(String::as_str))
        .collect();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (REQUIRED[2..].to_vec(), "--product-code is required"),
        (
            vec!["--product-code", "p", "--journal", "/j"],
            "--dimension is required",
        ),
        (REQUIRED[..4].to_vec(), "--journal is required"),
        (with_required(&["--listen", "nowhere"]), "IP:PORT"),
        (with_required(&["--log-format", "xml"]), "text or json"),
        (with_required(&["--shutdown-timeout", "25"]), "unit"),
        (
            with_required(&["--product-code", "b"]),
            "--product-code is given twice; give it once",
        ),
        (
            with_required(&["--dimension", "u"]),
            "--dimension: \"u\" is given twice; give each dimension once",
        ),
        (
            with_required(&["--journal", "/k"]),
            "--journal is given twice",
        ),
        (with_required(&["-q", "-v"]), "contradict"),
        (with_required(&["-q", "-q"]), "-q/--quiet is given twice"),
        (with_required(&["word"]), "unexpected argument"),
        (too_many, "more than 24 dimensions"),
    ];
    for (args, text) in cases {
        let err = run(&args).unwrap_err();
        assert!(err.contains(text), "{args:?}: {err}");
        assert!(err.ends_with("see `entitled-meter --help`"), "{err}");
    }
}

#[test]
fn help_names_every_flag() {
    let help = help();
    assert!(help.contains(&synopsis()));
    assert!(help.contains("Each flag may be given once"));
    for flag in FLAGS {
        assert!(help.contains(flag.long), "{}", flag.long);
    }
}

/// The README's flag block is the rendered help, as for the guard and the emulator.
#[test]
fn the_readme_flag_block_is_the_rendered_help() {
    let block = format!("```\n{}```\n", synopsis());
    let readme = include_str!("../../../../README.md");
    assert!(
        readme.contains(&block),
        "README.md's entitled-meter block must be exactly:\n{block}"
    );
}
