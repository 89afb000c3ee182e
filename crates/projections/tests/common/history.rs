//! A year of dossiers in a small province, written through the real
//! command path (`CommandPath<Dossier>`), reproducible from a seed.
//!
//! The province (e-IDs in the QCVN 102:2016 layout):
//!
//! ```text
//! 000.00.00.H56 UBND tỉnh
//!   000.00.06.H56 Sở Tư pháp
//!   000.00.09.H56 Sở Tài nguyên và Môi trường
//!   000.00.20.H56 UBND huyện Đông Sơn
//!     000.01.20.H56 UBND xã Đông Hòa    (renamed xã Đông Sơn on 1 July)
//!     000.02.20.H56 UBND xã Đông Lợi    (merged into Đông Hòa on 1 July)
//!     000.03.20.H56 UBND xã Đông Phú
//!   000.00.21.H56 UBND huyện Tây Sơn    (dissolved on 1 July, no receiver)
//!     000.01.21.H56 UBND xã Tây An      (under the province from 1 July)
//!     000.02.21.H56 UBND xã Tây Bình    (under the province from 1 July)
//!     000.03.21.H56 UBND xã Tây Hà      (under the province from 1 July)
//! ```
//!
//! The reorganisation takes effect at 00:00 on Monday 1 July 2024 (Vietnam
//! time). Open dossiers of the ended units are handed over by the
//! province's administrator: Đông Lợi's to Đông Hòa at the start of the
//! first working session after the merger (07:00 on 1 July), Tây Sơn's to
//! the province on its last working afternoon (16:00 on Friday 28 June).
//! Tây Sơn's are handed over *before* the dissolution because after it
//! nobody may: a unit dissolved without a receiver has no successor, and
//! `check_unit` lets an administrator act only on dossiers held by a unit
//! it sees, directly or through the holder's successor.
//!
//! Seven procedures at the three levels, in five fields, with working-time
//! (0.5 to 5 working days) and calendar-day (2 and 3 days) processing
//! times, both supplement clocks, with and without fees, one offered for
//! information only and one whose processing time changes mid-year.
//!
//! Each dossier is driven by its own seeded generator, as a little state
//! machine on the aggregate state the command path returns: submitted
//! (online, in person — usually accepted on the spot — or by post), then
//! every kind of transition with probabilities that keep the rare ones
//! present, at instants that always increase and lie in office hours for
//! staff (any time for the portal). The pace of each dossier (a multiple
//! of its procedure's budget) decides whether it finishes early, on time
//! or late; some stall and are still open, overdue, at the end of the year.
//! Dossiers run concurrently in order of submission, so the log is roughly,
//! not exactly, in time order.
//!
//! Optional administrative actions (due-date correction, soft delete and
//! restore, apology) are checked with `Dossier::decide` before they are
//! sent and left out if the domain would refuse them; every other command
//! is expected to succeed, and a rejection is recorded.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use motcua_domain::DossierServices;
use motcua_domain::calendar::{
    CalendarDay, DayTable, OfficeHours, VIETNAM, WorkingCalendar, WorkingMinutes, local_date,
};
use motcua_domain::dossier::command::{
    Applicant, ApplicantKind, Channel, CommandBody, DossierCommand, DossierId, PaymentItem,
    PaymentMethod, ReturnMethod, Submission, SubmittedDocument,
};
use motcua_domain::dossier::status::Step;
use motcua_domain::dossier::{Dossier, PaymentState};
use motcua_domain::procedure::{
    Component, Fee, FeeKind, OnlineLevel, Procedure, ProcedureCase, ProcedureCatalog,
    ProcessingTime, SupplementClock,
};
use motcua_domain::role::{Action, Principal, Role};
use motcua_domain::unit::{UnitHierarchy, UnitHierarchyBuilder, UnitId, UnitLevel};
use motcua_store::{
    CommandContext, CommandError, CommandPath, CommandPathConfig, EventStore, LogCursor,
};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::rng::Rng;

pub const PROVINCE: &str = "000.00.00.H56";
pub const JUSTICE: &str = "000.00.06.H56";
pub const ENVIRONMENT: &str = "000.00.09.H56";
pub const DONG_SON: &str = "000.00.20.H56";
pub const TAY_SON: &str = "000.00.21.H56";
pub const DONG_HOA: &str = "000.01.20.H56";
pub const DONG_LOI: &str = "000.02.20.H56";
pub const DONG_PHU: &str = "000.03.20.H56";
pub const TAY_AN: &str = "000.01.21.H56";
pub const TAY_BINH: &str = "000.02.21.H56";
pub const TAY_HA: &str = "000.03.21.H56";

/// Every unit of the province, in e-ID order.
pub const UNITS: [&str; 11] = [
    PROVINCE,
    JUSTICE,
    ENVIRONMENT,
    DONG_SON,
    TAY_SON,
    DONG_HOA,
    DONG_LOI,
    DONG_PHU,
    TAY_AN,
    TAY_BINH,
    TAY_HA,
];

pub fn unit(code: &str) -> UnitId {
    code.parse().unwrap()
}

/// An instant given in Vietnam's local time.
pub fn vn(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    VIETNAM
        .with_ymd_and_hms(year, month, day, hour, minute, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// When the reorganisation takes effect: 00:00 on 1 July 2024.
pub fn reorganisation() -> DateTime<Utc> {
    vn(2024, 7, 1, 0, 0)
}

/// Nothing happens from here on: the start of 2025.
pub fn horizon() -> DateTime<Utc> {
    vn(2025, 1, 1, 0, 0)
}

pub fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 2).unwrap()
}

pub fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 12, 31).unwrap()
}

#[derive(Debug, Clone, Copy)]
pub struct HistoryConfig {
    pub seed: u64,
    pub dossiers: usize,
    /// Dossiers driven at the same time.
    pub concurrency: usize,
}

/// What was generated, and the reference data it was generated with.
pub struct History {
    pub services: DossierServices,
    pub hierarchy: Arc<UnitHierarchy>,
    pub dossiers: usize,
    pub commands: usize,
    /// Events appended (what a reader of the whole log must find).
    pub events: usize,
    /// Commands the domain refused: each names the dossier, action and reason.
    pub rejections: Vec<String>,
    /// Optional actions left out because the domain would refuse them.
    pub skipped: BTreeMap<&'static str, usize>,
    /// Commands sent, by action.
    pub actions: BTreeMap<&'static str, usize>,
    /// Each dossier's state at the end, as the command path returned it.
    pub final_states: Vec<Dossier>,
    pub elapsed: StdDuration,
}

