//! A daily money trend drawn on the server as SVG (`templates/partials/chart.html`): no
//! script, allowed by the strict CSP (inline SVG elements, no inline style), readable in
//! dark mode through `currentColor`.

use polo_core::Money;
use time::Date;

/// One bar of the chart, in SVG user units.
pub struct Bar {
    pub x: String,
    pub y: String,
    pub height: String,
    /// Shown on hover (`<title>`).
    pub title: String,
    /// A day Cost Explorer still estimates: drawn lighter.
    pub estimated: bool,
}

/// The chart of `days`: bars scaled to the highest day, `width` x `height` units.
pub struct Chart {
    /// The `id` of the `<svg>`.
    pub id: &'static str,
    pub width: u32,
    pub height: u32,
    pub bar_width: String,
    pub bars: Vec<Bar>,
    pub max_label: String,
    pub first_label: String,
    pub last_label: String,
    /// Whether any bar is estimated (the caption says what lighter bars are).
    pub any_estimated: bool,
}

impl Chart {
    /// The chart of `days` (oldest first; each day's amount and whether it is still
    /// estimated), as `<svg id="{id}">`.
    pub fn of(id: &'static str, days: &[(Date, Money, bool)]) -> Chart {
        let (width, height) = (720u32, 160u32);
        let max = days.iter().map(|d| d.1).max().unwrap_or(Money::ZERO);
        let max_f = max.amount().to_string().parse::<f64>().unwrap_or(0.0);
        let count = |n: usize| f64::from(u32::try_from(n).unwrap_or(u32::MAX));
        let step = f64::from(width) / count(days.len().max(1));
        let bars = days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let v = d.1.amount().to_string().parse::<f64>().unwrap_or(0.0);
                let h = if max_f > 0.0 { (v / max_f) * f64::from(height - 20) } else { 0.0 };
                Bar {
                    x: format!("{:.2}", count(i) * step),
                    y: format!("{:.2}", f64::from(height) - h),
                    height: format!("{h:.2}"),
                    title: format!(
                        "{}: ${}{}",
                        d.0,
                        d.1.to_grouped_cents(),
                        if d.2 { " (estimated: may still change)" } else { "" }
                    ),
                    estimated: d.2,
                }
            })
            .collect();
        Chart {
            id,
            width,
            height,
            bar_width: format!("{:.2}", (step * 0.8).max(0.5)),
            bars,
            max_label: max.to_grouped_cents(),
            first_label: days.first().map(|d| d.0.to_string()).unwrap_or_default(),
            last_label: days.last().map(|d| d.0.to_string()).unwrap_or_default(),
            any_estimated: days.iter().any(|d| d.2),
        }
    }
}
