//! Reading one cell as a typed value: dates as Vietnamese offices write them, coded values by code
//! or by their Vietnamese/English label, numbers with a decimal comma, yes/no marks. Each parser
//! returns `Ok(None)` for a blank cell and an error message (without the row and column, which
//! the caller adds) for a bad one.

use chrono::NaiveDate;
use doi178_shared::establishment::{EstablishmentStatus, EstablishmentType, RiskLevel};

use super::columns::header_key;
use super::table::{number_text, Cell};

pub type CellResult<T> = Result<Option<T>, String>;

/// Text, trimmed; `None` when blank. Numbers lose a trailing `.0` (a registration number typed
/// into a number cell).
pub fn text(cell: &Cell) -> CellResult<String> {
    match cell {
        Cell::Error(e) => Err(format!("the cell holds the spreadsheet error {e}")),
        c if c.is_blank() => Ok(None),
        c => Ok(Some(c.to_text())),
    }
}

/// A phone number. A number cell has lost its leading zero (Excel drops it), so a 9- or
/// 10-digit number gets it back: `912345678` → `"0912345678"`.
pub fn phone(cell: &Cell) -> CellResult<String> {
    match cell {
        Cell::Number(n) if n.fract() == 0.0 && *n > 0.0 => {
            let digits = number_text(*n);
            if (9..=10).contains(&digits.len()) {
                Ok(Some(format!("0{digits}")))
            } else {
                Ok(Some(digits))
            }
        }
        other => text(other),
    }
}

/// A unit code as typed. A number cell that lost leading zeros ("00004" → 4) is padded back
/// to the 5 digits of a commune code.
pub fn unit_code(cell: &Cell) -> CellResult<String> {
    match cell {
        Cell::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n < 100_000.0 => {
            Ok(Some(format!("{:05}", *n as i64)))
        }
        other => text(other),
    }
}

/// A date: a spreadsheet date cell, `dd/mm/yyyy` (also with `-` or `.`, one-digit day or month
/// allowed) or ISO `yyyy-mm-dd` (a time part after it is ignored).
pub fn date(cell: &Cell) -> CellResult<NaiveDate> {
    let s = match cell {
        Cell::Date(d) => return Ok(Some(*d)),
        Cell::Number(_) | Cell::Bool(_) => {
            return Err(format!(
            "{:?} is not a date; write dd/mm/yyyy (e.g. 15/03/2023) or format the cell as a date",
            cell.to_text()
        ))
        }
        other => match text(other)? {
            None => return Ok(None),
            Some(s) => s,
        },
    };
    parse_date_text(&s).map(Some)
}

pub fn parse_date_text(s: &str) -> Result<NaiveDate, String> {
    let bad =
        || format!("{s:?} is not a valid date; write dd/mm/yyyy (e.g. 15/03/2023) or yyyy-mm-dd");
    let s = s.trim();
    // ISO, possibly with a time: 2023-03-15, 2023-03-15T00:00:00, 2023-03-15 00:00:00.
    let head = s.split(['T', ' ']).next().unwrap_or(s);
    let parts: Vec<&str> = head.split(['/', '-', '.']).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let num = |p: &str| p.parse::<u32>().map_err(|_| bad());
    let (y, m, d) = if parts[0].len() == 4 && head.contains('-') {
        (parts[0], parts[1], parts[2])
    } else if parts[2].len() == 4 && parts[0].len() <= 2 && parts[1].len() <= 2 {
        if s.len() != head.len() {
            return Err(bad());
        }
        (parts[2], parts[1], parts[0])
    } else if parts[2].len() == 2 && parts[0].len() <= 2 {
        return Err(format!(
            "{s:?}: write the year with 4 digits (dd/mm/yyyy, e.g. 15/03/2023)"
        ));
    } else {
        return Err(bad());
    };
    let year = i32::try_from(num(y)?).map_err(|_| bad())?;
    let month = num(m)?;
    let day = num(d)?;
    if month > 12 && day <= 12 && parts[2].len() == 4 {
        return Err(format!(
            "{s:?} has month {month}: dates are read as day/month/year (dd/mm/yyyy)"
        ));
    }
    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(bad)?;
    if !(1900..=2100).contains(&year) {
        return Err(format!("{s:?}: the year must be between 1900 and 2100"));
    }
    Ok(date)
}

