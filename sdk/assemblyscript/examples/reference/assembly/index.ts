// The cross-language reference analyzer, "threshold + z-score over history",
// specified in sdk/REFERENCE.md and implemented identically in
// sdk/go/examples/reference and sdk/rust/examples/reference: given the same
// input and options, every implementation emits byte-identical alerts. Each
// f64 operation below is in the order the spec prescribes (binaryen neither
// reassociates nor fuses float arithmetic).
import {
  Analyzer, Emitter, Input, Options, OK, register, fail, log, LOG_WARN,
  SEVERITY_OK, SEVERITY_WARN, SEVERITY_CRIT, KIND_ANOMALY,
} from "../../../index";

// Fixed messages, so no float formatting can differ between languages.
const MSG_Z = "z-score beyond threshold";
const MSG_ABS = "above absolute maximum";
const MSG_BOTH = "z-score beyond threshold; above absolute maximum";

class Reference extends Analyzer {
  field: string = "";
  threshold: f64 = 3;
  minHistory: f64 = 3;
  absMax: f64 = Infinity;
  warnedField: bool = false;
  hist: Float64Array[] = []; // reused: history columns, newest first, MISSING frames skipped
  sum: Float64Array = new Float64Array(0);
  ss: Float64Array = new Float64Array(0);
  mean: Float64Array = new Float64Array(0);
  count: Int32Array = new Int32Array(0);

  init(opts: Options): i32 {
    this.field = opts.string("field", "");
    if (this.field.length == 0) return fail("option field is required");
    this.threshold = opts.float("threshold", 3);
    this.minHistory = opts.float("min_history", 3);
    this.absMax = opts.float("abs_max", Infinity);
    return OK;
  }

  analyze(input: Input, out: Emitter): i32 {
    const f = input.fieldIndex(this.field);
    if (f < 0) {
      if (!this.warnedField) {
        this.warnedField = true;
        log(LOG_WARN, "pipeline \"" + input.pipeline + "\" has no field \"" + this.field + "\"");
      }
      return OK;
    }
    const cur = input.column(f);
    const hist = this.hist;
    hist.length = 0;
    for (let k = 1; k <= input.historyLen; k++) {
      const fr = input.history(k);
      if (!fr.missing) hist.push(fr.column(f));
    }
    const nh = hist.length;
    const n_series = input.series;
    // Frame-major accumulation (the spec allows it: each series still adds
    // its values newest first), over per-series scratch arrays reused call
    // after call.
    if (this.sum.length < n_series) {
      this.sum = new Float64Array(n_series);
      this.ss = new Float64Array(n_series);
      this.mean = new Float64Array(n_series);
      this.count = new Int32Array(n_series);
    }
    const sum = this.sum, ss = this.ss, mean = this.mean, count = this.count;
    for (let s = 0; s < n_series; s++) {
      unchecked(sum[s] = 0);
      unchecked(ss[s] = 0);
      unchecked(count[s] = 0);
    }
    // Raw pointers in the inner loops: wazero's compiler does not hoist a
    // typed array's data pointer out of a loop, so this is ~2× faster there.
    const sumP = sum.dataStart, ssP = ss.dataStart, meanP = mean.dataStart, countP = count.dataStart;
    for (let i = 0; i < nh; i++) {
      const cP = unchecked(hist[i]).dataStart;
      for (let s = 0; s < n_series; s++) {
        const o = <usize>s << 3;
        const v = load<f64>(cP + o);
        if (isFinite(v)) {
          store<f64>(sumP + o, load<f64>(sumP + o) + v);
          const co = countP + (<usize>s << 2);
          store<i32>(co, load<i32>(co) + 1);
        }
      }
    }
    for (let s = 0; s < n_series; s++) unchecked(mean[s] = unchecked(sum[s]) / <f64>unchecked(count[s]));
    for (let i = 0; i < nh; i++) {
      const cP = unchecked(hist[i]).dataStart;
      for (let s = 0; s < n_series; s++) {
        const o = <usize>s << 3;
        const v = load<f64>(cP + o);
        if (isFinite(v)) {
          const d = v - load<f64>(meanP + o);
          store<f64>(ssP + o, load<f64>(ssP + o) + d * d);
        }
      }
    }
    const threshold = this.threshold;
    const critAt = 2 * threshold;
    for (let s = 0; s < n_series; s++) {
      const x = unchecked(cur[s]);
      if (isNaN(x)) continue;
      const n = unchecked(count[s]);
      const N = <f64>n;
      const m = unchecked(mean[s]);
      const sd = Math.sqrt(unchecked(ss[s]) / N);
      let sev = SEVERITY_OK;
      let zHit = false;
      let expected: f64 = NaN, lower: f64 = NaN, upper: f64 = NaN;
      // A baseline needs enough values and must not have overflowed.
      if (n >= 1 && N >= this.minHistory && isFinite(m) && isFinite(sd)) {
        const band = threshold * sd;
        expected = m;
        lower = m - band;
        upper = m + band;
        if (sd > 0) {
          const az = Math.abs((x - m) / sd);
          if (az >= critAt) {
            sev = SEVERITY_CRIT;
            zHit = true;
          } else if (az >= threshold) {
            sev = SEVERITY_WARN;
            zHit = true;
          }
        }
      }
      const absHit = x > this.absMax;
      if (absHit && sev < SEVERITY_WARN) sev = SEVERITY_WARN;
      if (sev < SEVERITY_WARN) continue;
      const msg = zHit ? (absHit ? MSG_BOTH : MSG_Z) : MSG_ABS;
      const st = out.report(sev, s, f, x, expected, lower, upper, msg, KIND_ANOMALY);
      if (st < 0) return st;
    }
    return OK;
  }
}

register(new Reference());

export { tidemark_init, tidemark_analyze } from "../../../exports";
