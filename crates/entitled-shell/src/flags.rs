//! The flag table every binary defines its own flags with, the flags they
//! all share (`--log-format`, `-q`, `-v`, `-h`, `-V`), the one parser that
//! applies both and the one renderer of their `--help` rows.

use std::ffi::OsString;

use crate::log::{Format, Verbosity};
use crate::usage::UsageError;

/// One flag of a binary: its names, its value, its help line and what it
/// does, in one row.
pub struct Flag<O: 'static> {
    /// The long name, with its dashes: `--deadline`.
    pub long: &'static str,
    /// The one-letter name, if any.
    pub short: Option<char>,
    /// The value's name in the help (`DURATION`), or `None` for a switch.
    pub value: Option<&'static str>,
    /// The help text; `\n` starts a continuation line.
    pub help: &'static str,
    /// Whether the flag may be given more than once.
    pub repeat: Repeat,
    /// Stores the value (empty for a switch). The error names the problem
    /// and the fix, without the flag's name, which the parser adds.
    pub apply: fn(&mut O, String) -> Result<(), String>,
}

/// How often a flag may be given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeat {
    /// Once: a second time is a usage error. A task definition whose
    /// ENTRYPOINT lacks the closing `--` would otherwise let the buyer's CMD
    /// override an earlier `--product-code`.
    Once,
    /// Each time adds a value (`--dimension`); the help says "repeatable".
    Many,
}

/// A binary: its name, its own flags and what it accepts after them.
pub struct Program<O: 'static> {
    /// The program's name, as logs and usage errors show it.
    pub name: &'static str,
    /// Its own flags, in the order `--help` lists them; the shared flags
    /// follow them.
    pub flags: &'static [Flag<O>],
    /// The help line of `-q/--quiet`: what this program still logs.
    pub quiet_help: &'static str,
    /// The help line of `-v/--verbose`: what this program adds.
    pub verbose_help: &'static str,
    /// Whether a COMMAND may follow the flags (the guard's); otherwise a
    /// word that is not a flag is a usage error.
    pub takes_command: bool,
}

/// What a valid command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// Run, logging as asked, with COMMAND (empty unless the program takes
    /// one) exactly as given.
    Run {
        /// `--log-format`.
        format: Format,
        /// `-q`, `-v` or neither.
        verbosity: Verbosity,
        /// The words after the flags.
        command: Vec<OsString>,
    },
    /// `-h`/`--help`: ends parsing where it stands.
    Help,
    /// `-V`/`--version`: ends parsing where it stands.
    Version,
}

/// The line every `--help` carries about the shared rules.
pub const COMMON_FLAGS_HELP_LINE: &str = "Each flag may be given once (those marked repeatable more); a value follows its flag\nas the next argument or after `=`, as in --log-format=json.";

/// The flags every program has, after its own.
#[derive(Clone, Copy)]
enum Shared {
    LogFormat,
    Quiet,
    Verbose,
    Help,
    Version,
}

/// Where help text starts, counted from the start of the line.
const HELP_COLUMN: usize = 29;

/// One row of the help: names, value and text, whoever defines the flag.
struct Row<'a> {
    long: &'a str,
    short: Option<char>,
    value: Option<&'a str>,
    help: &'a str,
}

impl<O> Program<O> {
    /// Parses the arguments after the program name into `options`.
    ///
    /// ```
    /// use entitled_shell::{Flag, Format, Program, Repeat, Request};
    /// #[derive(Default)]
    /// struct Options { name: Option<String> }
    /// const PROGRAM: Program<Options> = Program {
    ///     name: "demo",
    ///     flags: &[Flag {
    ///         long: "--name", short: None, value: Some("NAME"), help: "a name",
    ///         repeat: Repeat::Once,
    ///         apply: |o, v| { o.name = Some(v); Ok(()) },
    ///     }],
    ///     quiet_help: "log errors only",
    ///     verbose_help: "log more",
    ///     takes_command: false,
    /// };
    /// let mut options = Options::default();
    /// let args = ["--name=x", "--log-format", "json"].map(Into::into).to_vec();
    /// let request = PROGRAM.parse(&mut options, args).unwrap();
    /// assert!(matches!(request, Request::Run { format: Format::Json, .. }));
    /// assert_eq!(options.name.as_deref(), Some("x"));
    ///
    /// let twice = ["--name", "a", "--name", "b", "--log-format=json"].map(Into::into).to_vec();
    /// let err = PROGRAM.parse(&mut Options::default(), twice).unwrap_err();
    /// assert_eq!(err.to_string(), "--name is given twice; give it once; see `demo --help`");
    /// assert_eq!(err.format, Format::Json, "written in the format asked for, wherever it stands");
    /// ```
    pub fn parse(&self, options: &mut O, args: Vec<OsString>) -> Result<Request, UsageError> {
        let json_asked = asks_for_json(&args);
        let mut format = Format::Text;
        self.parse_into(options, args, &mut format)
            .map_err(|message| UsageError {
                program: self.name,
                message,
                // A log pipeline that asked for JSON gets the error as JSON
                // wherever the flag stood, even after the mistake that
                // stopped parsing.
                format: if json_asked { Format::Json } else { format },
            })
    }

