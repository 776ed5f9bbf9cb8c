//! Vietnamese names for the demo: people (users, owners), establishments per type, street
//! addresses. All names are made up from common words; none is meant to be a real business.

use rand::seq::SliceRandom;
use rand::Rng;

use super::kinds::Kind;

/// A person's name in Vietnamese order: family, middle, given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub family: &'static str,
    pub middle: &'static str,
    pub given: &'static str,
    pub male: bool,
}

impl Person {
    pub fn full(&self) -> String {
        format!("{} {} {}", self.family, self.middle, self.given)
    }

    /// Lowercase ASCII login stem: given name plus initials, e.g. "hungnv" for Nguyễn Văn Hùng.
    pub fn login_stem(&self) -> String {
        let initials: String = [self.family, self.middle]
            .iter()
            .flat_map(|w| w.split_whitespace())
            .filter_map(|w| ascii(w).chars().next())
            .collect();
        format!("{}{}", ascii(self.given), initials)
    }
}

/// Lowercase ASCII letters and digits of `s` (diacritics dropped, đ → d).
pub fn ascii(s: &str) -> String {
    doi178_shared::text::fold(s)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Family names with rough frequencies (per mille) in central Vietnam.
const FAMILIES: &[(&str, u32)] = &[
    ("Nguyễn", 360),
    ("Trần", 110),
    ("Lê", 100),
    ("Phạm", 60),
    ("Hoàng", 45),
    ("Phan", 45),
    ("Võ", 45),
    ("Huỳnh", 15),
    ("Đặng", 20),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 25),
    ("Ngô", 14),
    ("Dương", 10),
    ("Trương", 12),
    ("Đoàn", 10),
    ("Lý", 5),
    ("Mai", 6),
    ("Tôn Thất", 8),
    ("Cao", 6),
    ("Châu", 5),
];

const MALE_MIDDLE: &[&str] = &[
    "Văn", "Văn", "Văn", "Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thanh", "Ngọc", "Xuân",
    "Đình", "Anh", "Tấn", "Phước", "Quốc", "Thế", "Viết",
];
const FEMALE_MIDDLE: &[&str] = &[
    "Thị", "Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Bảo", "Kim", "Hồng",
    "Diệu", "Phương", "Khánh", "Mỹ", "Hoài",
];
const MALE_GIVEN: &[&str] = &[
    "Hùng", "Dũng", "Minh", "Tuấn", "Nam", "Phong", "Long", "Hải", "Sơn", "Quân", "Bảo", "Huy",
    "Khoa", "Tài", "Lộc", "Phúc", "Trung", "Hiếu", "Thắng", "Cường", "Khánh", "Vinh", "Toàn",
    "Hoàng", "Thành", "Tâm", "Nhân", "Đạt", "Hưng", "Việt", "Quý", "Thịnh", "Tú", "An", "Bình",
    "Định", "Lâm", "Nghĩa", "Phát", "Tín",
];
const FEMALE_GIVEN: &[&str] = &[
    "Lan", "Hoa", "Hương", "Mai", "Linh", "Trang", "Thảo", "Hằng", "Nga", "Nhung", "Hạnh", "Thủy",
    "Yến", "Vy", "Ngân", "Phương", "Hà", "Anh", "Dung", "Tâm", "Châu", "Nhi", "Trâm", "Uyên",
    "Quỳnh", "Hiền", "Loan", "Oanh", "Thư", "Hồng", "Xuân", "Giang",
];

fn pick_weighted<'a, T>(rng: &mut impl Rng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| *w).sum();
    let mut r = rng.gen_range(0..total.max(1));
    for (item, w) in items {
        if r < *w {
            return item;
        }
        r -= *w;
    }
    &items[items.len() - 1].0
}

fn pick<T: Copy>(rng: &mut impl Rng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())]
}

pub fn person(rng: &mut impl Rng) -> Person {
    let male = rng.gen_bool(0.55);
    let family = *pick_weighted(rng, FAMILIES);
    let family = if family == "Tôn Thất" && !male {
        "Tôn Nữ"
    } else {
        family
    };
    if male {
        Person {
            family,
            middle: pick(rng, MALE_MIDDLE),
            given: pick(rng, MALE_GIVEN),
            male,
        }
    } else {
        Person {
            family,
            middle: pick(rng, FEMALE_MIDDLE),
            given: pick(rng, FEMALE_GIVEN),
            male,
        }
    }
}

