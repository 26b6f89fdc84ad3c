// Decodes every golden vector in abi/testdata with the SDK (compiled to wasm,
// through the real tidemark_analyze/input_read path) and compares with the
// .json next to it; encodes the alert vectors and compares bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { load } from "./host.js";

const testdata = new URL("../../../abi/testdata/", import.meta.url);
const names = readdirSync(testdata).filter((f) => f.endsWith(".bin")).map((f) => f.slice(0, -4));
const inputs = names.filter((n) => !n.startsWith("alert_"));
const alerts = names.filter((n) => n.startsWith("alert_"));
const enc = new TextEncoder();

function num(v) {
  if (v === "NaN") return NaN;
  if (v === "+Inf") return Infinity;
  if (v === "-Inf") return -Infinity;
  return v;
}

function sameValue(got, want, what) {
  want = num(want);
  if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `${what}: got ${got}, want NaN`);
  else assert.ok(Object.is(got, want) || got === want, `${what}: got ${got}, want ${want}`);
}

test("the golden vectors are all there", () => {
  for (const n of ["empty", "one_series", "large", "special_values", "unicode_tags", "history_incomplete"]) {
    assert.ok(inputs.includes(n), `abi/testdata/${n}.bin missing`);
  }
  assert.ok(alerts.length >= 3, "alert vectors missing");
});

// The SDK works with --runtime minimal (recommended) and --runtime stub.
for (const [name, harness] of inputs.flatMap((n) => [[n, "harness"], [n, "harness-stub"]])) {
  test(`decode ${name} (${harness})`, async () => {
    const bin = new Uint8Array(readFileSync(new URL(name + ".bin", testdata)));
    const want = JSON.parse(readFileSync(new URL(name + ".json", testdata), "utf8"));
    const { host, exports: m } = await load(harness);
    assert.equal(host.call(m.tidemark_init, enc.encode("{}")), 0);
    assert.equal(host.call(m.tidemark_analyze, bin), 0, JSON.stringify(host.logs));

    assert.equal(m.major(), want.major);
    assert.equal(m.minor(), want.minor);
    assert.equal(m.flags(), want.flags);
    assert.equal(m.totalLen(), want.total_len);
    assert.equal(m.windowStart(), want.window_start);
    assert.equal(m.windowEnd(), want.window_end);
    assert.equal(m.historyIncomplete(), (want.flags & 1) !== 0);
    assert.equal(m.historyOffset(), (want.flags & 2) !== 0);
    assert.equal(m.instance(), want.instance);
    assert.equal(m.pipeline(), want.pipeline);
    assert.equal(m.stringCount(), want.strings ? want.strings.length : want.string_count);
    (want.strings ?? []).forEach((s, i) => {
      assert.equal(m.str(i), s, `string ${i}`);
      assert.ok(m.stringEquals(i, s), `stringEquals(${i}, ${s})`);
      assert.ok(!m.stringEquals(i, s + "x"), `stringEquals(${i}, ${s}x)`);
    });
    const split = (s) => (s === "" ? [] : s.split("\u0000"));
    assert.deepEqual(split(m.tagNames()), want.tag_names);
    assert.deepEqual(split(m.fieldNames()), want.field_names);
    want.tag_names.forEach((t, i) => assert.equal(m.tagIndex(t), i));
    want.field_names.forEach((f, i) => assert.equal(m.fieldIndex(f), i));
    assert.equal(m.fieldIndex("no such field"), -1);
    assert.equal(m.seriesCount(), want.series_count);
    want.series_tags_first10.forEach((tags, s) => {
      tags.forEach((v, t) => assert.equal(m.tagValue(s, t), v, `series ${s} tag ${t}`));
      assert.equal(m.seriesKey(s), want.tag_names.map((t, i) => `${t}=${tags[i]}`).join(","));
    });

    assert.equal(m.frameCount(), want.frame_count);
    want.frames.forEach((fr, k) => {
      assert.equal(m.frameStart(k), fr.start, `frame ${k} start`);
      assert.equal(m.frameEnd(k), fr.end, `frame ${k} end`);
      assert.equal(m.frameFlags(k), fr.flags, `frame ${k} flags`);
      assert.equal(m.frameMissing(k), (fr.flags & 1) !== 0);
      want.field_names.forEach((fname, f) => {
        const w = fr.fields[fname];
        const col = m.column(k, f);
        assert.ok(m.columnInPlace(k, f), `frame ${k} field ${fname}: column is not a view in place`);
        assert.ok(m.columnCached(k, f), `frame ${k} field ${fname}: column view not reused`);
        assert.equal(col.length, want.series_count);
        let sum = 0, nan = 0, pinf = 0, ninf = 0;
        for (const v of col) {
          if (Number.isNaN(v)) nan++;
          else if (v === Infinity) pinf++;
          else if (v === -Infinity) ninf++;
          else sum += v;
        }
        const what = `${name} frame ${k} ${fname}`;
        assert.ok(Math.abs(sum - w.finite_sum) <= 1e-9 * Math.max(1, Math.abs(w.finite_sum)), `${what}: sum ${sum} want ${w.finite_sum}`);
        assert.equal(nan, w.nan_count, `${what} NaN count`);
        assert.equal(pinf, w.pos_inf_count, `${what} +Inf count`);
        assert.equal(ninf, w.neg_inf_count, `${what} -Inf count`);
        w.first.forEach((v, s) => {
          sameValue(col[s], v, `${what}[${s}]`);
          sameValue(m.value(k, f, s), v, `${what} value(${s})`);
        });
        if (w.last === null) assert.equal(col.length, 0);
        else sameValue(col[col.length - 1], w.last, `${what} last`);
      });
    });
    // Past the history: a missing, all-NaN frame.
    const past = want.frame_count;
    for (const k of [past, past + 1000000, -1]) {
      assert.ok(m.frameMissing(k), `frame ${k} should be missing`);
      assert.equal(m.frameStart(k), "0");
    }
    if (want.series_count > 0) assert.ok(Number.isNaN(m.column(past, 0)[0]));
  });
}

