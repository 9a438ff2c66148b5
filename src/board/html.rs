//! The board as one self-contained HTML page: no network, no external file,
//! readable from `file://`, without JavaScript, and as a CI artifact.
//!
//! A Content-Security-Policy meta tag (`default-src 'none'`) lets the page
//! load nothing at all; its one style sheet and its one small script (the
//! filter, the graph's zoom, keeping the reader's place across a `--watch`
//! reload) are allowed by their SHA-256 hashes only, so no text that found
//! its way into the page can run. Every text from documents, run files,
//! logs and commits goes through [`esc`]: HTML-escaped, with control and
//! bidirectional-override characters shown as escapes. Landmarks, headings
//! and table headers give the structure; colours meet WCAG AA contrast in
//! light and dark (`prefers-color-scheme`), and status is always said in
//! words or a glyph as well as a colour.

use std::fmt::Write as _;

use super::layout::{self, Graph, Layout, Node, Options};
use super::{Board, Card, Column, Entry, EntryKind, Run, Tail};

/// Timeline entries shown before the rest fold away.
const SHOWN_ENTRIES: usize = 60;
/// Changed files listed per task of a run.
const SHOWN_FILES: usize = 50;
/// Scope globs shown on a card.
const SHOWN_GLOBS: usize = 4;
/// A graph node's size, and the characters of objective it shows.
const NODE_W: f32 = 184.0;
const NODE_H: f32 = 46.0;
const NODE_TEXT: usize = 28;
/// Past this many tasks, finished tasks are drawn small (ID only).
const COMPACT_FROM: usize = 150;
const SMALL_W: f32 = 112.0;
const SMALL_H: f32 = 24.0;

/// Each task's column, by ID: which IDs can be linked, and their glyph.
type Ids<'a> = std::collections::HashMap<&'a str, Column>;

/// How the page is written.
#[derive(Clone, Copy, Debug, Default)]
pub struct Page {
    /// `--watch`: reload every this many seconds (a meta refresh).
    pub refresh: Option<u32>,
}

/// Text for HTML (element content or a quoted attribute): `& < > " '`
/// escaped; C0 and C1 control characters (but tab and line feed), DEL, and
/// the bidirectional overrides shown as `\xNN` / `\u{NNNN}`.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    esc_into(&mut out, s);
    out
}

fn esc_into(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (0x80..0xa0).contains(&(c as u32))
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c) =>
            {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// Escaped text whose `` `code spans` `` become `<code>`.
fn code_spans(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            esc_into(&mut out, part);
            out.push_str("</code>");
        } else {
            esc_into(&mut out, part);
        }
    }
    out
}

