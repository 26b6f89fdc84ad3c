use super::*;
use tidemark::testing::{Harness, TestFrame, TestInput};
use tidemark::DecodedAlert;

const SEC: i64 = 1_000_000_000;

/// One field "v", one frame per value list (frame 0 first), series a, b, ...
fn input(frames: &[Vec<f64>], missing: &[usize]) -> Vec<u8> {
    let s = frames[0].len();
    TestInput {
        window_start: 100 * SEC,
        window_end: 110 * SEC,
        instance: "ref".into(),
        pipeline: "p".into(),
        tag_names: vec!["k".into()],
        field_names: vec!["other".into(), "v".into()],
        series: (0..s).map(|i| vec![format!("s{}", i)]).collect(),
        frames: frames
            .iter()
            .enumerate()
            .map(|(k, col)| TestFrame {
                start: (100 - 10 * k as i64) * SEC,
                end: (110 - 10 * k as i64) * SEC,
                flags: if missing.contains(&k) { 1 } else { 0 },
                columns: vec![vec![0.0; s], col.clone()],
            })
            .collect(),
        ..TestInput::default()
    }
    .encode()
}

fn start(opts: &str) -> Harness<Reference> {
    tidemark::testing::reset();
    Harness::start(Reference::default(), opts).unwrap()
}

fn one(a: &[DecodedAlert]) -> &DecodedAlert {
    assert_eq!(a.len(), 1, "{:?}", a);
    &a[0]
}

#[test]
fn z_score_warn_and_crit_with_band() {
    let mut h = start(r#"{"field":"v","threshold":3,"min_history":3}"#);
    // History 10,12,10,12: mean 11, population sd 1.
    let hist = [vec![10.0, 10.0, 10.0], vec![12.0, 12.0, 12.0], vec![10.0, 10.0, 10.0], vec![12.0, 12.0, 12.0]];
    let mut frames = vec![vec![14.0, 17.0, 13.9]];
    frames.extend(hist.iter().cloned());
    let alerts = h.analyze(&input(&frames, &[])).unwrap();
    assert_eq!(alerts.len(), 2, "{:?}", alerts);
    let w = &alerts[0];
    assert_eq!((w.severity, w.kind, w.series, w.field), (2, 0, 0, 1));
    assert_eq!((w.observed, w.expected, w.lower, w.upper, w.horizon), (14.0, 11.0, 8.0, 14.0, 0));
    assert_eq!(w.message, MSG_Z);
    let c = &alerts[1];
    assert_eq!((c.severity, c.series, c.observed), (3, 1, 17.0));
    // Negative deviations count too (|z|).
    let mut frames = vec![vec![5.0, 11.0, 11.0]];
    frames.extend(hist.iter().cloned());
    let a = h.analyze(&input(&frames, &[])).unwrap();
    assert_eq!((one(&a).severity, one(&a).series), (3, 0));
}

#[test]
fn absolute_maximum_without_enough_history() {
    let mut h = start(r#"{"field":"v","threshold":3,"min_history":3,"abs_max":100}"#);
    let frames = vec![vec![101.0, 100.0], vec![1.0, 1.0], vec![2.0, 2.0]];
    let a = h.analyze(&input(&frames, &[])).unwrap();
    let a = one(&a);
    assert_eq!((a.severity, a.series, a.observed), (2, 0, 101.0));
    assert!(a.expected.is_nan() && a.lower.is_nan() && a.upper.is_nan());
    assert_eq!(a.message, MSG_ABS);
}

#[test]
fn both_conditions_name_both() {
    let mut h = start(r#"{"field":"v","threshold":1,"min_history":2,"abs_max":5}"#);
    let frames = vec![vec![9.0], vec![1.0], vec![3.0]]; // mean 2, sd 1, z 7
    let a = h.analyze(&input(&frames, &[])).unwrap();
    assert_eq!((one(&a).severity, one(&a).message.as_str()), (3, MSG_BOTH));
}

#[test]
fn missing_frames_nan_inf_and_flat_history_are_skipped() {
    let mut h = start(r#"{"field":"v","threshold":3,"min_history":3}"#);
    let inf = f64::INFINITY;
    // Series 0: MISSING frame 2 holds garbage that must be ignored, Inf and
    // NaN are not history values: 10,12,10,12 remain -> z = 3 -> warn.
    // Series 1: only two finite values -> below min_history -> nothing.
    // Series 2: flat history (sd 0) -> no z-score -> nothing.
    // Series 3: NaN now -> nothing.
    let frames = vec![
        vec![14.0, 1e9, 1e9, f64::NAN],
        vec![10.0, 1.0, 5.0, 1.0],
        vec![1e6, 1e6, 1e6, 1e6],
        vec![12.0, inf, 5.0, 2.0],
        vec![inf, f64::NAN, 5.0, 3.0],
        vec![10.0, 2.0, 5.0, 4.0],
        vec![12.0, f64::NAN, 5.0, 5.0],
    ];
    let a = h.analyze(&input(&frames, &[2])).unwrap();
    let a = one(&a);
    assert_eq!((a.series, a.severity, a.expected), (0, 2, 11.0));
}

#[test]
fn unknown_field_is_quiet_and_logged_once() {
    let mut h = start(r#"{"field":"nope","threshold":3,"min_history":3}"#);
    let frames = vec![vec![1e9], vec![1.0], vec![2.0], vec![3.0]];
    assert!(h.analyze(&input(&frames, &[])).unwrap().is_empty());
    assert!(h.analyze(&input(&frames, &[])).unwrap().is_empty());
    let logs = tidemark::testing::logs();
    assert_eq!(logs.len(), 1, "{:?}", logs);
    assert!(logs[0].1.contains("nope"));
}

#[test]
fn init_requires_field() {
    tidemark::testing::reset();
    let e = Harness::start(Reference::default(), r#"{"threshold":3}"#).err().expect("init must fail");
    assert_eq!(e.status(), tidemark::Status::InvalidArgument);
    assert!(Harness::start(Reference::default(), "{bad json").is_err());
}

#[test]
fn corrupt_input_fails_the_call() {
    let mut h = start(r#"{"field":"v"}"#);
    let e = h.analyze(b"TMK1 not really").unwrap_err();
    assert_eq!(e.status(), tidemark::Status::InvalidArgument);
}

#[test]
fn large_golden_input() {
    let raw = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../abi/testdata/large.bin")).unwrap();
    let mut h = start(r#"{"field":"sum_bytes","threshold":1.5,"min_history":3,"abs_max":990}"#);
    let a = h.analyze(&raw).unwrap();
    // Uniform values: |z| >= 1.5 for roughly one series in eight, plus the
    // values above 990.
    assert!(a.len() > 50 && a.len() < 400, "{} alerts", a.len());
    assert!(a.windows(2).all(|w| w[0].series < w[1].series), "series order");
    assert!(a.iter().any(|x| x.severity == 3 || x.message == MSG_ABS));
}