const KARAOKE: &[&str] = &[
    "Hoa Hồng",
    "Hoàng Gia",
    "Sao Mai",
    "Ánh Dương",
    "Hương Giang",
    "Kim Cương",
    "Tình Ca",
    "Bolero",
    "Thiên Đường",
    "Sông Hương",
    "Hoa Mai",
    "Ngọc Lan",
    "Cung Đình",
    "Phương Đông",
    "Ánh Trăng",
    "Tuổi Hồng",
    "Sao Đêm",
    "Mây Trắng",
    "Trúc Xanh",
    "Thanh Xuân",
    "Melody",
    "Hương Sen",
    "Bông Hồng",
    "Hải Âu",
    "Biển Xanh",
    "Ngọc Trai",
    "Vườn Xuân",
    "Tím Huế",
    "Thiên An",
    "Giai Điệu",
    "Hòa Âm",
    "Nốt Nhạc",
    "Tri Kỷ",
    "Gia Đình",
    "Nắng Mới",
    "Hoa Sữa",
    "Phượng Hồng",
    "Star",
    "Diamond",
    "Golden",
    "Music Box",
    "Family",
];
const DANCE_HALLS: &[&str] = &[
    "Phượng Hoàng",
    "Sao Băng",
    "Thiên Hà",
    "Dạ Lan",
    "Bước Nhảy",
    "Ngôi Sao Mới",
    "Cầu Vồng",
    "Galaxy",
    "Sunset",
    "Rhythm",
    "Ánh Sáng",
    "Đêm Trắng",
];
const MASSAGE_PREFIX: &[&str] = &[
    "Massage",
    "Massage",
    "Xông hơi - Massage",
    "Spa",
    "Massage chân",
    "Thư giãn - Massage",
];
const MASSAGE: &[&str] = &[
    "Thanh Tâm",
    "Hoa Sen",
    "Thảo Mộc",
    "An Nhiên",
    "Ngọc Dung",
    "Hương Tràm",
    "Thiên Thanh",
    "Sen Vàng",
    "Hồng Ngọc",
    "Bạch Mai",
    "Mộc Trà",
    "Hương Quế",
    "Gió Biển",
    "An Khang",
    "Minh Châu",
    "Linh Đan",
    "Lá Thuốc",
    "Tĩnh Tâm",
    "Suối Mát",
    "Hoa Cúc",
    "Lotus",
    "Zen",
];
const HOTELS: &[&str] = &[
    "Sông Hương",
    "Hoàng Thành",
    "Kinh Thành",
    "Thiên Mụ",
    "Ngự Bình",
    "Hương Giang",
    "Đông Ba",
    "Phú Xuân",
    "Trường Tiền",
    "Bạch Mã",
    "Thuận An",
    "Lăng Cô",
    "Ánh Sao",
    "Hoa Sen",
    "Thanh Bình",
    "Hòa Bình",
    "An Phú",
    "Thiên Ân",
    "Phương Nam",
    "Minh Tâm",
    "Hải Đăng",
    "Sao Biển",
    "Cát Vàng",
    "Tâm An",
    "Nguyệt Anh",
    "Phú Cường",
    "Bình Minh",
    "Hoa Cau",
    "Trúc Lâm",
    "Xuân Thu",
    "Ngọc Huế",
    "Cố Đô",
    "Hoàng Long",
    "Thành Công",
];
const GUESTHOUSES: &[&str] = &[
    "Hoa",
    "Minh Anh",
    "Thanh Bình",
    "Hồng Phúc",
    "Bình An",
    "Tuấn Kiệt",
    "Hải Yến",
    "Ngọc Ánh",
    "Phương Thảo",
    "Thu Hà",
    "Hoàng Long",
    "Gia Huy",
    "Kim Ngân",
    "Thanh Thủy",
    "Mỹ Linh",
    "Bảo Ngọc",
    "Phúc Lộc",
    "Hạnh Phúc",
    "An Khang",
    "Tường Vy",
    "Hương Lan",
    "Đức Thịnh",
    "Như Ý",
    "Thiên Phú",
    "Lan Anh",
    "Ngọc Mai",
    "Hoàng Anh",
    "Minh Châu",
    "Quỳnh Như",
    "Phú Quý",
    "Sơn Trà",
    "Thùy Dương",
    "Vạn Phúc",
    "Bích Ngọc",
    "Hoa Mai",
    "Ngọc Lan",
];
const BAR_PREFIX: &[&str] = &["Bar", "Bar", "Pub", "Lounge", "Beer club"];
const BARS: &[&str] = &[
    "Sky",
    "Blue",
    "Night Owl",
    "Red Wine",
    "Zero",
    "Cosmos",
    "Phố Đêm",
    "Chill",
    "Vibe",
    "Oasis",
    "Neon",
    "Saxophone",
    "Sea Breeze",
    "Tháng Tư",
    "Hoa Đá",
    "Rooftop",
    "Sông Trăng",
    "Gác Nhỏ",
];
const RESTAURANTS: &[&str] = &[
    "Hải Sản Biển Đông",
    "Đồng Quê",
    "Phố Núi",
    "Sông Quê",
    "Hương Đồng",
    "Gió Chiều",
    "Bến Xưa",
    "Ngói Đỏ",
    "Hoa Cau",
    "Làng Chài",
    "Vườn Nhà",
    "Phương Nam",
    "Tâm Phát",
    "Thuận Phát",
    "Hương Quê",
    "Lẩu Nướng Ba Miền",
    "Bia Tươi Hoàng Gia",
    "Sân Vườn Xanh",
    "Mái Lá",
];
const OTHER_PREFIX: &[&str] = &[
    "Cà phê",
    "Cà phê",
    "Cà phê - Giải khát",
    "Phòng trà",
    "Cà phê võng",
];
const OTHERS: &[&str] = &[
    "Gió",
    "Hoa Giấy",
    "Mộc",
    "Thủy Tiên",
    "Tím",
    "Góc Phố",
    "Lặng",
    "Trăng Khuyết",
    "Hẻm",
    "Mưa",
    "Nắng",
    "Cỏ May",
    "Dốc",
    "Ngõ Nhỏ",
    "Sương Mai",
    "Chiều Tím",
    "Ký Ức",
];
const SUFFIXES: &[&str] = &["2", "3", "68", "79", "Plaza", "Vip", "Xanh", "Mới"];

