//! The storyclust binary: parse arguments, run the library, render, map the
//! outcome to an exit code.

mod cli;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::FromArgMatches;

use clap::CommandFactory;
use cli::{Cli, ColorChoice, Command, Format, IndexCommand, StageCommand};
use storyclust::report::{self, View};

/// Exit codes, documented in `--help` and README.
const EXIT_OK: u8 = 0;
const EXIT_STORIES: u8 = 1;
const EXIT_ERROR: u8 = 2;

fn color_wanted(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(true)
        }
    }
}

/// The terminal's width when stdout is a terminal (COLUMNS overrides), else 0.
fn terminal_width() -> usize {
    if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return n;
    }
    if !io::stdout().is_terminal() {
        return 0;
    }
    terminal_size::terminal_size()
        .map(|(w, _)| w.0 as usize)
        .unwrap_or(100)
}

/// A progress bar on stderr, shown only when stderr is a terminal and the
/// run lasts more than a moment (indicatif draws at most 10 times a second).
#[derive(Clone)]
struct Bar {
    bar: indicatif::ProgressBar,
}

impl Bar {
    fn new() -> Bar {
        let bar = if io::stderr().is_terminal() {
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr())
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:>10} [{bar:40}] {human_pos}/{human_len} ({per_sec}, {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        Bar { bar }
    }
}

impl storyclust::Progress for Bar {
    fn stage(&self, name: &'static str, total: u64) {
        self.bar.set_message(name);
        self.bar.set_length(total);
        self.bar.set_position(0);
    }
    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn render(
    out: &mut dyn Write,
    format: Format,
    outcome: &storyclust::Outcome,
    view: &View,
) -> io::Result<()> {
    match format {
        Format::Text => report::text::write_text(out, outcome, view),
        Format::Json => report::json::write_json(out, outcome, view),
        Format::Jsonl => report::json::write_jsonl(out, outcome, view),
    }
}

fn run_command(cli: &Cli, command: &Command, matches: &clap::ArgMatches) -> anyhow::Result<u8> {
    let mut out = buffered(io::stdout().lock());
    match command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "storyclust", &mut out);
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .context("cannot write the output")?;
        }
        Command::Index { command } => {
            drop(out);
            let sub = matches
                .subcommand_matches("index")
                .and_then(|m| m.subcommand());
            return run_index(command, sub.map(|s| s.1));
        }
        Command::Stage { command } => {
            drop(out);
            return run_stage(command);
        }
        Command::Compare {
            a,
            b,
            format,
            color,
        } => {
            let c = storyclust::compare(a, b, &cli.config()).context("cannot compare")?;
            let view = View {
                passages: 0,
                color: color_wanted(*color),
                no_timings: cli.common.no_timings,
                ..View::default()
            };
            if *format == Format::Text {
                let o = &c.overlap;
                writeln!(
                    out,
                    "Jaccard {:.3} · {:.0}% of A in B · {:.0}% of B in A · shared passages cover {} words of A, {} of B ({:.0}% of the shorter) · {}",
                    o.jaccard,
                    o.a_in_b * 100.0,
                    o.b_in_a * 100.0,
                    o.a_words,
                    o.b_words,
                    o.coverage * 100.0,
                    if c.linked { "linked" } else { "not linked" }
                )?;
                writeln!(out)?;
            }
            render(&mut out, *format, &c.outcome, &view)?;
        }
    }
    out.flush().context("cannot write the output")?;
    Ok(EXIT_OK)
}

fn run_stage(command: &StageCommand) -> anyhow::Result<u8> {
    use storyclust::stage::{self, Params, Stage};
    let (stage, args) = match command {
        StageCommand::Params { common, tuning } => {
            let mut cfg = storyclust::Config::default();
            common.apply(&mut cfg);
            tuning.apply(&mut cfg);
            cfg.validate()?;
            let mut out = io::stdout().lock();
            serde_json::to_writer(&mut out, &Params::new(cfg))?;
            writeln!(out).context("cannot write the output")?;
            return Ok(EXIT_OK);
        }
        StageCommand::Sketch(a) => (Stage::Sketch, a),
        StageCommand::Verify(a) => (Stage::Verify, a),
        StageCommand::Cluster(a) => (Stage::Cluster, a),
        StageCommand::Passages(a) => (Stage::Passages, a),
    };
    set_threads(args.threads)?;
    let params = Params::parse(&args.params)?;
    let mut input = io::BufReader::new(io::stdin().lock());
    let mut out = buffered(io::stdout().lock());
    stage::run(stage, &params, &mut input, &mut out)
        .with_context(|| format!("stage {}", format!("{stage:?}").to_lowercase()))?;
    Ok(EXIT_OK)
}

