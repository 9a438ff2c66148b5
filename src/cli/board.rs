//! `orch board [--out FILE] [--watch]`: write the program as one
//! self-contained HTML page (see [`crate::board`]).
//!
//! The default page is `<orchestrator folder>/board/index.html`; that
//! folder holds a `.gitignore` of `*`, so the page never shows as a change
//! to commit, and it is written through [`crate::fsx`] (real folders, no
//! link followed, inside the work tree). `--out FILE` writes wherever the
//! user says, `--out -` prints the page. Writes are atomic.
//!
//! `--watch` checks the orchestrator folder (documents, config, run files,
//! logs) every second and rewrites the page when anything changed; the page
//! it writes carries a meta refresh, so a browser showing it reloads itself.
//! A meta refresh works from `file://`, without JavaScript and in every
//! browser; a script cannot poll the file's own stamp there (browsers refuse
//! `fetch` of `file://` URLs), and loading a second file would break the
//! page's promise to load nothing. The page's script keeps the reader's
//! scroll position, filter, zoom and open sections across reloads. Ctrl-C
//! (or SIGTERM) stops the watch after writing the page once more without the
//! refresh, so the page left behind is still.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::board::{Board, html};
use crate::error::{Error, Outcome, Result};
use crate::fsx;
use crate::model::program::display_path;
use crate::report::Format;

use super::{Global, Workspace};

/// How often `--watch` looks for changes.
const POLL: Duration = Duration::from_secs(1);
/// How often a page written by `--watch` reloads itself, in seconds.
pub const REFRESH_SECS: u32 = 3;

#[derive(Debug, clap::Args)]
pub struct BoardArgs {
    /// Where to write the page (default: <dir>/board/index.html, kept
    /// git-ignored); `-` prints it
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Rewrite the page whenever documents, runs or logs change, until
    /// Ctrl-C; a browser showing it reloads itself
    #[arg(long)]
    pub watch: bool,
}

/// Where the page goes.
enum Target {
    Stdout,
    File(PathBuf),
}

pub fn run(args: &BoardArgs, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    if g.format != Format::Human {
        return Err(Error::with_help(
            "`orch board` writes an HTML page and takes no --format",
            "`orch status --format markdown` is the status for a pull request or a step summary",
        ));
    }
    let ws = Workspace::find(g)?;
    let target = match &args.out {
        Some(p) if p.as_os_str() == "-" => Target::Stdout,
        Some(p) => Target::File(std::path::absolute(p).map_err(|e| Error::io(p, e))?),
        None => Target::File(default_out(&ws)?),
    };
    if args.watch {
        let Target::File(path) = &target else {
            return Err(Error::usage(
                "--watch rewrites a file: pass --out FILE, or no --out",
            ));
        };
        return watch(&ws, path, g, out);
    }
    let program = ws.load()?;
    let board = Board::gather(&program);
    let page = html::render(&board, html::Page::default());
    match &target {
        Target::Stdout => out.write_all(page.as_bytes())?,
        Target::File(path) => {
            write_page(&ws, path, &page)?;
            if !g.quiet {
                writeln!(
                    out,
                    "wrote {} ({} tasks); open {}",
                    shown(&ws, path),
                    board.cards.len(),
                    file_url(path)
                )?;
            }
        }
    }
    super::release(program);
    Ok(Outcome::Clean)
}

/// `<dir>/board/index.html`, after making sure `board/` is a real folder
/// inside the work tree (no link on the way) and is git-ignored.
fn default_out(ws: &Workspace) -> Result<PathBuf> {
    let base = fsx::base_for(&ws.root, &ws.dir);
    let folder = ws.dir.join("board");
    fsx::ensure_dir(base, &folder)?;
    let ignore = folder.join(".gitignore");
    if std::fs::symlink_metadata(&ignore).is_err() {
        fsx::write_inside(
            base,
            &ignore,
            b"# Written by orch board: the page is generated, never committed.\n*\n",
            false,
        )?;
    }
    Ok(folder.join("index.html"))
}

/// Write the page: the default one under the checks of [`fsx::write_inside`],
/// one the user named with `--out` where they said.
fn write_page(ws: &Workspace, path: &Path, page: &str) -> Result<()> {
    let base = fsx::base_for(&ws.root, &ws.dir);
    if path.starts_with(ws.dir.join("board")) {
        fsx::write_inside(base, path, page.as_bytes(), true)
    } else {
        fsx::write_atomic(path, page.as_bytes(), true)
    }
}

fn shown(ws: &Workspace, path: &Path) -> String {
    if path.starts_with(&ws.root) {
        display_path(&ws.root, path)
    } else {
        path.display().to_string()
    }
}

/// A `file://` URL for a path, percent-encoding what a URL cannot hold.
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// A stamp of everything under the orchestrator folder a page shows
/// (documents, config, run files, logs): paths, sizes and modification
/// times; the page's own folder and orch's temporary files left out.
fn fingerprint(dir: &Path, skip: Option<&Path>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| skip != Some(e.path()));
    for entry in walker.flatten() {
        let name = entry.file_name().to_string_lossy();
        if name.starts_with(".orch-") && name.ends_with(".tmp") {
            continue;
        }
        entry.path().hash(&mut h);
        if let Ok(md) = entry.metadata() {
            md.len().hash(&mut h);
            md.modified().ok().hash(&mut h);
            md.file_type().is_dir().hash(&mut h);
        }
    }
    h.finish()
}

fn render(ws: &Workspace, refresh: Option<u32>) -> Result<(String, usize)> {
    let program = ws.load()?;
    let board = Board::gather(&program);
    let page = html::render(&board, html::Page { refresh });
    Ok((page, board.cards.len()))
}

fn watch(ws: &Workspace, path: &Path, g: &Global, out: &mut dyn Write) -> Result<Outcome> {
    let stop = crate::dispatch::interrupt_flag();
    let skip = path.parent().filter(|p| p.starts_with(&ws.dir));
    let mut last = None;
    let mut written = false;
    if !g.quiet {
        writeln!(
            out,
            "watching {}; writing {} (open {}); Ctrl-C stops",
            shown(ws, &ws.dir),
            shown(ws, path),
            file_url(path)
        )?;
        out.flush()?;
    }
    while !stop.load(Ordering::SeqCst) {
        let stamp = fingerprint(&ws.dir, skip);
        if last != Some(stamp) {
            last = Some(stamp);
            match render(ws, Some(REFRESH_SECS)) {
                Ok((page, tasks)) => {
                    write_page(ws, path, &page)?;
                    written = true;
                    if !g.quiet {
                        let now = crate::dispatch::time::rfc3339(std::time::SystemTime::now());
                        writeln!(out, "{now}  wrote {} ({tasks} tasks)", shown(ws, path))?;
                        out.flush()?;
                    }
                }
                // A document half-written by an editor, a folder moved
                // away: say so and keep watching; the last page stays.
                Err(e) => eprintln!("warning: {e}; the page stays as it was"),
            }
        }
        let mut slept = Duration::ZERO;
        while slept < POLL && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
            slept += Duration::from_millis(100);
        }
    }
    // The page left behind reloads no more.
    if written && let Ok((page, _)) = render(ws, None) {
        write_page(ws, path, &page)?;
    }
    if !g.quiet {
        writeln!(out, "stopped watching; {} stays", shown(ws, path))?;
    }
    Ok(Outcome::Clean)
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_urls_are_percent_encoded() {
        assert_eq!(
            super::file_url(std::path::Path::new("/tmp/a b/ü#.html")),
            "file:///tmp/a%20b/%C3%BC%23.html"
        );
    }
}