/// A log's end as a terminal shows it: ANSI escape sequences (colours,
/// cursor moves, titles) removed, each line what follows its last carriage
/// return; any other control character is escaped later by [`esc`].
pub fn terminal_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            // CSI: parameters, intermediates, one final byte.
            Some('[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
            // OSC: up to BEL or ESC \.
            Some(']') => {
                chars.next();
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out.split('\n')
        .map(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            match line.rsplit_once('\r') {
                Some((before, "")) => before.rsplit('\r').next().unwrap_or(""),
                Some((_, after)) => after,
                None => line,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The glyph that says a node's column without colour.
fn glyph(column: Column) -> &'static str {
    match column {
        Column::Waiting => "○",
        Column::Ready => "▶",
        Column::InProgress => "●",
        Column::Partial => "◐",
        Column::Failed => "✗",
        Column::Blocked => "■",
        Column::Done => "✓",
        Column::Split => "◇",
        Column::Cancelled => "⊘",
    }
}

/// RFC 3339 (UTC) of a Unix time.
fn iso(secs: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
    crate::dispatch::time::rfc3339(t)
}

fn time_el(iso: &str) -> String {
    let shown = iso.trim_end_matches('Z').replacen('T', " ", 1);
    format!("<time datetime=\"{}\">{} UTC</time>", esc(iso), esc(&shown))
}

fn task_link(board_ids: &Ids<'_>, id: &str) -> String {
    if board_ids.contains_key(id) {
        format!("<a href=\"#task-{0}\">{0}</a>", esc(id))
    } else {
        format!("<span>{}</span>", esc(id))
    }
}

/// Render the page.
pub fn render(board: &Board, page: Page) -> String {
    let ids: Ids<'_> = board
        .cards
        .iter()
        .map(|c| (c.id.as_str(), c.column))
        .collect();
    let mut s = String::with_capacity(64 * 1024 + board.cards.len() * 2400);
    let title = if board.title.is_empty() {
        "Program".to_string()
    } else {
        board.title.clone()
    };
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src '{CSS_HASH}'; script-src '{JS_HASH}'; img-src data:; base-uri 'none'; form-action 'none'\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"color-scheme\" content=\"light dark\">\n\
<meta name=\"generator\" content=\"orch {}\">\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(secs) = page.refresh {
        let _ = writeln!(s, "<meta http-equiv=\"refresh\" content=\"{secs}\">");
    }
    let _ = write!(
        s,
        "<title>{} · orch board</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
<a class=\"skip\" href=\"#board\">Skip to the board</a>\n",
        esc(&title)
    );
    header(&mut s, board, &title, page);
    s.push_str("<main>\n");
    columns(&mut s, board, &ids);
    graph(&mut s, board);
    timeline(&mut s, board, &ids);
    runs(&mut s, board, &ids);
    decisions(&mut s, board, &ids);
    s.push_str("</main>\n");
    let _ = write!(
        s,
        "<footer>\n<p>Written by <code>orch board</code> from <code>{}</code> at {}. \
This page is one file: it loads nothing from the network or from disk, and reads the same without JavaScript. \
<code>orch board --watch</code> keeps it current.</p>\n</footer>\n<script>{JS}</script>\n</body>\n</html>\n",
        esc(&board.dir),
        time_el(&board.generated)
    );
    s
}

fn header(s: &mut String, board: &Board, title: &str, page: Page) {
    let _ = write!(s, "<header>\n<h1>{}</h1>\n<p class=\"sub\">", esc(title));
    if !board.plan_id.is_empty() {
        let _ = write!(s, "Plan <code>{}</code>", esc(&board.plan_id));
        if !board.plan_status.is_empty() {
            let _ = write!(s, " ({})", esc(&board.plan_status));
        }
        s.push_str(" · ");
    }
    let _ = write!(
        s,
        "<code>{}</code> · {} · generated {}",
        esc(&board.dir),
        super::markdown::counts(board),
        time_el(&board.generated)
    );
    if let Some(secs) = page.refresh {
        let _ = write!(
            s,
            " · <span class=\"live\">live: reloads every {secs} s while <code>orch board --watch</code> runs</span>"
        );
    }
    s.push_str("</p>\n<ul class=\"summary\" aria-label=\"Tasks per column\">\n");
    for c in Column::ALL {
        let n = board.count(c);
        if n == 0 {
            continue;
        }
        let _ = writeln!(
            s,
            "<li class=\"chip st-{k}\"><a href=\"#col-{k}\"><span class=\"g\" aria-hidden=\"true\">{g}</span> {n} {t}</a></li>",
            k = c.key(),
            g = glyph(c),
            t = c.title().to_lowercase()
        );
    }
    s.push_str("</ul>\n");
    if board.lint_errors > 0 {
        let _ = writeln!(
            s,
            "<p class=\"alert\" role=\"note\"><strong>The program has {} lint error(s)</strong>: this board may be incomplete. <code>orch lint</code> lists them.</p>",
            board.lint_errors
        );
    }
    let _ = writeln!(
        s,
        "<nav aria-label=\"Sections\"><ul>\
<li><a href=\"#board\">Board</a></li>\
<li><a href=\"#graph\">Dependency graph</a></li>\
<li><a href=\"#timeline\">Timeline ({})</a></li>\
<li><a href=\"#runs\">Latest runs ({})</a></li>\
<li><a href=\"#decisions\">Decisions ({})</a></li>\
</ul></nav>\n</header>",
        board.timeline.len(),
        board.runs.len(),
        board.decisions.len()
    );
}

fn card_html(s: &mut String, c: &Card, ids: &Ids<'_>) {
    let _ = write!(
        s,
        "<li><article class=\"card st-{col}\" id=\"task-{id}\" data-status=\"{st}\" data-column=\"{col}\" data-phase=\"{ph}\" data-owner=\"{ow}\" aria-labelledby=\"task-{id}-h\">\
<h4 id=\"task-{id}-h\"><a href=\"#node-{id}\" title=\"Show {id} in the graph\">{id}</a></h4>\
<p class=\"obj\">{obj}</p><p class=\"meta\">",
        col = c.column.key(),
        id = esc(&c.id),
        st = c.status.as_str(),
        ph = esc(c.phase.as_deref().unwrap_or("")),
        ow = esc(&c.owner),
        obj = esc(&c.objective),
    );
    let mut parts = Vec::new();
    if !c.owner.is_empty() {
        parts.push(format!("<span class=\"k\">owner</span> {}", esc(&c.owner)));
    }
    if let Some(p) = &c.phase {
        parts.push(format!("<span class=\"k\">phase</span> {}", esc(p)));
    }
    if let Some(g) = &c.group {
        parts.push(format!("<span class=\"k\">group</span> {}", esc(g)));
    }
    s.push_str(&parts.join(" · "));
    let full = if c.prohibited.is_empty() {
        c.allowed.join(", ")
    } else {
        format!(
            "{} except {}",
            c.allowed.join(", "),
            c.prohibited.join(", ")
        )
    };
    let _ = write!(
        s,
        "</p><p class=\"scope\" title=\"{}\"><span class=\"k\">scope</span> ",
        esc(&full)
    );
    if !c.has_card {
        s.push_str("<em>no card yet</em>");
    } else if c.allowed.is_empty() {
        s.push_str("<em>none</em>");
    } else {
        for g in c.allowed.iter().take(SHOWN_GLOBS) {
            let _ = write!(s, "<code>{}</code> ", esc(g));
        }
        if c.allowed.len() > SHOWN_GLOBS {
            let _ = write!(s, "+{} ", c.allowed.len() - SHOWN_GLOBS);
        }
        if !c.prohibited.is_empty() {
            s.push_str("<span class=\"k\">except</span> ");
            for g in c.prohibited.iter().take(SHOWN_GLOBS) {
                let _ = write!(s, "<code>{}</code> ", esc(g));
            }
            if c.prohibited.len() > SHOWN_GLOBS {
                let _ = write!(s, "+{}", c.prohibited.len() - SHOWN_GLOBS);
            }
        }
    }
    s.push_str("</p>");
    if let Some(n) = &c.note {
        let _ = write!(s, "<p class=\"why\">{}</p>", code_spans(n));
    }
    if !c.waiting.is_empty() {
        // A todo task waits; another (a failed one waiting on its root
        // cause) depends on what is not finished.
        let lead = if c.status == crate::model::TaskStatus::Todo {
            "Waiting on"
        } else {
            "Depends on, unfinished:"
        };
        let _ = write!(s, "<div class=\"why\">{lead} <ul class=\"deps\">");
        for (id, st) in &c.waiting {
            let column = ids.get(id.as_str()).copied();
            let _ = write!(
                s,
                "<li><span class=\"g\" aria-hidden=\"true\">{}</span>{} <span class=\"dst\">{}</span></li>",
                column.map_or("?", glyph),
                task_link(ids, id),
                esc(&st.replace('_', " "))
            );
        }
        s.push_str("</ul></div>");
    }
    s.push_str("</article></li>\n");
}

fn columns(s: &mut String, board: &Board, ids: &Ids<'_>) {
    s.push_str(
        "<section id=\"board\" aria-labelledby=\"board-h\">\n<h2 id=\"board-h\">Board</h2>\n\
<form id=\"filter\" class=\"filter\" role=\"search\" aria-label=\"Filter the tasks\" hidden>\
<label>Filter <input type=\"search\" id=\"fq\" placeholder=\"ID, objective, owner, scope…\" autocomplete=\"off\"></label> ",
    );
    s.push_str("<label>Phase <select id=\"fphase\"><option value=\"\">every phase</option>");
    for p in &board.phases {
        let _ = write!(
            s,
            "<option value=\"{0}\">{0}: {1}</option>",
            esc(&p.id),
            esc(&crate::util::clip_chars(&p.name, 40))
        );
    }
    s.push_str("</select></label> <label>Owner <select id=\"fowner\"><option value=\"\">every owner</option>");
    let mut owners: Vec<&str> = board
        .cards
        .iter()
        .map(|c| c.owner.as_str())
        .filter(|o| !o.is_empty())
        .collect();
    owners.sort_unstable();
    owners.dedup();
    for o in owners {
        let _ = write!(s, "<option>{}</option>", esc(o));
    }
    s.push_str(
        "</select></label> <label><input type=\"checkbox\" id=\"fdone\"> hide done</label> \
<output id=\"fcount\" aria-live=\"polite\"></output></form>\n<div class=\"columns\">\n",
    );
    for col in Column::ALL {
        let cards: Vec<&Card> = board.cards.iter().filter(|c| c.column == col).collect();
        let k = col.key();
        let _ = write!(
            s,
            "<section class=\"col st-{k}{empty}\" id=\"col-{k}\" data-column=\"{k}\" aria-labelledby=\"col-{k}-h\">\n\
<h3 id=\"col-{k}-h\"><span class=\"g\" aria-hidden=\"true\">{g}</span> {t} <span class=\"count\">{n}</span></h3>\n\
<p class=\"blurb{sr}\">{b}</p>\n",
            empty = if cards.is_empty() { " empty" } else { "" },
            g = glyph(col),
            t = col.title(),
            n = cards.len(),
            b = col.blurb(),
            sr = if cards.is_empty() { " sr" } else { "" },
        );
        if cards.is_empty() {
            s.push_str("<p class=\"sr\">none</p>\n</section>\n");
            continue;
        }
        let _ = writeln!(
            s,
            "<ol class=\"cards\" aria-label=\"{} tasks\">",
            col.title()
        );
        for c in &cards {
            card_html(s, c, ids);
        }
        s.push_str("</ol>\n");
        s.push_str("</section>\n");
    }
    s.push_str("</div>\n</section>\n");
}

/// Whether a card's node is drawn small: a finished task (done, split,
/// cancelled) in a large program, where the open work needs the room.
fn compact(board: &Board, c: &Card) -> bool {
    board.cards.len() > COMPACT_FROM
        && matches!(c.column, Column::Done | Column::Split | Column::Cancelled)
}

/// Lay the graph out: one node per card, clusters by phase.
pub fn graph_layout(board: &Board) -> Layout {
    let g = Graph {
        nodes: board
            .cards
            .iter()
            .map(|c| {
                let (width, height) = if compact(board, c) {
                    (SMALL_W, SMALL_H)
                } else {
                    (NODE_W, NODE_H)
                };
                Node {
                    cluster: c.cluster,
                    width,
                    height,
                }
            })
            .collect(),
        edges: board.edges.clone(),
        clusters: board.phases.len() + 1,
    };
    layout::layout(&g, &Options::default())
}

fn f(v: f32) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// A smooth path through the route's points: a cubic Bézier from each point
/// to the next, leaving and arriving horizontally.
fn path_d(points: &[(f32, f32)]) -> String {
    let mut d = String::new();
    let Some(&(x0, y0)) = points.first() else {
        return d;
    };
    let _ = write!(d, "M{},{}", f(x0), f(y0));
    for w in points.windows(2) {
        let ((ax, ay), (bx, by)) = (w[0], w[1]);
        let dx = (bx - ax) / 2.0;
        let _ = write!(
            d,
            "C{},{} {},{} {},{}",
            f(ax + dx),
            f(ay),
            f(bx - dx),
            f(by),
            f(bx),
            f(by)
        );
    }
    d
}

fn graph(s: &mut String, board: &Board) {
    let l = graph_layout(board);
    let waiting_edges = board
        .edges
        .iter()
        .filter(|&&(from, to)| {
            board.cards[to]
                .waiting
                .iter()
                .any(|(id, _)| *id == board.cards[from].id)
        })
        .count();
    let (w, h) = (l.width.max(1.0), l.height.max(1.0));
    let _ = write!(
        s,
        "<section id=\"graph\" aria-labelledby=\"graph-h\">\n<h2 id=\"graph-h\">Dependency graph</h2>\n\
<p class=\"intro\">Phases left to right, each task right of what it depends on; an arrow points from a dependency to the task that needs it. \
Dark arrows are dependencies not yet satisfied. Select a task to see its card.</p>\n\
<div class=\"gtools\" id=\"gtools\" hidden><button type=\"button\" id=\"zout\" aria-label=\"Zoom out\">−</button>\
<button type=\"button\" id=\"zin\" aria-label=\"Zoom in\">+</button>\
<button type=\"button\" id=\"zfit\">Fit width</button><button type=\"button\" id=\"z1\">Actual size</button>\
<span id=\"zlevel\" aria-live=\"polite\"></span></div>\n"
    );
    if !board.phases.is_empty() {
        s.push_str("<nav class=\"phases\" aria-label=\"Phases in the graph\"><ul>");
        for (i, p) in board.phases.iter().enumerate() {
            if l.clusters.get(i).copied().flatten().is_none() {
                continue;
            }
            let n = board.cards.iter().filter(|c| c.cluster == i).count();
            let _ = write!(
                s,
                "<li><a href=\"#phase-{0}\">{0}: {1} ({n})</a></li>",
                esc(&p.id),
                esc(&crate::util::clip_chars(&p.name, 48))
            );
        }
        s.push_str("</ul></nav>\n");
    }
    let _ = write!(
        s,
        "<figure class=\"gfig\">\n<div class=\"gscroll\" id=\"gscroll\" tabindex=\"0\" role=\"region\" aria-label=\"Dependency graph, scrollable\">\n\
<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"gsvg\" width=\"{fw}\" height=\"{fh}\" viewBox=\"0 0 {fw} {fh}\" role=\"group\" aria-labelledby=\"gtitle gdesc\" data-width=\"{fw}\" data-height=\"{fh}\">\n\
<title id=\"gtitle\">Dependency graph of {title}</title>\n\
<desc id=\"gdesc\">{n} tasks in {phases} phases, {e} dependencies, {we} of them not yet satisfied. The board above lists the same tasks, each card naming what it waits on.</desc>\n\
<defs><marker id=\"ah\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\"/></marker>\
<marker id=\"ahw\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\"/></marker></defs>\n",
        fw = f(w),
        fh = f(h),
        title = esc(if board.title.is_empty() {
            "the program"
        } else {
            &board.title
        }),
        n = board.cards.len(),
        phases = l.clusters.iter().filter(|c| c.is_some()).count(),
        e = board.edges.len(),
        we = waiting_edges
    );
    s.push_str("<g class=\"bands\">\n");
    // The topmost node of each band: its label sits just above it.
    let mut top = vec![f32::INFINITY; l.clusters.len()];
    for (c, p) in board.cards.iter().zip(&l.nodes) {
        if let Some(t) = top.get_mut(c.cluster) {
            *t = t.min(p.y);
        }
    }
    for (i, band) in l.clusters.iter().enumerate() {
        let Some(b) = band else { continue };
        let label_y = (top[i] - 10.0).max(24.0);
        let (id, name) = match board.phases.get(i) {
            Some(p) => (p.id.as_str(), p.name.as_str()),
            None => ("none", "outside every phase"),
        };
        let text = format!("{id}: {name}");
        // The label fits its band: about 7 px a character at 13 px.
        let room = ((b.width - 16.0) / 7.2).max(4.0) as usize;
        let _ = writeln!(
            s,
            "<g class=\"band\" id=\"phase-{}\" data-x=\"{}\" data-top=\"{}\"><rect x=\"{}\" y=\"4\" width=\"{}\" height=\"{}\" rx=\"8\"/>\
<text x=\"{}\" y=\"{}\">{}</text></g>",
            esc(id),
            f(b.x),
            f(label_y - 16.0),
            f(b.x + 2.0),
            f(b.width - 4.0),
            f(h - 8.0),
            f(b.x + 12.0),
            f(label_y),
            esc(&crate::util::clip_chars(&text, room))
        );
    }
    s.push_str("</g>\n<g class=\"edges\">\n");
    for (i, r) in l.edges.iter().enumerate() {
        if r.points.is_empty() {
            continue;
        }
        let (from, to) = board.edges[i];
        let wait = board.cards[to]
            .waiting
            .iter()
            .any(|(id, _)| *id == board.cards[from].id);
        let (class, marker) = if wait {
            ("edge wait", "ahw")
        } else {
            ("edge", "ah")
        };
        let end = if r.reversed {
            "marker-start"
        } else {
            "marker-end"
        };
        let _ = writeln!(
            s,
            "<path class=\"{class}\" d=\"{}\" {end}=\"url(#{marker})\" data-from=\"{}\" data-to=\"{}\"/>",
            path_d(&r.points),
            esc(&board.cards[from].id),
            esc(&board.cards[to].id)
        );
    }
    s.push_str("</g>\n<g class=\"nodes\">\n");
    for (c, p) in board.cards.iter().zip(&l.nodes) {
        let status = if c.column == Column::Ready {
            "ready".to_string()
        } else {
            c.status.as_str().replace('_', " ")
        };
        let small = compact(board, c);
        let (w, h) = if small {
            (SMALL_W, SMALL_H)
        } else {
            (NODE_W, NODE_H)
        };
        let _ = write!(
            s,
            "<a class=\"node st-{col}{cls}\" id=\"node-{id}\" href=\"#task-{id}\" data-task=\"{id}\" data-column=\"{col}\">\
<title>{id} ({status}): {obj}</title>\
<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"6\"/>",
            col = c.column.key(),
            cls = if small { " small" } else { "" },
            id = esc(&c.id),
            obj = esc(&c.objective),
            x = f(p.x),
            y = f(p.y),
            w = f(w),
            h = f(h),
        );
        let ty = if small { p.y + 16.5 } else { p.y + 19.0 };
        let _ = write!(
            s,
            "<text class=\"nid\" x=\"{}\" y=\"{ty}\">{}</text><text class=\"ng\" x=\"{}\" y=\"{ty}\" aria-hidden=\"true\">{}</text>",
            f(p.x + 8.0),
            esc(&c.id),
            f(p.x + w - 8.0),
            glyph(c.column),
            ty = f(ty),
        );
        if !small {
            let _ = write!(
                s,
                "<text class=\"nobj\" x=\"{}\" y=\"{}\">{}</text>",
                f(p.x + 9.0),
                f(p.y + 36.0),
                esc(&crate::util::clip_chars(&c.objective, NODE_TEXT))
            );
        }
        s.push_str("</a>\n");
    }
    s.push_str("</g>\n</svg>\n</div>\n<figcaption><ul class=\"legend\" aria-label=\"Legend\">");
    for col in Column::ALL {
        let _ = write!(
            s,
            "<li class=\"chip st-{}\"><span class=\"g\" aria-hidden=\"true\">{}</span> {}</li>",
            col.key(),
            glyph(col),
            col.title().to_lowercase()
        );
    }
    let _ = write!(
        s,
        "<li class=\"lg-edge\">dark arrow: not yet satisfied</li></ul>\
<p class=\"sub\">{} layers, {} edge crossings left after ordering.</p></figcaption>\n</figure>\n</section>\n",
        l.layers, l.crossings
    );
}

fn entry_html(s: &mut String, e: &Entry, ids: &Ids<'_>) {
    let when = match e.time {
        Some(t) => time_el(&iso(t)),
        None => "<span class=\"undated\">undated</span>".to_string(),
    };
    let tasks: Vec<String> = e.tasks.iter().map(|t| task_link(ids, t)).collect();
    match &e.kind {
        EntryKind::Row {
            result,
            owner,
            evidence,
            next,
        } => {
            let r = result.trim().trim_matches('`').to_ascii_lowercase();
            let class = match r.as_str() {
                "pass" | "partial" | "fail" => r.as_str(),
                _ => "other",
            };
            let _ = write!(
                s,
                "<li class=\"tl r-{class}\"><p class=\"head\"><span class=\"when\">{when}</span> \
<span class=\"badge r-{class}\">{}</span> {} <span class=\"who\">{}</span></p>",
                esc(if r.is_empty() { "no result" } else { &r }),
                tasks.join(", "),
                esc(owner)
            );
            if !evidence.is_empty() {
                let _ = write!(s, "<p class=\"ev\">{}</p>", code_spans(evidence));
            }
            if !next.is_empty() {
                let _ = write!(
                    s,
                    "<p class=\"next\"><span class=\"k\">next</span> {}</p>",
                    code_spans(next)
                );
            }
            s.push_str("</li>\n");
        }
        EntryKind::Transition { subject, reason } => {
            let _ = write!(
                s,
                "<li class=\"tl tr\"><p class=\"head\"><span class=\"when\">{when}</span> \
<span class=\"badge tr\">transition</span> <code>{}</code> {}</p>",
                esc(subject),
                tasks.join(", ")
            );
            if let Some(r) = reason {
                let _ = write!(
                    s,
                    "<p class=\"ev\"><span class=\"k\">reason</span> {}</p>",
                    code_spans(r)
                );
            }
            s.push_str("</li>\n");
        }
    }
}

fn timeline(s: &mut String, board: &Board, ids: &Ids<'_>) {
    let _ = writeln!(
        s,
        "<section id=\"timeline\" aria-labelledby=\"timeline-h\">\n<h2 id=\"timeline-h\">Timeline</h2>\n\
<p class=\"intro\">The Evidence Ledger and the transitions orch committed, newest first. A row is dated by the <code>orch record</code> commit that wrote it; rows written by hand are undated.{}</p>",
        board
            .history_note
            .as_ref()
            .map(|n| format!(" ({})", esc(n)))
            .unwrap_or_default()
    );
    if board.timeline.is_empty() {
        s.push_str("<p class=\"none\">The ledger has no rows yet.</p>\n</section>\n");
        return;
    }
    s.push_str("<ol class=\"timeline\">\n");
    let newest: Vec<&Entry> = board.timeline.iter().rev().collect();
    for e in newest.iter().take(SHOWN_ENTRIES) {
        entry_html(s, e, ids);
    }
    s.push_str("</ol>\n");
    if newest.len() > SHOWN_ENTRIES {
        let _ = writeln!(
            s,
            "<details class=\"more\"><summary>Show {} earlier entries</summary>\n<ol class=\"timeline\">",
            newest.len() - SHOWN_ENTRIES
        );
        for e in &newest[SHOWN_ENTRIES..] {
            entry_html(s, e, ids);
        }
        s.push_str("</ol>\n</details>\n");
    }
    let _ = writeln!(s, "<h3 id=\"unverified-h\">Unverified items</h3>");
    if board.unverified.is_empty() {
        s.push_str("<p class=\"none\">none</p>\n");
    } else {
        s.push_str(
            "<table aria-labelledby=\"unverified-h\"><thead><tr><th scope=\"col\">Item</th><th scope=\"col\">Risk</th><th scope=\"col\">Owner</th></tr></thead><tbody>\n",
        );
        for (item, risk, owner) in &board.unverified {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                code_spans(item),
                code_spans(risk),
                esc(owner)
            );
        }
        s.push_str("</tbody></table>\n");
    }
    s.push_str("</section>\n");
}

fn verdict_word(v: &crate::dispatch::harvest::Verdict) -> &'static str {
    v.proposal.map_or("none", |p| p.as_str())
}

