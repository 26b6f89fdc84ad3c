// A small JSON parser for the options object handed to tidemark_init (read
// once per instance, so simplicity beats speed here).

export const JSON_NULL: u8 = 0;
export const JSON_BOOL: u8 = 1;
export const JSON_NUMBER: u8 = 2;
export const JSON_STRING: u8 = 3;
export const JSON_ARRAY: u8 = 4;
export const JSON_OBJECT: u8 = 5;

/** A parsed JSON value. */
export class JSONValue {
  kind: u8 = JSON_NULL;
  bool: bool = false;
  num: f64 = 0;
  str: string = "";
  items: JSONValue[] = [];
  keys: string[] = [];

  /** Member of an object by key (the last one if repeated), or null. */
  get(key: string): JSONValue | null {
    if (this.kind != JSON_OBJECT) return null;
    for (let i = this.keys.length - 1; i >= 0; i--) if (this.keys[i] == key) return this.items[i];
    return null;
  }
}

/** Why the last parseJSON failed. */
export let parseError: string = "";

/** Parses JSON text; on a syntax error returns null and sets parseError. */
export function parseJSON(text: string): JSONValue | null {
  const p = new Parser(text);
  parseError = "";
  const v = p.value();
  if (v === null) return null;
  p.space();
  if (p.i != text.length) {
    parseError = "unexpected character at offset " + p.i.toString();
    return null;
  }
  return v;
}

class Parser {
  i: i32 = 0;
  constructor(private s: string) {}

  fail(what: string): JSONValue | null {
    parseError = what + " at offset " + this.i.toString();
    return null;
  }

  failString(what: string): string | null {
    parseError = what + " at offset " + this.i.toString();
    return null;
  }

  space(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.i++;
    }
  }

  literal(word: string): bool {
    if (this.s.substr(this.i, word.length) != word) return false;
    this.i += word.length;
    return true;
  }

  value(): JSONValue | null {
    this.space();
    if (this.i >= this.s.length) return this.fail("unexpected end");
    const c = this.s.charCodeAt(this.i);
    const v = new JSONValue();
    if (c == 0x7b) { // {
      v.kind = JSON_OBJECT;
      this.i++;
      this.space();
      if (this.s.charCodeAt(this.i) == 0x7d) { this.i++; return v; }
      while (true) {
        this.space();
        if (this.s.charCodeAt(this.i) != 0x22) return this.fail("expected a key");
        const k = this.string();
        if (k === null) return null;
        this.space();
        if (this.s.charCodeAt(this.i) != 0x3a) return this.fail("expected ':'");
        this.i++;
        const item = this.value();
        if (item === null) return null;
        v.keys.push(k);
        v.items.push(item);
        this.space();
        const d = this.s.charCodeAt(this.i++);
        if (d == 0x7d) return v;
        if (d != 0x2c) { this.i--; return this.fail("expected ',' or '}'"); }
      }
    }
    if (c == 0x5b) { // [
      v.kind = JSON_ARRAY;
      this.i++;
      this.space();
      if (this.s.charCodeAt(this.i) == 0x5d) { this.i++; return v; }
      while (true) {
        const item = this.value();
        if (item === null) return null;
        v.items.push(item);
        this.space();
        const d = this.s.charCodeAt(this.i++);
        if (d == 0x5d) return v;
        if (d != 0x2c) { this.i--; return this.fail("expected ',' or ']'"); }
      }
    }
    if (c == 0x22) {
      const str = this.string();
      if (str === null) return null;
      v.kind = JSON_STRING;
      v.str = str;
      return v;
    }
    if (this.literal("true")) { v.kind = JSON_BOOL; v.bool = true; return v; }
    if (this.literal("false")) { v.kind = JSON_BOOL; return v; }
    if (this.literal("null")) return v;
    const start = this.i;
    while (this.i < this.s.length) {
      const d = this.s.charCodeAt(this.i);
      if ((d >= 0x30 && d <= 0x39) || d == 0x2d || d == 0x2b || d == 0x2e || d == 0x65 || d == 0x45) this.i++;
      else break;
    }
    if (this.i == start) return this.fail("unexpected character");
    v.kind = JSON_NUMBER;
    v.num = parseFloat(this.s.substring(start, this.i));
    if (isNaN(v.num)) return this.fail("bad number");
    return v;
  }

  string(): string | null {
    this.i++; // opening quote
    let out = "";
    let run = this.i;
    while (true) {
      if (this.i >= this.s.length) return this.failString("unterminated string");
      const c = this.s.charCodeAt(this.i);
      if (c == 0x22) break;
      if (c != 0x5c) { this.i++; continue; }
      out += this.s.substring(run, this.i);
      const e = this.s.charCodeAt(this.i + 1);
      this.i += 2;
      if (e == 0x6e) out += "\n";
      else if (e == 0x74) out += "\t";
      else if (e == 0x72) out += "\r";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x75) {
        const hex = this.s.substr(this.i, 4);
        const code = I32.parseInt(hex, 16);
        if (hex.length != 4 || isNaN(<f64>code)) return this.failString("bad \\u escape");
        out += String.fromCharCode(code);
        this.i += 4;
      } else out += String.fromCharCode(e); // \" \\ \/
      run = this.i;
    }
    out += this.s.substring(run, this.i);
    this.i++; // closing quote
    return out;
  }
}
