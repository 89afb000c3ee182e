//! Driving one dossier through its life, command by command, through the
//! real command path: the state each command returns decides the next.
//!
//! Every command is built so that the domain accepts it: the right role at
//! the unit holding the dossier (`Action::allowed_roles`,
//! `Action::holder_scope`), in a step that allows it (`Step::allows`), at an
//! instant no earlier than the dossier's last event, with the data the
//! rules ask for. Staff act in office hours (working time is added with the
//! unit's calendar); the portal relays applicants at any hour. A command
//! that would fall after the end of the period is not sent: the dossier
//! stays where it is, open at the end.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use motcua_domain::calendar::{WorkingCalendar, WorkingMinutes, local_date};
use motcua_domain::dossier::Dossier;
use motcua_domain::dossier::command::{
    Channel, CommandBody, DossierCommand, DossierId, PaymentItem, PaymentMethod, ReturnMethod,
    Submission, SubmittedDocument,
};
use motcua_domain::dossier::status::Step;
use motcua_domain::dossier::timeliness::{Finished, TimelinessPolicy};
use motcua_domain::procedure::{Fee, Procedure};
use motcua_domain::role::{Principal, Role};
use motcua_domain::unit::UnitId;
use motcua_store::{CommandContext, CommandError, CommandPath};
use tokio::sync::Semaphore;

use super::clock::Clock;
use super::codes::Codes;
use super::mix::Mix;
use super::people::{
    SPECIALISTS, administrator, applicant, department_head, leader, officer, person_name, portal,
    specialist, specialist_id,
};
use super::plan::{Plan, Reception, after_work};
use crate::error::SeedError;
use crate::names::ORGANISATION_FIELDS;
use crate::province::{Province, UnitKind};
use crate::rng::Rng;

/// The random stream of dossier `index`'s life after submission.
const STREAM_LIFE: u64 = 11;
/// Rejection messages kept for the summary.
const REJECTION_SAMPLES: usize = 20;

/// What the dossiers' drivers share.
pub(super) struct World {
    pub path: CommandPath<Dossier>,
    pub province: Province,
    pub mix: Mix,
    pub seed: u64,
    /// No command at or after this instant (the end of the period).
    pub horizon: DateTime<Utc>,
    /// Unit index by e-ID.
    pub unit_index: HashMap<UnitId, usize>,
    pub plans: Vec<Plan>,
    pub clock: Clock,
    pub codes: Codes,
    /// Commands in flight at most: enough for group commit to batch.
    pub permits: Semaphore,
    pub counters: Counters,
    /// Every finished dossier's tally, merged.
    pub tally: Mutex<Tally>,
}

/// What drivers did: counts, and the state each dossier ended in.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub dossiers: u64,
    pub commands: u64,
    pub events: u64,
    pub rejections: u64,
    pub rejection_samples: Vec<String>,
    pub actions: BTreeMap<&'static str, u64>,
    pub statuses: BTreeMap<u8, u64>,
    pub early: u64,
    pub on_time: u64,
    pub late: u64,
    pub in_progress: u64,
    pub not_yet_accepted: u64,
    pub deleted: u64,
}

impl Tally {
    pub fn merge(&mut self, other: Tally) {
        self.dossiers += other.dossiers;
        self.commands += other.commands;
        self.events += other.events;
        self.rejections += other.rejections;
        let room = REJECTION_SAMPLES.saturating_sub(self.rejection_samples.len());
        self.rejection_samples
            .extend(other.rejection_samples.into_iter().take(room));
        for (action, count) in other.actions {
            *self.actions.entry(action).or_default() += count;
        }
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
        self.early += other.early;
        self.on_time += other.on_time;
        self.late += other.late;
        self.in_progress += other.in_progress;
        self.not_yet_accepted += other.not_yet_accepted;
        self.deleted += other.deleted;
    }
}

/// Live counters the progress report reads while drivers run.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub dossiers: std::sync::atomic::AtomicU64,
    pub commands: std::sync::atomic::AtomicU64,
    pub events: std::sync::atomic::AtomicU64,
    pub rejections: std::sync::atomic::AtomicU64,
}

