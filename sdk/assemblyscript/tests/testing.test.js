// The JS test harness (testing.js): its encoder reproduces the golden
// vectors, and it runs the reference example module end to end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { encodeInput, decodeAlert, start } from "../testing.js";

const testdata = new URL("../../../abi/testdata/", import.meta.url);
const num = (v) => (v === "NaN" ? NaN : v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : v);

// Vectors small enough that the .json lists every value can be rebuilt.
const small = readdirSync(testdata).filter((f) => f.endsWith(".json") && !f.startsWith("alert_")).map((f) => f.slice(0, -5))
  .filter((n) => JSON.parse(readFileSync(new URL(n + ".json", testdata), "utf8")).series_count <= 5);

for (const name of small) {
  test(`encodeInput rebuilds ${name}.bin`, () => {
    const w = JSON.parse(readFileSync(new URL(name + ".json", testdata), "utf8"));
    const bin = new Uint8Array(readFileSync(new URL(name + ".bin", testdata)));
    const got = encodeInput({
      flags: w.flags, windowStart: BigInt(w.window_start), windowEnd: BigInt(w.window_end),
      instance: w.instance, pipeline: w.pipeline, tagNames: w.tag_names, fieldNames: w.field_names,
      series: w.series_tags_first10, dict: w.strings.slice(2 + w.tag_names.length + w.field_names.length),
      frames: w.frames.map((fr) => ({
        start: BigInt(fr.start), end: BigInt(fr.end), flags: fr.flags,
        columns: w.field_names.map((f) => fr.fields[f].first.map(num)),
      })),
    });
    assert.equal(got.length, bin.length);
    const framesOff = new DataView(bin.buffer).getUint32(56, true);
    assert.deepEqual(got.subarray(0, framesOff), bin.subarray(0, framesOff), "header, strings and series table");
    // Frame values: equal as f64, any NaN payload equal to any other.
    const a = new DataView(got.buffer), b = new DataView(bin.buffer, bin.byteOffset);
    for (let p = framesOff; p < bin.length; p += 8) {
      const x = a.getFloat64(p, true), y = b.getFloat64(p, true);
      assert.ok(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)) || a.getBigUint64(p, true) === b.getBigUint64(p, true), `offset ${p}: ${x} vs ${y}`);
    }
  });
}

test("decodeAlert reads the alert vectors", () => {
  const w = JSON.parse(readFileSync(new URL("alert_prediction.json", testdata), "utf8"));
  const a = decodeAlert(new Uint8Array(readFileSync(new URL("alert_prediction.bin", testdata))));
  assert.equal(a.message, w.message);
  assert.equal(a.horizon, BigInt(w.horizon));
  assert.equal(a.upper, w.upper);
  assert.ok(Number.isNaN(a.lower));
});

test("the reference example warns and crits on z-score and names both conditions", async () => {
  const wasm = readFileSync(new URL("../build/reference.wasm", import.meta.url));
  const sec = 1_000_000_000n;
  const hist = [[10, 10, 10], [12, 12, 12], [10, 10, 10], [12, 12, 12]]; // mean 11, sd 1
  const input = (cur) => encodeInput({
    tagNames: ["k"], fieldNames: ["other", "v"], series: [["a"], ["b"], ["c"]],
    frames: [cur, ...hist].map((col, k) => ({ start: (100n - 10n * BigInt(k)) * sec, end: (110n - 10n * BigInt(k)) * sec, columns: [[0, 0, 0], col] })),
  });
  const inst = await start(wasm, { field: "v", threshold: 3, min_history: 3 });
  const r = inst.analyze(input([14, 17, 13.9]));
  assert.equal(r.status, 0);
  assert.equal(r.alerts.length, 2);
  assert.deepEqual({ ...r.alerts[0] }, { severity: 2, kind: 0, series: 0, field: 1, observed: 14, expected: 11, lower: 8, upper: 14, horizon: 0n, message: "z-score beyond threshold" });
  assert.equal(r.alerts[1].severity, 3);
  const both = await start(wasm, { field: "v", threshold: 1, min_history: 2, abs_max: 5 });
  const r2 = both.analyze(input([9, 11, 11]));
  assert.equal(r2.alerts[0].message, "z-score beyond threshold; above absolute maximum");
  await assert.rejects(start(wasm, {}), /tidemark_init returned -1/);
});
