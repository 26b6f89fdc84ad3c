//! Decodes every golden vector in abi/testdata with the crate's decoder and
//! compares it with the expected values in the matching .json (ABI.md §11);
//! encodes the golden alerts and compares them byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use tidemark::json::{self, Value};
use tidemark::{decode_alert, Alert, AlignedBuf, Input, Kind, Severity};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../abi/testdata")
}

fn load_json(p: &Path) -> Value {
    let b = fs::read(p).unwrap_or_else(|e| panic!("{}: {}", p.display(), e));
    json::parse(&b).unwrap_or_else(|e| panic!("{}: {}", p.display(), e))
}

fn vectors(alerts: bool) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(testdata())
        .expect("abi/testdata")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json") && n.starts_with("alert_") == alerts)
        .map(|n| n.trim_end_matches(".json").to_string())
        .collect();
    names.sort();
    names
}

/// A float as the vectors write it: a number, or "NaN"/"+Inf"/"-Inf".
fn jfloat(v: &Value) -> f64 {
    match v {
        Value::Number(n) => *n,
        // The vectors come from Go's encoder, whose math.NaN() has payload
        // 1; any NaN means "missing", but this keeps the bytes comparable.
        Value::String(s) if s == "NaN" => go_nan(),
        Value::String(s) if s == "+Inf" => f64::INFINITY,
        Value::String(s) if s == "-Inf" => f64::NEG_INFINITY,
        other => panic!("not a float: {:?}", other),
    }
}

fn go_nan() -> f64 {
    f64::from_bits(0x7FF8_0000_0000_0001)
}

fn same_float(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits() || a == b
}

/// i64 values are decimal strings (JavaScript numbers lose precision).
fn ji64(v: &Value) -> i64 {
    v.as_str().expect("i64 as string").parse().expect("i64")
}

fn num(v: &Value) -> u64 {
    let n = v.as_f64().expect("number");
    assert!(n >= 0.0 && n.fract() == 0.0, "not a count: {}", n);
    n as u64
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array().expect("array").iter().map(|s| s.as_str().expect("string")).collect()
}

fn get<'a>(v: &'a Value, k: &str) -> &'a Value {
    v.get(k).unwrap_or_else(|| panic!("expected value has no {:?}", k))
}

fn check_input(name: &str) {
    let td = testdata();
    let want = load_json(&td.join(format!("{}.json", name)));
    let raw = fs::read(td.join(format!("{}.bin", name))).unwrap();
    let buf = AlignedBuf::from_bytes(&raw);
    let inp = Input::parse(buf.as_bytes()).unwrap_or_else(|e| panic!("{}: {}", name, e));

    // Every key of the expected values must be checked here: an unknown
    // key fails, so a new expectation cannot be silently ignored.
    for (k, v) in want.as_object().unwrap() {
        match k.as_str() {
            "major" => assert_eq!(inp.version().0 as u64, num(v), "{} major", name),
            "minor" => assert_eq!(inp.version().1 as u64, num(v), "{} minor", name),
            "flags" => assert_eq!(inp.flags() as u64, num(v), "{} flags", name),
            "total_len" => assert_eq!(inp.bytes().len() as u64, num(v), "{} total_len", name),
            "window_start" => assert_eq!(inp.window_start(), ji64(v), "{} window_start", name),
            "window_end" => assert_eq!(inp.window_end(), ji64(v), "{} window_end", name),
            "instance" => assert_eq!(inp.instance(), v.as_str().unwrap(), "{} instance", name),
            "pipeline" => assert_eq!(inp.pipeline(), v.as_str().unwrap(), "{} pipeline", name),
            "series_count" => assert_eq!(inp.series() as u64, num(v), "{} series_count", name),
            "frame_count" => assert_eq!(inp.num_frames() as u64, num(v), "{} frame_count", name),
            "string_count" => assert_eq!(inp.num_strings() as u64, num(v), "{} string_count", name),
            "strings" => {
                let got: Vec<&str> = (0..inp.num_strings()).map(|i| inp.string(i)).collect();
                assert_eq!(got, strs(v), "{} strings", name);
            }
            "tag_names" => {
                let got: Vec<&str> = (0..inp.num_tags()).map(|t| inp.tag_name(t)).collect();
                assert_eq!(got, strs(v), "{} tag_names", name);
            }
            "field_names" => {
                let got: Vec<&str> = (0..inp.num_fields()).map(|f| inp.field_name(f)).collect();
                assert_eq!(got, strs(v), "{} field_names", name);
                for (f, n) in got.iter().enumerate() {
                    assert_eq!(inp.field_index(n), Some(f));
                }
            }
            "series_tags_first10" => {
                let want_rows = v.as_array().unwrap();
                assert_eq!(want_rows.len(), inp.series().min(10), "{} series rows", name);
                for (s, row) in want_rows.iter().enumerate() {
                    let got: Vec<&str> = (0..inp.num_tags()).map(|t| inp.tag_value(s, t)).collect();
                    assert_eq!(got, strs(row), "{} series {}", name, s);
                }
            }
            "frames" => check_frames(name, &inp, v),
            other => panic!("{}: expected value {:?} is not checked by this test", name, other),
        }
    }
}

