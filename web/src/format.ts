// Numbers, units and times as an operator reads them. Times are UTC.
const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

export function si(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a < 1000) return a === 0 || Number.isInteger(v) ? String(v) : trim(v.toPrecision(digits));
  let i = 0, x = a;
  while (x >= 1000 && i < SI.length - 1) { x /= 1000; i++; }
  // 999.6k rounds to "1.00e+3" at 3 digits: carry to the next prefix.
  if (Number(x.toPrecision(digits)) >= 1000 && i < SI.length - 1) { x /= 1000; i++; }
  return (v < 0 ? '-' : '') + trim(x.toPrecision(digits)) + SI[i];
}

// trim drops a fraction's trailing zeros: "1.50" → "1.5", "100" stays.
function trim(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export function int(v: number | null | undefined): string {
  if (v === null || v === undefined || !isFinite(v)) return '–';
  return Math.round(v).toLocaleString('en-US');
}

// unitOf guesses a field's unit from its name (sum_bytes, p95_packet_size,
// distinct_src_ip, count).
export function unitOf(field: string): string {
  const f = field.toLowerCase();
  if (/bits/.test(f)) return 'bit';
  if (/bytes|size|octets/.test(f)) return 'B';
  if (/packets|pkts/.test(f)) return 'pkt';
  if (/^distinct_|distinct|ports|hosts/.test(f)) return 'distinct';
  if (/count|records|flows/.test(f)) return 'records';
  return '';
}

export function withUnit(v: number | null | undefined, unit: string): string {
  const s = si(v);
  if (s === '–' || !unit) return s;
  return unit === 'distinct' || unit === 'records' ? s : `${s} ${unit}`;
}

// durationMs parses Go durations as the config writes them ("10s", "1m30s").
export function durationMs(d: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  let total = 0;
  for (const m of d.matchAll(/([\d.]+)(ns|us|µs|ms|s|m|h)/g)) total += parseFloat(m[1]) * units[m[2]];
  return total;
}

const pad = (n: number) => String(n).padStart(2, '0');
export function utc(t: string | number | Date, withDate = true): string {
  const d = new Date(t);
  if (isNaN(d.getTime()) || d.getTime() <= 0) return '–';
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return withDate ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${time}` : time;
}

// timeTicks labels a time axis in UTC, 24-hour, as precise as the span needs.
export function timeTicks(splits: number[], spanMs: number): string[] {
  return splits.map((v) => {
    const d = new Date(v);
    const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    if (spanMs <= 10 * 60e3) return `${hm}:${pad(d.getUTCSeconds())}`;
    if (spanMs <= 36 * 3600e3) return hm;
    return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${hm}`;
  });
}

export function ago(t: string | number | Date): string {
  const ms = Date.now() - new Date(t).getTime();
  if (!isFinite(ms) || new Date(t).getTime() <= 0) return 'never';
  if (ms < -1000) return `${span(-ms)} ahead`;
  return `${span(ms)} ago`;
}

// span says a duration the way ago does: 42s, 5m, 3h 2m, 4d.
export function span(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}


// ms of an API time, or undefined for Go's zero time (never happened).
export function timeMs(t: string | undefined | null): number | undefined {
  const ms = t ? Date.parse(t) : NaN;
  return isFinite(ms) && ms > 0 ? ms : undefined;
}

export function tagLabel(tags: Record<string, string> | null | undefined): string {
  const e = Object.entries(tags ?? {});
  if (e.length === 0) return '(all)';
  if (e.length === 1) return e[0][1] || '(empty)';
  return e.map(([k, v]) => `${k}=${v}`).join(' ');
}

// Distinct, readable on a dark background, in order of visual separation.
export const palette = ['#4fc3f7', '#ffb74d', '#81c784', '#e57373', '#ba68c8', '#fff176', '#4db6ac', '#f06292', '#a1887f', '#90a4ae',
  '#7986cb', '#aed581', '#ff8a65', '#4dd0e1', '#dce775', '#9575cd', '#e0e0e0', '#ffd54f', '#64b5f6', '#c5e1a5'];