    /// A usage error found after parsing (a missing flag, two that
    /// contradict), in the format the command line asked for.
    ///
    /// ```
    /// use entitled_shell::{Format, Program};
    /// let program: Program<()> = Program {
    ///     name: "demo", flags: &[], quiet_help: "", verbose_help: "", takes_command: false,
    /// };
    /// let err = program.usage_error(Format::Json, "--journal is required");
    /// assert_eq!(err.to_string(), "--journal is required; see `demo --help`");
    /// ```
    pub fn usage_error(&self, format: Format, message: impl Into<String>) -> UsageError {
        UsageError {
            program: self.name,
            message: message.into(),
            format,
        }
    }

    fn parse_into(
        &self,
        options: &mut O,
        args: Vec<OsString>,
        format: &mut Format,
    ) -> Result<Request, String> {
        let mut parser = lexopt::Parser::from_args(args);
        let mut seen = vec![false; self.flags.len()];
        let mut shared_seen = [false; 5];
        let (mut quiet, mut verbose) = (false, false);
        let mut command = Vec::new();
        while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
            let own = match &arg {
                lexopt::Arg::Long(long) => self.flags.iter().position(|f| f.long[2..] == **long),
                lexopt::Arg::Short(c) => self.flags.iter().position(|f| f.short == Some(*c)),
                lexopt::Arg::Value(_) => None,
            };
            if let Some(index) = own {
                let flag = &self.flags[index];
                let name = flag_name(flag.long, flag.short);
                if std::mem::replace(&mut seen[index], true) && flag.repeat == Repeat::Once {
                    return Err(format!("{name} is given twice; give it once"));
                }
                let value = match flag.value {
                    Some(_) => value(&mut parser, &name)?,
                    None => String::new(),
                };
                (flag.apply)(options, value).map_err(|e| format!("{name}: {e}"))?;
                continue;
            }
            let shared = match &arg {
                lexopt::Arg::Long("log-format") => Some(Shared::LogFormat),
                lexopt::Arg::Long("quiet") | lexopt::Arg::Short('q') => Some(Shared::Quiet),
                lexopt::Arg::Long("verbose") | lexopt::Arg::Short('v') => Some(Shared::Verbose),
                lexopt::Arg::Long("help") | lexopt::Arg::Short('h') => Some(Shared::Help),
                lexopt::Arg::Long("version") | lexopt::Arg::Short('V') => Some(Shared::Version),
                _ => None,
            };
            let Some(shared) = shared else {
                if let lexopt::Arg::Value(first) = arg {
                    if !self.takes_command {
                        return Err(format!(
                            "unexpected argument {first:?}; every argument is a flag"
                        ));
                    }
                    // COMMAND starts here; everything after it is its own,
                    // flags included, taken verbatim.
                    command.push(first);
                    command.extend(parser.raw_args().map_err(|e| e.to_string())?);
                    break;
                }
                return Err(arg.unexpected().to_string());
            };
            let row = shared_row(shared, "", "");
            if std::mem::replace(&mut shared_seen[shared as usize], true) {
                return Err(format!(
                    "{} is given twice; give it once",
                    flag_name(row.long, row.short)
                ));
            }
            match shared {
                Shared::Help => return Ok(Request::Help),
                Shared::Version => return Ok(Request::Version),
                Shared::Quiet => quiet = true,
                Shared::Verbose => verbose = true,
                Shared::LogFormat => {
                    let text = value(&mut parser, "--log-format")?;
                    *format = match text.as_str() {
                        "text" => Format::Text,
                        "json" => Format::Json,
                        _ => {
                            return Err(format!(
                                "--log-format: {text:?} is not a format; use text or json"
                            ))
                        }
                    };
                }
            }
        }
        let verbosity = match (quiet, verbose) {
            (true, true) => return Err("-q/--quiet and -v/--verbose contradict; give one".into()),
            (true, false) => Verbosity::Quiet,
            (false, true) => Verbosity::Verbose,
            (false, false) => Verbosity::Normal,
        };
        Ok(Request::Run {
            format: *format,
            verbosity,
            command,
        })
    }

    /// The `--help` rows: one per flag, the program's own first, then the
    /// shared ones. A name too long for the column puts its help on the
    /// next line.
    pub fn render_flags(&self) -> String {
        let own = self.flags.iter().map(|f| Row {
            long: f.long,
            short: f.short,
            value: f.value,
            help: f.help,
        });
        let shared = [
            Shared::LogFormat,
            Shared::Quiet,
            Shared::Verbose,
            Shared::Help,
            Shared::Version,
        ]
        .map(|s| shared_row(s, self.quiet_help, self.verbose_help));
        let mut out = String::new();
        for row in own.chain(shared) {
            let mut spec = match row.short {
                Some(c) => format!("  -{c}, {}", row.long),
                None => format!("  {}", row.long),
            };
            if let Some(value) = row.value {
                spec = format!("{spec} {value}");
            }
            // At least one space between the names and the help.
            if spec.len() >= HELP_COLUMN {
                spec.push('\n');
                spec.push_str(&" ".repeat(HELP_COLUMN));
            } else {
                spec.push_str(&" ".repeat(HELP_COLUMN - spec.len()));
            }
            out.push_str(&spec);
            let indent = format!("\n{}", " ".repeat(HELP_COLUMN));
            out.push_str(&row.help.replace('\n', &indent));
            out.push('\n');
        }
        out
    }

    /// The rules a table must keep, for each binary's own tests: unique
    /// names, none taken from the shared flags, "repeatable" in the help of
    /// exactly the flags that are.
    ///
    /// # Panics
    /// On the first rule broken, naming the flag.
    pub fn assert_table_is_sound(&self) {
        const SHARED: [&str; 5] = [
            "--log-format",
            "--quiet",
            "--verbose",
            "--help",
            "--version",
        ];
        for (i, flag) in self.flags.iter().enumerate() {
            assert!(
                flag.long.starts_with("--"),
                "{}: spell it with its dashes",
                flag.long
            );
            assert!(
                !SHARED.contains(&flag.long),
                "{} is a shared flag",
                flag.long
            );
            assert!(
                !matches!(flag.short, Some('q' | 'v' | 'h' | 'V')),
                "{}: -{:?} is a shared flag",
                flag.long,
                flag.short
            );
            let first = self.flags.iter().position(|f| f.long == flag.long);
            assert_eq!(first, Some(i), "{} is defined twice", flag.long);
            if let Some(c) = flag.short {
                let first = self.flags.iter().position(|f| f.short == Some(c));
                assert_eq!(first, Some(i), "-{c} is defined twice");
            }
            assert_eq!(
                flag.help.contains("repeatable"),
                flag.repeat == Repeat::Many,
                "{}: its help says \"repeatable\" exactly when it is",
                flag.long
            );
        }
    }
}