fn check_frames(name: &str, inp: &Input, want: &Value) {
    let frames = want.as_array().unwrap();
    assert_eq!(frames.len(), inp.num_frames(), "{} frames", name);
    assert!(inp.frame(frames.len()).is_none());
    for (k, wf) in frames.iter().enumerate() {
        let fr = inp.frame(k).unwrap();
        assert_eq!(fr.start(), ji64(get(wf, "start")), "{} frame {} start", name, k);
        assert_eq!(fr.end(), ji64(get(wf, "end")), "{} frame {} end", name, k);
        assert_eq!(fr.flags() as u64, num(get(wf, "flags")), "{} frame {} flags", name, k);
        if k == 0 {
            assert_eq!((fr.start(), fr.end()), (inp.window_start(), inp.window_end()));
        } else {
            assert_eq!(inp.history(k).unwrap().start(), fr.start());
        }
        let fields = get(wf, "fields").as_object().unwrap();
        assert_eq!(fields.len(), inp.num_fields());
        for (fname, wc) in fields {
            let f = inp.field_index(fname).unwrap_or_else(|| panic!("{}: no field {}", name, fname));
            let col = fr.column(f);
            assert_eq!(col.len(), inp.series());
            let (mut sum, mut nan, mut pinf, mut ninf) = (0.0f64, 0u64, 0u64, 0u64);
            for &x in col {
                if x.is_nan() {
                    nan += 1;
                } else if x == f64::INFINITY {
                    pinf += 1;
                } else if x == f64::NEG_INFINITY {
                    ninf += 1;
                } else {
                    sum += x;
                }
            }
            let ctx = format!("{} frame {} field {}", name, k, fname);
            let wsum = get(wc, "finite_sum").as_f64().unwrap();
            assert!(
                (sum - wsum).abs() <= 1e-9 * wsum.abs().max(1e-300) || sum == wsum,
                "{} finite_sum {} want {}",
                ctx,
                sum,
                wsum
            );
            assert_eq!(nan, num(get(wc, "nan_count")), "{} nan_count", ctx);
            assert_eq!(pinf, num(get(wc, "pos_inf_count")), "{} pos_inf_count", ctx);
            assert_eq!(ninf, num(get(wc, "neg_inf_count")), "{} neg_inf_count", ctx);
            let first = get(wc, "first").as_array().unwrap();
            assert_eq!(first.len(), col.len().min(5), "{} first", ctx);
            for (i, w) in first.iter().enumerate() {
                assert!(same_float(col[i], jfloat(w)), "{} value {}: {} want {:?}", ctx, i, col[i], w);
            }
            match get(wc, "last") {
                Value::Null => assert!(col.is_empty(), "{} last", ctx),
                w => assert!(same_float(*col.last().unwrap(), jfloat(w)), "{} last", ctx),
            }
            if k == 0 {
                assert_eq!(inp.column(f).as_ptr(), col.as_ptr());
            }
        }
    }
}

#[test]
fn golden_inputs_decode_as_expected() {
    let names = vectors(false);
    for want in ["empty", "one_series", "large", "special_values", "unicode_tags", "history_incomplete"] {
        assert!(names.iter().any(|n| n == want), "abi/testdata has no {}", want);
    }
    for n in &names {
        check_input(n);
    }
}

#[test]
fn columns_are_views_into_the_buffer() {
    let raw = fs::read(testdata().join("large.bin")).unwrap();
    let buf = AlignedBuf::from_bytes(&raw);
    let inp = Input::parse(buf.as_bytes()).unwrap();
    let range = buf.as_bytes().as_ptr_range();
    for k in 0..inp.num_frames() {
        let col = inp.frame(k).unwrap().column(2);
        assert!(range.contains(&(col.as_ptr() as *const u8)), "frame {} column copied", k);
    }
    assert_eq!(inp.history_frames().count(), 30);
    assert_eq!(inp.series_key(3), "dst_ip=10.0.0.3,proto=udp");
    assert_eq!(inp.tag(3, "proto"), Some("udp"));
}

