//! A role's daily utilization drawn on the server as SVG
//! (`templates/partials/percent_chart.html`): a bar per day on a fixed 0–100 % scale, a gap
//! where CloudWatch had no point, and the target a proposal must stay under as a dashed
//! line. No script; `currentColor` for dark mode.

use time::Date;

/// One day's bar, in SVG user units.
pub struct PercentBar {
    pub x: String,
    pub y: String,
    pub height: String,
    /// "2026-11-12: 11.0 %" or "2026-11-12: no data".
    pub title: String,
    /// No point that day: drawn as a short grey mark.
    pub missing: bool,
}

/// The chart of one role's days.
pub struct PercentChart {
    /// The `id` of the `<svg>`.
    pub id: String,
    pub width: u32,
    pub height: u32,
    pub bar_width: String,
    pub bars: Vec<PercentBar>,
    /// Where the target line is, and its label.
    pub target_y: String,
    pub target_label: String,
    pub first_label: String,
    pub last_label: String,
}

impl PercentChart {
    /// Bars for `days` (percent, oldest first, from `first_day`) with a line at `target`.
    pub fn of(id: String, first_day: Option<Date>, days: &[Option<f64>], target: f64) -> PercentChart {
        let (width, height) = (420u32, 120u32);
        let y_of = |v: f64| f64::from(height) * (1.0 - v.clamp(0.0, 100.0) / 100.0);
        let count = u32::try_from(days.len().max(1)).unwrap_or(1);
        let slot = f64::from(width) / f64::from(count);
        let bar = slot * 0.7;
        let day = |n: usize| {
            first_day.and_then(|d| d.checked_add(time::Duration::days(i64::try_from(n).unwrap_or(0))))
        };
        let label = |n: usize| day(n).map(|d| d.to_string()).unwrap_or_default();
        let bars = days
            .iter()
            .enumerate()
            .map(|(n, v)| {
                let x = f64::from(u32::try_from(n).unwrap_or(0)) * slot + (slot - bar) / 2.0;
                let (y, h, title) = match v {
                    Some(v) => (y_of(*v), f64::from(height) - y_of(*v), format!("{}: {v:.1} %", label(n))),
                    None => (f64::from(height) - 2.0, 2.0, format!("{}: no data", label(n))),
                };
                PercentBar {
                    x: format!("{x:.2}"),
                    y: format!("{y:.2}"),
                    height: format!("{:.2}", h.max(1.0)),
                    title,
                    missing: v.is_none(),
                }
            })
            .collect();
        PercentChart {
            id,
            width,
            height,
            bar_width: format!("{bar:.2}"),
            bars,
            target_y: format!("{:.2}", y_of(target)),
            target_label: format!("target {target:.0} %"),
            first_label: label(0),
            last_label: label(days.len().saturating_sub(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_day_is_a_mark_and_the_target_a_line() {
        let c = PercentChart::of(
            "cpu".into(),
            Some(time::macros::date!(2026 - 11 - 10)),
            &[Some(50.0), None, Some(100.0)],
            60.0,
        );
        assert_eq!(c.bars.len(), 3);
        assert_eq!((c.bars[0].y.as_str(), c.bars[0].height.as_str()), ("60.00", "60.00"));
        assert!(c.bars[1].missing && c.bars[1].title == "2026-11-11: no data");
        assert_eq!(c.bars[2].y, "0.00");
        assert_eq!(c.target_y, "48.00");
        assert_eq!((c.first_label.as_str(), c.last_label.as_str()), ("2026-11-10", "2026-11-12"));
    }
}