test("malformed inputs are rejected, not read", async () => {
  const good = new Uint8Array(readFileSync(new URL("one_series.bin", testdata)));
  const cases = {
    "short": good.slice(0, 40),
    "bad magic": (() => { const b = good.slice(); b[0] = 0x58; return b; })(),
    "major 2": (() => { const b = good.slice(); b[4] = 2; return b; })(),
    "total_len past the end": good.slice(0, good.length - 8),
    "frame stride too small": (() => { const b = good.slice(); new DataView(b.buffer).setUint32(60, 8, true); return b; })(),
    "frames offset past the end": (() => { const b = good.slice(); new DataView(b.buffer).setUint32(56, b.length + 8, true); return b; })(),
    "frames offset not aligned": (() => { const b = good.slice(); const dv = new DataView(b.buffer); dv.setUint32(56, dv.getUint32(56, true) + 4, true); return b; })(),
    "string offsets decrease": (() => { const b = good.slice(); new DataView(b.buffer).setUint32(68, 0xffff, true); return b; })(),
    "no frame 0": (() => { const b = good.slice(); new DataView(b.buffer).setUint32(48, 0, true); return b; })(),
    "tag value not a string": (() => {
      const b = good.slice(); const dv = new DataView(b.buffer);
      dv.setUint32(dv.getUint32(52, true), 99, true); return b;
    })(),
  };
  for (const [what, bin] of Object.entries(cases)) {
    const { host, exports: m } = await load("harness");
    assert.equal(host.call(m.tidemark_init, enc.encode("{}")), 0);
    const st = host.call(m.tidemark_analyze, bin);
    assert.equal(st, -1, `${what}: status ${st}`);
    assert.match(host.logs.at(-1)[1], /bad input/, what);
  }
});

for (const name of alerts) {
  test(`encode ${name}`, async () => {
    const bin = new Uint8Array(readFileSync(new URL(name + ".bin", testdata)));
    const w = JSON.parse(readFileSync(new URL(name + ".json", testdata), "utf8"));
    const { exports: m } = await load("harness");
    // JSON cannot say which NaN: take NaN bit patterns from the .bin (the
    // encoder must pass any f64 through unchanged), everything else from the .json.
    const dv = new DataView(bin.buffer);
    const bits = (v, off) => {
      if (v === "NaN") {
        assert.ok(Number.isNaN(dv.getFloat64(off, true)));
        return dv.getBigUint64(off, true);
      }
      const b = new DataView(new ArrayBuffer(8));
      b.setFloat64(0, num(v), true);
      return b.getBigUint64(0, true);
    };
    const got = new Uint8Array(m.encodeBits(w.severity, w.kind, w.series, w.field, bits(w.observed, 16), bits(w.expected, 24),
      bits(w.lower, 32), bits(w.upper, 40), BigInt(w.horizon), w.message));
    assert.deepEqual(got, bin);
  });
}