/// A coordinate. Accepts a decimal comma ("16,4637").
pub fn number(cell: &Cell) -> CellResult<f64> {
    let s = match cell {
        Cell::Number(n) => return Ok(Some(*n)),
        other => match text(other)? {
            None => return Ok(None),
            Some(s) => s,
        },
    };
    let normalised = if !s.contains('.') && s.matches(',').count() == 1 {
        s.replace(',', ".")
    } else {
        s.clone()
    };
    match normalised.trim().parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(Some(n)),
        _ => Err(format!("{s:?} is not a number (e.g. 16.4637)")),
    }
}

/// Yes/no: `x`, `có`, `đã ký`, `yes`, `true`, `1` / `không`, `chưa`, `no`, `false`, `0`.
pub fn yes_no(cell: &Cell) -> CellResult<bool> {
    let s = match cell {
        Cell::Bool(b) => return Ok(Some(*b)),
        Cell::Number(n) if *n == 1.0 => return Ok(Some(true)),
        Cell::Number(n) if *n == 0.0 => return Ok(Some(false)),
        other => match text(other)? {
            None => return Ok(None),
            Some(s) => s,
        },
    };
    match header_key(&s).as_str() {
        "x" | "co" | "da ky" | "da ky cam ket" | "yes" | "y" | "true" | "1" => Ok(Some(true)),
        "khong" | "chua" | "chua ky" | "no" | "n" | "false" | "0" => Ok(Some(false)),
        _ => Err(format!(
            "{s:?} is not yes or no; write \"có\" or \"không\" (or x / blank)"
        )),
    }
}

