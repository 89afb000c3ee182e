//! Output types.

use async_graphql::{ComplexObject, Context, Enum, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::calendar::{CalendarDay, DayKind};
use motcua_domain::unit::{UnitHierarchy, UnitLevel, UnitVersion};
use motcua_projections::dossiers::{DossierSummary, payment_state_name, step_name};
use motcua_projections::report::{Bieu06, GroupKey, Report, ReportRow};

use crate::context::Viewer;
use crate::scalars::mask;

/// A dossier as lists show it. Personal data is masked unless the viewer
/// handles dossiers.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Dossier {
    pub id: String,
    /// The dossier code (mã hồ sơ), once accepted.
    pub code: Option<String>,
    pub procedure_code: Option<String>,
    pub procedure_version: Option<i32>,
    pub field: Option<String>,
    pub applicant_name: Option<String>,
    /// Masked (all but the last three digits) for leaders, supervisors and auditors.
    pub identity_number: Option<String>,
    pub receiving_unit: Option<String>,
    pub holder_unit: Option<String>,
    /// DVCQG status code, 1 to 10.
    pub status: Option<i32>,
    pub step: String,
    pub department: Option<String>,
    pub assignee: Option<String>,
    pub channel: Option<Channel>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub appointment_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub timeliness: Option<Timeliness>,
    pub payment_state: String,
    pub deleted: bool,
    /// Where in the log this dossier last changed.
    pub last_position: i64,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    InPerson,
    Online,
    Post,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum Timeliness {
    Early,
    OnTime,
    Late,
}

impl Dossier {
    /// The state a command left the aggregate in (not yet projected).
    pub fn of_aggregate(
        id: &str,
        dossier: &motcua_domain::dossier::Dossier,
        last_position: i64,
        viewer: &Viewer,
    ) -> Self {
        let procedure = dossier.procedure();
        let deadlines = dossier.deadlines();
        let identity_number = dossier
            .applicant()
            .map(|applicant| applicant.identity_number.clone());
        Dossier {
            id: id.to_owned(),
            code: dossier.code().map(ToString::to_string),
            procedure_code: procedure.map(|terms| terms.code.as_str().to_owned()),
            procedure_version: procedure.and_then(|terms| i32::try_from(terms.version).ok()),
            field: procedure.map(|terms| terms.field.clone()),
            applicant_name: dossier.applicant().map(|applicant| applicant.name.clone()),
            identity_number: if viewer.sees_personal_data() {
                identity_number
            } else {
                identity_number.as_deref().map(mask)
            },
            receiving_unit: dossier.receiving_unit().map(ToString::to_string),
            holder_unit: dossier.holder().map(ToString::to_string),
            status: dossier.status().map(|status| i32::from(status.code())),
            step: step_name(dossier.step()),
            department: dossier.department().map(str::to_owned),
            assignee: dossier.assignee().map(str::to_owned),
            channel: dossier.channel().map(|channel| match channel {
                motcua_domain::dossier::command::Channel::InPerson => Channel::InPerson,
                motcua_domain::dossier::command::Channel::Online => Channel::Online,
                motcua_domain::dossier::command::Channel::Post => Channel::Post,
            }),
            submitted_at: dossier.submitted_at(),
            received_at: deadlines.map(|deadlines| deadlines.received_at),
            due_at: deadlines.map(|deadlines| deadlines.due_at),
            appointment_at: deadlines.map(|deadlines| deadlines.appointment_at),
            finished_at: dossier.finished_at(),
            closed_at: dossier.closed_at(),
            timeliness: None,
            payment_state: payment_state_name(dossier.payment()).to_owned(),
            deleted: dossier.is_deleted(),
            last_position,
        }
    }

    pub fn of(summary: DossierSummary, viewer: &Viewer) -> Self {
        let identity_number = if viewer.sees_personal_data() {
            summary.identity_number
        } else {
            summary.identity_number.as_deref().map(mask)
        };
        Dossier {
            id: summary.aggregate_id,
            code: summary.code,
            procedure_code: summary.procedure_code,
            procedure_version: summary.procedure_version,
            field: summary.field,
            applicant_name: summary.applicant_name,
            identity_number,
            receiving_unit: summary.receiving_unit,
            holder_unit: summary.holder_unit,
            status: summary.status.map(i32::from),
            step: summary.step,
            department: summary.department,
            assignee: summary.assignee,
            channel: summary.channel.and_then(|code| match code {
                1 => Some(Channel::InPerson),
                2 => Some(Channel::Online),
                3 => Some(Channel::Post),
                _ => None,
            }),
            submitted_at: summary.submitted_at,
            received_at: summary.received_at,
            due_at: summary.due_at,
            appointment_at: summary.appointment_at,
            finished_at: summary.finished_at,
            closed_at: summary.closed_at,
            timeliness: summary.timeliness.as_deref().and_then(|text| match text {
                "early" => Some(Timeliness::Early),
                "on_time" => Some(Timeliness::OnTime),
                "late" => Some(Timeliness::Late),
                _ => None,
            }),
            payment_state: summary.payment_state,
            deleted: summary.deleted,
            last_position: summary.last_position,
        }
    }
}

/// One row of Biểu 06 (Circular 01/2020/TT-VPCP): counts of dossiers.
#[derive(SimpleObject)]
pub struct Bieu06Counts {
    pub received_online: i64,
    pub received_offline: i64,
    /// Received before the period and still open at its start.
    pub carried_over: i64,
    pub received_total: i64,
    pub resolved_early: i64,
    pub resolved_on_time: i64,
    pub resolved_late: i64,
    pub resolved_total: i64,
    pub in_progress_within_time: i64,
    pub in_progress_overdue: i64,
    pub withdrawn: i64,
    pub stopped: i64,
    pub refused: i64,
    pub awaiting_supplement: i64,
    pub awaiting_payment: i64,
    /// received total = resolved + withdrawn + stopped + in progress.
    pub balances: bool,
}

impl From<Bieu06> for Bieu06Counts {
    fn from(counts: Bieu06) -> Self {
        Bieu06Counts {
            received_online: counts.received_online,
            received_offline: counts.received_offline,
            carried_over: counts.carried_over,
            received_total: counts.received_total(),
            resolved_early: counts.resolved_early,
            resolved_on_time: counts.resolved_on_time,
            resolved_late: counts.resolved_late,
            resolved_total: counts.resolved_total(),
            in_progress_within_time: counts.in_progress_within_time,
            in_progress_overdue: counts.in_progress_overdue,
            withdrawn: counts.withdrawn,
            stopped: counts.stopped,
            refused: counts.refused,
            awaiting_supplement: counts.awaiting_supplement,
            awaiting_payment: counts.awaiting_payment,
            balances: counts.balances(),
        }
    }
}

/// A row of a grouped report: its key says what it counts.
#[derive(SimpleObject)]
pub struct ReportLine {
    /// The child unit's e-ID, the field's name, the procedure's code, or
    /// the month as YYYY-MM.
    pub key: String,
    pub counts: Bieu06Counts,
}

#[derive(SimpleObject)]
pub struct Bieu06Report {
    /// The unit reported on (its successor today in the CURRENT view).
    pub unit: String,
    /// Dossiers accepted by the unit itself.
    pub unit_alone: Bieu06Counts,
    /// The unit and everything under it.
    pub total: Bieu06Counts,
    pub rows: Vec<ReportLine>,
}

impl From<Report> for Bieu06Report {
    fn from(report: Report) -> Self {
        Bieu06Report {
            unit: report.unit.to_string(),
            unit_alone: report.unit_alone.into(),
            total: report.subtree.into(),
            rows: report
                .rows
                .into_iter()
                .map(|ReportRow { key, counts }| ReportLine {
                    key: match key {
                        GroupKey::Unit(unit) => unit.to_string(),
                        GroupKey::Field(field) => field,
                        GroupKey::Procedure(code) => code.as_str().to_owned(),
                        GroupKey::Month { year, month } => format!("{year:04}-{month:02}"),
                    },
                    counts: counts.into(),
                })
                .collect(),
        }
    }
}

/// Who is asking.
#[derive(SimpleObject)]
pub struct Me {
    pub user_id: String,
    pub unit: String,
    pub roles: Vec<String>,
    /// The units whose dossiers and reports they see.
    pub visible_units: Vec<String>,
    /// Whether applicants' identity numbers reach them unmasked.
    pub sees_personal_data: bool,
}

#[ComplexObject]
impl Dossier {
    /// The procedure (the version the dossier was received under), from
    /// the catalog in memory.
    async fn procedure(&self, context: &Context<'_>) -> Option<Procedure> {
        let api = context.data::<crate::ApiContext>().ok()?;
        let code = self.procedure_code.as_deref()?.parse().ok()?;
        let version = u32::try_from(self.procedure_version?).ok()?;
        api.services()
            .procedures
            .version(&code, version)
            .map(|procedure| Procedure::of(procedure))
    }

    /// The unit holding the dossier now.
    async fn holder(&self, context: &Context<'_>) -> Option<Unit> {
        let api = context.data::<crate::ApiContext>().ok()?;
        let id = self.holder_unit.as_deref()?.parse().ok()?;
        let hierarchy = api.units();
        let at = self.closed_at.unwrap_or_else(Utc::now);
        hierarchy
            .version_at(&id, at)
            .or_else(|| hierarchy.history(&id).last())
            .map(|version| Unit::of(version, &hierarchy))
    }
}

/// What a declared calendar day is.
#[derive(Enum, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum DeclaredDayKind {
    /// A public holiday or compensatory day off (nghỉ lễ, nghỉ bù).
    Holiday,
    /// A weekend day worked instead (làm bù).
    MakeUpWorkday,
}