fn shared_row<'a>(shared: Shared, quiet: &'a str, verbose: &'a str) -> Row<'a> {
    let (long, short, value, help) = match shared {
        Shared::LogFormat => (
            "--log-format",
            None,
            Some("text|json"),
            "default text; json is one object per line",
        ),
        Shared::Quiet => ("--quiet", Some('q'), None, quiet),
        Shared::Verbose => ("--verbose", Some('v'), None, verbose),
        Shared::Help => ("--help", Some('h'), None, "print this help"),
        Shared::Version => ("--version", Some('V'), None, "print the version"),
    };
    Row {
        long,
        short,
        value,
        help,
    }
}

/// How errors name a flag: `--deadline`, or `-q/--quiet`.
fn flag_name(long: &str, short: Option<char>) -> String {
    match short {
        Some(c) => format!("-{c}/{long}"),
        None => long.to_owned(),
    }
}

fn value(parser: &mut lexopt::Parser, name: &str) -> Result<String, String> {
    parser
        .value()
        .map_err(|_| format!("{name} needs a value"))?
        .into_string()
        .map_err(|v| format!("{name}: {v:?} is not valid UTF-8"))
}

/// Whether `--log-format json` (or `--log-format=json`) appears among the
/// program's own arguments: anywhere before a `--`, after which they are
/// COMMAND's.
fn asks_for_json(args: &[OsString]) -> bool {
    let own = args.iter().take_while(|a| *a != "--");
    let mut previous: Option<&OsString> = None;
    for arg in own {
        if arg == "--log-format=json"
            || (previous.is_some_and(|p| p == "--log-format") && arg == "json")
        {
            return true;
        }
        previous = Some(arg);
    }
    false
}

#[cfg(test)]
mod tests;
