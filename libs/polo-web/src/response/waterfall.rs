//! A cost change as a waterfall drawn on the server as SVG
//! (`templates/partials/waterfall.html`): the before total, one floating bar per cause
//! (rising or falling from where the last one ended), the after total. No script, no inline
//! style; colours through classes and `currentColor`.

use polo_core::Money;
use polo_core::cost_changes::signed;

use super::chart::float;

/// One bar, in SVG user units.
pub struct Step {
    pub x: String,
    pub y: String,
    pub height: String,
    /// Under the bar: `Before`, `Fleet size`, ….
    pub label: String,
    /// Above the bar: `$1,234.56`, `+$412.00`, `-$3.10`.
    pub value: String,
    pub value_y: String,
    /// `total`, `up` or `down`: which colour class the template gives it.
    pub kind: &'static str,
    /// From the top of this bar to the next one's start.
    pub link_y: String,
}

/// The waterfall of a change from `before` through each cause to `after`.
pub struct Waterfall {
    /// The `id` of the `<svg>`.
    pub id: &'static str,
    pub width: u32,
    pub height: u32,
    pub bar_width: String,
    pub steps: Vec<Step>,
    /// Where zero is, when a total is negative or the scale starts below it.
    pub zero_y: String,
}

impl Waterfall {
    /// Bars for `before`, each `(label, amount)` of `causes` in order, and `after`.
    pub fn of(id: &'static str, before: Money, causes: &[(&str, Money)], after: Money) -> Waterfall {
        let (width, height) = (720u32, 200u32);
        // Running level after each step, to scale the chart.
        let mut level = float(before);
        let mut lo = level.min(0.0);
        let mut hi = level.max(0.0);
        for (_, amount) in causes {
            level += float(*amount);
            lo = lo.min(level);
            hi = hi.max(level);
        }
        lo = lo.min(float(after));
        hi = hi.max(float(after));
        let span = (hi - lo).max(0.01);
        let (top_pad, bottom_pad) = (18.0, 22.0);
        let usable = f64::from(height) - top_pad - bottom_pad;
        let y_of = |v: f64| top_pad + usable * (hi - v) / span;
        let count = causes.len() + 2;
        let slot = f64::from(width) / f64::from(u32::try_from(count).unwrap_or(1));
        let bar = slot * 0.6;
        let mut steps = Vec::with_capacity(count);
        let mut push = |n: usize, from: f64, to: f64, label: &str, value: String, kind: &'static str| {
            let (upper, lower) = (y_of(from.max(to)), y_of(from.min(to)));
            let x = f64::from(u32::try_from(n).unwrap_or(0)) * slot + (slot - bar) / 2.0;
            steps.push(Step {
                x: format!("{x:.2}"),
                y: format!("{upper:.2}"),
                height: format!("{:.2}", (lower - upper).max(1.0)),
                label: label.to_owned(),
                value,
                value_y: format!("{:.2}", (upper - 4.0).max(10.0)),
                kind,
                link_y: format!("{:.2}", y_of(to)),
            });
        };
        push(0, 0.0, float(before), "Before", format!("${}", before.to_grouped_cents()), "total");
        let mut level = float(before);
        for (n, (label, amount)) in causes.iter().enumerate() {
            let next = level + float(*amount);
            let kind = if *amount < Money::ZERO { "down" } else { "up" };
            push(n + 1, level, next, label, signed(*amount), kind);
            level = next;
        }
        push(count - 1, 0.0, float(after), "After", format!("${}", after.to_grouped_cents()), "total");
        Waterfall {
            id,
            width,
            height,
            bar_width: format!("{bar:.2}"),
            steps,
            zero_y: format!("{:.2}", y_of(0.0)),
        }
    }

    /// The label row's height.
    pub fn label_y(&self) -> String {
        format!("{}", self.height - 6)
    }

    /// Each step with the x where its connector to the next bar ends (`None` for the last).
    pub fn links(&self) -> Vec<(&Step, Option<String>)> {
        self.steps
            .iter()
            .enumerate()
            .map(|(n, s)| {
                let next = self.steps.get(n + 1).map(|next| next.x.clone());
                (s, next)
            })
            .collect()
    }

    /// The x of the middle of `step`.
    pub fn middle(&self, step: &Step) -> String {
        let x = step.x.parse::<f64>().unwrap_or(0.0);
        let w = self.bar_width.parse::<f64>().unwrap_or(0.0);
        format!("{:.2}", x + w / 2.0)
    }

    /// The x of the right edge of `step`.
    pub fn right(&self, step: &Step) -> String {
        let x = step.x.parse::<f64>().unwrap_or(0.0);
        let w = self.bar_width.parse::<f64>().unwrap_or(0.0);
        format!("{:.2}", x + w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(cents: i64) -> Money {
        Money::from_scaled(cents, 2)
    }

    #[test]
    fn each_cause_floats_from_where_the_last_one_ended() {
        // 100 → +50 → -20 → 130: the rise spans 100..150, the fall 150..130.
        let w = Waterfall::of("w", m(10_000), &[("Fleet size", m(5_000)), ("Price", m(-2_000))], m(13_000));
        let y = |n: usize| w.steps[n].y.parse::<f64>().unwrap();
        let h = |n: usize| w.steps[n].height.parse::<f64>().unwrap();
        assert_eq!(w.steps.len(), 4);
        assert_eq!(w.steps[1].kind, "up");
        assert_eq!(w.steps[2].kind, "down");
        assert!((y(1) + h(1) - y(0)).abs() < 0.01, "the rise starts at the before bar's top");
        assert!((y(2) - y(1)).abs() < 0.01, "the fall starts at the rise's top");
        assert!((y(3) - (y(2) + h(2))).abs() < 0.01, "after is where the fall ends");
        assert_eq!(w.steps[1].value, "+$50.00");
        assert_eq!(w.steps[2].value, "-$20.00");
        assert_eq!(w.steps[3].value, "$130.00");
    }
}