/// Generates the history into `store` (migrated, empty).
pub async fn generate(store: &EventStore, config: HistoryConfig) -> History {
    let started = Instant::now();
    let services = services();
    let world = Arc::new(World {
        path: CommandPath::new(
            store.clone(),
            services.clone(),
            vec![],
            CommandPathConfig::default(),
        ),
        store: store.clone(),
        calendar: services.default_calendar.clone(),
        services: services.clone(),
        endings: vec![
            Ending {
                unit: unit(DONG_LOI),
                receiver: unit(DONG_HOA),
                hand_over_at: vn(2024, 7, 1, 7, 0),
            },
            Ending {
                unit: unit(TAY_SON),
                receiver: unit(PROVINCE),
                hand_over_at: vn(2024, 6, 28, 16, 0),
            },
        ],
    });

    // Plan every submission first, then run the dossiers in submission order.
    let mut plans: Vec<Plan> = (0..config.dossiers)
        .map(|index| world.plan(config.seed, index))
        .collect();
    plans.sort_by_key(|plan| plan.at);

    let semaphore = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut total = Stats::default();
    for plan in plans {
        let permit = semaphore.clone().acquire_owned().await.unwrap();
        let world = world.clone();
        tasks.spawn(async move {
            let stats = Driver::new(&world, &plan).run(plan).await;
            drop(permit);
            stats
        });
        while let Some(done) = tasks.try_join_next() {
            total.merge(done.unwrap());
        }
    }
    while let Some(done) = tasks.join_next().await {
        total.merge(done.unwrap());
    }
    // On PostgreSQL readers see the events once every older transaction in
    // the cluster has ended (other tests' included): wait for all of them.
    for _ in 0..6000 {
        let readable = store
            .read_all(LogCursor::START, u32::MAX)
            .await
            .unwrap()
            .len();
        if readable >= total.events {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }

    History {
        hierarchy: services.units.clone(),
        services,
        dossiers: config.dossiers,
        commands: total.commands,
        events: total.events,
        rejections: total.rejections,
        skipped: total.skipped,
        actions: total.actions,
        final_states: total.final_states,
        elapsed: started.elapsed(),
    }
}

// ---------------------------------------------------------------------------
// Reference data

fn hierarchy() -> UnitHierarchy {
    let since = vn(2020, 1, 1, 0, 0);
    let province = unit(PROVINCE);
    let mut units = UnitHierarchyBuilder::new();
    units.open(
        province.clone(),
        "UBND tỉnh Hà Giang",
        UnitLevel::Province,
        None,
        since,
    );
    for (department, name) in [
        (JUSTICE, "Sở Tư pháp"),
        (ENVIRONMENT, "Sở Tài nguyên và Môi trường"),
    ] {
        units.open(
            unit(department),
            name,
            UnitLevel::Province,
            Some(&province),
            since,
        );
    }
    for (district, name) in [
        (DONG_SON, "UBND huyện Đông Sơn"),
        (TAY_SON, "UBND huyện Tây Sơn"),
    ] {
        units.open(
            unit(district),
            name,
            UnitLevel::District,
            Some(&province),
            since,
        );
    }
    for (commune, district, name) in [
        (DONG_HOA, DONG_SON, "UBND xã Đông Hòa"),
        (DONG_LOI, DONG_SON, "UBND xã Đông Lợi"),
        (DONG_PHU, DONG_SON, "UBND xã Đông Phú"),
        (TAY_AN, TAY_SON, "UBND xã Tây An"),
        (TAY_BINH, TAY_SON, "UBND xã Tây Bình"),
        (TAY_HA, TAY_SON, "UBND xã Tây Hà"),
    ] {
        units.open(
            unit(commune),
            name,
            UnitLevel::Commune,
            Some(&unit(district)),
            since,
        );
    }
    // 1 July 2024: Đông Lợi merges into Đông Hòa, which takes the name
    // Đông Sơn; Tây Sơn's communes come under the province and the district
    // is abolished, with no unit taking over its work.
    let at = reorganisation();
    units
        .merge_into(&unit(DONG_LOI), &unit(DONG_HOA), at)
        .unwrap()
        .rename(&unit(DONG_HOA), "UBND xã Đông Sơn", at)
        .unwrap();
    for commune in [TAY_AN, TAY_BINH, TAY_HA] {
        units
            .move_under(&unit(commune), Some(&province), at)
            .unwrap();
    }
    units.dissolve(&unit(TAY_SON), None, at).unwrap();
    units.build().unwrap()
}

fn component(code: &str, name: &str, required: bool) -> Component {
    Component {
        code: code.to_owned(),
        name: name.to_owned(),
        required,
        originals: 1,
        copies: 0,
    }
}

fn charge(name: &str, amount_vnd: u64) -> Fee {
    Fee {
        kind: FeeKind::Charge,
        name: name.to_owned(),
        amount_vnd,
    }
}

fn working_days(days: f64) -> ProcessingTime {
    ProcessingTime::WorkingTime(WorkingMinutes::from_days(days).unwrap())
}

#[allow(clippy::too_many_arguments)]
fn procedure(
    code: &str,
    version: u32,
    name: &str,
    field: &str,
    level: UnitLevel,
    online_level: OnlineLevel,
    cases: Vec<(&str, ProcessingTime)>,
    fees: Vec<Fee>,
    components: Vec<Component>,
    supplement_clock: SupplementClock,
    valid_from: DateTime<Utc>,
) -> Procedure {
    Procedure {
        code: code.parse().unwrap(),
        local_code: None,
        version,
        name: name.to_owned(),
        field: field.to_owned(),
        level,
        online_level,
        cases: cases
            .into_iter()
            .map(|(id, processing_time)| ProcedureCase {
                id: id.to_owned(),
                name: format!("{name} ({id})"),
                processing_time,
            })
            .collect(),
        fees,
        components,
        supplement_clock,
        valid_from,
    }
}

fn procedures() -> Vec<Procedure> {
    use OnlineLevel::{FullProcess, InformationOnly, Partial};
    use SupplementClock::{Restart, Shift};
    use UnitLevel::{Commune, District, Province};
    let since = vn(2024, 1, 1, 0, 0);
    let building = |version, days, valid_from| {
        procedure(
            "1.009994",
            version,
            "Cấp giấy phép xây dựng nhà ở riêng lẻ",
            "Xây dựng",
            District,
            Partial,
            vec![("nha-o", working_days(days))],
            vec![charge("Lệ phí cấp giấy phép xây dựng", 75_000)],
            vec![
                component("DON", "Đơn đề nghị cấp giấy phép", true),
                component("BV", "Bản vẽ thiết kế", true),
            ],
            Restart,
            valid_from,
        )
    };
    vec![
        procedure(
            "1.001193",
            1,
            "Đăng ký khai sinh",
            "Hộ tịch",
            Commune,
            FullProcess,
            vec![("default", working_days(0.5))],
            vec![],
            vec![
                component("TK", "Tờ khai đăng ký khai sinh", true),
                component("GCS", "Giấy chứng sinh", true),
                component("UQ", "Văn bản ủy quyền", false),
            ],
            Shift,
            since,
        ),
        procedure(
            "1.004873",
            1,
            "Cấp Giấy xác nhận tình trạng hôn nhân",
            "Hộ tịch",
            Commune,
            InformationOnly,
            vec![("default", ProcessingTime::CalendarDays(3))],
            vec![charge("Lệ phí", 15_000)],
            vec![component("TK", "Tờ khai", true)],
            Restart,
            since,
        ),
        procedure(
            "2.000815",
            1,
            "Chứng thực bản sao từ bản chính",
            "Chứng thực",
            Commune,
            Partial,
            vec![
                ("default", working_days(1.0)),
                ("nhieu-ban", working_days(2.0)),
            ],
            vec![charge("Phí chứng thực", 2_000)],
            vec![component("BC", "Bản chính", true)],
            Shift,
            since,
        ),
        building(1, 5.0, since),
        // From 15 May the building permit is due in 3 working days.
        building(2, 3.0, vn(2024, 5, 15, 0, 0)),
        procedure(
            "2.000720",
            1,
            "Đăng ký thành lập hộ kinh doanh",
            "Thành lập và hoạt động của hộ kinh doanh",
            District,
            FullProcess,
            vec![("default", working_days(3.0))],
            vec![charge("Lệ phí đăng ký hộ kinh doanh", 100_000)],
            vec![component("GDN", "Giấy đề nghị đăng ký hộ kinh doanh", true)],
            Shift,
            since,
        ),
        procedure(
            "2.000488",
            1,
            "Cấp Phiếu lý lịch tư pháp",
            "Lý lịch tư pháp",
            Province,
            FullProcess,
            vec![
                ("default", ProcessingTime::CalendarDays(3)),
                ("gap", working_days(1.5)),
            ],
            vec![charge("Phí cung cấp thông tin lý lịch tư pháp", 200_000)],
            vec![
                component("TK", "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", true),
                component("CCCD", "Bản chụp căn cước", false),
            ],
            Restart,
            since,
        ),
        procedure(
            "1.004227",
            1,
            "Cung cấp thông tin đất đai",
            "Đất đai",
            Province,
            Partial,
            vec![("default", ProcessingTime::CalendarDays(2))],
            vec![],
            vec![component("PYC", "Phiếu yêu cầu", true)],
            Shift,
            since,
        ),
    ]
}

pub fn services() -> DossierServices {
    let days: Vec<CalendarDay> = serde_json::from_str(include_str!(
        "../../../../data/calendar/vietnam-2024-2026.json"
    ))
    .unwrap();
    DossierServices::new(
        Arc::new(ProcedureCatalog::new(procedures()).unwrap()),
        Arc::new(hierarchy()),
        WorkingCalendar::new(
            OfficeHours::default(),
            Arc::new(DayTable::new(days).unwrap()),
        ),
    )
}

// ---------------------------------------------------------------------------
// The world the drivers share

/// A unit that ended in the reorganisation: who takes over its open
/// dossiers, and when.
struct Ending {
    unit: UnitId,
    receiver: UnitId,
    hand_over_at: DateTime<Utc>,
}

struct World {
    path: CommandPath<Dossier>,
    store: EventStore,
    services: DossierServices,
    calendar: WorkingCalendar,
    endings: Vec<Ending>,
}

/// A dossier's submission, planned before anything runs.
struct Plan {
    index: usize,
    rng: Rng,
    at: DateTime<Utc>,
    unit: UnitId,
    channel: Channel,
    procedure: Arc<Procedure>,
    case_id: String,
    /// Accepted on the spot at the counter.
    accept_at_once: bool,
}

impl World {
    fn plan(&self, seed: u64, index: usize) -> Plan {
        let mut rng = Rng::for_item(seed, index as u64);
        // A few arrive at the units about to end in the week before the
        // reorganisation, so that many are open when it takes effect.
        let eve = rng.chance(0.04);
        let day = if eve {
            NaiveDate::from_ymd_opt(2024, 6, 24).unwrap() + Duration::days(rng.between(0, 6) as i64)
        } else {
            let days = (last_day() - first_day()).num_days() as u64;
            first_day() + Duration::days(rng.between(0, days) as i64)
        };
        let mut channel = match rng.weighted(&[0.45, 0.45, 0.10]) {
            0 => Channel::Online,
            1 => Channel::InPerson,
            _ => Channel::Post,
        };
        let level = match rng.weighted(&[0.55, 0.27, 0.18]) {
            0 => UnitLevel::Commune,
            1 => UnitLevel::District,
            _ => UnitLevel::Province,
        };
        let mut codes: Vec<_> = procedures()
            .into_iter()
            .filter(|procedure| procedure.level == level)
            .map(|procedure| procedure.code)
            .collect();
        codes.dedup();
        let code = rng.pick(&codes).clone();
        let mut at = self.submission_instant(&mut rng, day, channel);
        let mut procedure = self
            .services
            .procedures
            .in_force(&code, at)
            .unwrap()
            .clone();
        if channel == Channel::Online && procedure.online_level == OnlineLevel::InformationOnly {
            channel = Channel::InPerson;
            at = self.submission_instant(&mut rng, day, channel);
            procedure = self
                .services
                .procedures
                .in_force(&code, at)
                .unwrap()
                .clone();
        }
        let units: Vec<&str> = UNITS
            .iter()
            .copied()
            .filter(|candidate| {
                self.services
                    .units
                    .version_at(&unit(candidate), at)
                    .is_some_and(|version| version.level == level)
            })
            .collect();
        // The province's own People's Committee receives few dossiers.
        let weights: Vec<f64> = units
            .iter()
            .map(|candidate| if *candidate == PROVINCE { 0.25 } else { 1.0 })
            .collect();
        let ending = units
            .iter()
            .find(|candidate| [DONG_LOI, TAY_SON].contains(candidate));
        let receiving = match ending {
            Some(ending) if eve => unit(ending),
            _ => unit(units[rng.weighted(&weights)]),
        };
        let case_id = rng.pick(&procedure.cases).id.clone();
        let accept_at_once = channel == Channel::InPerson && rng.chance(0.85);
        Plan {
            index,
            rng,
            at,
            unit: receiving,
            channel,
            procedure,
            case_id,
            accept_at_once,
        }
    }

    /// Online: any time of the day; at the desk or by post: office hours.
    fn submission_instant(&self, rng: &mut Rng, day: NaiveDate, channel: Channel) -> DateTime<Utc> {
        let midnight = VIETNAM
            .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc);
        match channel {
            Channel::Online => midnight + Duration::seconds(rng.between(0, 86_399) as i64),
            Channel::InPerson | Channel::Post => {
                let minutes = WorkingMinutes(rng.between(0, 470) as u32);
                self.calendar.add_working_time(midnight, minutes)
                    + Duration::seconds(rng.between(0, 59) as i64)
            }
        }
    }

    fn in_force(&self, unit: &UnitId, at: DateTime<Utc>) -> bool {
        self.services.units.version_at(unit, at).is_some()
    }
}

