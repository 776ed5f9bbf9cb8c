//! Agencies, users and teams of the demo: the Huế city team (Đội 178) with members from several
//! agencies, a few commune teams in Huế, the Quảng Trị team, provincial staff and an administrator.

use doi178_shared::unit::{UnitKind, UnitLevel};
use doi178_shared::{AgencyKind, MemberRole, Role, TeamLevel};
use std::collections::BTreeSet;

use anyhow::Context;
use rand::Rng;
use uuid::Uuid;

use super::names::{self, Person};
use super::units::unit_id;
use super::{at, date, new_id, rng_for, stream};
use crate::db::agencies::AgencyRow;
use crate::db::schema::{team_members, teams, users};
use crate::db::teams::{MemberRow, TeamRow};
use crate::db::units::UnitRow;
use crate::db::users::UserRow;
use crate::db::AnyConnection;

pub const HUE: &str = "46";
pub const QUANG_TRI: &str = "44";

/// Huế communes that have their own team: Phú Xuân, Thuận Hóa, Chân Mây - Lăng Cô.
pub const COMMUNE_TEAMS: &[&str] = &["19753", "19789", "20137"];

pub struct TeamInfo {
    pub id: Uuid,
    pub province: &'static str,
    /// Commune code for a commune-level team.
    pub commune: Option<String>,
    /// Indexes into `Org::users`; the leader first.
    pub members: Vec<usize>,
}

pub struct Org {
    pub agencies: Vec<AgencyRow>,
    pub users: Vec<UserRow>,
    pub teams: Vec<TeamRow>,
    pub members: Vec<MemberRow>,
    pub team_info: Vec<TeamInfo>,
    pub hue_team: usize,
    pub quang_tri_team: usize,
    /// Index of `tinh.hue` and `doitruong.hue` in `users`.
    pub hue_staff: usize,
    pub hue_leader: usize,
}

impl Org {
    pub fn user_id(&self, idx: usize) -> &str {
        &self.users[idx].id
    }

    /// The team of a commune, if it has one.
    pub fn commune_team(&self, commune_code: &str) -> Option<usize> {
        self.team_info
            .iter()
            .position(|t| t.commune.as_deref() == Some(commune_code))
    }
}

struct Builder<'a, R: Rng> {
    rng: R,
    hash: &'a str,
    created: chrono::NaiveDateTime,
    org: Org,
    logins: BTreeSet<String>,
}

impl<R: Rng> Builder<'_, R> {
    fn agency(&mut self, kind: AgencyKind, name: String, unit: &str) -> String {
        let id = new_id(&mut self.rng).to_string();
        self.org.agencies.push(AgencyRow {
            id: id.clone(),
            kind,
            name,
            unit_id: Some(unit_id(unit)),
        });
        id
    }

    /// Adds a user; `login` of `None` makes one from the person's name plus `suffix`.
    fn user(
        &mut self,
        login: Option<&str>,
        suffix: &str,
        role: Role,
        unit: Option<&str>,
        agency: Option<&str>,
    ) -> usize {
        let person: Person = names::person(&mut self.rng);
        let mut username = match login {
            Some(l) => l.to_string(),
            None => format!("{}.{suffix}", person.login_stem()),
        };
        let mut n = 2;
        while self.logins.contains(&username) {
            username = format!("{}{n}.{suffix}", person.login_stem());
            n += 1;
        }
        self.logins.insert(username.clone());
        let display_name = if role == Role::Admin {
            "Quản trị hệ thống".to_string()
        } else {
            person.full()
        };
        self.org.users.push(UserRow {
            id: new_id(&mut self.rng).to_string(),
            username,
            display_name,
            password_hash: self.hash.to_string(),
            role,
            unit_id: unit.map(unit_id),
            agency_id: agency.map(str::to_string),
            active: true,
            created_at: self.created,
            updated_at: self.created,
            must_change_password: false,
        });
        self.org.users.len() - 1
    }

    fn team(
        &mut self,
        name: String,
        level: TeamLevel,
        unit: &str,
        province: &'static str,
        commune: Option<&str>,
    ) -> usize {
        let id = new_id(&mut self.rng);
        self.org.teams.push(TeamRow {
            id: id.to_string(),
            name,
            level,
            unit_id: unit_id(unit),
            created_at: self.created,
            updated_at: self.created,
        });
        self.org.team_info.push(TeamInfo {
            id,
            province,
            commune: commune.map(str::to_string),
            members: Vec::new(),
        });
        self.org.team_info.len() - 1
    }

    fn member(&mut self, team: usize, user: usize, role: MemberRole) {
        self.org.members.push(MemberRow {
            team_id: self.org.teams[team].id.clone(),
            user_id: self.org.users[user].id.clone(),
            role,
        });
        self.org.team_info[team].members.push(user);
    }
}

