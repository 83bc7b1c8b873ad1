//! Units of RADL numbers (spec §6.2) and how numbers are written.
//!
//! A unit follows its number and is read ignoring case and one trailing `B`:
//! `K`, `M`, `G`, `T` are powers of 1000, `Ki`, `Mi`, `Gi`, `Ti` powers of 1024.

/// The byte units a size feature accepts, upper-cased, as the validation
/// message lists them.
pub const BYTE_UNITS: &[&str] = &[
    "B", "K", "KB", "KI", "KIB", "M", "MB", "MI", "MIB", "G", "GB", "GI", "GIB", "T", "TB", "TI",
    "TIB",
];

/// The units `cpu.performance` accepts (unscaled).
pub const PERFORMANCE_UNITS: &[&str] = &["ECU", "GCEU", "HRZ"];

/// How many bytes one `unit` is, or `None` for a unit that is not a byte unit.
#[must_use]
pub fn byte_factor(unit: &str) -> Option<f64> {
    let upper = unit.to_ascii_uppercase();
    let stem = upper.strip_suffix('B').unwrap_or(&upper);
    let factor = match stem {
        "" => 1.0,
        "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "KI" => 1024.0,
        "MI" => 1_048_576.0,
        "GI" => 1_073_741_824.0,
        "TI" => 1_099_511_627_776.0,
        _ => return None,
    };
    Some(factor)
}

/// `value` written with `unit`, in base units: byte units scale, any other
/// unit (such as `ECU`) leaves the number as written.
#[must_use]
pub fn to_base(value: f64, unit: Option<&str>) -> f64 {
    match unit.and_then(byte_factor) {
        Some(factor) => value * factor,
        None => value,
    }
}

/// Whether a number is whole (RADL's integers).
#[must_use]
pub fn is_whole(value: f64) -> bool {
    value.is_finite() && value.fract() == 0.0
}

/// A number as JSON: an integer when whole, else a float.
#[must_use]
pub fn json_number(value: f64) -> serde_json::Value {
    // Whole numbers within ±2^63 convert exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if is_whole(value) && value.abs() < LIMIT {
        #[allow(clippy::cast_possible_truncation)]
        let whole = value as i64;
        serde_json::Value::from(whole)
    } else {
        serde_json::Number::from_f64(value)
            .map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

/// A number as RADL text writes it: digits, a decimal part only when needed,
/// never an exponent.
#[must_use]
pub fn format_number(value: f64) -> String {
    // `Display` for f64 writes the shortest exact decimal, without exponent.
    format!("{value}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_and_binary_units_ignore_case_and_a_trailing_b() {
        let cases = [
            ("k", 1e3),
            ("KB", 1e3),
            ("m", 1e6),
            ("MB", 1e6),
            ("g", 1e9),
            ("G", 1e9),
            ("gb", 1e9),
            ("T", 1e12),
            ("Ki", 1024.0),
            ("KiB", 1024.0),
            ("mi", 1_048_576.0),
            ("MIB", 1_048_576.0),
            ("Gi", 1_073_741_824.0),
            ("GiB", 1_073_741_824.0),
            ("Ti", 1_099_511_627_776.0),
            ("tib", 1_099_511_627_776.0),
            ("B", 1.0),
            ("b", 1.0),
        ];
        for (unit, factor) in cases {
            assert_eq!(byte_factor(unit), Some(factor), "{unit}");
        }
        for unit in ["X", "KK", "BB", "ECU", "Kib2"] {
            assert_eq!(byte_factor(unit), None, "{unit}");
        }
    }

    #[test]
    fn base_values_scale_byte_units_only() {
        assert!((to_base(512.0, Some("m")) - 512_000_000.0).abs() < f64::EPSILON);
        assert!((to_base(2.0, Some("GiB")) - 2_147_483_648.0).abs() < f64::EPSILON);
        assert!((to_base(3.0, Some("ECU")) - 3.0).abs() < f64::EPSILON);
        assert!((to_base(3.0, None) - 3.0).abs() < f64::EPSILON);
    }

    #[test]
    fn json_numbers_are_integers_when_whole() {
        assert_eq!(json_number(512_000_000.0), serde_json::json!(512_000_000));
        assert_eq!(json_number(1500.0), serde_json::json!(1500));
        assert_eq!(json_number(0.5), serde_json::json!(0.5));
    }

    #[test]
    fn text_numbers_have_no_exponent() {
        assert_eq!(format_number(512.0), "512");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(1e21), "1000000000000000000000");
        assert_eq!(format_number(0.000_1), "0.0001");
    }
}