fn tail_html(s: &mut String, log: &str, tail: &Result<Tail, String>) {
    match tail {
        Ok(t) => {
            let _ = write!(
                s,
                "<p class=\"logh\">Log <code>{}</code> ({} bytes){}</p><pre class=\"log\" tabindex=\"0\">{}</pre>",
                esc(log),
                t.bytes,
                if t.cut { ", its last lines" } else { "" },
                esc(&terminal_text(&t.text))
            );
        }
        Err(e) => {
            let _ = write!(
                s,
                "<p class=\"logh\">Log <code>{}</code>: {}</p>",
                esc(log),
                esc(e)
            );
        }
    }
}

fn list_items(s: &mut String, label: &str, items: &[String], code: bool) {
    if items.is_empty() {
        return;
    }
    let _ = write!(s, "<dt>{label}</dt><dd><ul>");
    for item in items.iter().take(SHOWN_FILES) {
        if code {
            let _ = write!(s, "<li><code>{}</code></li>", esc(item));
        } else {
            let _ = write!(s, "<li>{}</li>", code_spans(item));
        }
    }
    if items.len() > SHOWN_FILES {
        let _ = write!(s, "<li>…and {} more</li>", items.len() - SHOWN_FILES);
    }
    s.push_str("</ul></dd>");
}

