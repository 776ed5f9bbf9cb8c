//! Reference data of the demo: the two programmes (2021–2025 and the draft 2026–2035), the
//! checklist of each establishment type (the shipped templates, as stored), and the catalogue of
//! violations the demo visits record.

use anyhow::Context;
use diesel::prelude::*;
use doi178_shared::checklist::ChecklistItem;
use uuid::Uuid;

use super::kinds::Kind;
use super::{at, date, new_id, rng_for, stream};
use crate::db::programmes::ProgrammeRow;
use crate::db::templates::TemplateRow;
use crate::db::AnyConnection;

pub struct Template {
    pub id: Uuid,
    pub version: i32,
    pub item_codes: Vec<String>,
}

pub struct Reference {
    pub programmes: Vec<ProgrammeRow>,
    /// Indexed by [`Kind::index`].
    pub templates: Vec<Template>,
}

impl Reference {
    pub fn template(&self, kind: Kind) -> &Template {
        &self.templates[kind.index()]
    }
}

pub fn build(seed: u64, stored: &[TemplateRow]) -> anyhow::Result<Reference> {
    let mut rng = rng_for(seed, stream::REFERENCE);
    let created = at(date(2025, 12, 10), 2 * 3600);
    let in_scope = serde_json::to_string(&Kind::in_scope())?;
    let counted = serde_json::to_string(&doi178_shared::coverage::DEFAULT_COUNTED_OUTCOMES)?;
    let programmes = vec![
        ProgrammeRow {
            id: new_id(&mut rng).to_string(),
            name: "Chương trình phòng, chống mại dâm giai đoạn 2021–2025".to_string(),
            period_start: date(2021, 1, 1),
            period_end: date(2025, 12, 31),
            annual_min_share_bp: 2000,
            end_share_bp: 10000,
            types_in_scope: in_scope.clone(),
            counted_outcomes: counted.clone(),
            province_overrides: "{}".to_string(),
            created_at: created,
            updated_at: created,
        },
        ProgrammeRow {
            id: new_id(&mut rng).to_string(),
            name: "Chương trình phòng, chống mại dâm giai đoạn 2026–2035 (dự thảo)".to_string(),
            period_start: date(2026, 1, 1),
            period_end: date(2035, 12, 31),
            annual_min_share_bp: 2000,
            end_share_bp: 10000,
            types_in_scope: in_scope,
            counted_outcomes: counted,
            province_overrides: "{}".to_string(),
            created_at: created,
            updated_at: created,
        },
    ];

    // The checklist of each type: the latest version stored (the shipped one on a new database).
    let mut templates = Vec::new();
    for kind in Kind::ALL {
        let row = stored
            .iter()
            .filter(|t| t.establishment_type == kind.establishment_type())
            .max_by_key(|t| t.version)
            .with_context(|| format!("no checklist template for {}", kind.code()))?;
        let items: Vec<ChecklistItem> =
            serde_json::from_str(&row.items).context("stored checklist items")?;
        templates.push(Template {
            id: row.id.parse().context("template id")?,
            version: row.version,
            item_codes: items.into_iter().map(|i| i.code).collect(),
        });
    }
    Ok(Reference {
        programmes,
        templates,
    })
}

pub fn insert(conn: &mut AnyConnection, reference: &Reference) -> anyhow::Result<()> {
    // The migrations seed the standard programmes; the demo adds its own only where they are missing.
    let existing: Vec<chrono::NaiveDate> = crate::db::schema::programmes::table
        .select(crate::db::schema::programmes::period_start)
        .load(conn)?;
    for p in reference
        .programmes
        .iter()
        .filter(|p| !existing.contains(&p.period_start))
    {
        crate::db::programmes::insert(conn, &crate::db::audit_chain::Who::system("demo"), p)?;
    }
    Ok(())
}

/// Which establishments a violation can concern.
#[derive(Clone, Copy)]
pub enum Applies {
    All,
    Antt,
    Lodging,
    Hotel,
    Karaoke,
    DanceHall,
}

impl Applies {
    fn covers(self, kind: Kind) -> bool {
        match self {
            Applies::All => true,
            Applies::Antt => kind.needs_antt(),
            Applies::Lodging => kind.is_lodging(),
            Applies::Hotel => kind == Kind::Hotel,
            Applies::Karaoke => kind == Kind::Karaoke,
            Applies::DanceHall => kind == Kind::DanceHall,
        }
    }
}

