//! A report as plain text, for the terminal (`polo report --dry-run`).

use std::fmt::Write as _;

use super::Report;

/// The headline, the facts and each table with aligned columns.
pub fn plain_text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {} ({} to {})", report.kind.title(), report.period, report.start, report.end);
    let _ = writeln!(out, "{}\n", report.body.headline);
    let width = report.body.facts.iter().map(|f| f.label.chars().count()).max().unwrap_or(0);
    for f in &report.body.facts {
        let _ = writeln!(out, "  {:<width$}  {}", f.label, f.value);
    }
    for section in &report.body.sections {
        let _ = writeln!(out, "\n{}", section.title);
        let mut widths: Vec<usize> = section.columns.iter().map(|c| c.chars().count()).collect();
        for row in &section.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let parts: Vec<String> = cells
                .iter()
                .zip(&widths)
                .zip(&section.numeric)
                .map(
                    |((cell, w), numeric)| {
                        if *numeric { format!("{cell:>w$}") } else { format!("{cell:<w$}") }
                    },
                )
                .collect();
            format!("  {}", parts.join("  ").trim_end())
        };
        let _ = writeln!(out, "{}", line(&section.columns));
        for row in &section.rows {
            let _ = writeln!(out, "{}", line(row));
        }
        if section.more > 0 {
            let _ = writeln!(out, "  … and {} more", section.more);
        }
        if let Some(note) = &section.note {
            let _ = writeln!(out, "  {note}");
        }
    }
    out
}
