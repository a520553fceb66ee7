//! wrk's durations ("1.23ms", "456.00us", "1.02s") in milliseconds, for the benchmarks that
//! read its report (included with `#[path]`).

pub fn millis(v: &str) -> f64 {
    let (number, factor) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v, 1.0)
    };
    number.trim().parse::<f64>().unwrap_or(f64::NAN) * factor
}
