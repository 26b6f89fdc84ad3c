// Instance options: the JSON object handed to tidemark_init, validated by the
// host against the manifest with defaults filled in.
import { JSONValue, JSON_ARRAY, JSON_BOOL, JSON_NUMBER, JSON_OBJECT, JSON_STRING, parseJSON, parseError } from "./json";

/** Why the last Options.parse failed. */
export let optionsError: string = "";

export class Options {
  /** The options JSON as the host sent it. */
  readonly raw: string;
  /** The parsed object (kind JSON_OBJECT). */
  readonly root: JSONValue;

  constructor(raw: string, root: JSONValue) {
    this.raw = raw;
    this.root = root;
  }

  /** Parses the options JSON; null (and optionsError set) if it is not a JSON object. */
  static parse(raw: string): Options | null {
    if (raw.length == 0) raw = "{}";
    const v = parseJSON(raw);
    if (v === null) {
      optionsError = "options: " + parseError;
      return null;
    }
    if (v.kind != JSON_OBJECT) {
      optionsError = "options: not a JSON object";
      return null;
    }
    return new Options(raw, v);
  }

  has(name: string): bool { return this.root.get(name) !== null; }

  float(name: string, def: f64): f64 {
    const v = this.root.get(name);
    return v !== null && v.kind == JSON_NUMBER ? v.num : def;
  }

  int(name: string, def: i64): i64 {
    const v = this.root.get(name);
    return v !== null && v.kind == JSON_NUMBER ? <i64>v.num : def;
  }

  string(name: string, def: string): string {
    const v = this.root.get(name);
    return v !== null && v.kind == JSON_STRING ? v.str : def;
  }

  bool(name: string, def: bool): bool {
    const v = this.root.get(name);
    return v !== null && v.kind == JSON_BOOL ? v.bool : def;
  }

  /** A []string option (an array of strings); def if absent or of another type. */
  strings(name: string, def: string[]): string[] {
    const v = this.root.get(name);
    if (v === null || v.kind != JSON_ARRAY) return def;
    const out = new Array<string>(0);
    for (let i = 0; i < v.items.length; i++) if (v.items[i].kind == JSON_STRING) out.push(v.items[i].str);
    return out;
  }
}