impl DeclaredDayKind {
    pub fn to_domain(self) -> DayKind {
        match self {
            DeclaredDayKind::Holiday => DayKind::Holiday,
            DeclaredDayKind::MakeUpWorkday => DayKind::MakeUpWorkday,
        }
    }

    fn of(kind: DayKind) -> Self {
        match kind {
            DayKind::Holiday => DeclaredDayKind::Holiday,
            DayKind::MakeUpWorkday => DeclaredDayKind::MakeUpWorkday,
        }
    }
}

/// A day the province's calendar declares: deadlines skip holidays and
/// count make-up working days.
#[derive(SimpleObject)]
pub struct DeclaredDay {
    pub date: NaiveDate,
    pub kind: DeclaredDayKind,
    pub name: String,
}

impl DeclaredDay {
    pub fn of(day: &CalendarDay) -> Self {
        Self {
            date: day.date,
            kind: DeclaredDayKind::of(day.kind),
            name: day.name.clone(),
        }
    }
}

/// A level of the administration.
#[derive(Enum, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Level {
    Province,
    District,
    Commune,
}

impl Level {
    pub fn matches(self, level: UnitLevel) -> bool {
        matches!(
            (self, level),
            (Level::Province, UnitLevel::Province)
                | (Level::District, UnitLevel::District)
                | (Level::Commune, UnitLevel::Commune)
        )
    }