// ---------------------------------------------------------------------------
// Driving one dossier

#[derive(Default)]
struct Stats {
    commands: usize,
    events: usize,
    rejections: Vec<String>,
    skipped: BTreeMap<&'static str, usize>,
    actions: BTreeMap<&'static str, usize>,
    final_states: Vec<Dossier>,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.commands += other.commands;
        self.events += other.events;
        self.rejections.extend(other.rejections);
        for (name, count) in other.skipped {
            *self.skipped.entry(name).or_default() += count;
        }
        for (name, count) in other.actions {
            *self.actions.entry(name).or_default() += count;
        }
        self.final_states.extend(other.final_states);
    }
}

/// What a driver does next (the principal and data follow from the state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Accept,
    RequestCompletion,
    ProvideCompletion,
    Refuse,
    Withdraw,
    Forward,
    Assign,
    RequestSupplement,
    ReceiveSupplement,
    RequestPayment,
    ConfirmPayment,
    ExemptPayment,
    RefundPayment,
    Transfer,
    SubmitDraft,
    ApproveDraft,
    SendBackDraft,
    IssueResult,
    ReturnResult,
    IssueApology,
    StopProcessing,
    CorrectDueDate,
    SoftDelete,
    RestoreDeleted,
}

struct Driver<'w> {
    world: &'w World,
    rng: Rng,
    id: String,
    index: usize,
    dossier: Dossier,
    channel: Channel,
    procedure: Arc<Procedure>,
    /// Multiple of the procedure's time the officials take.
    pace: f64,
    /// Working minutes from acceptance to the due date, once accepted.
    budget: Option<f64>,
    transfers: u32,
    supplements: u32,
    send_backs: u32,
    payments: u32,
    reassigned: bool,
    apologised: bool,
    corrected: bool,
    refunded: bool,
    deletions: u32,
    /// Restore the dossier after its soft deletion?
    restore: bool,
    /// Closed (or issued) and done with: nothing more to do.
    finished: bool,
    stats: Stats,
}

