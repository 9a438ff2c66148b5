//! Timing of the scope module on synthetic workloads: pairwise overlap of
//! many cards (with literal-prefix pruning) and concrete matching of many
//! scopes against a large file list. Plain `fn main`, std::time only; run
//! with `cargo bench --bench scope`.

use std::time::Instant;

use orch::scope::{Budget, Pattern, Scope, match_files, pairwise_overlaps};

fn scope(allowed: &[String], prohibited: &[String]) -> Option<Scope> {
    let parse = |v: &[String]| {
        v.iter()
            .map(|s| Pattern::parse(s).ok())
            .collect::<Option<Vec<_>>>()
    };
    Some(Scope::new(parse(allowed)?, parse(prohibited)?))
}

fn main() {
    let budget = Budget::default();

    // 1. 500 disjoint cards, pairwise.
    let scopes: Vec<Scope> = (0..500)
        .filter_map(|i| scope(&[format!("pkg/m{i}/**")], &[format!("pkg/m{i}/gen/**")]))
        .collect();
    let started = Instant::now();
    let report = pairwise_overlaps(&scopes, &budget);
    let pairs = scopes.len() * (scopes.len() - 1) / 2;
    println!(
        "pairwise, {} prefix-disjoint scopes: {pairs} pairs, {} product searches, {} overlaps, {:?}",
        scopes.len(),
        report.searched,
        report.overlaps.len(),
        started.elapsed()
    );

    // 2. The same cards plus wide ones that literal prefixes cannot prune.
    let mut mixed = scopes.clone();
    mixed.extend((0..20).filter_map(|i| scope(&[format!("pkg/*/gen/v{i}/**/*.rs")], &[])));
    let started = Instant::now();
    let report = pairwise_overlaps(&mixed, &budget);
    println!(
        "pairwise, 500 cards + 20 wide globs: {} product searches, {} overlaps, {:?}",
        report.searched,
        report.overlaps.len(),
        started.elapsed()
    );

    // 3. No prefixes at all: every pair needs a product search.
    let wide: Vec<Scope> = (0..100)
        .filter_map(|i| scope(&[format!("**/m{i}/**/*.rs")], &["**/gen/**".to_string()]))
        .collect();
    let started = Instant::now();
    let report = pairwise_overlaps(&wide, &budget);
    println!(
        "pairwise, 100 unprunable scopes: {} product searches, {} overlaps, {:?}",
        report.searched,
        report.overlaps.len(),
        started.elapsed()
    );

    // 4. match_files: 200 scopes over 100,000 paths.
    let files: Vec<String> = (0..100_000)
        .map(|n| {
            let m = n % 500;
            let kind = match n % 10 {
                0 => "gen",
                1 => "docs",
                _ => "src",
            };
            let ext = if kind == "docs" { "md" } else { "rs" };
            format!("pkg/m{m}/{kind}/d{}/f{n}.{ext}", (n / 500) % 20)
        })
        .collect();
    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
    let many: Vec<Scope> = (0..200)
        .filter_map(|i| match i % 4 {
            0 => scope(&[format!("pkg/m{i}")], &[format!("pkg/m{i}/gen")]),
            1 => scope(&[format!("pkg/m{i}/src/**/*.rs")], &[]),
            2 => scope(
                &[
                    format!("pkg/m{i}/docs/*/*.md"),
                    format!("pkg/m{}/src", i + 1),
                ],
                &[format!("pkg/m{}/src/d1?/**", i + 1)],
            ),
            _ => scope(
                &[format!("**/d{}/*.rs", i % 20)],
                &["pkg/m1*/**".to_string()],
            ),
        })
        .collect();
    let started = Instant::now();
    let matched = match_files(&many, &refs);
    let elapsed = started.elapsed();
    let total: usize = matched.iter().map(Vec::len).sum();
    println!(
        "match_files, {} scopes x {} paths: {total} memberships, {elapsed:?}",
        many.len(),
        refs.len()
    );
}