/// A made-up name for an establishment of `kind`, e.g. "Karaoke Hoa Hồng", "Nhà nghỉ Hoa".
pub fn establishment_name(rng: &mut impl Rng, kind: Kind) -> String {
    let base = match kind {
        Kind::Karaoke => format!("Karaoke {}", pick(rng, KARAOKE)),
        Kind::DanceHall => format!("Vũ trường {}", pick(rng, DANCE_HALLS)),
        Kind::MassageSauna => format!("{} {}", pick(rng, MASSAGE_PREFIX), pick(rng, MASSAGE)),
        Kind::Hotel => format!("Khách sạn {}", pick(rng, HOTELS)),
        Kind::Guesthouse => format!("Nhà nghỉ {}", pick(rng, GUESTHOUSES)),
        Kind::Bar => format!("{} {}", pick(rng, BAR_PREFIX), pick(rng, BARS)),
        Kind::RestaurantHostess => format!("Nhà hàng {}", pick(rng, RESTAURANTS)),
        Kind::Other => format!("{} {}", pick(rng, OTHER_PREFIX), pick(rng, OTHERS)),
    };
    if rng.gen_bool(0.15) {
        format!("{base} {}", pick(rng, SUFFIXES))
    } else {
        base
    }
}

const HUE_STREETS: &[&str] = &[
    "Lê Lợi",
    "Hùng Vương",
    "Trần Hưng Đạo",
    "Nguyễn Huệ",
    "Bà Triệu",
    "Phạm Văn Đồng",
    "Điện Biên Phủ",
    "Nguyễn Sinh Cung",
    "Lý Thường Kiệt",
    "Đống Đa",
    "Chu Văn An",
    "Võ Thị Sáu",
    "Phạm Ngũ Lão",
    "Nguyễn Trãi",
    "Lê Duẩn",
    "Kim Long",
    "Đặng Thái Thân",
    "Trường Chinh",
    "Bùi Thị Xuân",
    "An Dương Vương",
    "Nguyễn Tất Thành",
    "Tự Đức",
    "Minh Mạng",
    "Huyền Trân Công Chúa",
    "Nguyễn Chí Thanh",
    "Phan Đình Phùng",
    "Hai Bà Trưng",
    "Lê Quý Đôn",
    "Nguyễn Công Trứ",
    "Ngự Bình",
    "Đào Duy Anh",
    "Mai Thúc Loan",
    "Đinh Tiên Hoàng",
    "Trần Phú",
    "Hà Nội",
    "Nguyễn Lộ Trạch",
    "Tố Hữu",
    "Võ Văn Kiệt",
    "Nguyễn Văn Linh",
    "Phan Bội Châu",
    "Ngô Quyền",
    "Đội Cung",
    "Nguyễn Thái Học",
    "Tôn Đức Thắng",
    "Dương Văn An",
    "Lê Ngô Cát",
];
const QUANG_TRI_STREETS: &[&str] = &[
    "Hùng Vương",
    "Lê Duẩn",
    "Quang Trung",
    "Trần Hưng Đạo",
    "Lý Thường Kiệt",
    "Nguyễn Du",
    "Hai Bà Trưng",
    "Lê Lợi",
    "Trương Pháp",
    "Quách Xuân Kỳ",
    "Hữu Nghị",
    "Nguyễn Hữu Cảnh",
    "Lê Thánh Tôn",
    "Trần Phú",
    "Điện Biên Phủ",
    "Thạch Hãn",
    "Nguyễn Trãi",
    "Tôn Thất Thuyết",
    "Phan Bội Châu",
    "Ngô Quyền",
    "Lý Thái Tổ",
    "Trần Quang Khải",
];
const VILLAGES: &[&str] = &[
    "An Bằng",
    "Phú Lễ",
    "Đông",
    "Tây",
    "Trung",
    "Thượng",
    "Hạ",
    "An Lộc",
    "Phước Yên",
    "Mỹ Xuyên",
    "Thanh Hà",
    "Lương Điền",
    "Xuân Lai",
    "Hòa Bình",
    "Tân Lập",
    "Vĩnh Hưng",
    "Phú Ốc",
    "Bao La",
];
const HIGHWAYS: &[&str] = &[
    "Quốc lộ 1",
    "Quốc lộ 49",
    "Tỉnh lộ 10",
    "Quốc lộ 9",
    "Đường Hồ Chí Minh",
];