fn set_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot start the worker threads")?;
    }
    Ok(())
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Text => "text",
        Format::Json => "json",
        Format::Jsonl => "jsonl",
    }
}

fn print_errors(errors: &[storyclust::LoadError]) {
    let mut stderr = io::stderr().lock();
    for e in errors {
        let msg = storyclust::report::sanitize::one_line(&e.to_string());
        let _ = writeln!(stderr, "storyclust: {msg}");
    }
}

fn run_index(command: &IndexCommand, matches: Option<&clap::ArgMatches>) -> anyhow::Result<u8> {
    use storyclust::index::{Index, Status};
    let mut out = buffered(io::stdout().lock());
    let code = match command {
        IndexCommand::Build {
            index,
            paths,
            format,
            common,
            tuning,
        } => {
            set_threads(common.threads)?;
            let mut cfg = storyclust::Config::default();
            common.apply(&mut cfg);
            tuning.apply(&mut cfg);
            let built =
                Index::build(index, paths, &cfg, &Bar::new()).context("cannot build the index")?;
            print_errors(&built.outcome.errors);
            report::index::write_built(
                &mut out,
                format_name(*format),
                index,
                &built.index,
                &built.outcome,
            )?;
            if built.outcome.errors.is_empty() {
                EXIT_OK
            } else {
                EXIT_ERROR
            }
        }
        IndexCommand::Add(args) | IndexCommand::Check(args) => {
            let write = matches!(command, IndexCommand::Add(_));
            set_threads(args.common.threads)?;
            let mut base = storyclust::Config::default();
            args.common.apply(&mut base);
            let mut idx = Index::open(&args.index, &base).context("cannot open the index")?;
            // Tuning options given on the command line must match the index.
            let mut asked = storyclust::Config::default();
            args.common.apply(&mut asked);
            args.tuning.apply(&mut asked);
            let given = matches.map(cli::Tuning::given).unwrap_or_default();
            let mut want = serde_json::to_value(idx.config()).context("parameters")?;
            let asked_v = serde_json::to_value(&asked).context("parameters")?;
            for key in given {
                want[key] = asked_v[key].clone();
            }
            let want: storyclust::Config = serde_json::from_value(want).context("parameters")?;
            idx.ensure_params(&want)?;
            let b = idx
                .update(&args.paths, write, &Bar::new())
                .with_context(|| {
                    if write {
                        "cannot add the batch"
                    } else {
                        "cannot check the batch"
                    }
                })?;
            print_errors(&b.outcome.errors);
            let view = View {
                passages: args.passages,
                color: color_wanted(args.common.color),
                no_timings: args.common.no_timings,
                ..View::default()
            };
            let name = if write { "add" } else { "check" };
            match args.format {
                Format::Text => {
                    report::index::write_batch_text(&mut out, &b, name, &args.index, &view)
                }
                Format::Json => {
                    report::index::write_batch_json(&mut out, &b, name, &args.index, &view)
                }
                Format::Jsonl => {
                    report::index::write_batch_jsonl(&mut out, &b, name, &args.index, &view)
                }
            }
            .context("cannot write the output")?;
            if !b.outcome.errors.is_empty() {
                EXIT_ERROR
            } else if args.fail_on_reuse && b.articles.iter().any(|a| a.status == Status::Joins) {
                EXIT_STORIES
            } else {
                EXIT_OK
            }
        }
        IndexCommand::Stories { index, format } => {
            let idx = Index::open(index, &storyclust::Config::default())
                .context("cannot open the index")?;
            let stories = idx.stories()?;
            report::index::write_stories(&mut out, format_name(*format), &stories)?;
            EXIT_OK
        }
        IndexCommand::Show { index, id, format } => {
            let idx = Index::open(index, &storyclust::Config::default())
                .context("cannot open the index")?;
            let (chain, story) = idx.story(id)?;
            report::index::write_story(&mut out, format_name(*format), &chain, &story)?;
            EXIT_OK
        }
    };
    out.flush().context("cannot write the output")?;
    Ok(code)
}

