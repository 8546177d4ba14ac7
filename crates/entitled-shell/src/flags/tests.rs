use super::*;

#[derive(Debug, Default)]
struct Options {
    name: Option<String>,
    tags: Vec<String>,
    on: bool,
}

const FLAGS: &[Flag<Options>] = &[
    Flag {
        long: "--name",
        short: Some('n'),
        value: Some("NAME"),
        help: "a name",
        repeat: Repeat::Once,
        apply: |o, v| {
            o.name = Some(v);
            Ok(())
        },
    },
    Flag {
        long: "--tag",
        short: None,
        value: Some("TAG"),
        help: "a tag (repeatable); a long help\nover two lines",
        repeat: Repeat::Many,
        apply: |o, v| {
            if o.tags.contains(&v) {
                return Err(format!("{v:?} is given twice"));
            }
            o.tags.push(v);
            Ok(())
        },
    },
    Flag {
        long: "--on",
        short: None,
        value: None,
        help: "turn it on",
        repeat: Repeat::Once,
        apply: |o, _| {
            o.on = true;
            Ok(())
        },
    },
];

const PROGRAM: Program<Options> = Program {
    name: "demo",
    flags: FLAGS,
    quiet_help: "log errors only",
    verbose_help: "log more",
    takes_command: false,
};

const GUARD_LIKE: Program<Options> = Program {
    takes_command: true,
    ..PROGRAM
};

fn args(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

fn parse(program: &Program<Options>, list: &[&str]) -> Result<(Request, Options), UsageError> {
    let mut options = Options::default();
    program
        .parse(&mut options, args(list))
        .map(|r| (r, options))
}

#[test]
fn the_table_is_sound() {
    PROGRAM.assert_table_is_sound();
}

#[test]
fn values_switches_and_shared_flags() {
    let (request, options) = parse(
        &PROGRAM,
        &[
            "-n",
            "x",
            "--tag=a",
            "--tag",
            "b",
            "--on",
            "--log-format=json",
            "-v",
        ],
    )
    .unwrap();
    assert_eq!(
        request,
        Request::Run {
            format: Format::Json,
            verbosity: Verbosity::Verbose,
            command: vec![]
        }
    );
    assert_eq!(options.name.as_deref(), Some("x"));
    assert_eq!(options.tags, ["a", "b"]);
    assert!(options.on);
    let (request, _) = parse(&PROGRAM, &["-q"]).unwrap();
    assert!(matches!(
        request,
        Request::Run {
            format: Format::Text,
            verbosity: Verbosity::Quiet,
            ..
        }
    ));
}

#[test]
fn help_and_version_end_parsing_where_they_stand() {
    assert_eq!(
        parse(&PROGRAM, &["-h", "--bogus"]).unwrap().0,
        Request::Help
    );
    assert_eq!(parse(&PROGRAM, &["--version"]).unwrap().0, Request::Version);
    assert!(parse(&PROGRAM, &["--bogus", "-h"]).is_err());
}

#[test]
fn bad_command_lines_are_refused_with_the_reason() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--name", "a", "--name", "b"],
            "--name is given twice; give it once",
        ),
        (&["--name", "a", "-n", "a"], "-n/--name is given twice"),
        (&["--on", "--on"], "--on is given twice"),
        (&["-q", "--quiet"], "-q/--quiet is given twice"),
        (&["-vv"], "-v/--verbose is given twice"),
        (
            &["--log-format", "json", "--log-format=json"],
            "--log-format is given twice",
        ),
        (&["--help", "--help"], ""),
        (
            &["-q", "-v"],
            "-q/--quiet and -v/--verbose contradict; give one",
        ),
        (&["--tag", "a", "--tag", "a"], "--tag: \"a\" is given twice"),
        (&["--name"], "--name needs a value"),
        (&["--on=yes"], "--on"),
        (&["--log-format", "xml"], "text or json"),
        (&["--bogus"], "--bogus"),
        (&["word"], "unexpected argument \"word\""),
    ];
    for (list, needle) in cases {
        match parse(&PROGRAM, list) {
            Err(e) => {
                let text = e.to_string();
                assert!(text.contains(needle), "{list:?}: {text}");
                assert!(text.ends_with("; see `demo --help`"), "{text}");
            }
            Ok((Request::Help, _)) if needle.is_empty() => {}
            Ok(other) => panic!("{list:?} should be refused, got {other:?}"),
        }
    }
}

#[test]
fn usage_errors_are_json_wherever_the_flag_stands() {
    for list in [
        &["--log-format", "json", "--bogus"][..],
        &["--bogus", "--log-format", "json"],
        &["--name", "a", "--name", "b", "--log-format=json"],
        &["-q", "-v", "--log-format", "json"],
    ] {
        let err = parse(&PROGRAM, list).unwrap_err();
        assert_eq!(err.format, Format::Json, "{list:?}");
    }
    for list in [
        &["--bogus", "--", "app", "--log-format", "json"][..],
        &["--bogus", "--log-format", "xml"],
        &["--bogus", "json"],
    ] {
        let err = parse(&GUARD_LIKE, list).unwrap_err();
        assert_eq!(err.format, Format::Text, "{list:?}");
    }
}

#[test]
fn a_command_is_taken_verbatim_where_one_is_taken() {
    let (request, options) = parse(&GUARD_LIKE, &["--on", "app", "--name", "x", "--"]).unwrap();
    let Request::Run { command, .. } = request else {
        panic!("{request:?}")
    };
    assert_eq!(command, args(&["app", "--name", "x", "--"]));
    assert_eq!(options.name, None);
    let (request, _) = parse(&GUARD_LIKE, &["--", "--", "x"]).unwrap();
    assert!(matches!(request, Request::Run { command, .. } if command == args(&["--", "x"])));
}

#[test]
fn help_rows_for_own_then_shared_flags() {
    let text = PROGRAM.render_flags();
    let want = "  -n, --name NAME            a name
  --tag TAG                  a tag (repeatable); a long help
                             over two lines
  --on                       turn it on
  --log-format text|json     default text; json is one object per line
  -q, --quiet                log errors only
  -v, --verbose              log more
  -h, --help                 print this help
  -V, --version              print the version
";
    assert_eq!(text, want);
}
