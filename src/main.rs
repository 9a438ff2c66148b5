use std::process::ExitCode;

// Parsing allocates many small nodes per document; mimalloc makes that
// markedly cheaper than the system allocator (a 2,000-task lint takes about
// 1.7x as long with glibc's). Built as mimalloc 2 with `no_thp`: mimalloc 3
// and its huge-page advice held 6 to 10 MiB more at the peak, with no gain in
// time (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let result = orch::cli::run();
    if let Err(e) = &result
        && !e.is_broken_pipe()
    {
        // A message may quote a document, a log or a commit message:
        // escape sequences in it are shown, never obeyed.
        let esc = |t: &str| orch::util::escape_controls(t).into_owned();
        eprintln!("error: {}", esc(&e.to_string()));
        if let Some(help) = e.help() {
            eprintln!("help: {}", esc(help));
        }
    }
    orch::error::exit_code(&result)
}