impl<'w> Driver<'w> {
    fn new(world: &'w World, plan: &Plan) -> Self {
        let mut rng = plan.rng.clone();
        let pace = match rng.weighted(&[0.38, 0.25, 0.22, 0.11, 0.04]) {
            0 => rng.uniform(0.1, 0.6),
            1 => rng.uniform(0.6, 1.0),
            2 => rng.uniform(1.0, 1.8),
            3 => rng.uniform(1.8, 5.0),
            _ => rng.uniform(8.0, 40.0),
        };
        Driver {
            world,
            rng,
            id: format!("hs-{:05}", plan.index),
            index: plan.index,
            dossier: Dossier::default(),
            channel: plan.channel,
            procedure: plan.procedure.clone(),
            pace,
            budget: None,
            transfers: 0,
            supplements: 0,
            send_backs: 0,
            payments: 0,
            reassigned: false,
            apologised: false,
            corrected: false,
            refunded: false,
            deletions: 0,
            restore: false,
            finished: false,
            stats: Stats::default(),
        }
    }

    async fn run(mut self, plan: Plan) -> Stats {
        if self.submit(plan).await {
            self.live().await;
        }
        if self.dossier.holder().is_some() {
            self.stats.final_states.push(self.dossier.clone());
        }
        self.stats
    }

    /// Everything after the submission, until nothing more happens this year.
    async fn live(&mut self) {
        while let Some((at, kind)) = self.next() {
            if at >= horizon() {
                break;
            }
            match self.hand_over_if_due(at).await {
                HandOver::NotDue => {}
                // Decide again, as the unit now holding it.
                HandOver::Done => continue,
                HandOver::Failed => return,
            }
            let Some((principal, body)) = self.command(kind, at).await else {
                continue;
            };
            if !self.execute(principal, at, body).await {
                return;
            }
        }
        // Still open at the end of the year: the reorganisation's
        // hand-overs happened all the same.
        let _ = self.hand_over_if_due(horizon()).await;
    }

    fn last_at(&self) -> DateTime<Utc> {
        self.dossier.last_event_at().unwrap()
    }

    fn holder(&self) -> UnitId {
        self.dossier.holder().unwrap().clone()
    }

    fn step(&self) -> Step {
        self.dossier.step()
    }

    /// `minutes` of working time after the last event (at least a minute).
    fn work(&self, minutes: f64) -> DateTime<Utc> {
        let minutes = WorkingMinutes(minutes.round().clamp(1.0, 1.0e7) as u32);
        let at = self
            .world
            .calendar
            .add_working_time(self.last_at(), minutes);
        at.max(self.last_at() + Duration::seconds(1))
    }

    /// A step of the officials' work: `share` of the dossier's budget at its pace.
    fn processing(&mut self, share: f64) -> DateTime<Utc> {
        let jitter = self.rng.uniform(0.6, 1.4);
        self.work(self.budget.unwrap_or(480.0) * self.pace * share * jitter)
    }