fn run_html(s: &mut String, i: usize, run: &Run, ids: &Ids<'_>) {
    let _ = write!(
        s,
        "<section class=\"run\" aria-labelledby=\"run-{i}-h\">\n<h3 id=\"run-{i}-h\">Run <code>{}</code></h3>\n<p class=\"sub\">started {}",
        esc(&run.id),
        time_el(&run.started)
    );
    match &run.ended {
        Some(e) => {
            let _ = write!(s, " · ended {}", time_el(e));
        }
        None => s.push_str(" · <strong>never ended</strong> (orch was stopped, or it still runs)"),
    }
    let _ = write!(s, " · {} at once", run.jobs);
    if run.interrupted {
        s.push_str(" · <strong>interrupted</strong> (Ctrl-C or SIGTERM)");
    }
    s.push_str("</p>\n<table class=\"runt\"><thead><tr><th scope=\"col\">Task</th><th scope=\"col\">Verdict</th><th scope=\"col\">Recorded</th><th scope=\"col\">Exit</th><th scope=\"col\">Time</th><th scope=\"col\">Changed</th><th scope=\"col\">Outside scope</th></tr></thead><tbody>\n");
    for t in &run.tasks {
        let v = &t.verdict;
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\"><a href=\"#run-{i}-{id}\">{id}</a></th><td><span class=\"badge v-{w}\">{w}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            v.recorded.map_or("-", |r| r.as_str()),
            esc(&v.exit),
            v.duration_ms
                .map(|d| crate::dispatch::time::human(std::time::Duration::from_millis(d)))
                .unwrap_or_else(|| "-".into()),
            v.changed
                .as_ref()
                .map_or("unknown".to_string(), |c| c.len().to_string()),
            v.violations.len(),
            id = esc(&v.task),
            w = verdict_word(v),
        );
    }
    s.push_str("</tbody></table>\n");
    for t in &run.tasks {
        let v = &t.verdict;
        let open = if matches!(v.proposal, Some(crate::model::Outcome::Pass)) {
            ""
        } else {
            " open"
        };
        let _ = write!(
            s,
            "<details class=\"rt\" id=\"run-{i}-{id}\"{open}><summary>{link} <span class=\"badge v-{w}\">{w}</span> exit {}</summary>\n<dl>",
            esc(&v.exit),
            id = esc(&v.task),
            link = task_link(ids, &v.task),
            w = verdict_word(v),
        );
        list_items(s, "Why", &v.reasons, false);
        list_items(s, "Notes", &v.notes, false);
        match &v.changed {
            Some(c) if c.is_empty() => s.push_str("<dt>Changed files</dt><dd>none</dd>"),
            Some(c) => list_items(s, "Changed files", c, true),
            None => s.push_str("<dt>Changed files</dt><dd>unknown</dd>"),
        }
        list_items(s, "Outside its scope", &v.violations, true);
        list_items(s, "Evidence", &v.evidence, false);
        s.push_str("</dl>");
        tail_html(s, &v.log, &t.tail);
        s.push_str("</details>\n");
    }
    s.push_str("</section>\n");
}

