//! What a dispatch shows while it runs: one live line per agent on a
//! terminal (indicatif, on stderr) with what the agent is doing (its last
//! command or file change, or that it waits on a person), else one plain
//! line per event. Text from agents has its control characters escaped.

use std::io::Write;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::process::{End, Event};
use super::time;

pub enum Ui<'w> {
    /// Live progress on stderr.
    Bars {
        multi: MultiProgress,
        bars: Vec<Option<ProgressBar>>,
    },
    /// One line per event.
    Lines(&'w mut dyn Write),
    Silent,
}

/// Agent text made safe for a terminal: control characters escaped.
fn safe(text: &str) -> String {
    crate::util::escape_controls(text).into_owned()
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// How an agent ended, in a few words, its control characters escaped
/// (an error can quote the configured command).
pub fn ended(end: &End) -> String {
    crate::util::escape_controls(&ended_raw(end)).into_owned()
}

fn ended_raw(end: &End) -> String {
    let took = time::human(end.duration);
    if let Some(e) = &end.spawn_error {
        return format!("could not start: {e}");
    }
    if let Some(k) = end.killed {
        return format!("{} after {took}; process group killed", k.describe());
    }
    match (end.code, end.signal) {
        (Some(c), _) => format!("exited {c} after {took}"),
        (None, Some(s)) => format!("ended by signal {s} after {took}"),
        _ => format!("ended after {took}"),
    }
}

impl Ui<'_> {
    pub fn bars<'a>(count: usize) -> Ui<'a> {
        Ui::Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: (0..count).map(|_| None).collect(),
        }
    }

    pub fn event(&mut self, ids: &[String], event: &Event<'_>) {
        match self {
            Ui::Silent => {}
            Ui::Lines(out) => {
                let line = match event {
                    Event::Started { job, pid } => format!("{} started (pid {pid})", ids[*job]),
                    Event::Stopping { job, why } => {
                        format!(
                            "{} {}: stopping its process group",
                            ids[*job],
                            why.describe()
                        )
                    }
                    Event::Finished { job, end } => format!("{} {}", ids[*job], ended(end)),
                    Event::Activity { job, what } => format!("{} {}", ids[*job], safe(what)),
                    Event::Tick { .. } => return,
                };
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            Ui::Bars { multi, bars } => match event {
                Event::Started { job, pid } => {
                    let width = ids.iter().map(String::len).max().unwrap_or(8);
                    let bar = multi.add(ProgressBar::new_spinner());
                    let style = ProgressStyle::with_template(&format!(
                        "{{spinner}} {{prefix:{width}}} {{elapsed:>4}} {{msg}}"
                    ))
                    .unwrap_or_else(|_| ProgressStyle::default_spinner());
                    bar.set_style(style);
                    bar.set_prefix(ids[*job].clone());
                    bar.set_message(format!("running (pid {pid})"));
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bars[*job] = Some(bar);
                }
                Event::Stopping { job, why } => {
                    if let Some(b) = &bars[*job] {
                        b.set_message(format!("{}: stopping", why.describe()));
                    }
                }
                Event::Finished { job, end } => {
                    let msg = ended(end);
                    match &bars[*job] {
                        Some(b) => b.finish_with_message(msg),
                        None => {
                            let _ = multi.println(format!("{} {msg}", ids[*job]));
                        }
                    }
                }
                Event::Activity { .. } => {}
                Event::Tick { running } => {
                    for (job, _, bytes, doing) in running.iter() {
                        if let Some(b) = &bars[*job]
                            && !b.message().contains("stopping")
                        {
                            b.set_message(match doing {
                                Some(d) => format!("{}, {}", size(*bytes), safe(d)),
                                None => format!("running, {} of output", size(*bytes)),
                            });
                        }
                    }
                }
            },
        }
    }
}
