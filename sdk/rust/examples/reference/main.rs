//! The cross-language reference analyzer: "threshold + z-score over
//! history", specified in sdk/REFERENCE.md and implemented identically in
//! sdk/go/examples/reference. Every f64 operation below is in the order the
//! spec prescribes, so all implementations emit byte-identical alerts.

use tidemark::{Alert, Analyzer, Emitter, Error, Input, Kind, Level, Options, Severity};

pub const MSG_Z: &str = "z-score beyond threshold";
pub const MSG_ABS: &str = "above absolute maximum";
pub const MSG_BOTH: &str = "z-score beyond threshold; above absolute maximum";

#[derive(Default)]
pub struct Reference {
    field: String,
    threshold: f64,
    min_history: f64,
    abs_max: f64,
    warned_field: bool,
    scratch: Scratch,
}

/// Per-series accumulators, reused across windows.
#[derive(Default)]
struct Scratch {
    sum: Vec<f64>,
    count: Vec<u32>,
    mean: Vec<f64>,
    ss: Vec<f64>,
}

impl Analyzer for Reference {
    fn init(&mut self, opts: &Options) -> Result<(), Error> {
        self.field = opts.string("field", "").to_string();
        if self.field.is_empty() {
            return Err(Error::new("option field is required"));
        }
        self.threshold = opts.float("threshold", 3.0);
        self.min_history = opts.float("min_history", 3.0);
        self.abs_max = opts.float("abs_max", f64::INFINITY);
        Ok(())
    }

    fn analyze(&mut self, input: &Input, out: &mut Emitter) -> Result<(), Error> {
        let f = match input.field_index(&self.field) {
            Some(f) => f,
            None => {
                if !self.warned_field {
                    self.warned_field = true;
                    tidemark::log(
                        Level::Warn,
                        &format!("pipeline {:?} has no field {:?}", input.pipeline(), self.field),
                    );
                }
                return Ok(());
            }
        };
        let cur = input.column(f);
        let n = cur.len();
        // History columns, newest first, MISSING frames skipped.
        let hist: Vec<&[f64]> = input.history_frames().filter(|fr| !fr.missing()).map(|fr| fr.column(f)).collect();
        // Frame-major passes over contiguous columns; per series the sums
        // still run in frame order, newest first, as the spec requires.
        let Scratch { sum, count, mean, ss } = &mut self.scratch;
        sum.clear();
        sum.resize(n, 0.0);
        count.clear();
        count.resize(n, 0);
        for c in &hist {
            for ((acc, cnt), &v) in sum.iter_mut().zip(count.iter_mut()).zip(c.iter()) {
                if v.is_finite() {
                    *acc += v;
                    *cnt += 1;
                }
            }
        }
        mean.clear();
        mean.extend(sum.iter().zip(count.iter()).map(|(&t, &c)| t / c as f64));
        ss.clear();
        ss.resize(n, 0.0);
        for c in &hist {
            for ((acc, &m), &v) in ss.iter_mut().zip(mean.iter()).zip(c.iter()) {
                if v.is_finite() {
                    let d = v - m;
                    *acc += d * d; // never fused: Rust does not contract
                }
            }
        }
        let crit_at = 2.0 * self.threshold;
        for (s, &x) in cur.iter().enumerate() {
            if x.is_nan() {
                continue;
            }
            let mut sev = Severity::Ok;
            let mut z_hit = false;
            let (mut expected, mut lower, mut upper) = (f64::NAN, f64::NAN, f64::NAN);
            let m = mean[s];
            let sd = (ss[s] / count[s] as f64).sqrt();
            // A baseline needs enough values and must not have overflowed.
            if count[s] >= 1 && count[s] as f64 >= self.min_history && m.is_finite() && sd.is_finite() {
                let band = self.threshold * sd;
                expected = m;
                lower = m - band;
                upper = m + band;
                if sd > 0.0 {
                    let az = ((x - m) / sd).abs();
                    if az >= crit_at {
                        sev = Severity::Crit;
                        z_hit = true;
                    } else if az >= self.threshold {
                        sev = Severity::Warn;
                        z_hit = true;
                    }
                }
            }
            let abs_hit = x > self.abs_max;
            if abs_hit && sev < Severity::Warn {
                sev = Severity::Warn;
            }
            if sev < Severity::Warn {
                continue;
            }
            let message = match (z_hit, abs_hit) {
                (true, true) => MSG_BOTH,
                (true, false) => MSG_Z,
                _ => MSG_ABS,
            };
            out.emit(Alert {
                severity: sev,
                kind: Kind::Anomaly,
                series: Some(s),
                field: Some(f),
                observed: x,
                expected,
                lower,
                upper,
                horizon: 0,
                message,
            })?;
        }
        Ok(())
    }
}

tidemark::export_analyzer!(Reference, manifest = include_bytes!("manifest.json"));

#[cfg(test)]
mod tests;