fn runs(s: &mut String, board: &Board, ids: &Ids<'_>) {
    let _ = writeln!(
        s,
        "<section id=\"runs\" aria-labelledby=\"runs-h\">\n<h2 id=\"runs-h\">Latest runs</h2>\n\
<p class=\"intro\">The newest {} dispatch runs, newest first, each task judged as <code>orch harvest</code> judges it, with the end of its log.</p>",
        super::RUNS_SHOWN
    );
    for (file, why) in &board.bad_runs {
        let _ = writeln!(
            s,
            "<p class=\"alert\">Run file <code>{}</code> cannot be read: {}</p>",
            esc(file),
            esc(why)
        );
    }
    if board.runs.is_empty() {
        s.push_str("<p class=\"none\">No dispatch run yet (<code>orch dispatch</code> runs the cards' agents).</p>\n");
    }
    for (i, run) in board.runs.iter().enumerate() {
        run_html(s, i, run, ids);
    }
    s.push_str("</section>\n");
}

fn decisions(s: &mut String, board: &Board, ids: &Ids<'_>) {
    s.push_str(
        "<section id=\"decisions\" aria-labelledby=\"decisions-h\">\n<h2 id=\"decisions-h\">Open re-planning decisions</h2>\n\
<p class=\"intro\">What the playbook's re-planning rules ask now (<code>orch replan</code>); <code>orch replan --apply</code> writes those that need no human words.</p>\n",
    );
    if board.decisions.is_empty() {
        s.push_str("<p class=\"none\">No open decision.</p>\n</section>\n");
        return;
    }
    s.push_str("<ul class=\"decisions\">\n");
    for d in &board.decisions {
        let kind = crate::transition::replan::kebab(d.kind);
        let _ = write!(
            s,
            "<li><span class=\"badge d-{kind}\">{kind}</span> {} {} <span class=\"tag\">{}</span>",
            task_link(ids, &d.task),
            code_spans(&d.message),
            if d.needs_human {
                "needs you"
            } else {
                "replan --apply"
            }
        );
        if let Some(c) = &d.command {
            let _ = write!(
                s,
                "<br><span class=\"k\">run</span> <code>{}</code>",
                esc(c)
            );
        }
        s.push_str("</li>\n");
    }
    s.push_str("</ul>\n</section>\n");
}