pub fn build(seed: u64, password_hash: &str, units: &[UnitRow]) -> anyhow::Result<Org> {
    let mut b = Builder {
        rng: rng_for(seed, stream::PEOPLE),
        hash: password_hash,
        created: at(date(2024, 12, 2), 1800),
        org: Org {
            agencies: Vec::new(),
            users: Vec::new(),
            teams: Vec::new(),
            members: Vec::new(),
            team_info: Vec::new(),
            hue_team: 0,
            quang_tri_team: 0,
            hue_staff: 0,
            hue_leader: 0,
        },
        logins: BTreeSet::new(),
    };

    // Huế (a centrally-run city): departments seconding members to the city team.
    let hue_police = b.agency(AgencyKind::Police, "Công an thành phố Huế".into(), HUE);
    let hue_health = b.agency(AgencyKind::Health, "Sở Y tế thành phố Huế".into(), HUE);
    let hue_culture = b.agency(
        AgencyKind::Culture,
        "Sở Văn hóa và Thể thao thành phố Huế".into(),
        HUE,
    );
    let hue_tourism = b.agency(AgencyKind::Tourism, "Sở Du lịch thành phố Huế".into(), HUE);
    let hue_trade = b.agency(
        AgencyKind::Trade,
        "Sở Công Thương thành phố Huế".into(),
        HUE,
    );
    b.agency(
        AgencyKind::LabourSocial,
        "Sở Nội vụ thành phố Huế".into(),
        HUE,
    );
    // Quảng Trị.
    let qt_police = b.agency(
        AgencyKind::Police,
        "Công an tỉnh Quảng Trị".into(),
        QUANG_TRI,
    );
    let qt_health = b.agency(
        AgencyKind::Health,
        "Sở Y tế tỉnh Quảng Trị".into(),
        QUANG_TRI,
    );
    let qt_culture = b.agency(
        AgencyKind::Culture,
        "Sở Văn hóa, Thể thao và Du lịch tỉnh Quảng Trị".into(),
        QUANG_TRI,
    );
    let qt_trade = b.agency(
        AgencyKind::Trade,
        "Sở Công Thương tỉnh Quảng Trị".into(),
        QUANG_TRI,
    );

    b.user(Some("admin"), "", Role::Admin, None, None);
    b.org.hue_staff = b.user(
        Some("tinh.hue"),
        "hue",
        Role::ProvincialStaff,
        Some(HUE),
        Some(&hue_health),
    );

    let team = b.team(
        "Đội kiểm tra liên ngành 178 thành phố Huế".into(),
        TeamLevel::Province,
        HUE,
        HUE,
        None,
    );
    b.org.hue_team = team;
    let leader = b.user(
        Some("doitruong.hue"),
        "hue",
        Role::TeamLeader,
        Some(HUE),
        Some(&hue_health),
    );
    b.org.hue_leader = leader;
    b.member(team, leader, MemberRole::Leader);
    let deputy = b.user(None, "hue", Role::Inspector, Some(HUE), Some(&hue_police));
    b.member(team, deputy, MemberRole::Deputy);
    let inspector = b.user(
        Some("kiemtra.hue"),
        "hue",
        Role::Inspector,
        Some(HUE),
        Some(&hue_police),
    );
    b.member(team, inspector, MemberRole::Member);
    for agency in [&hue_health, &hue_culture, &hue_tourism, &hue_trade] {
        let u = b.user(None, "hue", Role::Inspector, Some(HUE), Some(agency));
        b.member(team, u, MemberRole::Member);
    }

    // Commune teams in Huế: the commune's People's Committee leads, with its police and health station.
    for code in COMMUNE_TEAMS {
        let unit = units
            .iter()
            .find(|u| u.code == *code && u.level == UnitLevel::Commune)
            .with_context(|| format!("commune {code} missing"))?;
        let word = if unit.kind == UnitKind::Ward {
            "phường"
        } else {
            "xã"
        };
        let slug = names::ascii(&unit.name);
        let committee = b.agency(
            AgencyKind::PeoplesCommittee,
            format!("Ủy ban nhân dân {word} {}", unit.name),
            code,
        );
        let police = b.agency(
            AgencyKind::Police,
            format!("Công an {word} {}", unit.name),
            code,
        );
        let health = b.agency(
            AgencyKind::Health,
            format!("Trạm Y tế {word} {}", unit.name),
            code,
        );
        let team = b.team(
            format!("Đội kiểm tra liên ngành 178 {word} {}", unit.name),
            TeamLevel::Commune,
            code,
            HUE,
            Some(code),
        );
        let leader = b.user(
            Some(&format!("doitruong.{slug}")),
            &slug,
            Role::TeamLeader,
            Some(code),
            Some(&committee),
        );
        b.member(team, leader, MemberRole::Leader);
        for (i, agency) in [&police, &committee, &health].into_iter().enumerate() {
            let u = b.user(
                Some(&format!("kiemtra{}.{slug}", i + 1)),
                &slug,
                Role::Inspector,
                Some(code),
                Some(agency),
            );
            b.member(team, u, MemberRole::Member);
        }
    }

    b.user(
        Some("tinh.quangtri"),
        "quangtri",
        Role::ProvincialStaff,
        Some(QUANG_TRI),
        Some(&qt_health),
    );
    let team = b.team(
        "Đội kiểm tra liên ngành 178 tỉnh Quảng Trị".into(),
        TeamLevel::Province,
        QUANG_TRI,
        QUANG_TRI,
        None,
    );
    b.org.quang_tri_team = team;
    let leader = b.user(
        Some("doitruong.quangtri"),
        "quangtri",
        Role::TeamLeader,
        Some(QUANG_TRI),
        Some(&qt_health),
    );
    b.member(team, leader, MemberRole::Leader);
    let inspector = b.user(
        Some("kiemtra.quangtri"),
        "quangtri",
        Role::Inspector,
        Some(QUANG_TRI),
        Some(&qt_police),
    );
    b.member(team, inspector, MemberRole::Member);
    for (agency, role) in [
        (&qt_police, MemberRole::Deputy),
        (&qt_culture, MemberRole::Member),
        (&qt_trade, MemberRole::Member),
    ] {
        let u = b.user(
            None,
            "quangtri",
            Role::Inspector,
            Some(QUANG_TRI),
            Some(agency),
        );
        b.member(team, u, role);
    }
    Ok(b.org)
}