/// A street address ending with the commune's full name, e.g. "12 Lê Lợi, Phường Phú Xuân".
/// Wards get street numbers (sometimes in a kiệt, an alley); communes get villages and roads.
pub fn address(
    rng: &mut impl Rng,
    province_code: &str,
    urban: bool,
    commune_full_name: &str,
) -> String {
    let streets = if province_code == "46" {
        HUE_STREETS
    } else {
        QUANG_TRI_STREETS
    };
    let no: u32 = rng.gen_range(1..=320);
    if urban {
        let street = pick(rng, streets);
        match rng.gen_range(0..10) {
            0..=6 => format!("{no} {street}, {commune_full_name}"),
            7 | 8 => format!(
                "{no}/{} {street}, {commune_full_name}",
                rng.gen_range(1..=60)
            ),
            _ => format!(
                "{} kiệt {no} {street}, {commune_full_name}",
                rng.gen_range(1..=40)
            ),
        }
    } else {
        match rng.gen_range(0..10) {
            0..=5 => format!("Thôn {}, {commune_full_name}", pick(rng, VILLAGES)),
            6..=7 => format!("Thôn {}, {commune_full_name}", rng.gen_range(1..=12)),
            _ => format!(
                "Km {}+{:03} {}, {commune_full_name}",
                rng.gen_range(1..=60),
                rng.gen_range(0..10) * 100,
                pick(rng, HIGHWAYS)
            ),
        }
    }
}

/// A phone number in stored form (digits only): mostly mobile, some landlines with the province's
/// area code.
pub fn phone(rng: &mut impl Rng, province_code: &str) -> String {
    const MOBILE: &[&str] = &[
        "090", "091", "093", "094", "096", "097", "098", "077", "079", "083", "085", "088", "035",
        "039",
    ];
    if rng.gen_bool(0.15) {
        let area = if province_code == "46" {
            "0234"
        } else {
            "0233"
        };
        format!("{area}3{:06}", rng.gen_range(0..1_000_000))
    } else {
        format!("{}{:07}", pick(rng, MOBILE), rng.gen_range(0..10_000_000))
    }
}

/// Shuffles a copy of `items` (used for choosing distinct team members).
pub fn shuffled<T: Clone>(rng: &mut impl Rng, items: &[T]) -> Vec<T> {
    let mut v = items.to_vec();
    v.shuffle(rng);
    v
}