    /// The desk, `low..=high` working minutes later.
    fn desk(&mut self, low: u64, high: u64) -> DateTime<Utc> {
        let minutes = self.rng.between(low, high) as f64;
        self.work(minutes)
    }

    /// The applicant acts through the portal (any time) or at the desk.
    fn applicant_acts_online(&mut self) -> bool {
        self.channel == Channel::Online && self.rng.chance(0.8)
    }

    fn applicant_time(&mut self, online: bool, longest_days: u64) -> DateTime<Utc> {
        if online {
            let minutes = self.rng.between(15, longest_days * 24 * 60) as i64;
            self.last_at()
                + Duration::minutes(minutes)
                + Duration::seconds(self.rng.between(0, 59) as i64)
        } else {
            self.desk(30, longest_days * 200)
        }
    }

    async fn submit(&mut self, plan: Plan) -> bool {
        let principal = if plan.channel == Channel::Online {
            portal()
        } else {
            staff(&plan.unit, Role::ReceptionOfficer)
        };
        let documents = plan
            .procedure
            .components
            .iter()
            .filter(|component| component.required || self.rng.chance(0.3))
            .map(|component| document(&component.code, &component.name))
            .collect();
        let accept_with_code = if plan.accept_at_once {
            Some(
                self.world
                    .store
                    .next_dossier_code(&plan.unit, local_date(plan.at))
                    .await
                    .unwrap(),
            )
        } else {
            None
        };
        let organisation = plan.procedure.field.starts_with("Thành lập") && self.rng.chance(0.5);
        let applicant = Applicant {
            kind: if organisation {
                ApplicantKind::Organization
            } else {
                ApplicantKind::Citizen
            },
            name: format!("Người nộp {}", plan.index),
            identity_number: if organisation {
                format!("{:010}", 100_000_000 + plan.index)
            } else {
                format!("{:012}", 1_000_000_000 + plan.index)
            },
            birth_date: NaiveDate::from_ymd_opt(1960 + (plan.index % 45) as i32, 3, 14),
            address: Some("Thôn 3".to_owned()),
            phone: Some(format!("09{:08}", plan.index)),
            email: None,
            vneid_verified: !plan.index.is_multiple_of(3),
        };
        let body = CommandBody::Submit {
            submission: Box::new(Submission {
                dossier_id: DossierId::try_from(self.id.clone()).unwrap(),
                unit: plan.unit.clone(),
                channel: plan.channel,
                procedure: plan.procedure.code.clone(),
                case_id: plan.case_id.clone(),
                applicant,
                documents,
            }),
            accept_with_code,
        };
        self.execute(principal, plan.at, body).await
    }

    /// What happens next, and when; `None` when nothing more will.
    fn next(&mut self) -> Option<(DateTime<Utc>, Kind)> {
        if self.dossier.is_deleted() {
            if !self.restore {
                return None;
            }
            let days = self.rng.between(1, 15) as f64;
            return Some((self.work(480.0 * days), Kind::RestoreDeleted));
        }
        if self.finished {
            return None;
        }
        let step = self.step();
        if step.is_open_after_acceptance()
            && let Some(exceptional) = self.exceptional()
        {
            return Some(exceptional);
        }
        let fees = !self.procedure.fees.is_empty();
        let next = match step {
            Step::NotSubmitted => unreachable!("submitted first"),
            Step::Submitted => {
                // A dossier handed over before reception is often refused
                // by the unit that took it over: a case the report must
                // place (at the unit it was submitted to).
                let handed_over = self.dossier.receiving_unit() != self.dossier.holder();
                let refusal = if handed_over { 0.3 } else { 0.06 };
                let choice = self.rng.weighted(&[0.82, 0.08, refusal, 0.04]);
                match choice {
                    1 if !self.completion_requested() => {
                        (self.desk(5, 240), Kind::RequestCompletion)
                    }
                    2 => (self.desk(10, 480), Kind::Refuse),
                    3 => {
                        let online = self.applicant_acts_online();
                        (self.applicant_time(online, 3), Kind::Withdraw)
                    }
                    _ => {
                        let at = if self.channel == Channel::InPerson {
                            self.desk(1, 60)
                        } else {
                            self.desk(5, 900)
                        };
                        (at, Kind::Accept)
                    }
                }
            }
            Step::AwaitingCompletion => match self.rng.weighted(&[0.78, 0.12, 0.10]) {
                0 => {
                    let online = self.applicant_acts_online();
                    (self.applicant_time(online, 5), Kind::ProvideCompletion)
                }
                1 => (self.desk(480, 4800), Kind::Refuse),
                _ => {
                    let online = self.applicant_acts_online();
                    (self.applicant_time(online, 5), Kind::Withdraw)
                }
            },
            Step::Refused | Step::Withdrawn | Step::Stopped => return self.closed(),
            Step::Accepted | Step::TransferredIn => {
                if step == Step::Accepted && fees && self.payments == 0 && self.rng.chance(0.08) {
                    (self.processing(0.03), Kind::RequestPayment)
                } else {
                    (self.processing(0.06), Kind::Forward)
                }
            }
            Step::AtDepartment => {
                if self.supplements == 0 && self.rng.chance(0.02) {
                    (self.processing(0.05), Kind::RequestSupplement)
                } else if self.transfers < 2 && self.rng.chance(0.04) {
                    (self.processing(0.05), Kind::Transfer)
                } else {
                    (self.processing(0.10), Kind::Assign)
                }
            }
            Step::WithSpecialist => {
                // After a hand-over a specialist of the new unit takes it on.
                let handed_over = self.assignee_here().is_none();
                if handed_over || (!self.reassigned && self.rng.chance(0.04)) {
                    self.reassigned = true;
                    (self.processing(0.05), Kind::Assign)
                } else if (self.supplements == 0 && self.rng.chance(0.18))
                    || (self.supplements == 1 && self.rng.chance(0.05))
                {
                    (self.processing(0.15), Kind::RequestSupplement)
                } else if (self.transfers == 0 && self.rng.chance(0.07))
                    || (self.transfers == 1 && self.rng.chance(0.2))
                {
                    (self.processing(0.08), Kind::Transfer)
                } else {
                    (self.processing(0.40), Kind::SubmitDraft)
                }
            }
            Step::AwaitingApproval => {
                if self.supplements == 0 && self.rng.chance(0.02) {
                    (self.processing(0.05), Kind::RequestSupplement)
                } else if self.send_backs < 2 && self.rng.chance(0.15) {
                    (self.processing(0.10), Kind::SendBackDraft)
                } else {
                    (self.processing(0.14), Kind::ApproveDraft)
                }
            }
            Step::Approved => {
                if fees && self.payments == 0 && self.rng.chance(0.45) {
                    (self.processing(0.03), Kind::RequestPayment)
                } else {
                    (self.processing(0.15), Kind::IssueResult)
                }
            }
            Step::AwaitingSupplement => match self.rng.weighted(&[0.93, 0.05, 0.02]) {
                0 => {
                    let online = self.applicant_acts_online();
                    (self.applicant_time(online, 10), Kind::ReceiveSupplement)
                }
                1 => {
                    let online = self.applicant_acts_online();
                    (self.applicant_time(online, 10), Kind::Withdraw)
                }
                _ => (self.desk(480, 4800), Kind::StopProcessing),
            },
            Step::AwaitingPayment => match self.rng.weighted(&[0.78, 0.18, 0.04]) {
                0 => {
                    let online = self.applicant_acts_online();
                    (self.applicant_time(online, 4), Kind::ConfirmPayment)
                }
                1 => (self.desk(30, 960), Kind::ExemptPayment),
                _ => {
                    let online = self.applicant_acts_online();
                    (self.applicant_time(online, 4), Kind::Withdraw)
                }
            },
            Step::ResultIssued => {
                if self.rng.chance(0.92) {
                    (self.desk(10, 2400), Kind::ReturnResult)
                } else {
                    // Never collected.
                    self.finished = true;
                    return None;
                }
            }
            Step::ResultReturned => {
                let refundable = self.dossier.paid_vnd() > self.dossier.refunded_vnd();
                if refundable && !self.refunded && self.rng.chance(0.15) {
                    self.refunded = true;
                    (self.desk(60, 4800), Kind::RefundPayment)
                } else {
                    return self.closed();
                }
            }
        };
        Some(next)
    }