pub fn insert(conn: &mut AnyConnection, org: &Org) -> anyhow::Result<()> {
    crate::db::agencies::insert_all(conn, &org.agencies)?;
    crate::insert_rows!(conn, users::table, &org.users)?;
    crate::insert_rows!(conn, teams::table, &org.teams)?;
    crate::insert_rows!(conn, team_members::table, &org.members)?;
    let demo = crate::db::audit_chain::Who::system("demo");
    crate::db::audit_chain::bulk(conn, &demo, "agencies", org.agencies.len())?;
    // Few rows: one audit entry each, so later changes to them are checked against live rows.
    let users: Vec<String> = org.users.iter().map(|u| u.id.clone()).collect();
    crate::db::audit_chain::created_many(conn, &demo, crate::db::audit_chain::Kind::User, &users)?;
    let teams: Vec<String> = org.teams.iter().map(|t| t.id.clone()).collect();
    crate::db::audit_chain::created_many(conn, &demo, crate::db::audit_chain::Kind::Team, &teams)?;
    let members: Vec<String> = org
        .members
        .iter()
        .map(|m| crate::db::teams::member_key(&m.team_id, &m.user_id))
        .collect();
    crate::db::audit_chain::created_many(
        conn,
        &demo,
        crate::db::audit_chain::Kind::TeamMember,
        &members,
    )?;
    Ok(())
}