#[test]
fn misaligned_buffer_is_refused() {
    let raw = fs::read(testdata().join("one_series.bin")).unwrap();
    let mut shifted = AlignedBuf::new();
    let b = shifted.as_mut_bytes(raw.len() + 4);
    b[4..].copy_from_slice(&raw);
    assert!(Input::parse(&shifted.as_bytes()[4..]).is_err());
}

fn put_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn decoder_rejects_what_abi_md_lists() {
    let raw = fs::read(testdata().join("one_series.bin")).unwrap();
    type Mutation = Box<dyn Fn(&mut Vec<u8>)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "total_len past the bytes",
            Box::new(|b| {
                let n = b.len() as u32 + 8;
                put_u32(b, 12, n)
            }),
        ),
        ("short", Box::new(|b| b.truncate(60))),
        ("magic", Box::new(|b| b[0] = b'X')),
        ("major", Box::new(|b| b[4] = 2)),
        ("string_count", Box::new(|b| put_u32(b, 32, 3))),
        ("frame_count 0", Box::new(|b| put_u32(b, 48, 0))),
        ("frames past the end", Box::new(|b| put_u32(b, 48, 3))),
        (
            "stride not ×8",
            Box::new(|b| {
                let s = u32::from_le_bytes([b[60], b[61], b[62], b[63]]);
                put_u32(b, 60, s + 4)
            }),
        ),
        ("stride too small", Box::new(|b| put_u32(b, 60, 24))),
        (
            "series_off misaligned",
            Box::new(|b| {
                let s = u32::from_le_bytes([b[52], b[53], b[54], b[55]]);
                put_u32(b, 52, s + 4)
            }),
        ),
        (
            "frames_off before series end",
            Box::new(|b| {
                let s = u32::from_le_bytes([b[52], b[53], b[54], b[55]]);
                put_u32(b, 56, s)
            }),
        ),
        (
            "series entry not a string",
            Box::new(|b| {
                let s = u32::from_le_bytes([b[52], b[53], b[54], b[55]]) as usize;
                put_u32(b, s, 99)
            }),
        ),
        ("string offset decreases", Box::new(|b| put_u32(b, 64 + 4, 200))),
        ("string offset 0", Box::new(|b| put_u32(b, 64, 1))),
    ];
    assert!(Input::parse(AlignedBuf::from_bytes(&raw).as_bytes()).is_ok());
    for (what, mutate) in cases {
        let mut b = raw.clone();
        mutate(&mut b);
        let buf = AlignedBuf::from_bytes(&b);
        assert!(Input::parse(buf.as_bytes()).is_err(), "accepted: {}", what);
    }
}

/// Random corruptions of every vector: parse either refuses them or gives
/// an Input whose every accessor stays in bounds.
#[test]
fn corrupted_inputs_never_panic() {
    let mut r: u64 = 0x9e3779b97f4a7c15;
    let mut next = move || {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        r
    };
    for n in vectors(false) {
        let raw = fs::read(testdata().join(format!("{}.bin", n))).unwrap();
        let limit = raw.len().min(512); // headers and tables, where offsets live
        for _ in 0..400 {
            let mut b = raw.clone();
            for _ in 0..1 + next() % 3 {
                let i = (next() as usize) % limit;
                b[i] = next() as u8;
            }
            if next() % 4 == 0 {
                b.truncate((next() as usize) % raw.len());
            }
            let buf = AlignedBuf::from_bytes(&b);
            if let Ok(inp) = Input::parse(buf.as_bytes()) {
                for i in 0..inp.num_strings() {
                    let _ = inp.string(i);
                }
                for s in 0..inp.series() {
                    let _ = inp.series_key(s);
                }
                for k in 0..inp.num_frames() {
                    let fr = inp.frame(k).unwrap();
                    for f in 0..inp.num_fields() {
                        assert_eq!(fr.column(f).len(), inp.series());
                    }
                }
            }
        }
    }
}

fn severity(n: u64) -> Severity {
    match n {
        0 => Severity::Ok,
        1 => Severity::Info,
        2 => Severity::Warn,
        3 => Severity::Crit,
        _ => panic!("severity {}", n),
    }
}

fn index(v: &Value) -> Option<usize> {
    match num(v) {
        0xFFFF_FFFF => None,
        n => Some(n as usize),
    }
}

