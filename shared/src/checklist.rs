//! Checklist templates: per establishment type, versioned, each item with its legal reference. A
//! new version never changes an old one: a visit names the template and version it answered.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{indexed, DomainError, DomainResult};
use crate::establishment::EstablishmentType;
use crate::text::{clean_line, clean_optional_line, clean_optional_text, clean_text};

/// Most items in one template.
pub const MAX_CHECKLIST_ITEMS: usize = 300;

/// One item to check on site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// Stable code within the template, e.g. `KARAOKE_ROOM_AREA`.
    pub code: String,
    /// What to check, in Vietnamese.
    pub text: String,
    /// The same in English, when the template has a translation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_en: Option<String>,
    /// The rule it comes from ("Điều 7 Nghị định 96/2016/NĐ-CP").
    #[serde(default)]
    pub legal_basis: Option<String>,
    /// The sanction provision if it fails ("ND282 Điều 23").
    #[serde(default)]
    pub sanction_ref: Option<String>,
    /// The violation code a failed answer implies, if any.
    #[serde(default)]
    pub violation_code: Option<String>,
}

/// A template as an administrator submits it. `id` and `version` are assigned by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = template_input_example))]
#[serde(deny_unknown_fields)]
pub struct ChecklistTemplateInput {
    #[serde(default)]
    pub id: Uuid,
    pub establishment_type: EstablishmentType,
    #[serde(default)]
    pub version: u32,
    pub title: String,
    pub items: Vec<ChecklistItem>,
    pub valid_from: NaiveDate,
}

/// A valid [`ChecklistTemplateInput`] for the API document (the examples phase of the contract tests sends it).
#[cfg(feature = "openapi")]
fn template_input_example() -> serde_json::Value {
    serde_json::json!({
        "establishment_type": "bar", "title": "Phiếu kiểm tra quán bar",
        "items": [{ "code": "B01", "text": "Đóng cửa đúng giờ" }], "valid_from": "2026-01-01"
    })
}

/// A validated template version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistTemplate {
    id: Uuid,
    establishment_type: EstablishmentType,
    version: u32,
    title: String,
    items: Vec<ChecklistItem>,
    valid_from: NaiveDate,
}