fn run(cli: &Cli, matches: &clap::ArgMatches) -> anyhow::Result<u8> {
    if let Some(command) = &cli.command {
        return run_command(cli, command, matches);
    }
    set_threads(cli.common.threads)?;
    let cfg = cli.config();
    if cli.explain {
        cfg.validate().context("invalid option")?;
        let mut out = io::stdout().lock();
        report::explain::write_explain(&mut out, &cfg).context("cannot write the output")?;
        return Ok(EXIT_OK);
    }
    let labels = match &cli.labels {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the labels {}", p.display()))?;
            Some(
                storyclust::evaluate::parse_labels(&text)
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("{}: not a labels file", p.display()))?,
            )
        }
        None => None,
    };
    // Passages are computed as the stories are written, unless the HTML
    // report needs them all at once.
    let bar = Bar::new();
    let mut outcome =
        storyclust::run_streaming(&cli.paths, &cfg, &bar).context("invalid option")?;
    outcome.report_progress_to(Box::new(bar));
    if cli.html.is_some() {
        outcome.complete();
    }
    if let Some(l) = &labels {
        outcome.evaluation = Some(storyclust::evaluate::evaluate(&outcome, l));
    }
    print_errors(&outcome.errors);
    let view = View {
        all: cli.all,
        passages: cli.passages,
        color: color_wanted(cli.common.color),
        verbose: cli.verbose,
        no_timings: cli.common.no_timings,
        width: terminal_width(),
    };
    if let Some(path) = &cli.html {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut file = buffered(file);
        report::html::write_html(&mut file, &outcome, &|p| std::fs::read(p).ok())
            .and_then(|()| file.flush())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut out = buffered(io::stdout().lock());
    render(&mut out, cli.format, &outcome, &view)
        .and_then(|()| out.flush())
        .context("cannot write the output")?;
    // Problems met while the passages were computed (files gone since).
    print_errors(outcome.settle());
    Ok(if !outcome.errors.is_empty() {
        EXIT_ERROR
    } else if cli.fail_on_stories && !outcome.stories.is_empty() {
        EXIT_STORIES
    } else {
        EXIT_OK
    })
}

/// Bytes of output gathered before each write.
const OUTPUT_BUFFER: usize = 1 << 20;

/// `w` written through an [`OUTPUT_BUFFER`]: output goes out a megabyte at
/// a time (with the default 8 KiB, the 17.7 MB of 20 Newsgroups' JSON took
/// 2,360 writes, on the thread that also hands out the next stories).
fn buffered<W: Write>(w: W) -> io::BufWriter<W> {
    io::BufWriter::with_capacity(OUTPUT_BUFFER, w)
}

/// mimalloc instead of the system allocator: the pipeline allocates and
/// frees many short vectors per article from several threads.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Transparent huge pages off for this process, before the pipeline
/// allocates, unless `MIMALLOC_ALLOW_THP` says otherwise (mimalloc then
/// does as it says: `1` keeps its default, `0` turns them off itself).
///
/// mimalloc asks for huge pages on the arena it reserves. A huge page
/// needs a whole free 2 MiB block, and a virtual machine whose balloon
/// driver reports free blocks of that size to its host (free page
/// reporting, as on the machine measured) has mostly handed those back:
/// the first touch then faults the host in as well. There, on the
/// 100,000-article corpus, the kernel zeroing pages was a fifth of the
/// samples, 874 MiB of huge pages cost 2.2 s of system time where the
/// same memory in 4 KiB pages cost 1.1 s, and the run took 1.28× as long
/// (README, Performance).
#[cfg(target_os = "linux")]
fn no_huge_pages() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: `prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)` takes integers
        // only and changes a flag of the process; a kernel that does not
        // know it returns an error, which changes nothing.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn no_huge_pages() {}

fn main() -> ExitCode {
    no_huge_pages();
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match run(&cli, &matches) {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("storyclust: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// The flag `no_huge_pages` sets, as the kernel reports it.
    fn thp_enabled() -> Option<String> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("THP_enabled:"))
            .map(|v| v.trim().to_string())
    }

    #[test]
    fn huge_pages_are_turned_off_for_the_process() {
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
            return; // the user's choice is left to mimalloc
        }
        super::no_huge_pages();
        assert_eq!(thp_enabled().as_deref(), Some("0"));
    }
}