    /// The specialist on the dossier, if they belong to the unit holding it.
    fn assignee_here(&self) -> Option<&str> {
        let suffix = format!("@{}", self.holder());
        self.dossier
            .assignee()
            .filter(|assignee| assignee.ends_with(&suffix))
    }

    fn completion_requested(&self) -> bool {
        // The aggregate keeps the flag private; a second request would be
        // refused, so remember it from the actions sent.
        self.stats.actions.contains_key("request_completion")
    }

    /// A closed dossier: now and then soft-deleted, once.
    fn closed(&mut self) -> Option<(DateTime<Utc>, Kind)> {
        self.finished = true;
        if self.deletions == 0 && self.rng.chance(0.015) {
            self.finished = false;
            return Some((self.desk(60, 9600), Kind::SoftDelete));
        }
        None
    }

    /// The rare turns an open dossier may take at any step.
    fn exceptional(&mut self) -> Option<(DateTime<Utc>, Kind)> {
        let waiting = matches!(
            self.step(),
            Step::AwaitingSupplement | Step::AwaitingPayment
        );
        let draw = self.rng.unit();
        if draw < 0.006 && !waiting {
            let online = self.applicant_acts_online();
            return Some((self.applicant_time(online, 5), Kind::Withdraw));
        }
        if draw < 0.011 {
            return Some((self.processing(0.1), Kind::StopProcessing));
        }
        if draw < 0.015 && self.deletions == 0 {
            return Some((self.desk(30, 2000), Kind::SoftDelete));
        }
        if draw < 0.025 && !self.corrected {
            self.corrected = true;
            return Some((self.desk(30, 480), Kind::CorrectDueDate));
        }
        if draw < 0.075 && !self.apologised && !waiting {
            self.apologised = true;
            return Some((self.processing(0.1), Kind::IssueApology));
        }
        None
    }

