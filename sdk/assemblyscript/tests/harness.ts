// Test module for tests/*.test.js: a registered analyzer that keeps what the
// SDK decoded, plus accessors that let the node test compare it with the
// golden .json files. It goes through the real exports and input_read path.
import { Analyzer, Emitter, Input, Options, OK, register, encodeAlert, Alert, NO_INDEX, fail, stateGet, stateSet, lastStatus } from "../assembly/index";

let captured: Input | null = null;
let capturedOptions: Options | null = null;
let emitPlan: Alert[] = [];

class Capture extends Analyzer {
  init(opts: Options): i32 {
    capturedOptions = opts;
    if (opts.bool("fail_init", false)) return fail("init refused by option");
    return OK;
  }
  analyze(input: Input, out: Emitter): i32 {
    captured = input;
    for (let i = 0; i < emitPlan.length; i++) {
      const st = out.emit(emitPlan[i]);
      if (st < 0) return st;
    }
    return OK;
  }
  saveState(): ArrayBuffer | null {
    return capturedOptions !== null ? String.UTF8.encode(changetype<Options>(capturedOptions).raw) : null;
  }
  loadState(blob: ArrayBuffer): i32 {
    loaded = String.UTF8.decode(blob);
    return OK;
  }
}

let loaded: string = "";
export function loadedState(): string { return loaded; }
export function setState(key: string, val: string): i32 { return stateSet(key, String.UTF8.encode(val)); }
export function getState(key: string): string | null {
  const b = stateGet(key);
  return b === null ? null : String.UTF8.decode(b);
}
export function getStateStatus(): i32 { return lastStatus; }

register(new Capture());

export { tidemark_init, tidemark_analyze, tidemark_state_save, tidemark_state_load } from "../assembly/exports";

function inp(): Input { return changetype<Input>(captured); }

export function major(): i32 { return inp().major; }
export function minor(): i32 { return inp().minor; }
export function flags(): u32 { return inp().flags; }
export function totalLen(): u32 { return inp().len; }
export function windowStart(): string { return inp().windowStart.toString(); }
export function windowEnd(): string { return inp().windowEnd.toString(); }
export function stringCount(): i32 { return inp().stringCount; }
export function str(i: i32): string { return inp().string(i); }
export function instance(): string { return inp().instance; }
export function pipeline(): string { return inp().pipeline; }
export function tagNames(): string { return inp().tags().join("\u0000"); }
export function fieldNames(): string { return inp().fields().join("\u0000"); }
export function fieldIndex(name: string): i32 { return inp().fieldIndex(name); }
export function tagIndex(name: string): i32 { return inp().tagIndex(name); }
export function seriesCount(): i32 { return inp().series; }
export function tagValue(s: i32, t: i32): string { return inp().tagValue(s, t); }
export function seriesKey(s: i32): string { return inp().seriesKey(s); }
export function frameCount(): i32 { return inp().frameCount; }
export function historyIncomplete(): bool { return inp().historyIncomplete; }
export function historyOffset(): bool { return inp().historyOffset; }
export function frameStart(k: i32): string { return inp().frame(k).start.toString(); }
export function frameEnd(k: i32): string { return inp().frame(k).end.toString(); }
export function frameFlags(k: i32): u32 { return inp().frame(k).flags; }
export function frameMissing(k: i32): bool { return inp().frame(k).missing; }
export function column(k: i32, f: i32): Float64Array { return inp().frame(k).column(f); }
export function value(k: i32, f: i32, s: i32): f64 { return inp().frame(k).value(f, s); }
/** Whether column (k, f) is a view into the input buffer at the offset the layout says (no copy). */
export function columnInPlace(k: i32, f: i32): bool {
  const c = inp().frame(k).column(f);
  const i = inp();
  const want = i.ptr + i.framesOff + <usize>k * i.frameStride + 24 + 8 * <usize>f * i.seriesCount;
  return c.dataStart == want && (c.dataStart & 7) == 0;
}
/** Whether two successive column() calls return the same view object (no allocation in steady state). */
export function columnCached(k: i32, f: i32): bool {
  return inp().frame(k).column(f) === inp().frame(k).column(f);
}

export function optFloat(name: string, def: f64): f64 { return changetype<Options>(capturedOptions).float(name, def); }
export function optString(name: string, def: string): string { return changetype<Options>(capturedOptions).string(name, def); }
export function optBool(name: string, def: bool): bool { return changetype<Options>(capturedOptions).bool(name, def); }
export function optStrings(name: string): string { return changetype<Options>(capturedOptions).strings(name, []).join("\u0000"); }
export function optHas(name: string): bool { return changetype<Options>(capturedOptions).has(name); }

export function encode(severity: u8, kind: u8, series: u32, field: u32, observed: f64, expected: f64, lower: f64, upper: f64,
  horizon: i64, message: string): ArrayBuffer {
  const a = new Alert();
  a.severity = severity; a.kind = kind; a.series = <i32>series; a.field = <i32>field;
  a.observed = observed; a.expected = expected; a.lower = lower; a.upper = upper; a.horizon = horizon; a.message = message;
  return encodeAlert(a);
}

/** Queues an alert for the next analyze call to emit (through emit_alert). */
export function planAlert(severity: u8, series: i32, field: i32, observed: f64, message: string): void {
  const a = new Alert();
  a.severity = severity; a.series = series; a.field = field; a.observed = observed; a.message = message;
  emitPlan.push(a);
}
export function clearPlan(): void { emitPlan = []; }
export const noIndex: i32 = NO_INDEX;
export function stringEquals(i: i32, s: string): bool { return inp().stringEquals(i, s); }
export function encodeBits(severity: u8, kind: u8, series: u32, field: u32, observed: u64, expected: u64, lower: u64, upper: u64,
  horizon: i64, message: string): ArrayBuffer {
  return encode(severity, kind, series, field, reinterpret<f64>(observed), reinterpret<f64>(expected), reinterpret<f64>(lower),
    reinterpret<f64>(upper), horizon, message);
}