/// Finds a coded value by code, Vietnamese label, English label or an extra alias (all in
/// [`header_key`] form). The error lists the Vietnamese labels.
fn coded<T: Copy>(
    cell: &Cell,
    all: &[T],
    names: impl Fn(T) -> [&'static str; 3],
    extra: &[(&str, T)],
    what: &str,
) -> CellResult<T> {
    let Some(s) = text(cell)? else {
        return Ok(None);
    };
    let key = header_key(&s);
    let found = all
        .iter()
        .copied()
        .find(|v| names(*v).iter().any(|n| header_key(n) == key))
        .or_else(|| extra.iter().find(|(k, _)| *k == key).map(|(_, v)| *v));
    match found {
        Some(v) => Ok(Some(v)),
        None => {
            let labels: Vec<String> = all
                .iter()
                .map(|v| {
                    let [code, vi, _] = names(*v);
                    format!("{vi} ({code})")
                })
                .collect();
            Err(format!(
                "unknown {what} {s:?}; use one of: {}",
                labels.join(", ")
            ))
        }
    }
}

pub fn establishment_type(cell: &Cell) -> CellResult<EstablishmentType> {
    use EstablishmentType as T;
    const EXTRA: &[(&str, EstablishmentType)] = &[
        ("kinh doanh karaoke", T::Karaoke),
        ("dich vu karaoke", T::Karaoke),
        ("hat karaoke", T::Karaoke),
        ("kinh doanh vu truong", T::DanceHall),
        ("dich vu vu truong", T::DanceHall),
        ("discotheque", T::DanceHall),
        ("xoa bop", T::MassageSauna),
        ("xong hoi", T::MassageSauna),
        ("massage", T::MassageSauna),
        ("sauna", T::MassageSauna),
        ("massage sauna", T::MassageSauna),
        ("dich vu xoa bop", T::MassageSauna),
        ("kinh doanh dich vu xoa bop", T::MassageSauna),
        ("xoa bop xong hoi", T::MassageSauna),
        ("xong hoi xoa bop", T::MassageSauna),
        ("guest house", T::Guesthouse),
        ("bar", T::Bar),
        ("pub", T::Bar),
        ("nha hang tiep vien", T::RestaurantHostess),
        ("restaurant hostess", T::RestaurantHostess),
    ];
    coded(
        cell,
        T::ALL,
        |t| [t.as_str(), t.label_vi(), t.label_en()],
        EXTRA,
        "type",
    )
}

pub fn status(cell: &Cell) -> CellResult<EstablishmentStatus> {
    use EstablishmentStatus as S;
    const EXTRA: &[(&str, EstablishmentStatus)] = &[
        ("hoat dong", S::Operating),
        ("dang kinh doanh", S::Operating),
        ("active", S::Operating),
        ("tam ngung", S::Suspended),
        ("tam dung", S::Suspended),
        ("tam ngung kinh doanh", S::Suspended),
        ("dong cua", S::Closed),
        ("da dong", S::Closed),
        ("cham dut hoat dong", S::Closed),
        ("giai the", S::Closed),
    ];
    coded(
        cell,
        S::ALL,
        |s| [s.as_str(), s.label_vi(), s.label_en()],
        EXTRA,
        "status",
    )
}

pub fn risk(cell: &Cell) -> CellResult<RiskLevel> {
    use RiskLevel as R;
    const EXTRA: &[(&str, RiskLevel)] = &[
        ("rui ro thap", R::Low),
        ("rui ro trung binh", R::Medium),
        ("tb", R::Medium),
        ("rui ro cao", R::High),
    ];
    coded(
        cell,
        R::ALL,
        |r| [r.as_str(), r.label_vi(), r.label_en()],
        EXTRA,
        "risk level",
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn dates_vietnamese_and_iso() {
        assert_eq!(date(&t("15/03/2023")).unwrap(), Some(ymd(2023, 3, 15)));
        assert_eq!(date(&t("5/3/2023")).unwrap(), Some(ymd(2023, 3, 5)));
        assert_eq!(date(&t("05-03-2023")).unwrap(), Some(ymd(2023, 3, 5)));
        assert_eq!(date(&t("05.03.2023")).unwrap(), Some(ymd(2023, 3, 5)));
        assert_eq!(date(&t("2023-03-05")).unwrap(), Some(ymd(2023, 3, 5)));
        assert_eq!(
            date(&t("2023-03-05T00:00:00")).unwrap(),
            Some(ymd(2023, 3, 5))
        );
        assert_eq!(
            date(&t("2023-03-05 00:00:00")).unwrap(),
            Some(ymd(2023, 3, 5))
        );
        assert_eq!(
            date(&Cell::Date(ymd(2024, 1, 2))).unwrap(),
            Some(ymd(2024, 1, 2))
        );
        assert_eq!(date(&Cell::Empty).unwrap(), None);
        assert_eq!(date(&t("  ")).unwrap(), None);
    }

    #[test]
    fn bad_dates() {
        assert!(date(&t("31/02/2023"))
            .unwrap_err()
            .contains("not a valid date"));
        assert!(date(&t("15/03/23")).unwrap_err().contains("4 digits"));
        assert!(date(&t("03/15/2023"))
            .unwrap_err()
            .contains("day/month/year"));
        assert!(date(&t("hôm qua")).is_err());
        assert!(date(&t("2023/15/03")).is_err());
        assert!(date(&t("15/03/2023 10:00")).is_err());
        assert!(date(&Cell::Number(45000.0))
            .unwrap_err()
            .contains("dd/mm/yyyy"));
        assert!(date(&t("01/01/0001")).is_err());
    }

    #[test]
    fn types_by_code_and_label() {
        use EstablishmentType as T;
        let ty = |s: &str| establishment_type(&t(s)).unwrap().unwrap();
        for v in T::ALL {
            assert_eq!(ty(v.as_str()), *v);
            assert_eq!(ty(v.label_vi()), *v);
            assert_eq!(ty(v.label_en()), *v);
            assert_eq!(ty(&v.label_vi().to_uppercase()), *v);
        }
        assert_eq!(ty("Vũ trường"), T::DanceHall);
        assert_eq!(ty("vu truong"), T::DanceHall);
        assert_eq!(ty("dance_hall"), T::DanceHall);
        assert_eq!(ty("Xoa bóp, xông hơi"), T::MassageSauna);
        assert_eq!(ty("Nhà nghỉ"), T::Guesthouse);
        assert_eq!(ty("Khách sạn"), T::Hotel);
        assert_eq!(ty("Quán bar"), T::Bar);
        assert_eq!(ty("Nhà hàng có tiếp viên"), T::RestaurantHostess);
        assert_eq!(establishment_type(&Cell::Empty).unwrap(), None);
        let err = establishment_type(&t("Tiệm vàng")).unwrap_err();
        assert!(
            err.contains("Tiệm vàng") && err.contains("Vũ trường (dance_hall)"),
            "{err}"
        );
    }

    #[test]
    fn status_and_risk() {
        assert_eq!(
            status(&t("Đang hoạt động")).unwrap(),
            Some(EstablishmentStatus::Operating)
        );
        assert_eq!(
            status(&t("closed")).unwrap(),
            Some(EstablishmentStatus::Closed)
        );
        assert_eq!(
            status(&t("Tạm ngừng")).unwrap(),
            Some(EstablishmentStatus::Suspended)
        );
        assert!(status(&t("??")).is_err());
        assert_eq!(risk(&t("Cao")).unwrap(), Some(RiskLevel::High));
        assert_eq!(risk(&t("trung bình")).unwrap(), Some(RiskLevel::Medium));
        assert_eq!(risk(&t("low")).unwrap(), Some(RiskLevel::Low));
        assert!(risk(&t("rất cao")).is_err());
    }

    #[test]
    fn numbers_phones_units_and_flags() {
        assert_eq!(number(&t("16,4637")).unwrap(), Some(16.4637));
        assert_eq!(number(&t("107.59")).unwrap(), Some(107.59));
        assert_eq!(number(&Cell::Number(16.5)).unwrap(), Some(16.5));
        assert!(number(&t("16°28'")).is_err());
        assert!(number(&t("NaN")).is_err());
        assert_eq!(
            phone(&Cell::Number(912345678.0)).unwrap(),
            Some("0912345678".into())
        );
        assert_eq!(
            phone(&Cell::Number(2343822123.0)).unwrap(),
            Some("02343822123".into())
        );
        assert_eq!(
            phone(&t(" 0234 382 212 ")).unwrap(),
            Some("0234 382 212".into())
        );
        assert_eq!(unit_code(&Cell::Number(4.0)).unwrap(), Some("00004".into()));
        assert_eq!(
            unit_code(&Cell::Number(19753.0)).unwrap(),
            Some("19753".into())
        );
        assert_eq!(
            unit_code(&t("2025:19753")).unwrap(),
            Some("2025:19753".into())
        );
        assert_eq!(
            text(&Cell::Number(3300123456.0)).unwrap(),
            Some("3300123456".into())
        );
        assert!(text(&Cell::Error("#N/A".into()))
            .unwrap_err()
            .contains("#N/A"));
        assert_eq!(yes_no(&t("x")).unwrap(), Some(true));
        assert_eq!(yes_no(&t("Đã ký")).unwrap(), Some(true));
        assert_eq!(yes_no(&t("Không")).unwrap(), Some(false));
        assert_eq!(yes_no(&Cell::Bool(true)).unwrap(), Some(true));
        assert_eq!(yes_no(&Cell::Empty).unwrap(), None);
        assert!(yes_no(&t("maybe")).is_err());
    }
}
