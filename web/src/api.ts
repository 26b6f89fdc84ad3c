// Types and calls of the console's JSON API (host/console/api.go).
export interface PipelineStatus {
  name: string; group_by: string[] | null; fields: string[] | null; window: string;
  records_per_sec: number; aggregated: number; filtered: number; late: number; errors: number;
  malformed: number; dead_lettered: number; windows_written: number; points_written: number;
  open_windows: number; overflowed: number; last_window: string;
}
export interface Overview { pipelines: PipelineStatus[]; health: Record<string, string> | null; started: string; }
export interface Series { tags: Record<string, string> | null; times: number[] | null; values: number[] | null; }
export interface SeriesResponse { pipeline: string; field: string; window: string; from: number; to: number; top: number; series: Series[]; }
export interface Alert {
  id: string; instance: string; module: string; pipeline: string; severity: string; kind: string;
  series: Record<string, string> | null; field: string; observed: number | null; expected: number | null;
  lower: number | null; upper: number | null; // null: not given by the analyzer window: string; message: string; at: string;
}
export interface Analyzer {
  name: string; module: string; version: string; hash: string; pipeline: string; state: string;
  calls: number; failures: number; last_error?: string; last_reload: string;
}

export class ApiError extends Error {
  constructor(public status: number, message: string) { super(message); }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const r = await fetch(path, { headers: { Accept: 'application/json' }, ...init });
  const text = await r.text();
  let body: any = null;
  try { body = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!r.ok) throw new ApiError(r.status, body?.error ?? `${r.status} ${r.statusText}`);
  return body as T;
}

const qs = (p: Record<string, string | number | undefined>) =>
  new URLSearchParams(Object.entries(p).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [k, String(v)])).toString();

export const api = {
  overview: () => call<Overview>('/api/overview'),
  series: (pipeline: string, p: { field?: string; from?: number; to?: number; top?: number }) =>
    call<SeriesResponse>(`/api/pipelines/${encodeURIComponent(pipeline)}/series?${qs(p)}`),
  alerts: (p: { instance?: string; severity?: string; limit?: number }) => call<Alert[]>(`/api/alerts?${qs(p)}`),
  alertStreamURL: (p: { instance?: string; severity?: string }) => `/api/alerts/stream?${qs(p)}`,
  analyzers: () => call<Analyzer[]>('/api/analyzers'),
  reload: (module: string) => call<{ module: string; reloaded: boolean }>(`/api/analyzers/${encodeURIComponent(module)}/reload`, { method: 'POST' }),
};