test("emit sends the encoded alert through emit_alert and checks indices", async () => {
  const bin = new Uint8Array(readFileSync(new URL("one_series.bin", testdata)));
  const { host, exports: m } = await load("harness");
  assert.equal(host.call(m.tidemark_init, enc.encode("{}")), 0);
  m.planAlert(3, 0, 1, 42, "größer");
  assert.equal(host.call(m.tidemark_analyze, bin), 0);
  assert.equal(host.alerts.length, 1);
  const want = new Uint8Array(m.encode(3, 0, 0, 1, 42, NaN, NaN, NaN, 0n, "größer"));
  assert.deepEqual(host.alerts[0], want);
  m.planAlert(2, 1, 0, 1, "series 1 of 1"); // out of range: OUT_OF_BOUNDS, never sent
  assert.equal(host.call(m.tidemark_analyze, bin), -2);
  assert.equal(host.alerts.length, 2);
});

test("options", async () => {
  const { host, exports: m } = await load("harness");
  const opts = `{"factor": 5.5, "min": -1e3, "name": "caf\\u00e9 \\"x\\"", "on": true, "list": ["a", "b"], "nested": {"a": [1, {}]}}`;
  assert.equal(host.call(m.tidemark_init, enc.encode(opts)), 0);
  assert.equal(m.optFloat("factor", 0), 5.5);
  assert.equal(m.optFloat("min", 0), -1000);
  assert.equal(m.optFloat("absent", 7), 7);
  assert.equal(m.optString("name", ""), 'café "x"');
  assert.equal(m.optBool("on", false), true);
  assert.equal(m.optStrings("list"), "a\u0000b");
  assert.ok(m.optHas("nested"));
  assert.ok(!m.optHas("absent"));
  const bad = await load("harness");
  assert.equal(bad.host.call(bad.exports.tidemark_init, enc.encode("{\"a\": ")), -1);
  assert.match(bad.host.logs.at(-1)[1], /options/);
  const refused = await load("harness");
  assert.equal(refused.host.call(refused.exports.tidemark_init, enc.encode("{\"fail_init\": true}")), -1);
});

test("memory stays flat over many calls (runtime minimal frees each call's garbage)", async () => {
  const large = new Uint8Array(readFileSync(new URL("large.bin", testdata)));
  const small = new Uint8Array(readFileSync(new URL("unicode_tags.bin", testdata)));
  const { host, exports: m } = await load("harness");
  assert.equal(host.call(m.tidemark_init, enc.encode("{}")), 0);
  const round = () => {
    // Alternating layouts re-create the column views, and tagNames/seriesKey allocate strings.
    for (const b of [large, small]) {
      assert.equal(host.call(m.tidemark_analyze, b), 0);
      m.fieldNames();
      m.seriesKey(0);
      m.column(0, 0);
    }
  };
  for (let i = 0; i < 20; i++) round();
  const after20 = m.memory.buffer.byteLength;
  for (let i = 0; i < 1500; i++) round();
  assert.equal(m.memory.buffer.byteLength, after20); // under --runtime stub this grows (1.5 MiB → 6 MiB)
});

test("state: host-held values and the hot-reload blob", async () => {
  const { host, exports: m } = await load("harness");
  assert.equal(host.call(m.tidemark_init, enc.encode(`{"k": 1}`)), 0);
  assert.equal(m.setState("ewma/10.0.0.1", "x".repeat(300)), 0);
  assert.equal(m.getState("ewma/10.0.0.1"), "x".repeat(300)); // longer than the first buffer: read again
  assert.equal(m.getState("absent"), null);
  assert.equal(m.getStateStatus(), -3);
  assert.equal(m.setState("", "blob"), -1); // "" is the SDK's reload blob
  // Hot reload: state_save on the old instance writes key "", state_load on the new one reads it.
  assert.equal(m.tidemark_state_save(), 0);
  const blob = host.state.get("");
  assert.equal(new TextDecoder().decode(blob), `{"k": 1}`);
  const next = await load("harness");
  assert.equal(next.host.call(next.exports.tidemark_init, enc.encode("{}")), 0);
  assert.equal(next.host.call(next.exports.tidemark_state_load, blob), 0);
  assert.equal(next.exports.loadedState(), `{"k": 1}`);
});
