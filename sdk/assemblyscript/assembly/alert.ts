// The binary alert (abi/ABI.md §4) and the Emitter that sends alerts to the host.
import { emit_alert } from "./host";
import { INVALID_ARGUMENT, LIMIT_EXCEEDED, OUT_OF_BOUNDS, OK } from "./status";
import { scratchPtr, writeUTF8 } from "./utf8";

export const SEVERITY_OK: u8 = 0;
export const SEVERITY_INFO: u8 = 1;
export const SEVERITY_WARN: u8 = 2;
export const SEVERITY_CRIT: u8 = 3;

export const KIND_ANOMALY: u8 = 0;
export const KIND_PREDICTION: u8 = 1;

/** Series or field index of an alert that is not about one series or field. */
export const NO_INDEX: i32 = -1;
/** Size of the fixed part of an encoded alert. */
export const ALERT_HEADER_SIZE: i32 = 56;
/** emit_alert calls the host accepts per analyze call. */
export const MAX_ALERTS_PER_CALL: i32 = 10000;

/** One reported condition. Lower/upper are the accepted band (NaN if none). */
export class Alert {
  severity: u8 = SEVERITY_WARN;
  kind: u8 = KIND_ANOMALY;
  series: i32 = NO_INDEX;
  field: i32 = NO_INDEX;
  observed: f64 = NaN;
  expected: f64 = NaN;
  lower: f64 = NaN;
  upper: f64 = NaN;
  /** Predictions: ns after the window end at which the forecast crosses; 0 for anomalies. */
  horizon: i64 = 0;
  message: string = "";
}

/** Byte length of the encoded alert with this message. */
export function alertSize(message: string): i32 {
  return ALERT_HEADER_SIZE + String.UTF8.byteLength(message, false);
}

/** Writes the binary alert at dst (alertSize(message) bytes); returns its length. */
export function encodeAlertAt(dst: usize, severity: u8, kind: u8, series: i32, field: i32, observed: f64, expected: f64,
  lower: f64, upper: f64, horizon: i64, message: string): i32 {
  const mlen = writeUTF8(message, dst + ALERT_HEADER_SIZE);
  store<u8>(dst, severity);
  store<u8>(dst, kind, 1);
  store<u16>(dst, 0, 2);
  store<u32>(dst, <u32>series, 4);
  store<u32>(dst, <u32>field, 8);
  store<u32>(dst, <u32>mlen, 12);
  store<f64>(dst, observed, 16);
  store<f64>(dst, expected, 24);
  store<f64>(dst, lower, 32);
  store<f64>(dst, upper, 40);
  store<i64>(dst, horizon, 48);
  return ALERT_HEADER_SIZE + mlen;
}

/** The binary encoding of an alert, as a new buffer (tests; the Emitter encodes in place). */
export function encodeAlert(a: Alert): ArrayBuffer {
  const out = new ArrayBuffer(alertSize(a.message));
  encodeAlertAt(changetype<usize>(out), a.severity, a.kind, a.series, a.field, a.observed, a.expected, a.lower, a.upper,
    a.horizon, a.message);
  return out;
}

/** Sends alerts to the host, checking them against the input first. */
export class Emitter {
  private series: i32 = 0;
  private fields: i32 = 0;
  private emitted: i32 = 0;
  /** The status of the last failed emit, or OK. */
  lastStatus: i32 = OK;

  /** @internal: called by the SDK before each analyze. */
  reset(series: i32, fields: i32): void {
    this.series = series;
    this.fields = fields;
    this.emitted = 0;
    this.lastStatus = OK;
  }

  /** Alerts emitted so far in this call. */
  get count(): i32 { return this.emitted; }

  /** Reports one condition; returns a status (OK, or negative: index out of range, too many alerts, ...). */
  emit(a: Alert): i32 {
    return this.report(a.severity, a.series, a.field, a.observed, a.expected, a.lower, a.upper, a.message, a.kind, a.horizon);
  }

  /** emit without an Alert object: the allocation-free form for hot loops. */
  report(severity: u8, series: i32, field: i32, observed: f64, expected: f64, lower: f64, upper: f64, message: string,
    kind: u8 = KIND_ANOMALY, horizon: i64 = 0): i32 {
    let st = OK;
    if (severity > SEVERITY_CRIT || kind > KIND_PREDICTION) st = INVALID_ARGUMENT;
    else if ((series != NO_INDEX && <u32>series >= <u32>this.series) || (field != NO_INDEX && <u32>field >= <u32>this.fields)) st = OUT_OF_BOUNDS;
    else if (this.emitted >= MAX_ALERTS_PER_CALL) st = LIMIT_EXCEEDED;
    if (st == OK) {
      const p = scratchPtr(ALERT_HEADER_SIZE + (message.length << 2));
      const n = encodeAlertAt(p, severity, kind, series, field, observed, expected, lower, upper, horizon, message);
      st = emit_alert(p, n);
      if (st >= 0) {
        this.emitted++;
        return OK;
      }
    }
    this.lastStatus = st;
    return st;
  }
}
