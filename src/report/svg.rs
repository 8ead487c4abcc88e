//! Small SVG helpers of the report's charts: a linear scale with "nice"
//! ticks and coordinates written with a fixed precision (the same data
//! always gives the same bytes).

/// A linear map from a domain of values to a range of pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl Scale {
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Self {
        let domain = if domain.1 > domain.0 {
            domain
        } else {
            (domain.0 - 1.0, domain.0 + 1.0)
        };
        Scale { domain, range }
    }

    /// The pixel of `value` (values outside the domain map outside the range).
    pub fn at(&self, value: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        r0 + (value - d0) / (d1 - d0) * (r1 - r0)
    }

    /// About `count` ticks at round values (1, 2 or 5 × a power of ten)
    /// covering the domain, each inside it.
    pub fn ticks(&self, count: usize) -> Vec<f64> {
        let (d0, d1) = self.domain;
        let step = nice_step((d1 - d0) / count.max(1) as f64);
        let first = (d0 / step).ceil() as i64;
        let last = (d1 / step).floor() as i64;
        // Written with the step's decimals and read back: no binary noise
        // such as 0.6000000000000001.
        let places = (-step.log10().floor()).max(0.0) as usize;
        (first..=last)
            .map(|k| {
                let v: f64 = format!("{:.places$}", k as f64 * step)
                    .parse()
                    .unwrap_or(k as f64 * step);
                v + 0.0 // −0 reads as 0
            })
            .collect()
    }
}

/// The round step (1, 2 or 5 × 10^k) nearest above `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if !(raw > 0.0) || !raw.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let fraction = raw / power;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// The domain [min, max] of `values` widened to include `include` (a
/// reference such as 0) and padded by `pad` of its width on each side.
pub fn extent(values: impl IntoIterator<Item = f64>, include: Option<f64>, pad: f64) -> (f64, f64) {
    let mut low = f64::INFINITY;
    let mut high = f64::NEG_INFINITY;
    for v in values.into_iter().chain(include).filter(|v| v.is_finite()) {
        low = low.min(v);
        high = high.max(v);
    }
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    let width = (high - low).max(f64::EPSILON);
    (low - pad * width, high + pad * width)
}

/// A coordinate with two decimals, the way every chart writes them.
pub fn px(v: f64) -> String {
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// An SVG path of a step function through `points` (x, y in pixels): a
/// horizontal line to each next x, then a vertical one to its y.
pub fn step_path(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        if i == 0 {
            d.push_str(&format!("M{},{}", px(*x), px(*y)));
        } else {
            d.push_str(&format!("H{}V{}", px(*x), px(*y)));
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_map_linearly_and_ticks_are_round() {
        let s = Scale::new((0.0, 365.0), (40.0, 770.0));
        assert_eq!(s.at(0.0), 40.0);
        assert_eq!(s.at(365.0), 770.0);
        assert_eq!(s.ticks(6), [0.0, 100.0, 200.0, 300.0]);
        let y = Scale::new((0.0, 1.0), (300.0, 20.0));
        assert_eq!(y.at(0.5), 160.0);
        assert_eq!(y.ticks(5), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        let d = Scale::new((-0.174, 0.02), (0.0, 100.0));
        assert_eq!(d.ticks(4), [-0.15, -0.1, -0.05, 0.0]);
        // An empty domain is widened rather than divided by zero.
        assert_eq!(Scale::new((3.0, 3.0), (0.0, 10.0)).at(3.0), 5.0);
    }

    #[test]
    fn nice_steps_extents_and_paths() {
        assert_eq!(nice_step(0.037), 0.05);
        assert_eq!(nice_step(12.0), 20.0);
        assert_eq!(nice_step(60.8), 100.0);
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(extent([1.0, 3.0], Some(0.0), 0.0), (0.0, 3.0));
        assert_eq!(extent([f64::NAN], None, 0.1), (0.0, 1.0));
        assert_eq!(px(12.0), "12");
        assert_eq!(px(12.346), "12.35");
        assert_eq!(step_path(&[(0.0, 10.0), (5.5, 20.0)]), "M0,10H5.5V20");
    }
}