    /// The principal and data of `kind` at `at`, from the current state;
    /// `None` to leave an optional action out.
    async fn command(&mut self, kind: Kind, at: DateTime<Utc>) -> Option<(Principal, CommandBody)> {
        let holder = self.holder();
        let holder_in_force = self.world.in_force(&holder, at);
        let officer = staff(&holder, Role::ReceptionOfficer);
        let online = self.channel == Channel::Online;
        let command = match kind {
            Kind::Accept => {
                let code = self
                    .world
                    .store
                    .next_dossier_code(&holder, local_date(at))
                    .await
                    .unwrap();
                (officer, CommandBody::Accept { code })
            }
            Kind::RequestCompletion => (
                officer,
                CommandBody::RequestCompletion {
                    missing: vec!["Bản sao giấy tờ tùy thân".to_owned()],
                    reason: "Hồ sơ chưa đủ thành phần".to_owned(),
                },
            ),
            Kind::ProvideCompletion | Kind::ReceiveSupplement => {
                let principal = if online || !holder_in_force {
                    portal()
                } else {
                    officer
                };
                let component = self.rng.pick(&self.procedure.components).clone();
                let documents = vec![document(&component.code, &component.name)];
                let body = if kind == Kind::ProvideCompletion {
                    CommandBody::ProvideCompletion { documents }
                } else {
                    CommandBody::ReceiveSupplement { documents }
                };
                (principal, body)
            }
            Kind::Refuse => (
                officer,
                CommandBody::Refuse {
                    reason: "Không thuộc thẩm quyền giải quyết".to_owned(),
                },
            ),
            Kind::Withdraw => {
                let principal = if online || !holder_in_force {
                    portal()
                } else {
                    officer
                };
                (
                    principal,
                    CommandBody::Withdraw {
                        reason: "Người nộp xin rút hồ sơ".to_owned(),
                    },
                )
            }
            Kind::Forward => (
                officer,
                CommandBody::Forward {
                    department: "Bộ phận chuyên môn".to_owned(),
                    step_due_at: self.rng.chance(0.5).then(|| at + Duration::days(2)),
                    note: None,
                },
            ),
            Kind::Assign => {
                let current = self.dossier.assignee().map(str::to_owned);
                let candidates: Vec<String> = (1..=3)
                    .map(|n| specialist_id(&holder, n))
                    .filter(|id| Some(id) != current.as_ref())
                    .collect();
                let specialist = self.rng.pick(&candidates).clone();
                (
                    staff(&holder, Role::DepartmentHead),
                    CommandBody::Assign {
                        specialist,
                        step_due_at: None,
                        note: self.rng.chance(0.2).then(|| "Xử lý gấp".to_owned()),
                    },
                )
            }
            Kind::RequestSupplement => {
                self.supplements += 1;
                let principal = match self.assignee_here() {
                    Some(assignee) if self.step() != Step::AtDepartment => {
                        specialist(&holder, assignee)
                    }
                    _ => staff(&holder, Role::DepartmentHead),
                };
                (
                    principal,
                    CommandBody::RequestSupplement {
                        reason: "Cần bổ sung giấy tờ".to_owned(),
                        missing_items: vec!["Bản sao có chứng thực".to_owned()],
                        applicant_deadline: at + Duration::days(15),
                    },
                )
            }
            Kind::RequestPayment => {
                self.payments += 1;
                let principal = if self.step() == Step::Approved && self.rng.chance(0.5) {
                    staff(&holder, Role::Specialist)
                } else {
                    officer
                };
                let items = self
                    .procedure
                    .fees
                    .iter()
                    .map(|fee| PaymentItem {
                        name: fee.name.clone(),
                        amount_vnd: fee.amount_vnd,
                    })
                    .collect();
                (principal, CommandBody::RequestPayment { items })
            }
            Kind::ConfirmPayment => {
                let PaymentState::Requested { total_vnd } = self.dossier.payment() else {
                    unreachable!("awaiting payment without a request");
                };
                let via_portal = (online && self.rng.chance(0.8)) || !holder_in_force;
                let (principal, method) = if via_portal {
                    (portal(), PaymentMethod::NationalPaymentPlatform)
                } else if self.rng.chance(0.7) {
                    (officer, PaymentMethod::Cash)
                } else {
                    (officer, PaymentMethod::BankTransfer)
                };
                (
                    principal,
                    CommandBody::ConfirmPayment {
                        amount_vnd: total_vnd,
                        receipt_number: format!("BL-{}-{}", self.index, self.payments),
                        method,
                    },
                )
            }
            Kind::ExemptPayment => {
                let role = if self.rng.chance(0.5) {
                    Role::DepartmentHead
                } else {
                    Role::UnitLeader
                };
                (
                    staff(&holder, role),
                    CommandBody::ExemptPayment {
                        reason: "Đối tượng được miễn lệ phí".to_owned(),
                    },
                )
            }
            Kind::RefundPayment => {
                if !holder_in_force {
                    *self.stats.skipped.entry("refund_payment").or_default() += 1;
                    return None;
                }
                let refundable = self.dossier.paid_vnd() - self.dossier.refunded_vnd();
                let amount_vnd = if self.rng.chance(0.5) {
                    refundable
                } else {
                    self.rng.between(1, refundable)
                };
                (
                    officer,
                    CommandBody::RefundPayment {
                        amount_vnd,
                        reason: "Hoàn trả phí nộp thừa".to_owned(),
                    },
                )
            }
            Kind::Transfer => {
                self.transfers += 1;
                let to_unit = self.transfer_target(&holder, at);
                let role = if self.rng.chance(0.7) {
                    Role::DepartmentHead
                } else {
                    Role::UnitLeader
                };
                (
                    staff(&holder, role),
                    CommandBody::Transfer {
                        to_unit,
                        reason: "Liên thông giải quyết".to_owned(),
                    },
                )
            }
            Kind::SubmitDraft => {
                let assignee = self.dossier.assignee().unwrap().to_owned();
                (
                    specialist(&holder, &assignee),
                    CommandBody::SubmitDraft {
                        summary: "Dự thảo kết quả".to_owned(),
                        document_ref: Some(format!("draft/{}.pdf", self.id)),
                    },
                )
            }
            Kind::ApproveDraft => (
                staff(&holder, Role::UnitLeader),
                CommandBody::ApproveDraft { note: None },
            ),
            Kind::SendBackDraft => {
                self.send_backs += 1;
                (
                    staff(&holder, Role::UnitLeader),
                    CommandBody::SendBackDraft {
                        reason: "Dự thảo chưa đạt".to_owned(),
                    },
                )
            }
            Kind::IssueResult => {
                let by_specialist = self.rng.chance(0.3);
                let principal = match self.assignee_here() {
                    Some(assignee) if by_specialist => specialist(&holder, assignee),
                    _ => staff(&holder, Role::UnitLeader),
                };
                (
                    principal,
                    CommandBody::IssueResult {
                        number: format!("{}/KQ", self.index),
                        signer: "Chủ tịch UBND".to_owned(),
                        signed_on: local_date(at),
                        document_ref: format!("result/{}.pdf", self.id),
                    },
                )
            }
            Kind::ReturnResult => {
                if online || !holder_in_force || self.rng.chance(0.1) {
                    (
                        portal(),
                        CommandBody::ReturnResult {
                            method: ReturnMethod::Online,
                            recipient: "Người nộp hồ sơ".to_owned(),
                        },
                    )
                } else {
                    let method = if self.rng.chance(0.8) {
                        ReturnMethod::Counter
                    } else {
                        ReturnMethod::Post
                    };
                    (
                        officer,
                        CommandBody::ReturnResult {
                            method,
                            recipient: "Người nộp hồ sơ".to_owned(),
                        },
                    )
                }
            }
            Kind::IssueApology => {
                let deadlines = *self.dossier.deadlines().unwrap();
                let notice = self
                    .world
                    .calendar
                    .working_time_between(at, deadlines.due_at);
                if notice < WorkingMinutes(WorkingMinutes::PER_DAY) {
                    // Too late for an apology (TTHC.md: a working day's notice).
                    *self.stats.skipped.entry("issue_apology").or_default() += 1;
                    return None;
                }
                let role = if self.rng.chance(0.5) {
                    Role::DepartmentHead
                } else {
                    Role::UnitLeader
                };
                let days = self.rng.between(1, 7) as i64;
                (
                    staff(&holder, role),
                    CommandBody::IssueApology {
                        new_appointment: deadlines.appointment_at + Duration::days(days),
                        reason: "Cần thêm thời gian xác minh".to_owned(),
                    },
                )
            }
            Kind::StopProcessing => (
                staff(&holder, Role::UnitLeader),
                CommandBody::StopProcessing {
                    reason: "Hồ sơ thuộc trường hợp không được giải quyết".to_owned(),
                },
            ),
            Kind::CorrectDueDate => {
                let deadlines = *self.dossier.deadlines().unwrap();
                let due_at = if self.rng.chance(0.6) {
                    let minutes = self.rng.between(240, 2400) as u32;
                    self.world
                        .calendar
                        .add_working_time(deadlines.due_at, WorkingMinutes(minutes))
                } else {
                    let budget = self.budget.unwrap_or(480.0);
                    let minutes = (budget * self.rng.uniform(0.2, 0.9)).max(30.0);
                    self.world
                        .calendar
                        .add_working_time(deadlines.counting_from, WorkingMinutes(minutes as u32))
                };
                return self.optional(
                    "correct_due_date",
                    admin(),
                    at,
                    CommandBody::CorrectDueDate {
                        due_at,
                        reason: "Điều chỉnh ngày hẹn trả do nhập sai".to_owned(),
                    },
                );
            }
            Kind::SoftDelete => {
                self.deletions += 1;
                self.restore = self.rng.chance(0.6);
                return self.optional(
                    "soft_delete",
                    admin(),
                    at,
                    CommandBody::SoftDelete {
                        reason: "Hồ sơ nhập trùng".to_owned(),
                    },
                );
            }
            Kind::RestoreDeleted => {
                self.restore = false;
                return self.optional(
                    "restore_deleted",
                    admin(),
                    at,
                    CommandBody::RestoreDeleted {
                        reason: "Xóa nhầm".to_owned(),
                    },
                );
            }
        };
        Some(command)
    }