/// The id of dossier `index`'s stream.
pub(super) fn dossier_id(index: u32) -> String {
    format!("hs-{index:07}")
}

/// Drives dossier `index` from submission to wherever its story (or the
/// period) ends, and adds it to the world's tally.
pub(super) async fn drive(world: &World, index: u32) -> Result<(), SeedError> {
    let plan = world
        .plans
        .get(index as usize)
        .ok_or_else(|| SeedError::Generated {
            what: "plan",
            reason: format!("dossier {index} was not planned"),
        })?;
    let procedure = world
        .province
        .procedures()
        .get(plan.procedure as usize)
        .map(|entry| Arc::clone(&entry.procedure))
        .ok_or_else(|| SeedError::Generated {
            what: "plan",
            reason: format!("procedure {} is not in the catalog", plan.procedure),
        })?;
    let receiving = world
        .province
        .units()
        .get(usize::from(plan.unit))
        .map(|unit| unit.id.clone())
        .ok_or_else(|| SeedError::Generated {
            what: "plan",
            reason: format!("unit {} is not in the province", plan.unit),
        })?;
    let mut tally = Tally::default();
    let mut driver = Driver {
        world,
        plan,
        rng: Rng::derive(world.seed, STREAM_LIFE, u64::from(plan.index)),
        id: dossier_id(plan.index),
        receiving,
        procedure,
        dossier: Dossier::default(),
        calendar: world.province.calendar(),
        tally: &mut tally,
    };
    if driver.receive().await? {
        driver.process().await?;
    }
    driver.classify();
    world
        .counters
        .dossiers
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    world
        .tally
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .merge(tally);
    Ok(())
}

struct Driver<'a> {
    world: &'a World,
    plan: &'a Plan,
    rng: Rng,
    id: String,
    receiving: UnitId,
    procedure: Arc<Procedure>,
    /// The state after the last command.
    dossier: Dossier,
    calendar: &'a WorkingCalendar,
    tally: &'a mut Tally,
}

/// How a supplement request ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SupplementOutcome {
    Received,
    Withdrawn,
    Abandoned,
}

/// The story of an accepted dossier, drawn before it is told.
#[derive(Debug, Clone, Copy)]
struct Story {
    /// Working time the officials take, as a multiple of the procedure's.
    pace: f64,
    payment: bool,
    payment_at_acceptance: bool,
    exempted: bool,
    refunded: bool,
    transfer: bool,
    supplement: Option<SupplementOutcome>,
    withdrawn: bool,
    stopped: bool,
    reassigned: bool,
    sent_back: bool,
    apology: bool,
    corrected: bool,
    deleted: bool,
    restored: bool,
    returned_online: bool,
}