#[test]
fn golden_alerts_encode_byte_for_byte() {
    let names = vectors(true);
    assert!(names.len() >= 3, "alert vectors: {:?}", names);
    for n in names {
        let want = load_json(&testdata().join(format!("{}.json", n)));
        let bin = fs::read(testdata().join(format!("{}.bin", n))).unwrap();
        for (k, _) in want.as_object().unwrap() {
            assert!(
                ["severity", "kind", "series", "field", "observed", "expected", "lower", "upper", "horizon", "message"]
                    .contains(&k.as_str()),
                "{}: expected value {:?} is not checked",
                n,
                k
            );
        }
        let a = Alert {
            severity: severity(num(get(&want, "severity"))),
            kind: if num(get(&want, "kind")) == 1 { Kind::Prediction } else { Kind::Anomaly },
            series: index(get(&want, "series")),
            field: index(get(&want, "field")),
            observed: jfloat(get(&want, "observed")),
            expected: jfloat(get(&want, "expected")),
            lower: jfloat(get(&want, "lower")),
            upper: jfloat(get(&want, "upper")),
            horizon: ji64(get(&want, "horizon")),
            message: get(&want, "message").as_str().unwrap(),
        };
        assert_eq!(a.encode(), bin, "{}: encoding differs", n);

        let d = decode_alert(&bin).unwrap();
        assert_eq!(d.severity as u64, num(get(&want, "severity")), "{}", n);
        assert_eq!(d.kind as u64, num(get(&want, "kind")), "{}", n);
        assert_eq!(d.series as u64, num(get(&want, "series")), "{}", n);
        assert_eq!(d.field as u64, num(get(&want, "field")), "{}", n);
        assert!(same_float(d.observed, a.observed) && same_float(d.expected, a.expected), "{}", n);
        assert!(same_float(d.lower, a.lower) && same_float(d.upper, a.upper), "{}", n);
        assert_eq!(d.horizon, a.horizon, "{}", n);
        assert_eq!(d.message, a.message, "{}", n);
    }
}

#[test]
fn malformed_alerts_are_refused() {
    let good = Alert { series: Some(1), message: "x", ..Alert::default() }.encode();
    assert!(decode_alert(&good).is_ok());
    let mut short = good.clone();
    short.truncate(55);
    let mut bad_len = good.clone();
    bad_len.push(b'y');
    let mut bad_sev = good.clone();
    bad_sev[0] = 4;
    let mut reserved = good.clone();
    reserved[2] = 1;
    for b in [short, bad_len, bad_sev, reserved] {
        assert!(decode_alert(&b).is_err());
    }
}

#[test]
fn test_encoder_matches_golden_bytes() {
    use tidemark::testing::{TestFrame, TestInput};
    let t0: i64 = 1795791600 * 1_000_000_000;
    let sec: i64 = 1_000_000_000;
    let one = TestInput {
        window_start: t0,
        window_end: t0 + 10 * sec,
        instance: "country-spike".into(),
        pipeline: "traffic_by_country".into(),
        tag_names: vec!["src_country".into()],
        field_names: vec!["sum_bytes".into(), "count".into()],
        series: vec![vec!["FR".into()]],
        frames: vec![
            TestFrame { start: t0, end: t0 + 10 * sec, flags: 0, columns: vec![vec![1500.0], vec![3.0]] },
            TestFrame { start: t0 - 10 * sec, end: t0, flags: 0, columns: vec![vec![1200.5], vec![2.0]] },
        ],
        ..TestInput::default()
    };
    assert_eq!(one.encode(), fs::read(testdata().join("one_series.bin")).unwrap());
    let day = 86400 * sec;
    let nan = go_nan();
    let hist = TestInput {
        flags: 3,
        window_start: t0,
        window_end: t0 + 10 * sec,
        instance: "yesterday".into(),
        pipeline: "traffic".into(),
        tag_names: vec!["src_country".into()],
        field_names: vec!["sum_bytes".into()],
        series: vec![vec!["DE".into()], vec!["US".into()]],
        frames: vec![
            TestFrame { start: t0, end: t0 + 10 * sec, flags: 0, columns: vec![vec![10.0, 20.0]] },
            TestFrame { start: t0 - day + 2 * sec, end: t0 - day + 12 * sec, flags: 0, columns: vec![vec![9.0, nan]] },
            TestFrame { start: t0 - 2 * day, end: t0 - 2 * day + 10 * sec, flags: 1, columns: vec![vec![nan, nan]] },
        ],
    };
    assert_eq!(hist.encode(), fs::read(testdata().join("history_incomplete.bin")).unwrap());
}