fn is_code(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

impl ChecklistTemplate {
    /// Rules: version ≥ 1; title required (≤ 200); 1 to 300 items with distinct codes made of
    /// letters, digits, `_`, `-`, `.` (≤ 64); item text required (≤ 1000); references ≤ 300.
    pub fn parse(input: ChecklistTemplateInput) -> DomainResult<Self> {
        if input.version == 0 {
            return Err(DomainError::out_of_range("version", "must be 1 or more"));
        }
        let title = clean_line("title", &input.title, 200)?;
        if input.items.is_empty() {
            return Err(DomainError::required("items"));
        }
        if input.items.len() > MAX_CHECKLIST_ITEMS {
            return Err(DomainError::too_long("items", MAX_CHECKLIST_ITEMS));
        }
        let mut seen = HashSet::new();
        let mut items = Vec::with_capacity(input.items.len());
        for (i, item) in input.items.into_iter().enumerate() {
            let p = indexed("items", i);
            let code = clean_line("code", &item.code, 64).map_err(|e| e.with_prefix(&p))?;
            if !is_code(&code) {
                return Err(DomainError::invalid(
                    format!("{p}.code"),
                    "may contain only letters, digits, '_', '-' and '.'",
                ));
            }
            if !seen.insert(code.clone()) {
                return Err(DomainError::duplicate(
                    format!("{p}.code"),
                    "two items have this code",
                ));
            }
            items.push(ChecklistItem {
                code,
                text: clean_text("text", &item.text, 1000).map_err(|e| e.with_prefix(&p))?,
                text_en: clean_optional_text("text_en", item.text_en.as_deref(), 1000)
                    .map_err(|e| e.with_prefix(&p))?,
                legal_basis: clean_optional_line("legal_basis", item.legal_basis.as_deref(), 300)
                    .map_err(|e| e.with_prefix(&p))?,
                sanction_ref: clean_optional_line(
                    "sanction_ref",
                    item.sanction_ref.as_deref(),
                    300,
                )
                .map_err(|e| e.with_prefix(&p))?,
                violation_code: clean_optional_line(
                    "violation_code",
                    item.violation_code.as_deref(),
                    64,
                )
                .map_err(|e| e.with_prefix(&p))?,
            });
        }
        Ok(Self {
            id: input.id,
            establishment_type: input.establishment_type,
            version: input.version,
            title,
            items,
            valid_from: input.valid_from,
        })
    }

    pub fn id(&self) -> Uuid {
        self.id
    }
    pub fn establishment_type(&self) -> EstablishmentType {
        self.establishment_type
    }
    pub fn version(&self) -> u32 {
        self.version
    }
    pub fn title(&self) -> &str {
        &self.title
    }
    pub fn items(&self) -> &[ChecklistItem] {
        &self.items
    }
    pub fn valid_from(&self) -> NaiveDate {
        self.valid_from
    }

    /// Whether `code` is an item of this template.
    pub fn has_item(&self, code: &str) -> bool {
        self.items.iter().any(|i| i.code == code)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn item(code: &str) -> ChecklistItem {
        ChecklistItem {
            code: code.into(),
            text: "Phòng hát có diện tích từ 20 m² trở lên".into(),
            text_en: None,
            legal_basis: Some("Điều 4 Nghị định 54/2019/NĐ-CP".into()),
            sanction_ref: None,
            violation_code: None,
        }
    }

    fn input() -> ChecklistTemplateInput {
        ChecklistTemplateInput {
            id: Uuid::from_u128(1),
            establishment_type: EstablishmentType::Karaoke,
            version: 2,
            title: "Karaoke".into(),
            items: vec![item("KARAOKE_ROOM_AREA"), item("GP_KD")],
            valid_from: "2025-12-15".parse().unwrap(),
        }
    }

    #[test]
    fn valid_template() {
        let t = ChecklistTemplate::parse(input()).unwrap();
        assert_eq!(t.version(), 2);
        assert!(t.has_item("GP_KD"));
        assert!(!t.has_item("NOPE"));
    }

    #[test]
    fn rules() {
        let field = |i: ChecklistTemplateInput| ChecklistTemplate::parse(i).unwrap_err().field;
        assert_eq!(
            field(ChecklistTemplateInput {
                version: 0,
                ..input()
            }),
            "version"
        );
        assert_eq!(
            field(ChecklistTemplateInput {
                title: "".into(),
                ..input()
            }),
            "title"
        );
        assert_eq!(
            field(ChecklistTemplateInput {
                items: vec![],
                ..input()
            }),
            "items"
        );
        assert_eq!(
            field(ChecklistTemplateInput {
                items: vec![item("A"), item("A")],
                ..input()
            }),
            "items[1].code"
        );
        assert_eq!(
            field(ChecklistTemplateInput {
                items: vec![item("A B")],
                ..input()
            }),
            "items[0].code"
        );
        let mut bad = item("A");
        bad.text = " ".into();
        assert_eq!(
            field(ChecklistTemplateInput {
                items: vec![bad],
                ..input()
            }),
            "items[0].text"
        );
    }

    #[test]
    fn id_and_version_may_be_omitted_on_the_wire() {
        let json = r#"{"establishment_type":"karaoke","title":"K","items":[{"code":"A","text":"x"}],"valid_from":"2026-01-01"}"#;
        let i: ChecklistTemplateInput = serde_json::from_str(json).unwrap();
        assert_eq!(i.version, 0);
        assert!(serde_json::from_str::<ChecklistTemplateInput>(
            &json.replace("\"title\"", "\"evil\":1,\"title\"")
        )
        .is_err());
    }
}