    /// An optional action, left out if the domain would refuse it.
    fn optional(
        &mut self,
        name: &'static str,
        principal: Principal,
        at: DateTime<Utc>,
        body: CommandBody,
    ) -> Option<(Principal, CommandBody)> {
        let command = DossierCommand {
            principal: principal.clone(),
            at,
            body: body.clone(),
        };
        if self.dossier.decide(&command, &self.world.services).is_ok() {
            Some((principal, body))
        } else {
            *self.stats.skipped.entry(name).or_default() += 1;
            None
        }
    }

    /// Liên thông: a commune sends to its district (or, under the province,
    /// to the Department of Justice), a district to a department, a
    /// province-level unit to the other department.
    fn transfer_target(&mut self, holder: &UnitId, at: DateTime<Utc>) -> UnitId {
        let version = self.world.services.units.version_at(holder, at).unwrap();
        let target = match version.level {
            UnitLevel::Commune => match version.parent.as_ref().map(UnitId::as_str) {
                Some(PROVINCE) | None => JUSTICE,
                Some(district) => {
                    return unit(district);
                }
            },
            UnitLevel::District => *self.rng.pick(&[JUSTICE, ENVIRONMENT]),
            UnitLevel::Province => match holder.as_str() {
                JUSTICE => ENVIRONMENT,
                _ => JUSTICE,
            },
        };
        unit(target)
    }

    /// Hands the dossier over if its holder ended in the reorganisation and
    /// the hand-over is due by `at`.
    async fn hand_over_if_due(&mut self, at: DateTime<Utc>) -> HandOver {
        let holder = self.holder();
        let Some(ending) = self
            .world
            .endings
            .iter()
            .find(|ending| ending.unit == holder && ending.hand_over_at <= at)
        else {
            return HandOver::NotDue;
        };
        if self.dossier.is_deleted() || !self.step().allows(Action::HandOver) {
            return HandOver::NotDue;
        }
        let when = ending
            .hand_over_at
            .max(self.last_at() + Duration::seconds(1))
            .min(at);
        let body = CommandBody::HandOver {
            to_unit: ending.receiver.clone(),
            reason: "Sắp xếp đơn vị hành chính theo Nghị quyết".to_owned(),
        };
        if self.execute(admin(), when, body).await {
            HandOver::Done
        } else {
            HandOver::Failed
        }
    }

    async fn execute(
        &mut self,
        principal: Principal,
        at: DateTime<Utc>,
        body: CommandBody,
    ) -> bool {
        let action = body.action();
        *self.stats.actions.entry(action.as_str()).or_default() += 1;
        let context = CommandContext {
            unit: principal.unit.to_string(),
            actor: principal.user_id.clone(),
            idempotency: None,
        };
        let step = self.step();
        let command = DossierCommand {
            principal,
            at,
            body,
        };
        match self.world.path.execute(&self.id, command, &context).await {
            Ok(committed) => {
                self.stats.commands += 1;
                self.stats.events += committed.event_count as usize;
                self.dossier = committed.aggregate;
                if self.budget.is_none() {
                    self.budget = self.dossier.deadlines().map(|deadlines| {
                        let minutes = self
                            .world
                            .calendar
                            .working_time_between(deadlines.received_at, deadlines.due_at);
                        f64::from(minutes.0).max(60.0)
                    });
                }
                true
            }
            Err(CommandError::Rejected { rejection, .. }) => {
                self.stats.rejections.push(format!(
                    "{}: {action} at {at} in step {step:?} was rejected: {rejection}",
                    self.id
                ));
                false
            }
            Err(other) => panic!("{}: {action} at {at} failed: {other}", self.id),
        }
    }
}

enum HandOver {
    NotDue,
    Done,
    Failed,
}

fn document(component: &str, name: &str) -> SubmittedDocument {
    SubmittedDocument {
        component: component.to_owned(),
        name: name.to_owned(),
        originals: 1,
        copies: 0,
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::ReceptionOfficer => "motcua",
        Role::Specialist => "chuyenvien",
        Role::DepartmentHead => "truongphong",
        Role::UnitLeader => "lanhdao",
        Role::Supervisor => "giamsat",
        Role::Auditor => "thanhtra",
        Role::Administrator => "quantri",
        Role::Portal => "dvcqg",
    }
}

fn staff(unit: &UnitId, role: Role) -> Principal {
    Principal {
        user_id: format!("{}@{unit}", role_name(role)),
        unit: unit.clone(),
        roles: vec![role],
    }
}

fn specialist_id(unit: &UnitId, n: u32) -> String {
    format!("chuyenvien{n}@{unit}")
}

fn specialist(unit: &UnitId, user_id: &str) -> Principal {
    Principal {
        user_id: user_id.to_owned(),
        unit: unit.clone(),
        roles: vec![Role::Specialist],
    }
}

/// The portal relays the applicant; bound to no unit.
fn portal() -> Principal {
    Principal {
        user_id: "dvcqg".to_owned(),
        unit: unit(PROVINCE),
        roles: vec![Role::Portal],
    }
}

/// The province's administrator: corrections and hand-overs anywhere.
fn admin() -> Principal {
    Principal {
        user_id: "quantri@tinh".to_owned(),
        unit: unit(PROVINCE),
        roles: vec![Role::Administrator],
    }
}
