//! Human units for times, sizes and rates.

/// `12.3 ms`, `850 ns`, `1.20 s`: three significant digits.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return format!("{seconds} s");
    }
    let a = seconds.abs();
    let (value, unit) = if a == 0.0 {
        (0.0, "s")
    } else if a < 1e-6 {
        (seconds * 1e9, "ns")
    } else if a < 1e-3 {
        (seconds * 1e6, "µs")
    } else if a < 1.0 {
        (seconds * 1e3, "ms")
    } else {
        (seconds, "s")
    };
    format!("{} {unit}", three_digits(value))
}

/// `1.50 GiB`, `12.0 MiB`, `512 B` (binary units), with sign.
pub fn bytes(n: f64) -> String {
    let a = n.abs();
    let (value, unit) = if a < 1024.0 {
        return format!("{n:.0} B");
    } else if a < 1024.0 * 1024.0 {
        (n / 1024.0, "KiB")
    } else if a < 1024.0 * 1024.0 * 1024.0 {
        (n / (1024.0 * 1024.0), "MiB")
    } else {
        (n / (1024.0 * 1024.0 * 1024.0), "GiB")
    };
    format!("{} {unit}", three_digits(value))
}

/// A number with three significant digits (`123`, `12.3`, `1.23`).
pub fn three_digits(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(duration(0.0123), "12.3 ms");
        assert_eq!(duration(850e-9), "850 ns");
        assert_eq!(duration(1.2), "1.20 s");
        assert_eq!(duration(4.56e-5), "45.6 µs");
        assert_eq!(duration(0.0), "0.00 s");
    }

    #[test]
    fn bytes_pick_a_unit() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(12.0 * 1024.0 * 1024.0), "12.0 MiB");
        assert_eq!(bytes(-1.5 * 1024.0 * 1024.0 * 1024.0), "-1.50 GiB");
    }
}