/// A kind of violation. Legal references: Decree 282/2025/NĐ-CP from 15 Dec 2025 (articles as in
/// the draft checklists); before that Decree 144/2021/NĐ-CP, cited at article level only. Kinds
/// without an older reference occur only from 15 Dec 2025. Demo data, not legal advice.
pub struct ViolationKind {
    /// Checklist item that fails when this violation is found.
    pub item: &'static str,
    pub applies: Applies,
    pub description: &'static str,
    pub code_new: &'static str,
    pub basis_new: &'static str,
    pub code_old: Option<&'static str>,
    pub basis_old: Option<&'static str>,
    /// Fine range for an individual, in million VND.
    pub fine_m: (u32, u32),
    pub weight: u32,
}

pub const VIOLATIONS: &[ViolationKind] = &[
    ViolationKind {
        item: "C02",
        applies: Applies::Antt,
        description: "Kinh doanh ngành, nghề có điều kiện về an ninh, trật tự khi chưa được cấp Giấy chứng nhận đủ điều kiện về an ninh, trật tự",
        code_new: "ND282-15.4.a",
        basis_new: "Nghị định 282/2025/NĐ-CP Điều 15 khoản 4 điểm a",
        code_old: Some("ND144-12"),
        basis_old: Some("Nghị định 144/2021/NĐ-CP Điều 12"),
        fine_m: (10, 20),
        weight: 6,
    },
    ViolationKind {
        item: "C02",
        applies: Applies::Antt,
        description: "Hoạt động kinh doanh không đúng địa chỉ ghi trong Giấy chứng nhận đủ điều kiện về an ninh, trật tự",
        code_new: "ND282-15.3.e",
        basis_new: "Nghị định 282/2025/NĐ-CP Điều 15 khoản 3 điểm e",
        code_old: Some("ND144-12"),
        basis_old: Some("Nghị định 144/2021/NĐ-CP Điều 12"),
        fine_m: (5, 10),
        weight: 3,
    },
    ViolationKind {
        item: "C03",
        applies: Applies::Antt,
        description: "Không xuất trình được bản chính Giấy chứng nhận đủ điều kiện về an ninh, trật tự khi có yêu cầu kiểm tra",
        code_new: "ND282-15.1.h",
        basis_new: "Nghị định 282/2025/NĐ-CP Điều 15 khoản 1 điểm h",
        code_old: Some("ND144-12"),
        basis_old: Some("Nghị định 144/2021/NĐ-CP Điều 12"),
        fine_m: (2, 3),
        weight: 8,
    },
    ViolationKind {
        item: "C04",
        applies: Applies::Antt,
        description: "Không lập sổ quản lý, không báo cáo định kỳ về an ninh, trật tự cho cơ quan Công an",
        code_new: "ND282-15.1.a",
        basis_new: "Nghị định 282/2025/NĐ-CP Điều 15 khoản 1 điểm a",
        code_old: Some("ND144-12"),
        basis_old: Some("Nghị định 144/2021/NĐ-CP Điều 12"),
        fine_m: (2, 3),
        weight: 9,
    },
    ViolationKind {
        item: "L02",
        applies: Applies::Lodging,
        description: "Không kiểm tra, lưu trữ đầy đủ thông tin của khách lưu trú và người đến thăm",
        code_new: "ND282-15.3.v",
        basis_new: "Nghị định 282/2025/NĐ-CP Điều 15 khoản 3 điểm v",
        code_old: Some("ND144-12"),
        basis_old: Some("Nghị định 144/2021/NĐ-CP Điều 12"),
        fine_m: (5, 10),
        weight: 8,
    },
    ViolationKind {
        item: "L03",
        applies: Applies::Lodging,
        description: "Không thông báo lưu trú cho cơ quan Công an (từ 01 đến 03 người)",
        code_new: "ND282-10.2.dd",
        basis_new: "Nghị định 282/2025/NĐ-CP Điều 10 khoản 2 điểm đ",
        code_old: Some("ND144-9"),
        basis_old: Some("Nghị định 144/2021/NĐ-CP Điều 9"),
        fine_m: (2, 4),
        weight: 12,
    },
    ViolationKind {
        item: "L04",
        applies: Applies::Hotel,
        description: "Không khai báo tạm trú cho người nước ngoài (từ 01 đến 03 người)",
        code_new: "ND282-21.3.e",
        basis_new: "Nghị định 282/2025/NĐ-CP Điều 21 khoản 3 điểm e",
        code_old: None,
        basis_old: None,
        fine_m: (3, 5),
        weight: 5,
    },
    ViolationKind {
        item: "K01",
        applies: Applies::Karaoke,
        description: "Phòng hát có diện tích sử dụng dưới 20 m²",
        code_new: "ND38-15",
        basis_new: "Nghị định 38/2021/NĐ-CP Điều 15",
        code_old: Some("ND38-15"),
        basis_old: Some("Nghị định 38/2021/NĐ-CP Điều 15"),
        fine_m: (15, 20),
        weight: 2,
    },
    ViolationKind {
        item: "K02",
        applies: Applies::Karaoke,
        description: "Cửa phòng hát có chốt, khóa bên trong; lắp thiết bị báo động không phải thiết bị báo cháy",
        code_new: "ND38-15",
        basis_new: "Nghị định 38/2021/NĐ-CP Điều 15",
        code_old: Some("ND38-15"),
        basis_old: Some("Nghị định 38/2021/NĐ-CP Điều 15"),
        fine_m: (15, 20),
        weight: 6,
    },
    ViolationKind {
        item: "K03",
        applies: Applies::Karaoke,
        description: "Hoạt động karaoke trong khoảng thời gian từ 0 giờ đến 8 giờ sáng",
        code_new: "ND38-15",
        basis_new: "Nghị định 38/2021/NĐ-CP Điều 15",
        code_old: Some("ND38-15"),
        basis_old: Some("Nghị định 38/2021/NĐ-CP Điều 15"),
        fine_m: (10, 15),
        weight: 7,
    },
    ViolationKind {
        item: "V04",
        applies: Applies::DanceHall,
        description: "Hoạt động vũ trường sau 2 giờ sáng hoặc cho người dưới 18 tuổi vào vũ trường",
        code_new: "ND38-15",
        basis_new: "Nghị định 38/2021/NĐ-CP Điều 15",
        code_old: Some("ND38-15"),
        basis_old: Some("Nghị định 38/2021/NĐ-CP Điều 15"),
        fine_m: (15, 20),
        weight: 8,
    },
    ViolationKind {
        item: "C05",
        applies: Applies::All,
        description: "Không giao kết hợp đồng lao động bằng văn bản với người lao động (từ 01 đến 10 người)",
        code_new: "ND12-9.1.a",
        basis_new: "Nghị định 12/2022/NĐ-CP Điều 9 khoản 1 điểm a",
        code_old: Some("ND12-9.1.a"),
        basis_old: Some("Nghị định 12/2022/NĐ-CP Điều 9 khoản 1 điểm a"),
        fine_m: (2, 5),
        weight: 6,
    },
    ViolationKind {
        item: "C14",
        applies: Applies::All,
        description: "Cản trở, không chấp hành yêu cầu kiểm tra của người có thẩm quyền",
        code_new: "ND282-26.2.a",
        basis_new: "Nghị định 282/2025/NĐ-CP Điều 26 khoản 2 điểm a",
        code_old: None,
        basis_old: None,
        fine_m: (4, 6),
        weight: 2,
    },
    ViolationKind {
        item: "C12",
        applies: Applies::All,
        description: "Người đứng đầu, người quản lý cơ sở thiếu trách nhiệm để xảy ra hoạt động mua bán dâm tại cơ sở do mình quản lý",
        code_new: "ND282-35.1",
        basis_new: "Nghị định 282/2025/NĐ-CP Điều 35 khoản 1",
        code_old: None,
        basis_old: None,
        fine_m: (20, 30),
        weight: 2,
    },
    ViolationKind {
        item: "C12",
        applies: Applies::All,
        description: "Lợi dụng hoạt động kinh doanh dịch vụ để hoạt động mua bán dâm",
        code_new: "ND282-35.2",
        basis_new: "Nghị định 282/2025/NĐ-CP Điều 35 khoản 2",
        code_old: None,
        basis_old: None,
        fine_m: (30, 40),
        weight: 1,
    },
];

/// Violations that can be recorded at an establishment of `kind` under the decree in force.
pub fn violations_for(kind: Kind, new_decree: bool) -> Vec<&'static ViolationKind> {
    VIOLATIONS
        .iter()
        .filter(|v| v.applies.covers(kind) && (new_decree || v.code_old.is_some()))
        .collect()
}