impl Driver<'_> {
    fn story(&mut self) -> Story {
        let mix = self.world.mix;
        let rng = &mut self.rng;
        let late = rng.chance(mix.late);
        let pace = if late {
            rng.uniform(1.15, 2.5)
        } else if rng.chance(mix.close_to_due) {
            rng.uniform(0.85, 0.97)
        } else {
            rng.uniform(0.1, 0.85)
        };
        let payment = !self.procedure.fees.is_empty() && rng.chance(mix.payment);
        let supplement = rng.chance(mix.supplement).then(|| {
            let draw = rng.unit();
            if draw < mix.supplement_withdrawn {
                SupplementOutcome::Withdrawn
            } else if draw < mix.supplement_withdrawn + mix.supplement_abandoned {
                SupplementOutcome::Abandoned
            } else {
                SupplementOutcome::Received
            }
        });
        Story {
            pace,
            payment,
            payment_at_acceptance: rng.chance(mix.payment_at_acceptance),
            exempted: rng.chance(mix.exempted),
            refunded: rng.chance(mix.refunded),
            transfer: rng.chance(mix.transfer),
            supplement,
            withdrawn: rng.chance(mix.withdrawn_in_processing),
            stopped: rng.chance(mix.stopped),
            reassigned: rng.chance(mix.reassigned),
            sent_back: rng.chance(mix.send_back),
            apology: late && rng.chance(mix.apology),
            corrected: rng.chance(mix.due_date_corrected),
            deleted: rng.chance(mix.deleted),
            restored: rng.chance(mix.restored),
            returned_online: self.plan.channel == Channel::Online
                && rng.chance(mix.returned_online),
        }
    }

    // -- who and when --------------------------------------------------------

    fn root(&self) -> &UnitId {
        &self.world.province.root().id
    }

    fn holder(&self) -> UnitId {
        self.dossier
            .holder()
            .cloned()
            .unwrap_or_else(|| self.receiving.clone())
    }

    fn last(&self) -> DateTime<Utc> {
        self.dossier
            .last_event_at()
            .unwrap_or(self.plan.submitted_at)
    }

    fn online(&self) -> bool {
        self.plan.channel == Channel::Online
    }

    /// The applicant's own actions: through the portal for an online
    /// dossier, else brought to the desk of the unit holding it.
    fn applicant_actor(&mut self) -> Principal {
        if self.online() {
            portal(self.root())
        } else {
            officer(&self.holder(), &mut self.rng)
        }
    }

    /// When the applicant acts next: any hour online (between `low` and
    /// `high` hours later), office hours at the desk.
    fn applicant_time(&mut self, low_hours: u64, high_hours: u64) -> DateTime<Utc> {
        let last = self.last();
        if self.online() {
            let minutes = self.rng.between(low_hours * 60, high_hours * 60) as i64;
            last + Duration::minutes(minutes.max(1))
        } else {
            // At the desk: roughly a third of the hours are working hours.
            let minutes = self.rng.between(low_hours * 20, high_hours * 20) as f64;
            after_work(self.calendar, last, minutes)
        }
    }

    /// The desk, `low..=high` working minutes after the last event.
    fn desk(&mut self, low: u64, high: u64) -> DateTime<Utc> {
        let minutes = self.rng.between(low, high) as f64;
        after_work(self.calendar, self.last(), minutes)
    }

    /// A step of the officials' work: `share` of their whole time on the
    /// dossier, give or take 30%.
    fn work(&mut self, total_minutes: f64, share: f64) -> DateTime<Utc> {
        let jitter = self.rng.uniform(0.7, 1.3);
        after_work(self.calendar, self.last(), total_minutes * share * jitter)
    }

    fn document(&self, component: Option<&str>, name: &str) -> SubmittedDocument {
        let code = component
            .or_else(|| {
                self.procedure
                    .components
                    .first()
                    .map(|component| component.code.as_str())
            })
            .unwrap_or("TP1");
        SubmittedDocument {
            component: code.to_owned(),
            name: name.to_owned(),
            originals: 0,
            copies: 1,
        }
    }

    // -- sending commands ----------------------------------------------------

    /// Sends `body` as `principal` at `at`. `Ok(false)` when it was not
    /// sent (past the period) or the domain refused it (counted).
    async fn act(
        &mut self,
        principal: Principal,
        at: DateTime<Utc>,
        body: CommandBody,
    ) -> Result<bool, SeedError> {
        if at >= self.world.horizon {
            return Ok(false);
        }
        self.world.clock.wait_until(at).await;
        let action = body.action().as_str();
        // Staff act for their unit; the portal for the unit holding the dossier.
        let unit = if principal.roles.contains(&Role::Portal) {
            self.holder().to_string()
        } else {
            principal.unit.to_string()
        };
        let context = CommandContext {
            unit,
            actor: principal.user_id.clone(),
            idempotency: None,
        };
        let command = DossierCommand {
            principal,
            at,
            body,
        };
        use std::sync::atomic::Ordering::Relaxed;
        let permit = self
            .world
            .permits
            .acquire()
            .await
            .map_err(|error| SeedError::Task(error.to_string()))?;
        // A seed writes into a store without history (it refuses one that
        // has some): a dossier's first command need not read its stream.
        if self.tally.commands == 0 {
            self.world.path.expect_new(&self.id);
        }
        // Boxed: a dossier task waits for weeks of simulated time between
        // commands; the command path's future should not live in it.
        let executed = Box::pin(self.world.path.execute(&self.id, command, &context)).await;
        drop(permit);
        let counters = &self.world.counters;
        match executed {
            Ok(committed) => {
                self.dossier = committed.aggregate;
                let events = u64::from(committed.event_count);
                self.tally.commands += 1;
                self.tally.events += events;
                *self.tally.actions.entry(action).or_default() += 1;
                counters.commands.fetch_add(1, Relaxed);
                counters.events.fetch_add(events, Relaxed);
                Ok(true)
            }
            Err(CommandError::Rejected { rejection, .. }) => {
                self.tally.rejections += 1;
                counters.rejections.fetch_add(1, Relaxed);
                if self.tally.rejection_samples.len() < REJECTION_SAMPLES {
                    self.tally
                        .rejection_samples
                        .push(format!("{} {action} at {at}: {rejection}", self.id));
                }
                Ok(false)
            }
            Err(other) => Err(SeedError::Command {
                dossier: self.id.clone(),
                reason: other.to_string(),
            }),
        }
    }

    /// The dossier's code, taken from the receiving unit's daily counter
    /// in acceptance order.
    async fn code(
        &self,
        at: DateTime<Utc>,
    ) -> Result<motcua_domain::dossier::code::DossierCode, SeedError> {
        self.world
            .codes
            .code(self.plan.index, &self.receiving, at)
            .await
    }

    // -- before acceptance ---------------------------------------------------

    /// Submission and reception. True when the dossier was accepted.
    async fn receive(&mut self) -> Result<bool, SeedError> {
        let plan = self.plan;
        let dossier_id =
            DossierId::try_from(self.id.clone()).map_err(|error| SeedError::Generated {
                what: "dossier id",
                reason: error.to_string(),
            })?;
        let accept_with_code = match plan.reception {
            Reception::AtCounter if plan.submitted_at < self.world.horizon => {
                Some(self.code(plan.submitted_at).await?)
            }
            _ => None,
        };
        let organisation =
            ORGANISATION_FIELDS.contains(&self.procedure.field.as_str()) && self.rng.chance(0.8);
        let online = self.online();
        let applicant = applicant(&mut self.rng, plan.index, organisation, online);
        let mut documents = Vec::new();
        for component in &self.procedure.components {
            if component.required || self.rng.chance(0.4) {
                documents.push(SubmittedDocument {
                    component: component.code.clone(),
                    name: component.name.clone(),
                    originals: u8::from(component.required),
                    copies: u8::from(!component.required),
                });
            }
        }
        let case_id = self
            .procedure
            .cases
            .get(usize::from(plan.case))
            .map(|case| case.id.clone())
            .unwrap_or_default();
        let submitter = if self.online() {
            portal(self.root())
        } else {
            officer(&self.receiving, &mut self.rng)
        };
        let body = CommandBody::Submit {
            submission: Box::new(Submission {
                dossier_id,
                unit: self.receiving.clone(),
                channel: plan.channel,
                procedure: self.procedure.code.clone(),
                case_id,
                applicant,
                documents,
            }),
            accept_with_code,
        };
        if !self.act(submitter, plan.submitted_at, body).await? {
            return Ok(false);
        }
        if let Some(completion) = plan.completion {
            let desk = officer(&self.receiving, &mut self.rng);
            let body = CommandBody::RequestCompletion {
                missing: vec!["Bản sao giấy tờ tùy thân có chứng thực".to_owned()],
                reason: "Hồ sơ chưa đủ thành phần theo quy định".to_owned(),
            };
            if !self.act(desk, completion.requested_at, body).await? {
                return Ok(false);
            }
            let actor = self.applicant_actor();
            let body = CommandBody::ProvideCompletion {
                documents: vec![self.document(None, "Thành phần hồ sơ bổ sung")],
            };
            if !self.act(actor, completion.provided_at, body).await? {
                return Ok(false);
            }
        }
        match plan.reception {
            Reception::AtCounter => Ok(self.dossier.deadlines().is_some()),
            Reception::Accepted { at } => {
                if at >= self.world.horizon {
                    return Ok(false);
                }
                let code = self.code(at).await?;
                let desk = officer(&self.receiving, &mut self.rng);
                self.act(desk, at, CommandBody::Accept { code }).await
            }
            Reception::Refused { at } => {
                let desk = officer(&self.receiving, &mut self.rng);
                let body = CommandBody::Refuse {
                    reason: "Thủ tục không thuộc thẩm quyền giải quyết của cơ quan".to_owned(),
                };
                self.act(desk, at, body).await?;
                Ok(false)
            }
            Reception::Withdrawn { at } => {
                let actor = self.applicant_actor();
                let body = CommandBody::Withdraw {
                    reason: "Người nộp đề nghị rút hồ sơ".to_owned(),
                };
                self.act(actor, at, body).await?;
                Ok(false)
            }
        }
    }

    // -- after acceptance ----------------------------------------------------

    async fn process(&mut self) -> Result<(), SeedError> {
        let Some(deadlines) = self.dossier.deadlines().copied() else {
            return Ok(());
        };
        let story = self.story();
        let budget = f64::from(
            self.calendar
                .working_time_between(deadlines.counting_from, deadlines.due_at)
                .0
                .max(60),
        );
        let total = budget * story.pace;
        let fees = self.procedure.fees.clone();

        if story.payment && story.payment_at_acceptance {
            let desk = officer(&self.holder(), &mut self.rng);
            let at = self.desk(5, 60);
            if !self.payment(desk, at, &fees, story.exempted).await? {
                return Ok(());
            }
        }
        if !self.forward_and_assign(total).await? {
            return Ok(());
        }
        if story.corrected && !self.correct_due_date().await? {
            return Ok(());
        }
        if story.apology && !self.apologise(budget, story.pace).await? {
            return Ok(());
        }
        if story.transfer && !self.transfer(total).await? {
            return Ok(());
        }
        if let Some(outcome) = story.supplement
            && !self.supplement(total, outcome).await?
        {
            return Ok(());
        }
        if story.withdrawn {
            let actor = self.applicant_actor();
            let at = self.applicant_time(2, 72);
            let body = CommandBody::Withdraw {
                reason: "Người nộp đề nghị rút hồ sơ".to_owned(),
            };
            self.act(actor, at, body).await?;
            return Ok(());
        }
        if story.stopped {
            let at = self.work(total, 0.1);
            let body = CommandBody::StopProcessing {
                reason: "Hồ sơ thuộc trường hợp phải dừng giải quyết theo quy định".to_owned(),
            };
            self.act(leader(&self.holder()), at, body).await?;
            return Ok(());
        }
        if story.reassigned && !self.assign(total, 0.05).await? {
            return Ok(());
        }
        if !self.draft(total, 0.35).await? {
            return Ok(());
        }
        if story.sent_back {
            let at = self.work(total, 0.1);
            let body = CommandBody::SendBackDraft {
                reason: "Đề nghị hoàn thiện lại dự thảo kết quả".to_owned(),
            };
            if !self.act(leader(&self.holder()), at, body).await? || !self.draft(total, 0.1).await?
            {
                return Ok(());
            }
        }
        let at = self.work(total, 0.15);
        if !self
            .act(
                leader(&self.holder()),
                at,
                CommandBody::ApproveDraft { note: None },
            )
            .await?
        {
            return Ok(());
        }
        if story.payment && !story.payment_at_acceptance {
            let requester = self.assigned_specialist();
            let at = self.work(total, 0.03);
            if !self.payment(requester, at, &fees, story.exempted).await? {
                return Ok(());
            }
        }
        if !self.issue(total).await? || !self.hand_back(story.returned_online).await? {
            return Ok(());
        }
        if story.refunded && self.dossier.paid_vnd() > self.dossier.refunded_vnd() {
            let refundable = self.dossier.paid_vnd() - self.dossier.refunded_vnd();
            let at = self.desk(60, 2400);
            let body = CommandBody::RefundPayment {
                amount_vnd: (refundable / 2).max(1),
                reason: "Hoàn trả phí thẩm định do thu thừa".to_owned(),
            };
            let desk = officer(&self.holder(), &mut self.rng);
            if !self.act(desk, at, body).await? {
                return Ok(());
            }
        }
        if story.deleted {
            let at = self.desk(60, 2400);
            let body = CommandBody::SoftDelete {
                reason: "Hồ sơ nhập trùng".to_owned(),
            };
            if self.act(administrator(self.root()), at, body).await? && story.restored {
                let at = self.desk(480, 2400);
                let body = CommandBody::RestoreDeleted {
                    reason: "Xóa nhầm, khôi phục hồ sơ".to_owned(),
                };
                self.act(administrator(self.root()), at, body).await?;
            }
        }
        Ok(())
    }

    /// The desk forwards the dossier to the processing department, whose
    /// head assigns it.
    async fn forward_and_assign(&mut self, total: f64) -> Result<bool, SeedError> {
        let at = self.work(total, 0.05);
        let body = CommandBody::Forward {
            department: format!("Bộ phận {}", self.procedure.field),
            step_due_at: None,
            note: None,
        };
        let desk = officer(&self.holder(), &mut self.rng);
        Ok(self.act(desk, at, body).await? && self.assign(total, 0.1).await?)
    }

    /// The head assigns the dossier to a specialist other than the current one.
    async fn assign(&mut self, total: f64, share: f64) -> Result<bool, SeedError> {
        let holder = self.holder();
        let mut number = self.rng.between(1, SPECIALISTS);
        let mut candidate = specialist_id(&holder, number);
        if self.dossier.assignee() == Some(candidate.as_str()) {
            number = number % SPECIALISTS + 1;
            candidate = specialist_id(&holder, number);
        }
        let at = self.work(total, share);
        let body = CommandBody::Assign {
            specialist: candidate,
            step_due_at: Some(after_work(self.calendar, at, total * 0.6)),
            note: None,
        };
        self.act(department_head(&holder), at, body).await
    }

    fn assigned_specialist(&self) -> Principal {
        let holder = self.holder();
        match self.dossier.assignee() {
            Some(assignee) => specialist(&holder, assignee),
            None => specialist(&holder, &specialist_id(&holder, 1)),
        }
    }

    async fn draft(&mut self, total: f64, share: f64) -> Result<bool, SeedError> {
        let at = self.work(total, share);
        let body = CommandBody::SubmitDraft {
            summary: format!("Dự thảo kết quả: {}", self.procedure.name),
            document_ref: Some(format!("duthao/{}.pdf", self.id)),
        };
        self.act(self.assigned_specialist(), at, body).await
    }

    /// A payment requested by `requester` at `at`, then paid (online
    /// through the national platform, else at the desk) or exempted.
    async fn payment(
        &mut self,
        requester: Principal,
        at: DateTime<Utc>,
        fees: &[Fee],
        exempted: bool,
    ) -> Result<bool, SeedError> {
        let items: Vec<PaymentItem> = fees
            .iter()
            .map(|fee| PaymentItem {
                name: fee.name.clone(),
                amount_vnd: fee.amount_vnd,
            })
            .collect();
        let total: u64 = items.iter().map(|item| item.amount_vnd).sum();
        if items.is_empty() || total == 0 {
            return Ok(true);
        }
        if !self
            .act(requester, at, CommandBody::RequestPayment { items })
            .await?
        {
            return Ok(false);
        }
        if exempted {
            let at = self.desk(30, 480);
            let body = CommandBody::ExemptPayment {
                reason: "Đối tượng được miễn lệ phí theo quy định".to_owned(),
            };
            return self.act(department_head(&self.holder()), at, body).await;
        }
        let (actor, method) = if self.online() {
            (portal(self.root()), PaymentMethod::NationalPaymentPlatform)
        } else if self.rng.chance(0.8) {
            (officer(&self.holder(), &mut self.rng), PaymentMethod::Cash)
        } else {
            (
                officer(&self.holder(), &mut self.rng),
                PaymentMethod::BankTransfer,
            )
        };
        let at = self.applicant_time(1, 48);
        let body = CommandBody::ConfirmPayment {
            amount_vnd: total,
            receipt_number: format!("BL{}-{}", self.plan.index, self.rng.between(1, 9999)),
            method,
        };
        self.act(actor, at, body).await
    }

    /// An administrator moves the due date one working day later.
    async fn correct_due_date(&mut self) -> Result<bool, SeedError> {
        let Some(deadlines) = self.dossier.deadlines().copied() else {
            return Ok(true);
        };
        let due_at = self
            .calendar
            .add_working_time(deadlines.due_at, WorkingMinutes(WorkingMinutes::PER_DAY));
        let at = self.desk(30, 480);
        let body = CommandBody::CorrectDueDate {
            due_at,
            reason: "Điều chỉnh ngày hẹn do nhập sai thời hạn giải quyết".to_owned(),
        };
        self.act(administrator(self.root()), at, body).await
    }

    /// The head apologises for the coming delay with a new appointment, if
    /// there is still a working day before the due date (else it is too late
    /// to apologise, and nothing is sent).
    async fn apologise(&mut self, budget: f64, pace: f64) -> Result<bool, SeedError> {
        let Some(deadlines) = self.dossier.deadlines().copied() else {
            return Ok(true);
        };
        let at = self.desk(10, 120);
        let notice = self.calendar.working_time_between(at, deadlines.due_at);
        if notice < WorkingMinutes(WorkingMinutes::PER_DAY) {
            return Ok(true);
        }
        let delay = ((pace - 1.0).max(0.0) * budget).max(0.0) + f64::from(WorkingMinutes::PER_DAY);
        let new_appointment = after_work(self.calendar, deadlines.due_at, delay);
        if new_appointment <= deadlines.appointment_at {
            return Ok(true);
        }
        let body = CommandBody::IssueApology {
            new_appointment,
            reason: "Hồ sơ cần xác minh thêm nên chậm so với thời hạn".to_owned(),
        };
        self.act(department_head(&self.holder()), at, body).await
    }

    /// Liên thông: a commune sends the dossier up to its district, a
    /// district to a department, a department to another; the receiving
    /// unit's desk forwards it and its head assigns it.
    async fn transfer(&mut self, total: f64) -> Result<bool, SeedError> {
        let holder = self.holder();
        let units = self.world.province.units();
        let Some(&index) = self.world.unit_index.get(&holder) else {
            return Ok(true);
        };
        let departments: Vec<usize> = units
            .iter()
            .enumerate()
            .filter(|(other, unit)| unit.kind == UnitKind::Department && *other != index)
            .map(|(other, _)| other)
            .collect();
        let target = match units.get(index).map(|unit| (unit.kind, unit.parent)) {
            Some((UnitKind::Commune, Some(parent))) => Some(parent),
            _ => self.rng.pick(&departments).copied(),
        };
        let Some(to_unit) = target
            .and_then(|target| units.get(target))
            .map(|unit| unit.id.clone())
        else {
            return Ok(true);
        };
        let at = self.work(total, 0.05);
        let body = CommandBody::Transfer {
            to_unit,
            reason: "Chuyển liên thông đến cơ quan có thẩm quyền giải quyết".to_owned(),
        };
        Ok(self.act(department_head(&holder), at, body).await?
            && self.forward_and_assign(total).await?)
    }

    /// The specialist asks for a supplement; the applicant brings it,
    /// withdraws, or never answers and the leader stops processing once the
    /// deadline has passed. True when processing goes on.
    async fn supplement(
        &mut self,
        total: f64,
        outcome: SupplementOutcome,
    ) -> Result<bool, SeedError> {
        let at = self.work(total, 0.15);
        let deadline = at + Duration::days(15);
        let body = CommandBody::RequestSupplement {
            reason: "Hồ sơ cần bổ sung giấy tờ chứng minh".to_owned(),
            missing_items: vec!["Giấy tờ chứng minh (bản sao)".to_owned()],
            applicant_deadline: deadline,
        };
        if !self.act(self.assigned_specialist(), at, body).await? {
            return Ok(false);
        }
        match outcome {
            SupplementOutcome::Received => {
                let actor = self.applicant_actor();
                let at = self.applicant_time(2, 120);
                let body = CommandBody::ReceiveSupplement {
                    documents: vec![self.document(None, "Giấy tờ chứng minh (bản sao)")],
                };
                self.act(actor, at, body).await
            }
            SupplementOutcome::Withdrawn => {
                let actor = self.applicant_actor();
                let at = self.applicant_time(2, 120);
                let body = CommandBody::Withdraw {
                    reason: "Không bổ sung được hồ sơ, xin rút".to_owned(),
                };
                self.act(actor, at, body).await?;
                Ok(false)
            }
            SupplementOutcome::Abandoned => {
                let minutes = self.rng.between(60, 960) as f64;
                let at = after_work(self.calendar, deadline, minutes);
                let body = CommandBody::StopProcessing {
                    reason: "Quá hạn bổ sung hồ sơ mà người nộp không bổ sung".to_owned(),
                };
                self.act(leader(&self.holder()), at, body).await?;
                Ok(false)
            }
        }
    }

    /// The leader signs and issues the result (status 9).
    async fn issue(&mut self, total: f64) -> Result<bool, SeedError> {
        let at = self.work(total, 0.2);
        let holder = self.holder();
        let signer = person_name(&mut self.rng);
        let body = CommandBody::IssueResult {
            number: format!("{}/KQ", self.plan.index + 1),
            signer,
            signed_on: local_date(at),
            document_ref: format!("ketqua/{}.pdf", self.id),
        };
        self.act(leader(&holder), at, body).await
    }

    /// The result goes back to the applicant (status 10): online through the
    /// portal, else at the counter or by post.
    async fn hand_back(&mut self, online: bool) -> Result<bool, SeedError> {
        let recipient = self.dossier.applicant().map_or_else(
            || "Người nộp hồ sơ".to_owned(),
            |applicant| applicant.name.clone(),
        );
        let (actor, at, method) = if online {
            let at = self.last() + Duration::minutes(self.rng.between(5, 24 * 60) as i64);
            (portal(self.root()), at, ReturnMethod::Online)
        } else {
            let at = self.desk(10, 1440);
            let method = if self.plan.channel == Channel::Post {
                ReturnMethod::Post
            } else {
                ReturnMethod::Counter
            };
            (officer(&self.holder(), &mut self.rng), at, method)
        };
        self.act(actor, at, CommandBody::ReturnResult { method, recipient })
            .await
    }

    /// Where the dossier ended, for the summary.
    fn classify(&mut self) {
        let tally = &mut *self.tally;
        tally.dossiers += 1;
        let Some(status) = self.dossier.status() else {
            return;
        };
        *tally.statuses.entry(status.code()).or_default() += 1;
        if self.dossier.is_deleted() {
            tally.deleted += 1;
        }
        if let (Some(finished_at), Some(deadlines)) =
            (self.dossier.finished_at(), self.dossier.deadlines())
        {
            match TimelinessPolicy::ByDate.finished(finished_at, deadlines.due_at) {
                Finished::Early => tally.early += 1,
                Finished::OnTime => tally.on_time += 1,
                Finished::Late => tally.late += 1,
            }
        }
        let step = self.dossier.step();
        if step.is_open_after_acceptance() {
            tally.in_progress += 1;
        } else if matches!(step, Step::Submitted | Step::AwaitingCompletion) {
            tally.not_yet_accepted += 1;
        }
    }
}