/// The page's style sheet. Its hash is in the page's CSP: a change here
/// needs [`CSS_HASH`] updated (a unit test says the new value).
pub const CSS: &str = include_str!("page.css");

/// The page's script: filters, zoom, node highlighting, and the reader's
/// place kept across a `--watch` reload. The page reads the same without
/// it. Its hash is in the page's CSP (see [`JS_HASH`]).
pub const JS: &str = include_str!("page.js");

/// `sha256-` and the Base64 SHA-256 of [`CSS`] and [`JS`], for the CSP.
pub const CSS_HASH: &str = "sha256-eGxdXEDSzVE/9wYFYFwJAReVc6MUZPzkVDwLXr2vRzU=";
pub const JS_HASH: &str = "sha256-35SO557w6fV3tVCDAySllLhW8igeHDdbWx9WB6yIOOQ=";

#[cfg(test)]
mod tests {
    use super::*;

    fn csp_hash(text: &str) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(text.as_bytes());
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut b64 = String::new();
        for chunk in digest.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            for i in 0..4 {
                if i <= chunk.len() {
                    b64.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    b64.push('=');
                }
            }
        }
        format!("sha256-{b64}")
    }

    #[test]
    fn csp_hashes_match_the_style_and_script() {
        assert_eq!(
            (CSS_HASH, JS_HASH),
            (csp_hash(CSS).as_str(), csp_hash(JS).as_str()),
            "update CSS_HASH and JS_HASH"
        );
        // A known vector: SHA-256 of "abc".
        assert_eq!(
            csp_hash("abc"),
            "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }

    #[test]
    fn escaping_covers_markup_controls_and_bidi() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(
            esc("a\u{1b}[31mb\u{7}\u{7f}\u{85}"),
            "a\\x1b[31mb\\x07\\x7f\\u{0085}"
        );
        assert_eq!(
            esc("x\u{202e}y\u{2066}z\tq\n"),
            "x\\u{202e}y\\u{2066}z\tq\n"
        );
        assert_eq!(code_spans("run `a<b` now"), "run <code>a&lt;b</code> now");
    }

    #[test]
    fn terminal_text_drops_ansi_and_keeps_what_a_terminal_shows() {
        assert_eq!(terminal_text("\u{1b}[1;32mok\u{1b}[0m done"), "ok done");
        assert_eq!(terminal_text("\u{1b}]0;title\u{7}x"), "x");
        assert_eq!(terminal_text("10%\r50%\r100%\nnext\r\n"), "100%\nnext\n");
        // A lone escape stays, for esc to show.
        assert_eq!(esc(&terminal_text("a\u{1b}b")), "a\\x1bb");
    }

    #[test]
    fn paths_are_smooth_and_rounded() {
        assert_eq!(path_d(&[]), "");
        assert_eq!(path_d(&[(0.0, 0.0), (10.0, 5.04)]), "M0,0C5,0 5,5 10,5");
    }
}