    fn of(level: UnitLevel) -> Level {
        match level {
            UnitLevel::Province => Level::Province,
            UnitLevel::District => Level::District,
            UnitLevel::Commune => Level::Commune,
        }
    }
}

/// A unit (đơn vị) in one version: its name, level and place in the tree.
#[derive(SimpleObject)]
pub struct Unit {
    /// Its e-ID, e.g. 000.01.20.H56.
    pub id: String,
    pub name: String,
    pub level: Level,
    pub parent: Option<String>,
    pub valid_from: DateTime<Utc>,
    /// When this version ended (reorganised), if it did.
    pub valid_to: Option<DateTime<Utc>>,
    /// The units that took over its work when it ended.
    pub successors: Vec<String>,
}

impl Unit {
    pub fn of(version: &UnitVersion, hierarchy: &UnitHierarchy) -> Unit {
        Unit {
            id: version.id.to_string(),
            name: version.name.clone(),
            level: Level::of(version.level),
            parent: version.parent.as_ref().map(ToString::to_string),
            valid_from: version.valid_from,
            valid_to: version.valid_to,
            successors: hierarchy
                .successions()
                .iter()
                .filter(|succession| succession.from == version.id)
                .filter_map(|succession| succession.to.as_ref().map(ToString::to_string))
                .collect(),
        }
    }
}

/// A case of a procedure, with its own processing time.
#[derive(SimpleObject)]
pub struct ProcedureCaseInfo {
    pub id: String,
    pub name: String,
}

/// A document the procedure asks for.
#[derive(SimpleObject)]
pub struct ProcedureComponent {
    pub code: String,
    pub name: String,
    pub required: bool,
}

/// A procedure (thủ tục hành chính) in one version.
#[derive(SimpleObject)]
pub struct Procedure {
    pub code: String,
    pub version: i32,
    pub name: String,
    /// Its field (lĩnh vực).
    pub field: String,
    pub level: Level,
    pub fully_online: bool,
    pub cases: Vec<ProcedureCaseInfo>,
    pub components: Vec<ProcedureComponent>,
}

impl Procedure {
    pub fn of(procedure: &motcua_domain::procedure::Procedure) -> Procedure {
        Procedure {
            code: procedure.code.as_str().to_owned(),
            version: i32::try_from(procedure.version).unwrap_or(i32::MAX),
            name: procedure.name.clone(),
            field: procedure.field.clone(),
            level: Level::of(procedure.level),
            fully_online: procedure.online_level
                == motcua_domain::procedure::OnlineLevel::FullProcess,
            cases: procedure
                .cases
                .iter()
                .map(|case| ProcedureCaseInfo {
                    id: case.id.clone(),
                    name: case.name.clone(),
                })
                .collect(),
            components: procedure
                .components
                .iter()
                .map(|component| ProcedureComponent {
                    code: component.code.clone(),
                    name: component.name.clone(),
                    required: component.required,
                })
                .collect(),
        }
    }
}
