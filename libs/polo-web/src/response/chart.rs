//! A daily money trend drawn on the server as SVG (`templates/partials/chart.html`): no
//! script, allowed by the strict CSP (inline SVG elements, no inline style), readable in
//! dark mode through `currentColor`. A y-axis of round values with grid lines; days below
//! zero (credits, refunds) hang under the zero line.

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

/// One value of the y-axis: its grid line's height and its label's.
pub struct Tick {
    pub y: String,
    pub label_y: String,
    pub label: String,
}

/// The chart of `days`: bars between the axis's lowest and highest tick, `width` x `height`
/// units (the height is the rendered height in CSS pixels, so the axis labels beside it
/// line up).
pub struct Chart {
    /// The `id` of the `<svg>`.
    pub id: &'static str,
    pub width: u32,
    pub height: u32,
    pub bar_width: String,
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
    pub max_label: String,
    pub first_label: String,
    pub last_label: String,
    /// Whether any bar is estimated (the caption says what lighter bars are).
    pub any_estimated: bool,
}

/// A round step (1, 2 or 5 times a power of ten) that splits `range` into about four.
fn round_step(range: f64) -> f64 {
    let raw = (range / 4.0).max(0.01);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(raw)
}

/// `m` as a float, for drawing (never for sums).
pub(crate) fn float(m: Money) -> f64 {
    m.amount().to_string().parse::<f64>().unwrap_or(0.0)
}

/// A tick's label: whole dollars where it is round, `-$50` below zero.
fn tick_label(v: f64) -> String {
    let cents = format!("{:.0}", v * 100.0).parse::<i64>().unwrap_or(0);
    let text = Money::from_scaled(cents.abs(), 2).to_grouped_cents();
    let text = text.trim_end_matches(".00");
    if cents < 0 { format!("-${text}") } else { format!("${text}") }
}

impl Chart {
    /// The chart of `days` (oldest first; each day's amount and whether it is still
    /// estimated), as `<svg id="{id}">`.
    pub fn of(id: &'static str, days: &[(Date, Money, bool)]) -> Chart {
        let (width, height) = (720u32, 160u32);
        let max = days.iter().map(|d| d.1).max().unwrap_or(Money::ZERO);
        let (lo, hi) = days.iter().fold((0f64, 0f64), |(lo, hi), d| (lo.min(float(d.1)), hi.max(float(d.1))));
        let step = round_step(hi - lo);
        let (bottom, top) = ((lo / step).floor() * step, ((hi / step).ceil() * step).max(step));
        let h = f64::from(height);
        let y_of = |v: f64| h * (top - v) / (top - bottom);
        let count = |n: usize| f64::from(u32::try_from(n).unwrap_or(u32::MAX));
        let slot = f64::from(width) / count(days.len().max(1));
        let bars = days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let v = float(d.1);
                let (upper, lower) = (y_of(v.max(0.0)), y_of(v.min(0.0)));
                Bar {
                    x: format!("{:.2}", count(i) * slot),
                    y: format!("{upper:.2}"),
                    height: format!("{:.2}", lower - upper),
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
        let mut ticks = Vec::new();
        let mut v = bottom;
        while v <= top + step / 2.0 {
            let y = y_of(v);
            ticks.push(Tick {
                y: format!("{y:.2}"),
                label_y: format!("{:.2}", (y + 3.5).clamp(9.0, h - 1.0)),
                label: tick_label(v),
            });
            v += step;
        }
        Chart {
            id,
            width,
            height,
            bar_width: format!("{:.2}", (slot * 0.8).max(0.5)),
            bars,
            ticks,
            max_label: max.to_grouped_cents(),
            first_label: days.first().map(|d| d.0.to_string()).unwrap_or_default(),
            last_label: days.last().map(|d| d.0.to_string()).unwrap_or_default(),
            any_estimated: days.iter().any(|d| d.2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_axis_has_round_values_from_zero_past_the_highest_day() {
        let days = [(date!(2026 - 11 - 01), Money::from_scaled(123_456, 2), false)];
        let chart = Chart::of("c", &days);
        let labels: Vec<&str> = chart.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["$0", "$500", "$1,000", "$1,500"]);
        assert_eq!(chart.ticks[0].y, "160.00", "zero at the bottom");
    }

    #[test]
    fn a_credit_hangs_below_the_zero_line() {
        let days = [
            (date!(2026 - 11 - 01), Money::from_scaled(10_000, 2), false),
            (date!(2026 - 11 - 02), Money::from_scaled(-5_000, 2), false),
        ];
        let chart = Chart::of("c", &days);
        let zero = chart.ticks.iter().find(|t| t.label == "$0").unwrap();
        assert_eq!(chart.bars[1].y, zero.y, "the credit starts at zero");
        assert!(chart.bars.iter().all(|b| b.height.parse::<f64>().unwrap() >= 0.0));
        assert_eq!(chart.ticks.first().unwrap().label, "-$50");
    }
}
