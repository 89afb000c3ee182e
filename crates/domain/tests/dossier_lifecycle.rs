//! Every transition of the Dossier aggregate as given/when/then with the
//! cqrs-es `TestFramework`: the exact events each command causes, written out
//! by hand (due dates worked out in the comments), and the state they lead to.
//!
//! Unless said otherwise the dossier is the fixture's birth registration
//! (BIRTH: 0.5 working day = 240 min, supplement clock SHIFT) at the commune,
//! on Tuesday 5 November 2024, Vietnam time (`t(h, m)`); office hours are
//! 07:00–11:30 and 13:30–17:00, Monday to Friday, minus the declared holidays.
//! The standard story: submitted online 08:00, accepted 08:15 (due 14:15),
//! forwarded 08:20, assigned 08:30, draft 09:00, approved 09:30, result
//! issued 10:00, returned 10:30.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::test::TestFramework;
use motcua_domain::calendar::WorkingMinutes;
use motcua_domain::dossier::command::{
    Channel, CommandBody, DossierCommand, DossierId, PaymentItem, PaymentMethod, ReturnMethod,
    Submission, SubmittedDocument,
};
use motcua_domain::dossier::error::DossierError;
use motcua_domain::dossier::event::{ClockAdjustment, DossierChange, DossierEvent, ProcedureTerms};
use motcua_domain::dossier::status::{DossierStatus, Step};
use motcua_domain::dossier::timeliness::{Finished, InProgress, Timeliness, TimelinessPolicy};
use motcua_domain::dossier::{Dossier, Pause, PaymentState};
use motcua_domain::procedure::{ProcedureCode, ProcessingTime, SupplementClock};
use motcua_domain::role::Action;
use support::*;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Given `given`, when `command`, then exactly `expected` (checked by the
/// cqrs-es `TestFramework`); returns the state `given` + `expected` lead to.
#[track_caller]
fn given_when_then(
    given: &[DossierEvent],
    command: DossierCommand,
    expected: Vec<DossierEvent>,
) -> Dossier {
    TestFramework::<Dossier>::with(services())
        .given(given.to_vec())
        .when(command)
        .then_expect_events(expected.clone());
    replay(given.iter().chain(&expected))
}

/// The DVCQG status code, 1–10.
fn code_of(dossier: &Dossier) -> Option<u8> {
    dossier.status().map(DossierStatus::code)
}

fn text(value: &str) -> String {
    value.to_owned()
}

/// The birth registration's terms, as the catalog declares them.
fn birth_terms() -> ProcedureTerms {
    ProcedureTerms {
        code: BIRTH.parse::<ProcedureCode>().unwrap(),
        version: 1,
        field: text("Hộ tịch"),
        case_id: text("default"),
        processing_time: ProcessingTime::WorkingTime(WorkingMinutes(240)),
        supplement_clock: SupplementClock::Shift,
    }
}

/// The building permit's terms: 15 working days = 7,200 min, clock restarts.
fn building_terms() -> ProcedureTerms {
    ProcedureTerms {
        code: BUILDING.parse::<ProcedureCode>().unwrap(),
        version: 1,
        field: text("Xây dựng"),
        case_id: text("nha-o"),
        processing_time: ProcessingTime::WorkingTime(WorkingMinutes(7_200)),
        supplement_clock: SupplementClock::Restart,
    }
}

/// The fixture's birth registration to the commune, as submitted.
fn birth_submitted(channel: Channel, documents: Vec<SubmittedDocument>) -> DossierChange {
    DossierChange::DossierSubmitted {
        dossier_id: DossierId::try_from(text("d-0001")).unwrap(),
        unit: unit(COMMUNE),
        channel,
        procedure: birth_terms(),
        applicant: applicant(),
        documents,
    }
}

/// LAND_INFO (province level, 10 calendar days) handed in at the counter
/// of the provincial department (a province-level unit).
fn land_info_submission() -> Submission {
    Submission {
        dossier_id: DossierId::try_from(text("d-0003")).unwrap(),
        unit: unit(DEPARTMENT),
        channel: Channel::InPerson,
        procedure: LAND_INFO.parse().unwrap(),
        case_id: text("default"),
        applicant: applicant(),
        documents: vec![document("PYC")],
    }
}

/// [`land_info_submission`] as recorded.
fn land_info_submitted() -> DossierChange {
    DossierChange::DossierSubmitted {
        dossier_id: DossierId::try_from(text("d-0003")).unwrap(),
        unit: unit(DEPARTMENT),
        channel: Channel::InPerson,
        procedure: ProcedureTerms {
            code: LAND_INFO.parse().unwrap(),
            version: 1,
            field: text("Đất đai"),
            case_id: text("default"),
            processing_time: ProcessingTime::CalendarDays(10),
            supplement_clock: SupplementClock::Shift,
        },
        applicant: applicant(),
        documents: vec![document("PYC")],
    }
}

fn submit(
    channel: Channel,
    submission: Submission,
    accept_at: Option<DateTime<Utc>>,
) -> CommandBody {
    assert_eq!(submission.channel, channel);
    CommandBody::Submit {
        accept_with_code: accept_at.map(|at| code_for(submission.unit.as_str(), at, 1)),
        submission: Box::new(submission),
    }
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

/// The fixture's birth registration submitted online through the portal at `at`.
fn submitted_at(at: DateTime<Utc>) -> Story {
    Story::new().run(command(
        portal(),
        at,
        submit(Channel::Online, birth_submission(Channel::Online), None),
    ))
}

/// The standard story up to the supplement request, on another day: submitted
/// 08:00, accepted 08:15 (due 14:15 that day), forwarded 08:20, assigned
/// 08:30, supplement requested 09:00 with a deadline a week later.
fn awaiting_supplement_on(year: i32, month: u32, day: u32) -> Story {
    let at = |h, m| vn(year, month, day, h, m);
    submitted_at(at(8, 0))
        .run(command(
            officer(COMMUNE),
            at(8, 15),
            CommandBody::Accept {
                code: code_for(COMMUNE, at(8, 15), 1),
            },
        ))
        .run(command(
            officer(COMMUNE),
            at(8, 20),
            CommandBody::Forward {
                department: text("Tư pháp - Hộ tịch"),
                step_due_at: None,
                note: None,
            },
        ))
        .run(command(
            head(COMMUNE),
            at(8, 30),
            CommandBody::Assign {
                specialist: text("specialist"),
                step_due_at: None,
                note: None,
            },
        ))
        .run(command(
            specialist(COMMUNE),
            at(9, 0),
            CommandBody::RequestSupplement {
                reason: text("Thiếu văn bản ủy quyền"),
                missing_items: vec![text("Văn bản ủy quyền")],
                applicant_deadline: at(9, 0) + chrono::Days::new(14),
            },
        ))
}

/// Carries an accepted story through forward, assignment, draft and approval,
/// all at `at`.
fn approved_at(story: Story, at: DateTime<Utc>) -> Story {
    story
        .run(command(
            officer(COMMUNE),
            at,
            CommandBody::Forward {
                department: text("Tư pháp - Hộ tịch"),
                step_due_at: None,
                note: None,
            },
        ))
        .run(command(
            head(COMMUNE),
            at,
            CommandBody::Assign {
                specialist: text("specialist"),
                step_due_at: None,
                note: None,
            },
        ))
        .run(command(
            specialist(COMMUNE),
            at,
            CommandBody::SubmitDraft {
                summary: text("Đủ điều kiện"),
                document_ref: None,
            },
        ))
        .run(command(
            leader(COMMUNE),
            at,
            CommandBody::ApproveDraft { note: None },
        ))
}

/// An approved story whose result the commune leader issues at `at`.
fn issued_at(story: Story, at: DateTime<Utc>) -> Story {
    story.run(command(
        leader(COMMUNE),
        at,
        CommandBody::IssueResult {
            number: text("125/2024/KS"),
            signer: text("Chủ tịch UBND xã"),
            signed_on: motcua_domain::calendar::local_date(at),
            document_ref: text("GKS-125"),
        },
    ))
}

/// The timeliness of `dossier` at `at` under both policies: (by date, by timestamp).
fn both(dossier: &Dossier, at: DateTime<Utc>) -> (Option<Timeliness>, Option<Timeliness>) {
    (
        dossier.timeliness(TimelinessPolicy::ByDate, at),
        dossier.timeliness(TimelinessPolicy::ByTimestamp, at),
    )
}

const EARLY: Option<Timeliness> = Some(Timeliness::Finished(Finished::Early));
const ON_TIME: Option<Timeliness> = Some(Timeliness::Finished(Finished::OnTime));
const LATE: Option<Timeliness> = Some(Timeliness::Finished(Finished::Late));
const WITHIN: Option<Timeliness> = Some(Timeliness::InProgress(InProgress::WithinTime));
const OVERDUE: Option<Timeliness> = Some(Timeliness::InProgress(InProgress::Overdue));

// ---------------------------------------------------------------------------
// Submission
// ---------------------------------------------------------------------------

#[test]
fn submitted_online_through_the_portal_with_status_1() {
    let dossier = given_when_then(
        &[],
        command(
            portal(),
            t(8, 0),
            submit(Channel::Online, birth_submission(Channel::Online), None),
        ),
        vec![recorded(
            portal(),
            t(8, 0),
            birth_submitted(Channel::Online, vec![document("TK"), document("GCS")]),
        )],
    );
    assert_eq!(code_of(&dossier), Some(1));
    assert_eq!(dossier.step(), Step::Submitted);
    assert_eq!(dossier.channel(), Some(Channel::Online));
    assert_eq!(dossier.id().map(DossierId::as_str), Some("d-0001"));
    assert_eq!(dossier.receiving_unit(), Some(&unit(COMMUNE)));
    assert_eq!(dossier.holder(), Some(&unit(COMMUNE)));
    assert_eq!(dossier.holders(), [unit(COMMUNE)]);
    assert_eq!(dossier.submitted_at(), Some(t(8, 0)));
    assert_eq!(dossier.procedure(), Some(&birth_terms()));
    assert_eq!(dossier.applicant(), Some(&applicant()));
    assert_eq!(dossier.documents(), [document("TK"), document("GCS")]);
    // Not accepted yet: no code, no deadlines, no timeliness.
    assert_eq!(dossier.code(), None);
    assert_eq!(dossier.deadlines(), None);
    assert_eq!(dossier.timeliness(TimelinessPolicy::ByDate, t(17, 0)), None);
    assert_eq!(dossier.last_event_at(), Some(t(8, 0)));
}

#[test]
fn submitted_by_post_is_recorded_by_the_desk_with_status_1() {
    let dossier = given_when_then(
        &[],
        command(
            officer(COMMUNE),
            t(9, 0),
            submit(Channel::Post, birth_submission(Channel::Post), None),
        ),
        vec![recorded(
            officer(COMMUNE),
            t(9, 0),
            birth_submitted(Channel::Post, vec![document("TK"), document("GCS")]),
        )],
    );
    assert_eq!(code_of(&dossier), Some(1));
    assert_eq!(dossier.channel(), Some(Channel::Post));
    assert_eq!(dossier.deadlines(), None);
}

#[test]
fn submitted_in_person_with_a_code_is_accepted_in_the_same_command() {
    // Handed in at 08:00: counting starts at once; 240 min:
    // 08:00–11:30 = 210 min, the remaining 30 min from 13:30 → due 14:00.
    let code = code_for(COMMUNE, t(8, 0), 1);
    let dossier = given_when_then(
        &[],
        command(
            officer(COMMUNE),
            t(8, 0),
            submit(
                Channel::InPerson,
                birth_submission(Channel::InPerson),
                Some(t(8, 0)),
            ),
        ),
        vec![
            recorded(
                officer(COMMUNE),
                t(8, 0),
                birth_submitted(Channel::InPerson, vec![document("TK"), document("GCS")]),
            ),
            recorded(
                officer(COMMUNE),
                t(8, 0),
                DossierChange::DossierAccepted {
                    code: code.clone(),
                    unit: unit(COMMUNE),
                    counting_from: t(8, 0),
                    due_at: t(14, 0),
                },
            ),
        ],
    );
    assert_eq!(code.to_string(), "000.01.20.H56-241105-0001");
    assert_eq!(code_of(&dossier), Some(2));
    assert_eq!(dossier.step(), Step::Accepted);
    assert_eq!(dossier.code(), Some(&code));
    let deadlines = dossier.deadlines().unwrap();
    assert_eq!(deadlines.received_at, t(8, 0));
    assert_eq!(deadlines.counting_from, t(8, 0));
    assert_eq!(deadlines.original_due_at, t(14, 0));
    assert_eq!(deadlines.due_at, t(14, 0));
    assert_eq!(deadlines.appointment_at, t(14, 0));
}

#[test]
fn submitted_in_person_without_a_code_waits_at_the_desk() {
    let dossier = given_when_then(
        &[],
        command(
            officer(COMMUNE),
            t(8, 0),
            submit(Channel::InPerson, birth_submission(Channel::InPerson), None),
        ),
        vec![recorded(
            officer(COMMUNE),
            t(8, 0),
            birth_submitted(Channel::InPerson, vec![document("TK"), document("GCS")]),
        )],
    );
    assert_eq!(code_of(&dossier), Some(1));
    assert_eq!(dossier.step(), Step::Submitted);
}

// ---------------------------------------------------------------------------
// Acceptance and the due date
// ---------------------------------------------------------------------------

#[test]
fn accepted_at_08_15_is_due_at_14_15_across_the_lunch_break() {
    // 0.5 working day = 240 min from 08:15: 08:15–11:30 = 195 min; 12:15
    // would be in the lunch break, so the remaining 45 min count from 13:30
    // → due 14:15 the same day.
    let code = code_for(COMMUNE, t(8, 15), 1);
    let dossier = given_when_then(
        &submitted().events,
        command(
            officer(COMMUNE),
            t(8, 15),
            CommandBody::Accept { code: code.clone() },
        ),
        vec![recorded(
            officer(COMMUNE),
            t(8, 15),
            DossierChange::DossierAccepted {
                code: code.clone(),
                unit: unit(COMMUNE),
                counting_from: t(8, 15),
                due_at: t(14, 15),
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(2));
    assert_eq!(dossier.step(), Step::Accepted);
    assert_eq!(dossier.code(), Some(&code));
    let deadlines = dossier.deadlines().unwrap();
    assert_eq!(deadlines.received_at, t(8, 15));
    assert_eq!(deadlines.original_due_at, t(14, 15));
    assert_eq!(deadlines.due_at, t(14, 15));
    assert_eq!(deadlines.appointment_at, t(14, 15));
    assert_eq!(dossier.paused(), WorkingMinutes::ZERO);
    assert_eq!(
        dossier.timeliness(TimelinessPolicy::ByDate, t(8, 15)),
        WITHIN
    );
}

#[test]
fn accepted_in_the_lunch_break_counts_from_13_30() {
    // Accepted 12:00 (lunch): counting starts 13:30; 13:30–17:00 = 210 min,
    // the remaining 30 min from Wed 6 Nov 07:00 → due Wed 07:30.
    let code = code_for(COMMUNE, t(12, 0), 1);
    given_when_then(
        &submitted().events,
        command(
            officer(COMMUNE),
            t(12, 0),
            CommandBody::Accept { code: code.clone() },
        ),
        vec![recorded(
            officer(COMMUNE),
            t(12, 0),
            DossierChange::DossierAccepted {
                code,
                unit: unit(COMMUNE),
                counting_from: t(13, 30),
                due_at: vn(2024, 11, 6, 7, 30),
            },
        )],
    );
}

#[test]
fn accepted_after_hours_counts_from_the_next_session() {
    // Submitted online 16:50, accepted 17:30 Tue 5 Nov (after closing):
    // counting starts Wed 6 Nov 07:00; + 240 min → Wed 11:00. The code keeps
    // the reception date, 5 Nov.
    let given = Story::new()
        .run(command(
            portal(),
            t(16, 50),
            submit(Channel::Online, birth_submission(Channel::Online), None),
        ))
        .events;
    let code = code_for(COMMUNE, t(17, 30), 1);
    assert_eq!(code.to_string(), "000.01.20.H56-241105-0001");
    let dossier = given_when_then(
        &given,
        command(
            officer(COMMUNE),
            t(17, 30),
            CommandBody::Accept { code: code.clone() },
        ),
        vec![recorded(
            officer(COMMUNE),
            t(17, 30),
            DossierChange::DossierAccepted {
                code,
                unit: unit(COMMUNE),
                counting_from: vn(2024, 11, 6, 7, 0),
                due_at: vn(2024, 11, 6, 11, 0),
            },
        )],
    );
    let deadlines = dossier.deadlines().unwrap();
    assert_eq!(deadlines.received_at, t(17, 30));
    assert_eq!(deadlines.counting_from, vn(2024, 11, 6, 7, 0));
}

#[test]
fn accepted_after_hours_before_the_national_day_counts_from_wednesday() {
    // Accepted Fri 30 Aug 2024 17:10 (after closing). Sat 31 Aug and Sun
    // 1 Sep are declared days off of the National Day break, Mon 2 and Tue 3
    // Sep are holidays: counting starts Wed 4 Sep 07:00; + 240 min → 11:00.
    let given = Story::new()
        .run(command(
            portal(),
            vn(2024, 8, 30, 16, 50),
            submit(Channel::Online, birth_submission(Channel::Online), None),
        ))
        .events;
    let code = code_for(COMMUNE, vn(2024, 8, 30, 17, 10), 1);
    given_when_then(
        &given,
        command(
            officer(COMMUNE),
            vn(2024, 8, 30, 17, 10),
            CommandBody::Accept { code: code.clone() },
        ),
        vec![recorded(
            officer(COMMUNE),
            vn(2024, 8, 30, 17, 10),
            DossierChange::DossierAccepted {
                code,
                unit: unit(COMMUNE),
                counting_from: vn(2024, 9, 4, 7, 0),
                due_at: vn(2024, 9, 4, 11, 0),
            },
        )],
    );
}

#[test]
fn a_calendar_day_procedure_is_due_at_closing_on_the_next_working_day() {
    // LAND_INFO (10 calendar days) handed in at the provincial department on
    // Fri 23 Aug 2024 09:00: 23 Aug + 10 days = Mon 2 Sep, a holiday, and
    // Tue 3 Sep too → the next working day is Wed 4 Sep; due at its closing,
    // 17:00. Counting starts at once (09:00 is inside a session).
    let at = vn(2024, 8, 23, 9, 0);
    let code = code_for(DEPARTMENT, at, 1);
    let dossier = given_when_then(
        &[],
        command(
            officer(DEPARTMENT),
            at,
            submit(Channel::InPerson, land_info_submission(), Some(at)),
        ),
        vec![
            recorded(officer(DEPARTMENT), at, land_info_submitted()),
            recorded(
                officer(DEPARTMENT),
                at,
                DossierChange::DossierAccepted {
                    code,
                    unit: unit(DEPARTMENT),
                    counting_from: at,
                    due_at: vn(2024, 9, 4, 17, 0),
                },
            ),
        ],
    );
    assert_eq!(code_of(&dossier), Some(2));
}

#[test]
fn a_calendar_day_procedure_counts_its_days_from_the_counting_start() {
    // LAND_INFO (10 calendar days) handed in at the provincial department
    // and accepted on the spot: the days count from the local date of
    // `counting_start`, and the due date is the close of business (17:00) of
    // the first working day on or after that date + 10.
    // (received at, counting from, due at), each worked by hand.
    let cases = [
        // Tue 5 Nov 2024 17:30, after closing: from Wed 6 Nov 07:00; 6 + 10 =
        // Sat 16 Nov, Sun 17 → Mon 18 Nov 17:00 (from the reception date it
        // would have been Fri 15 Nov).
        (t(17, 30), vn(2024, 11, 6, 7, 0), vn(2024, 11, 18, 17, 0)),
        // Tue 5 Nov 12:00, lunch break: from 13:30 the same day; 5 + 10 = Fri
        // 15 Nov 17:00.
        (t(12, 0), t(13, 30), vn(2024, 11, 15, 17, 0)),
        // Fri 30 Aug 2024 17:10: Sat 31 Aug – Tue 3 Sep are off (National
        // Day); from Wed 4 Sep 07:00; 4 + 10 = Sat 14 Sep → Mon 16 Sep 17:00.
        (
            vn(2024, 8, 30, 17, 10),
            vn(2024, 9, 4, 7, 0),
            vn(2024, 9, 16, 17, 0),
        ),
        // Sat 9 Nov 2024 10:00, an ordinary Saturday: from Mon 11 Nov 07:00;
        // 11 + 10 = Thu 21 Nov 17:00.
        (
            vn(2024, 11, 9, 10, 0),
            vn(2024, 11, 11, 7, 0),
            vn(2024, 11, 21, 17, 0),
        ),
        // Tue 23 Apr 2024 17:30: from Wed 24 Apr 07:00; 24 Apr + 10 = Sat 4
        // May, a make-up working day → due Sat 4 May 17:00.
        (
            vn(2024, 4, 23, 17, 30),
            vn(2024, 4, 24, 7, 0),
            vn(2024, 5, 4, 17, 0),
        ),
    ];
    for (at, counting_from, due_at) in cases {
        let dossier = given_when_then(
            &[],
            command(
                officer(DEPARTMENT),
                at,
                submit(Channel::InPerson, land_info_submission(), Some(at)),
            ),
            vec![
                recorded(officer(DEPARTMENT), at, land_info_submitted()),
                recorded(
                    officer(DEPARTMENT),
                    at,
                    DossierChange::DossierAccepted {
                        code: code_for(DEPARTMENT, at, 1),
                        unit: unit(DEPARTMENT),
                        counting_from,
                        due_at,
                    },
                ),
            ],
        );
        let deadlines = dossier.deadlines().unwrap();
        assert_eq!(deadlines.received_at, at);
        assert_eq!(deadlines.counting_from, counting_from);
        assert_eq!(deadlines.original_due_at, due_at);
        assert_eq!(deadlines.appointment_at, due_at);
    }
}

#[test]
fn a_count_ending_at_the_close_of_a_session_ends_there() {
    // Accepted 07:30: 07:30–11:30 is exactly 240 min → due 11:30, not 13:30.
    let code = code_for(COMMUNE, t(7, 30), 1);
    given_when_then(
        &submitted_at(t(7, 0)).events,
        command(
            officer(COMMUNE),
            t(7, 30),
            CommandBody::Accept { code: code.clone() },
        ),
        vec![recorded(
            officer(COMMUNE),
            t(7, 30),
            DossierChange::DossierAccepted {
                code,
                unit: unit(COMMUNE),
                counting_from: t(7, 30),
                due_at: t(11, 30),
            },
        )],
    );
}

#[test]
fn accepted_around_holidays_and_make_up_days() {
    // (accepted at, counting from, due at), each worked by hand; 240 min.
    let cases = [
        // Fri 24 Jan 2025 15:00: 15:00–17:00 = 120; Sat 25 Jan – Sun 2 Feb is
        // Tết and its weekends; Mon 3 Feb 07:00 + 120 → 09:00.
        (
            vn(2025, 1, 24, 15, 0),
            vn(2025, 1, 24, 15, 0),
            vn(2025, 2, 3, 9, 0),
        ),
        // Fri 3 May 2024 16:00: 16:00–17:00 = 60; Sat 4 May is a make-up
        // working day: 07:00 + 180 → Sat 4 May 10:00.
        (
            vn(2024, 5, 3, 16, 0),
            vn(2024, 5, 3, 16, 0),
            vn(2024, 5, 4, 10, 0),
        ),
        // Sat 4 May 2024 (make-up day) 08:00: counts at once → 12:00 would be
        // lunch: 08:00–11:30 = 210, 13:30 + 30 → Sat 4 May 14:00.
        (
            vn(2024, 5, 4, 8, 0),
            vn(2024, 5, 4, 8, 0),
            vn(2024, 5, 4, 14, 0),
        ),
        // Tue 29 Apr 2025 16:00: 60 min; Wed 30 Apr, Thu 1 May, Fri 2 May
        // (swapped for Sat 26 Apr), Sat 3, Sun 4 are off; Mon 5 May 07:00 +
        // 180 → 10:00.
        (
            vn(2025, 4, 29, 16, 0),
            vn(2025, 4, 29, 16, 0),
            vn(2025, 5, 5, 10, 0),
        ),
        // Sat 9 Nov 2024 10:00, an ordinary Saturday: counting from Mon 11
        // Nov 07:00 → 11:00.
        (
            vn(2024, 11, 9, 10, 0),
            vn(2024, 11, 11, 7, 0),
            vn(2024, 11, 11, 11, 0),
        ),
        // Tue 31 Dec 2024 17:00 sharp (closing): Wed 1 Jan 2025 is a holiday;
        // counting from Thu 2 Jan 07:00 → 11:00.
        (
            vn(2024, 12, 31, 17, 0),
            vn(2025, 1, 2, 7, 0),
            vn(2025, 1, 2, 11, 0),
        ),
    ];
    for (at, counting_from, due_at) in cases {
        let code = code_for(COMMUNE, at, 1);
        given_when_then(
            &submitted_at(at).events,
            command(
                officer(COMMUNE),
                at,
                CommandBody::Accept { code: code.clone() },
            ),
            vec![recorded(
                officer(COMMUNE),
                at,
                DossierChange::DossierAccepted {
                    code,
                    unit: unit(COMMUNE),
                    counting_from,
                    due_at,
                },
            )],
        );
    }
}

// ---------------------------------------------------------------------------
// Completion at reception, refusal
// ---------------------------------------------------------------------------

#[test]
fn an_incomplete_file_is_completed_once_then_accepted() {
    // Submitted online at 08:00 without the birth certificate (GCS).
    let mut incomplete = birth_submission(Channel::Online);
    incomplete.documents = vec![document("TK")];
    let given = Story::new()
        .run(command(
            portal(),
            t(8, 0),
            submit(Channel::Online, incomplete, None),
        ))
        .events;

    // 08:10: the desk asks for the missing component.
    let requested = recorded(
        officer(COMMUNE),
        t(8, 10),
        DossierChange::CompletionRequested {
            missing: vec![text("Giấy chứng sinh")],
            reason: text("Thiếu giấy chứng sinh"),
        },
    );
    let dossier = given_when_then(
        &given,
        command(
            officer(COMMUNE),
            t(8, 10),
            CommandBody::RequestCompletion {
                missing: vec![text("Giấy chứng sinh")],
                reason: text("Thiếu giấy chứng sinh"),
            },
        ),
        vec![requested.clone()],
    );
    assert_eq!(code_of(&dossier), Some(1));
    assert_eq!(dossier.step(), Step::AwaitingCompletion);
    let given = [given, vec![requested]].concat();

    // 09:00: the applicant completes the file through the portal.
    let provided = recorded(
        portal(),
        t(9, 0),
        DossierChange::CompletionProvided {
            documents: vec![document("GCS")],
        },
    );
    let dossier = given_when_then(
        &given,
        command(
            portal(),
            t(9, 0),
            CommandBody::ProvideCompletion {
                documents: vec![document("GCS")],
            },
        ),
        vec![provided.clone()],
    );
    assert_eq!(code_of(&dossier), Some(1));
    assert_eq!(dossier.step(), Step::Submitted);
    assert_eq!(dossier.documents(), [document("TK"), document("GCS")]);
    let given = [given, vec![provided]].concat();

    // 09:30: accepted. 240 min: 09:30–11:30 = 120, the remaining 120 from
    // 13:30 → due 15:30.
    let code = code_for(COMMUNE, t(9, 30), 1);
    let dossier = given_when_then(
        &given,
        command(
            officer(COMMUNE),
            t(9, 30),
            CommandBody::Accept { code: code.clone() },
        ),
        vec![recorded(
            officer(COMMUNE),
            t(9, 30),
            DossierChange::DossierAccepted {
                code,
                unit: unit(COMMUNE),
                counting_from: t(9, 30),
                due_at: t(15, 30),
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(2));
}

#[test]
fn completion_may_be_requested_only_once() {
    let story = awaiting_completion().run(command(
        portal(),
        t(8, 40),
        CommandBody::ProvideCompletion {
            documents: vec![document("UQ")],
        },
    ));
    assert_eq!(story.dossier.step(), Step::Submitted);
    let error = rejection(
        &story.events,
        command(
            officer(COMMUNE),
            t(9, 0),
            CommandBody::RequestCompletion {
                missing: vec![text("Bản chính giấy chứng sinh")],
                reason: text("Lần thứ hai"),
            },
        ),
    );
    assert!(
        matches!(
            error,
            DossierError::RuleViolated {
                action: Action::RequestCompletion,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn refused_at_reception_with_status_3() {
    let dossier = given_when_then(
        &submitted().events,
        command(
            officer(COMMUNE),
            t(8, 10),
            CommandBody::Refuse {
                reason: text("  Không thuộc thẩm quyền  "),
            },
        ),
        // The reason is recorded trimmed.
        vec![recorded(
            officer(COMMUNE),
            t(8, 10),
            DossierChange::DossierRefused {
                reason: text("Không thuộc thẩm quyền"),
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(3));
    assert_eq!(dossier.step(), Step::Refused);
    assert_eq!(dossier.closed_at(), Some(t(8, 10)));
    assert_eq!(dossier.deadlines(), None);
    assert_eq!(dossier.timeliness(TimelinessPolicy::ByDate, t(17, 0)), None);
}

#[test]
fn refused_while_waiting_for_completion() {
    let dossier = given_when_then(
        &awaiting_completion().events,
        command(
            officer(COMMUNE),
            t(9, 0),
            CommandBody::Refuse {
                reason: text("Không bổ sung"),
            },
        ),
        vec![recorded(
            officer(COMMUNE),
            t(9, 0),
            DossierChange::DossierRefused {
                reason: text("Không bổ sung"),
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(3));
    assert_eq!(dossier.closed_at(), Some(t(9, 0)));
}

// ---------------------------------------------------------------------------
// Forward, assign, reassign
// ---------------------------------------------------------------------------

#[test]
fn forwarded_to_the_department_with_status_4() {
    let dossier = given_when_then(
        &accepted().events,
        command(
            officer(COMMUNE),
            t(8, 20),
            CommandBody::Forward {
                department: text("Tư pháp - Hộ tịch"),
                step_due_at: Some(t(11, 0)),
                note: Some(text("  Ưu tiên  ")),
            },
        ),
        vec![recorded(
            officer(COMMUNE),
            t(8, 20),
            DossierChange::ForwardedToDepartment {
                unit: unit(COMMUNE),
                department: text("Tư pháp - Hộ tịch"),
                step_due_at: Some(t(11, 0)),
                note: Some(text("Ưu tiên")),
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(4));
    assert_eq!(dossier.step(), Step::AtDepartment);
    assert_eq!(dossier.department(), Some("Tư pháp - Hộ tịch"));
    assert_eq!(dossier.assignee(), None);
    assert_eq!(dossier.step_due_at(), Some(t(11, 0)));
    // Forwarding does not touch the deadlines.
    assert_eq!(dossier.deadlines().unwrap().due_at, t(14, 15));
}

#[test]
fn assigned_to_a_specialist() {
    let dossier = given_when_then(
        &at_department().events,
        command(
            head(COMMUNE),
            t(8, 30),
            CommandBody::Assign {
                specialist: text("specialist"),
                step_due_at: Some(t(10, 0)),
                note: None,
            },
        ),
        vec![recorded(
            head(COMMUNE),
            t(8, 30),
            DossierChange::SpecialistAssigned {
                department: text("Tư pháp - Hộ tịch"),
                specialist: text("specialist"),
                previous_specialist: None,
                step_due_at: Some(t(10, 0)),
                note: None,
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(4));
    assert_eq!(dossier.step(), Step::WithSpecialist);
    assert_eq!(dossier.assignee(), Some("specialist"));
    assert_eq!(dossier.step_due_at(), Some(t(10, 0)));
}

#[test]
fn reassigned_to_another_specialist() {
    let dossier = given_when_then(
        &with_specialist().events,
        command(
            head(COMMUNE),
            t(9, 0),
            CommandBody::Assign {
                specialist: text("specialist-2"),
                step_due_at: None,
                note: Some(text("Chuyên viên nghỉ phép")),
            },
        ),
        vec![recorded(
            head(COMMUNE),
            t(9, 0),
            DossierChange::SpecialistAssigned {
                department: text("Tư pháp - Hộ tịch"),
                specialist: text("specialist-2"),
                previous_specialist: Some(text("specialist")),
                step_due_at: None,
                note: Some(text("Chuyên viên nghỉ phép")),
            },
        )],
    );
    assert_eq!(dossier.step(), Step::WithSpecialist);
    assert_eq!(dossier.assignee(), Some("specialist-2"));
    assert_eq!(dossier.step_due_at(), None);
}

// ---------------------------------------------------------------------------
// Supplement: SHIFT and RESTART
// ---------------------------------------------------------------------------

#[test]
fn supplement_with_the_shift_policy_moves_the_due_date_by_the_time_waited() {
    // Requested Tue 5 Nov 09:00 by the specialist.
    let request = CommandBody::RequestSupplement {
        reason: text("Thiếu văn bản ủy quyền"),
        missing_items: vec![text("Văn bản ủy quyền")],
        applicant_deadline: vn(2024, 11, 12, 17, 0),
    };
    let requested = recorded(
        specialist(COMMUNE),
        t(9, 0),
        DossierChange::SupplementRequested {
            reason: text("Thiếu văn bản ủy quyền"),
            missing_items: vec![text("Văn bản ủy quyền")],
            applicant_deadline: vn(2024, 11, 12, 17, 0),
        },
    );
    let given = with_specialist().events;
    let dossier = given_when_then(
        &given,
        command(specialist(COMMUNE), t(9, 0), request),
        vec![requested.clone()],
    );
    assert_eq!(code_of(&dossier), Some(5));
    assert_eq!(dossier.step(), Step::AwaitingSupplement);
    assert_eq!(
        dossier.pause(),
        Some(Pause {
            since: t(9, 0),
            resume_step: Step::WithSpecialist
        })
    );
    let given = [given, vec![requested]].concat();

    // Received Wed 6 Nov 10:00 through the portal. Waited: Tue 09:00–11:30 =
    // 150 + 13:30–17:00 = 210, Wed 07:00–10:00 = 180 → 540 min.
    // Due 14:15 Tue + 540: Tue 14:15–17:00 = 165 (375 left), Wed 07:00–11:30
    // = 270 (105 left), 13:30 + 105 → Wed 6 Nov 15:15. Appointment alike.
    let wed = |h, m| vn(2024, 11, 6, h, m);
    let dossier = given_when_then(
        &given,
        command(
            portal(),
            wed(10, 0),
            CommandBody::ReceiveSupplement {
                documents: vec![document("UQ")],
            },
        ),
        vec![recorded(
            portal(),
            wed(10, 0),
            DossierChange::SupplementReceived {
                documents: vec![document("UQ")],
                clock: ClockAdjustment {
                    waited: WorkingMinutes(540),
                    policy: SupplementClock::Shift,
                    previous_due_at: t(14, 15),
                    due_at: wed(15, 15),
                    previous_appointment_at: t(14, 15),
                    appointment_at: wed(15, 15),
                },
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(4));
    assert_eq!(dossier.step(), Step::WithSpecialist);
    assert_eq!(dossier.pause(), None);
    assert_eq!(dossier.paused(), WorkingMinutes(540));
    assert_eq!(
        dossier.documents(),
        [document("TK"), document("GCS"), document("UQ")]
    );
    let deadlines = dossier.deadlines().unwrap();
    assert_eq!(deadlines.original_due_at, t(14, 15));
    assert_eq!(deadlines.due_at, wed(15, 15));
    assert_eq!(deadlines.appointment_at, wed(15, 15));
    // Wed 15:00 is within the shifted due date, 15:30 past it.
    assert_eq!(
        dossier.timeliness(TimelinessPolicy::ByTimestamp, wed(15, 0)),
        WITHIN
    );
    assert_eq!(
        dossier.timeliness(TimelinessPolicy::ByTimestamp, wed(15, 30)),
        OVERDUE
    );
}

#[test]
fn supplement_shift_counts_no_holiday_and_every_make_up_day() {
    // Fri 26 Apr 2024: accepted 08:15, due 14:15; supplement asked 09:00,
    // received Mon 6 May 10:00. Waited: Fri 09:00–17:00 = 360; Sat 27 Apr –
    // Wed 1 May are off (weekend, swapped day, 30/4, 1/5); Thu 2, Fri 3 and
    // the make-up Sat 4 May = 3 × 480; Sun 5 off; Mon 07:00–10:00 = 180 →
    // 1,980 min. Due Fri 14:15 + 1,980: Fri 165 (1,815 left), Thu 2, Fri 3,
    // Sat 4 May (375 left), Mon 6 May 07:00–11:30 = 270 (105 left), 13:30 +
    // 105 → Mon 6 May 15:15.
    let story = awaiting_supplement_on(2024, 4, 26);
    let received_at = vn(2024, 5, 6, 10, 0);
    let (previous, due) = (vn(2024, 4, 26, 14, 15), vn(2024, 5, 6, 15, 15));
    let dossier = given_when_then(
        &story.events,
        command(
            officer(COMMUNE),
            received_at,
            CommandBody::ReceiveSupplement {
                documents: vec![document("UQ")],
            },
        ),
        vec![recorded(
            officer(COMMUNE),
            received_at,
            DossierChange::SupplementReceived {
                documents: vec![document("UQ")],
                clock: ClockAdjustment {
                    waited: WorkingMinutes(1_980),
                    policy: SupplementClock::Shift,
                    previous_due_at: previous,
                    due_at: due,
                    previous_appointment_at: previous,
                    appointment_at: due,
                },
            },
        )],
    );
    assert_eq!(dossier.paused(), WorkingMinutes(1_980));
}

#[test]
fn supplement_waited_outside_office_hours_moves_nothing() {
    // Asked Tue 5 Nov 17:30 (after closing), brought in Wed 6 Nov 06:45
    // (before opening): no working time waited, the due date stays 14:15.
    let story = with_specialist().run(command(
        specialist(COMMUNE),
        t(17, 30),
        CommandBody::RequestSupplement {
            reason: text("Thiếu văn bản ủy quyền"),
            missing_items: vec![text("Văn bản ủy quyền")],
            applicant_deadline: vn(2024, 11, 12, 17, 0),
        },
    ));
    let at = vn(2024, 11, 6, 6, 45);
    let dossier = given_when_then(
        &story.events,
        command(
            portal(),
            at,
            CommandBody::ReceiveSupplement {
                documents: vec![document("UQ")],
            },
        ),
        vec![recorded(
            portal(),
            at,
            DossierChange::SupplementReceived {
                documents: vec![document("UQ")],
                clock: ClockAdjustment {
                    waited: WorkingMinutes::ZERO,
                    policy: SupplementClock::Shift,
                    previous_due_at: t(14, 15),
                    due_at: t(14, 15),
                    previous_appointment_at: t(14, 15),
                    appointment_at: t(14, 15),
                },
            },
        )],
    );
    assert_eq!(dossier.paused(), WorkingMinutes::ZERO);
}

#[test]
fn supplement_with_the_restart_policy_counts_the_full_time_again_from_receipt() {
    // BUILDING (15 working days = 7,200 min) handed in and accepted at the
    // district on Mon 20 Jan 2025 08:00. Due: Mon 08:00–17:00 = 420 (6,780
    // left = 14 days + 60 min); working days after: Tue 21–Fri 24 Jan (4),
    // then Tết — Sat 25 Jan to Sun 2 Feb are all off — Mon 3–Fri 7 Feb (9),
    // Mon 10–Fri 14 Feb (14); Mon 17 Feb 07:00 + 60 → due Mon 17 Feb 08:00.
    let accepted_at = vn(2025, 1, 20, 8, 0);
    let first_due = vn(2025, 2, 17, 8, 0);
    let story = building_with_specialist(accepted_at);
    assert_eq!(story.dossier.deadlines().unwrap().due_at, first_due);

    // Supplement requested Wed 22 Jan 10:00.
    let given = story
        .run(command(
            specialist(DISTRICT),
            vn(2025, 1, 22, 10, 0),
            CommandBody::RequestSupplement {
                reason: text("Bản vẽ chưa đúng quy chuẩn"),
                missing_items: vec![text("Bản vẽ thiết kế sửa đổi")],
                applicant_deadline: vn(2025, 2, 7, 17, 0),
            },
        ))
        .events;

    // Received Thu 23 Jan 14:00 at the desk. Waited: Wed 10:00–11:30 = 90 +
    // 13:30–17:00 = 210, Thu 07:00–11:30 = 270 + 13:30–14:00 = 30 → 600 min.
    // RESTART: 7,200 min again from Thu 14:00: Thu 14:00–17:00 = 180 (7,020
    // left = 14 days + 300 min); working days after: Fri 24 Jan (1), Tết
    // skipped, Mon 3–Fri 7 Feb (6), Mon 10–Fri 14 Feb (11), Mon 17–Wed 19 Feb
    // (14); Thu 20 Feb: 07:00–11:30 = 270, the last 30 from 13:30 → 14:00.
    // (SHIFT would have given Mon 17 Feb 08:00 + 600 = Tue 18 Feb 10:00.)
    let received_at = vn(2025, 1, 23, 14, 0);
    let new_due = vn(2025, 2, 20, 14, 0);
    let dossier = given_when_then(
        &given,
        command(
            officer(DISTRICT),
            received_at,
            CommandBody::ReceiveSupplement {
                documents: vec![document("BV")],
            },
        ),
        vec![recorded(
            officer(DISTRICT),
            received_at,
            DossierChange::SupplementReceived {
                documents: vec![document("BV")],
                clock: ClockAdjustment {
                    waited: WorkingMinutes(600),
                    policy: SupplementClock::Restart,
                    previous_due_at: first_due,
                    due_at: new_due,
                    previous_appointment_at: first_due,
                    appointment_at: new_due,
                },
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(4));
    assert_eq!(dossier.step(), Step::WithSpecialist);
    assert_eq!(dossier.procedure(), Some(&building_terms()));
    assert_eq!(dossier.paused(), WorkingMinutes(600));
    let deadlines = dossier.deadlines().unwrap();
    assert_eq!(deadlines.original_due_at, first_due);
    assert_eq!(deadlines.due_at, new_due);
    assert_eq!(deadlines.appointment_at, new_due);
}

// ---------------------------------------------------------------------------
// Fees and charges
// ---------------------------------------------------------------------------

fn items() -> Vec<PaymentItem> {
    vec![
        PaymentItem {
            name: text("Lệ phí đăng ký khai sinh"),
            amount_vnd: 8_000,
        },
        PaymentItem {
            name: text("Phí cấp bản sao trích lục"),
            amount_vnd: 3_000,
        },
    ]
}

#[test]
fn payment_requested_waits_for_the_applicant_with_status_6() {
    let dossier = given_when_then(
        &with_specialist().events,
        command(
            specialist(COMMUNE),
            t(9, 0),
            CommandBody::RequestPayment { items: items() },
        ),
        // 8,000 + 3,000 = 11,000 VND.
        vec![recorded(
            specialist(COMMUNE),
            t(9, 0),
            DossierChange::PaymentRequested {
                items: items(),
                total_vnd: 11_000,
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(6));
    assert_eq!(dossier.step(), Step::AwaitingPayment);
    assert_eq!(
        dossier.payment(),
        PaymentState::Requested { total_vnd: 11_000 }
    );
    assert_eq!(
        dossier.pause(),
        Some(Pause {
            since: t(9, 0),
            resume_step: Step::WithSpecialist
        })
    );
}

#[test]
fn payment_of_the_total_resumes_processing_with_the_wait_shifted() {
    // Requested 09:00 (8,000 VND), paid 09:20: waited 20 min; payments always
    // shift: due 14:15 + 20 → 14:35.
    let dossier = given_when_then(
        &awaiting_payment().events,
        command(
            officer(COMMUNE),
            t(9, 20),
            CommandBody::ConfirmPayment {
                amount_vnd: 8_000,
                receipt_number: text("BL-0001"),
                method: PaymentMethod::Cash,
            },
        ),
        vec![recorded(
            officer(COMMUNE),
            t(9, 20),
            DossierChange::PaymentConfirmed {
                amount_vnd: 8_000,
                receipt_number: text("BL-0001"),
                method: PaymentMethod::Cash,
                clock: ClockAdjustment {
                    waited: WorkingMinutes(20),
                    policy: SupplementClock::Shift,
                    previous_due_at: t(14, 15),
                    due_at: t(14, 35),
                    previous_appointment_at: t(14, 15),
                    appointment_at: t(14, 35),
                },
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(4));
    assert_eq!(dossier.step(), Step::WithSpecialist);
    assert_eq!(dossier.payment(), PaymentState::Paid { amount_vnd: 8_000 });
    assert_eq!(dossier.paused(), WorkingMinutes(20));
    assert_eq!(dossier.deadlines().unwrap().due_at, t(14, 35));
    assert_eq!(dossier.deadlines().unwrap().original_due_at, t(14, 15));
}

#[test]
fn payment_requested_at_the_desk_resumes_at_the_desk() {
    // Accepted 08:15, payment asked 08:20 and paid online 08:50 (30 min):
    // back to status 2, due 14:15 + 30 → 14:45.
    let given = accepted()
        .run(command(
            officer(COMMUNE),
            t(8, 20),
            CommandBody::RequestPayment {
                items: items()[..1].to_vec(),
            },
        ))
        .events;
    let dossier = given_when_then(
        &given,
        command(
            portal(),
            t(8, 50),
            CommandBody::ConfirmPayment {
                amount_vnd: 8_000,
                receipt_number: text("PAYGOV-7781"),
                method: PaymentMethod::NationalPaymentPlatform,
            },
        ),
        vec![recorded(
            portal(),
            t(8, 50),
            DossierChange::PaymentConfirmed {
                amount_vnd: 8_000,
                receipt_number: text("PAYGOV-7781"),
                method: PaymentMethod::NationalPaymentPlatform,
                clock: ClockAdjustment {
                    waited: WorkingMinutes(30),
                    policy: SupplementClock::Shift,
                    previous_due_at: t(14, 15),
                    due_at: t(14, 45),
                    previous_appointment_at: t(14, 15),
                    appointment_at: t(14, 45),
                },
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(2));
    assert_eq!(dossier.step(), Step::Accepted);
}

#[test]
fn payment_of_another_amount_than_the_total_is_rejected() {
    let error = rejection(
        &awaiting_payment().events,
        command(
            officer(COMMUNE),
            t(9, 20),
            CommandBody::ConfirmPayment {
                amount_vnd: 7_999,
                receipt_number: text("BL-0001"),
                method: PaymentMethod::Cash,
            },
        ),
    );
    assert!(
        matches!(&error, DossierError::InvalidField { field, .. } if field == "amount_vnd"),
        "{error:?}"
    );
}

#[test]
fn payment_exempted_resumes_processing_with_the_wait_shifted() {
    // Requested 09:00, exempted 10:00 by the head: waited 60 → due 15:15.
    let dossier = given_when_then(
        &awaiting_payment().events,
        command(
            head(COMMUNE),
            t(10, 0),
            CommandBody::ExemptPayment {
                reason: text("Hộ nghèo"),
            },
        ),
        vec![recorded(
            head(COMMUNE),
            t(10, 0),
            DossierChange::PaymentExempted {
                reason: text("Hộ nghèo"),
                clock: ClockAdjustment {
                    waited: WorkingMinutes(60),
                    policy: SupplementClock::Shift,
                    previous_due_at: t(14, 15),
                    due_at: t(15, 15),
                    previous_appointment_at: t(14, 15),
                    appointment_at: t(15, 15),
                },
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(4));
    assert_eq!(dossier.step(), Step::WithSpecialist);
    assert_eq!(dossier.payment(), PaymentState::Exempted);
    assert_eq!(dossier.paused(), WorkingMinutes(60));
}

#[test]
fn payment_refunded_in_part_or_in_full_after_it_was_paid() {
    for refunded in [3_000, 8_000] {
        let dossier = given_when_then(
            &paid().events,
            command(
                officer(COMMUNE),
                t(10, 0),
                CommandBody::RefundPayment {
                    amount_vnd: refunded,
                    reason: text("Thu thừa"),
                },
            ),
            vec![recorded(
                officer(COMMUNE),
                t(10, 0),
                DossierChange::PaymentRefunded {
                    amount_vnd: refunded,
                    reason: text("Thu thừa"),
                },
            )],
        );
        assert_eq!(
            dossier.payment(),
            PaymentState::Refunded {
                amount_vnd: refunded
            }
        );
        assert_eq!(dossier.paid_vnd(), 8_000);
        assert_eq!(dossier.refunded_vnd(), refunded);
        // A refund is no step of the lifecycle.
        assert_eq!(dossier.step(), Step::WithSpecialist);
    }
}

fn refund(at: DateTime<Utc>, amount_vnd: u64) -> DossierCommand {
    command(
        officer(COMMUNE),
        at,
        CommandBody::RefundPayment {
            amount_vnd,
            reason: text("Thu thừa"),
        },
    )
}

fn refunded(at: DateTime<Utc>, amount_vnd: u64) -> DossierEvent {
    recorded(
        officer(COMMUNE),
        at,
        DossierChange::PaymentRefunded {
            amount_vnd,
            reason: text("Thu thừa"),
        },
    )
}

#[test]
fn partial_refunds_add_up_to_the_amount_paid() {
    // Paid 8,000 at 09:20; 3,000 refunded at 10:00, then the other 5,000 at
    // 10:30. `Refunded` holds the total refunded so far.
    let story = paid();
    assert_eq!(story.dossier.paid_vnd(), 8_000);
    assert_eq!(story.dossier.refunded_vnd(), 0);
    let dossier = given_when_then(
        &story.events,
        refund(t(10, 0), 3_000),
        vec![refunded(t(10, 0), 3_000)],
    );
    assert_eq!(
        dossier.payment(),
        PaymentState::Refunded { amount_vnd: 3_000 }
    );
    assert_eq!((dossier.paid_vnd(), dossier.refunded_vnd()), (8_000, 3_000));
    let given = [story.events, vec![refunded(t(10, 0), 3_000)]].concat();
    // 8,000 − 3,000 = 5,000 remain: 5,001 is too much.
    let error = rejection(&given, refund(t(10, 30), 5_001));
    assert!(
        matches!(&error, DossierError::InvalidField { field, .. } if field == "amount_vnd"),
        "{error:?}"
    );
    let dossier = given_when_then(
        &given,
        refund(t(10, 30), 5_000),
        vec![refunded(t(10, 30), 5_000)],
    );
    assert_eq!(
        dossier.payment(),
        PaymentState::Refunded { amount_vnd: 8_000 }
    );
    assert_eq!((dossier.paid_vnd(), dossier.refunded_vnd()), (8_000, 8_000));
    assert_eq!(dossier.step(), Step::WithSpecialist);
    // Everything paid is refunded: nothing more.
    let given = [given, vec![refunded(t(10, 30), 5_000)]].concat();
    assert_eq!(
        rejection(&given, refund(t(11, 0), 1)),
        DossierError::RuleViolated {
            action: Action::RefundPayment,
            rule: text("nothing paid remains to be refunded"),
        }
    );
}

#[test]
fn a_later_payment_request_keeps_the_earlier_payment_refundable() {
    // Paid 8,000 at 09:20 (due 14:15 + 20 → 14:35); 5,000 more requested at
    // 10:00 and paid at 10:20: waited 20 min → due 14:35 + 20 → 14:55.
    let story = paid().run(command(
        specialist(COMMUNE),
        t(10, 0),
        CommandBody::RequestPayment {
            items: vec![PaymentItem {
                name: text("Phí thẩm định"),
                amount_vnd: 5_000,
            }],
        },
    ));
    assert_eq!(
        story.dossier.payment(),
        PaymentState::Requested { total_vnd: 5_000 }
    );
    assert_eq!(story.dossier.paid_vnd(), 8_000);
    let confirmed = recorded(
        officer(COMMUNE),
        t(10, 20),
        DossierChange::PaymentConfirmed {
            amount_vnd: 5_000,
            receipt_number: text("BL-0002"),
            method: PaymentMethod::Cash,
            clock: ClockAdjustment {
                waited: WorkingMinutes(20),
                policy: SupplementClock::Shift,
                previous_due_at: t(14, 35),
                due_at: t(14, 55),
                previous_appointment_at: t(14, 35),
                appointment_at: t(14, 55),
            },
        },
    );
    let dossier = given_when_then(
        &story.events,
        command(
            officer(COMMUNE),
            t(10, 20),
            CommandBody::ConfirmPayment {
                amount_vnd: 5_000,
                receipt_number: text("BL-0002"),
                method: PaymentMethod::Cash,
            },
        ),
        vec![confirmed.clone()],
    );
    // The state is the latest payment's; the total is both.
    assert_eq!(dossier.payment(), PaymentState::Paid { amount_vnd: 5_000 });
    assert_eq!((dossier.paid_vnd(), dossier.refunded_vnd()), (13_000, 0));
    assert_eq!(dossier.paused(), WorkingMinutes(40));
    let given = [story.events, vec![confirmed]].concat();
    // Up to 8,000 + 5,000 = 13,000 can be refunded, not 13,001.
    let error = rejection(&given, refund(t(10, 30), 13_001));
    assert!(
        matches!(&error, DossierError::InvalidField { field, .. } if field == "amount_vnd"),
        "{error:?}"
    );
    let dossier = given_when_then(
        &given,
        refund(t(10, 30), 13_000),
        vec![refunded(t(10, 30), 13_000)],
    );
    assert_eq!(
        dossier.payment(),
        PaymentState::Refunded { amount_vnd: 13_000 }
    );
    assert_eq!(
        (dossier.paid_vnd(), dossier.refunded_vnd()),
        (13_000, 13_000)
    );
}

#[test]
fn the_earlier_payment_is_refundable_while_a_later_request_is_pending() {
    // Paid 8,000 at 09:20, 5,000 more requested at 10:00 and not yet paid:
    // the 8,000 can be refunded at 10:30, the dossier still waits for the
    // 5,000.
    let given = paid()
        .run(command(
            specialist(COMMUNE),
            t(10, 0),
            CommandBody::RequestPayment {
                items: vec![PaymentItem {
                    name: text("Phí thẩm định"),
                    amount_vnd: 5_000,
                }],
            },
        ))
        .events;
    let dossier = given_when_then(
        &given,
        refund(t(10, 30), 8_000),
        vec![refunded(t(10, 30), 8_000)],
    );
    assert_eq!((dossier.paid_vnd(), dossier.refunded_vnd()), (8_000, 8_000));
    assert_eq!(dossier.step(), Step::AwaitingPayment);
    // The pending request stays the current fact (see
    // `a_refund_while_a_payment_is_awaited_keeps_the_amount_requested`).
    assert_eq!(
        dossier.payment(),
        PaymentState::Requested { total_vnd: 5_000 }
    );
}

#[test]
fn payment_refund_needs_a_payment_and_at_most_the_amount_paid() {
    let nothing_to_refund = DossierError::RuleViolated {
        action: Action::RefundPayment,
        rule: text("nothing paid remains to be refunded"),
    };
    // Requested but not paid, never requested, exempted: nothing was paid.
    let exempted = awaiting_payment().run(command(
        head(COMMUNE),
        t(9, 30),
        CommandBody::ExemptPayment {
            reason: text("Hộ nghèo"),
        },
    ));
    for story in [awaiting_payment(), with_specialist(), exempted] {
        assert_eq!(story.dossier.paid_vnd(), 0);
        assert_eq!(
            rejection(&story.events, refund(t(10, 0), 1_000)),
            nothing_to_refund,
            "{:?}",
            story.dossier.payment()
        );
    }
    // Paid 8,000: 8,001 and 0 are out of range.
    for amount in [8_001, 0] {
        let error = rejection(&paid().events, refund(t(10, 0), amount));
        assert!(
            matches!(&error, DossierError::InvalidField { field, .. } if field == "amount_vnd"),
            "{amount}: {error:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Transfer (liên thông) and hand-over
// ---------------------------------------------------------------------------

#[test]
fn transferred_to_the_district_which_then_holds_it() {
    let dossier = given_when_then(
        &at_department().events,
        command(
            head(COMMUNE),
            t(8, 40),
            CommandBody::Transfer {
                to_unit: unit(DISTRICT),
                reason: text("Liên thông lên UBND huyện"),
            },
        ),
        vec![recorded(
            head(COMMUNE),
            t(8, 40),
            DossierChange::DossierTransferred {
                from_unit: unit(COMMUNE),
                to_unit: unit(DISTRICT),
                reason: text("Liên thông lên UBND huyện"),
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(4));
    assert_eq!(dossier.step(), Step::TransferredIn);
    assert_eq!(dossier.holder(), Some(&unit(DISTRICT)));
    assert_eq!(dossier.holders(), [unit(COMMUNE), unit(DISTRICT)]);
    assert_eq!(dossier.receiving_unit(), Some(&unit(COMMUNE)));
    assert_eq!(dossier.department(), None);
    assert_eq!(dossier.assignee(), None);
    // The code and the deadlines travel with the dossier.
    assert_eq!(dossier.code(), Some(&code_for(COMMUNE, t(8, 15), 1)));
    assert_eq!(dossier.deadlines().unwrap().due_at, t(14, 15));
}

#[test]
fn a_transferred_dossier_is_forwarded_by_the_receiving_unit() {
    let dossier = given_when_then(
        &transferred_in().events,
        command(
            officer(DISTRICT),
            t(9, 0),
            CommandBody::Forward {
                department: text("Phòng Tư pháp"),
                step_due_at: None,
                note: None,
            },
        ),
        vec![recorded(
            officer(DISTRICT),
            t(9, 0),
            DossierChange::ForwardedToDepartment {
                unit: unit(DISTRICT),
                department: text("Phòng Tư pháp"),
                step_due_at: None,
                note: None,
            },
        )],
    );
    assert_eq!(dossier.step(), Step::AtDepartment);
    assert_eq!(dossier.department(), Some("Phòng Tư pháp"));
    assert_eq!(dossier.holders(), [unit(COMMUNE), unit(DISTRICT)]);
}

#[test]
fn handed_over_by_an_administrator_where_it_stood() {
    let dossier = given_when_then(
        &with_specialist().events,
        command(
            admin(PROVINCE),
            t(9, 0),
            CommandBody::HandOver {
                to_unit: unit(OTHER_COMMUNE),
                reason: text("Sáp nhập xã theo Nghị quyết"),
            },
        ),
        vec![recorded(
            admin(PROVINCE),
            t(9, 0),
            DossierChange::DossierHandedOver {
                from_unit: unit(COMMUNE),
                to_unit: unit(OTHER_COMMUNE),
                reason: text("Sáp nhập xã theo Nghị quyết"),
            },
        )],
    );
    // The work goes on where it stood, under the successor.
    assert_eq!(code_of(&dossier), Some(4));
    assert_eq!(dossier.step(), Step::WithSpecialist);
    assert_eq!(dossier.assignee(), Some("specialist"));
    assert_eq!(dossier.holder(), Some(&unit(OTHER_COMMUNE)));
    assert_eq!(dossier.holders(), [unit(COMMUNE), unit(OTHER_COMMUNE)]);
    // Handed over after acceptance: the commune that accepted it stays the
    // receiving unit.
    assert_eq!(dossier.receiving_unit(), Some(&unit(COMMUNE)));
}

#[test]
fn handed_over_before_acceptance_the_accepting_unit_becomes_the_receiving_unit() {
    // Submitted online to the commune 08:00; the commune merged into the
    // other commune, which takes the dossier over at 08:05.
    let given = submitted()
        .run(command(
            admin(PROVINCE),
            t(8, 5),
            CommandBody::HandOver {
                to_unit: unit(OTHER_COMMUNE),
                reason: text("Sáp nhập xã"),
            },
        ))
        .events;
    let before = replay(&given);
    assert_eq!(before.step(), Step::Submitted);
    assert_eq!(before.receiving_unit(), Some(&unit(COMMUNE)));
    assert_eq!(before.holder(), Some(&unit(OTHER_COMMUNE)));
    // Accepted 08:15 by the other commune's desk, with its code: due 14:15
    // as in the standard story (same calendar).
    let code = code_for(OTHER_COMMUNE, t(8, 15), 1);
    let dossier = given_when_then(
        &given,
        command(
            officer(OTHER_COMMUNE),
            t(8, 15),
            CommandBody::Accept { code: code.clone() },
        ),
        vec![recorded(
            officer(OTHER_COMMUNE),
            t(8, 15),
            DossierChange::DossierAccepted {
                code: code.clone(),
                unit: unit(OTHER_COMMUNE),
                counting_from: t(8, 15),
                due_at: t(14, 15),
            },
        )],
    );
    assert_eq!(code.to_string(), "000.02.20.H56-241105-0001");
    assert_eq!(dossier.code(), Some(&code));
    assert_eq!(dossier.receiving_unit(), Some(&unit(OTHER_COMMUNE)));
    assert_eq!(dossier.holder(), Some(&unit(OTHER_COMMUNE)));
    assert_eq!(dossier.holders(), [unit(COMMUNE), unit(OTHER_COMMUNE)]);
}

// ---------------------------------------------------------------------------
// Draft, approval, result
// ---------------------------------------------------------------------------

#[test]
fn draft_submitted_then_approved() {
    let draft = recorded(
        specialist(COMMUNE),
        t(9, 0),
        DossierChange::DraftSubmitted {
            summary: text("Đủ điều kiện đăng ký khai sinh"),
            document_ref: Some(text("DT-0001")),
        },
    );
    let given = with_specialist().events;
    let dossier = given_when_then(
        &given,
        command(
            specialist(COMMUNE),
            t(9, 0),
            CommandBody::SubmitDraft {
                summary: text("Đủ điều kiện đăng ký khai sinh"),
                document_ref: Some(text("DT-0001")),
            },
        ),
        vec![draft.clone()],
    );
    assert_eq!(code_of(&dossier), Some(4));
    assert_eq!(dossier.step(), Step::AwaitingApproval);

    let dossier = given_when_then(
        &[given, vec![draft]].concat(),
        command(
            leader(COMMUNE),
            t(9, 30),
            CommandBody::ApproveDraft {
                note: Some(text("Đồng ý")),
            },
        ),
        vec![recorded(
            leader(COMMUNE),
            t(9, 30),
            DossierChange::DraftApproved {
                note: Some(text("Đồng ý")),
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(4));
    assert_eq!(dossier.step(), Step::Approved);
}

#[test]
fn draft_sent_back_then_drafted_again() {
    let sent_back = recorded(
        leader(COMMUNE),
        t(9, 30),
        DossierChange::DraftSentBack {
            reason: text("Sai tên cha"),
        },
    );
    let given = awaiting_approval().events;
    let dossier = given_when_then(
        &given,
        command(
            leader(COMMUNE),
            t(9, 30),
            CommandBody::SendBackDraft {
                reason: text("Sai tên cha"),
            },
        ),
        vec![sent_back.clone()],
    );
    assert_eq!(dossier.step(), Step::WithSpecialist);
    assert_eq!(dossier.assignee(), Some("specialist"));

    let dossier = given_when_then(
        &[given, vec![sent_back]].concat(),
        command(
            specialist(COMMUNE),
            t(10, 0),
            CommandBody::SubmitDraft {
                summary: text("Đã sửa tên cha"),
                document_ref: None,
            },
        ),
        vec![recorded(
            specialist(COMMUNE),
            t(10, 0),
            DossierChange::DraftSubmitted {
                summary: text("Đã sửa tên cha"),
                document_ref: None,
            },
        )],
    );
    assert_eq!(dossier.step(), Step::AwaitingApproval);
}

#[test]
fn result_issued_finishes_the_dossier_with_status_9() {
    let body = || CommandBody::IssueResult {
        number: text("123/2024/KS"),
        signer: text("Phó Chủ tịch UBND xã"),
        signed_on: date(2024, 11, 5),
        document_ref: text("GKS-123"),
    };
    let change = || DossierChange::ResultIssued {
        number: text("123/2024/KS"),
        signer: text("Phó Chủ tịch UBND xã"),
        signed_on: date(2024, 11, 5),
        document_ref: text("GKS-123"),
    };
    // By the leader who signed, or recorded by the specialist.
    for by in [leader(COMMUNE), specialist(COMMUNE)] {
        let dossier = given_when_then(
            &approved().events,
            command(by.clone(), t(10, 0), body()),
            vec![recorded(by, t(10, 0), change())],
        );
        assert_eq!(code_of(&dossier), Some(9));
        assert_eq!(dossier.step(), Step::ResultIssued);
        assert_eq!(dossier.finished_at(), Some(t(10, 0)));
        assert_eq!(dossier.closed_at(), None);
    }
}

#[test]
fn result_returned_with_status_10() {
    let dossier = given_when_then(
        &result_issued().events,
        command(
            officer(COMMUNE),
            t(10, 30),
            CommandBody::ReturnResult {
                method: ReturnMethod::Counter,
                recipient: text("Nguyễn Văn An"),
            },
        ),
        vec![recorded(
            officer(COMMUNE),
            t(10, 30),
            DossierChange::ResultReturned {
                method: ReturnMethod::Counter,
                recipient: text("Nguyễn Văn An"),
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(10));
    assert_eq!(dossier.step(), Step::ResultReturned);
    // The finish time stays the issue time.
    assert_eq!(dossier.finished_at(), Some(t(10, 0)));
    assert_eq!(dossier.closed_at(), Some(t(10, 30)));
}

#[test]
fn result_returned_online_through_the_portal() {
    let dossier = given_when_then(
        &result_issued().events,
        command(
            portal(),
            t(10, 30),
            CommandBody::ReturnResult {
                method: ReturnMethod::Online,
                recipient: text("Nguyễn Văn An"),
            },
        ),
        vec![recorded(
            portal(),
            t(10, 30),
            DossierChange::ResultReturned {
                method: ReturnMethod::Online,
                recipient: text("Nguyễn Văn An"),
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(10));
}

// ---------------------------------------------------------------------------
// Apology and new appointment
// ---------------------------------------------------------------------------

/// BUILDING accepted at the district on Tue 5 Nov 2024 08:00. Due: Tue
/// 08:00–17:00 = 420 (6,780 left = 14 days + 60 min); working days after:
/// Wed 6–Fri 8 (3), Mon 11–Fri 15 (8), Mon 18–Fri 22 (13), Mon 25 (14);
/// Tue 26 Nov 07:00 + 60 → due Tue 26 Nov 2024 08:00.
fn building_due() -> DateTime<Utc> {
    vn(2024, 11, 26, 8, 0)
}

fn building_in_progress() -> Story {
    building_with_specialist(t(8, 0))
}

fn apology(at: DateTime<Utc>, new_appointment: DateTime<Utc>) -> DossierCommand {
    command(
        head(DISTRICT),
        at,
        CommandBody::IssueApology {
            new_appointment,
            reason: text("Chờ ý kiến Phòng Tài nguyên"),
        },
    )
}

#[test]
fn apology_sets_a_new_appointment_and_keeps_the_due_date() {
    let story = building_in_progress();
    assert_eq!(story.dossier.deadlines().unwrap().due_at, building_due());
    // Issued Fri 22 Nov 16:00: notice = Fri 16:00–17:00 = 60 + Mon 25 = 480
    // + Tue 26 07:00–08:00 = 60 → 600 min ≥ 480 (one working day).
    let at = vn(2024, 11, 22, 16, 0);
    let new_appointment = vn(2024, 11, 29, 17, 0);
    let expected = vec![recorded(
        head(DISTRICT),
        at,
        DossierChange::ApologyIssued {
            previous_appointment_at: building_due(),
            new_appointment_at: new_appointment,
            reason: text("Chờ ý kiến Phòng Tài nguyên"),
        },
    )];
    let dossier = given_when_then(
        &story.events,
        apology(at, new_appointment),
        expected.clone(),
    );
    assert_eq!(code_of(&dossier), Some(4));
    assert_eq!(dossier.step(), Step::WithSpecialist);
    let deadlines = dossier.deadlines().unwrap();
    assert_eq!(deadlines.appointment_at, new_appointment);
    // The legal and the original due date stay for timeliness.
    assert_eq!(deadlines.due_at, building_due());
    assert_eq!(deadlines.original_due_at, building_due());

    // So a result issued Thu 28 Nov, before the new appointment, is late.
    let story = story.run(apology(at, new_appointment));
    let thursday = vn(2024, 11, 28, 9, 0);
    let story = [
        (
            specialist(DISTRICT),
            CommandBody::SubmitDraft {
                summary: text("Đủ điều kiện cấp phép"),
                document_ref: None,
            },
        ),
        (leader(DISTRICT), CommandBody::ApproveDraft { note: None }),
        (
            leader(DISTRICT),
            CommandBody::IssueResult {
                number: text("45/GPXD"),
                signer: text("Chủ tịch UBND huyện"),
                signed_on: date(2024, 11, 28),
                document_ref: text("GPXD-45"),
            },
        ),
    ]
    .into_iter()
    .fold(story, |story, (by, body)| {
        story.run(command(by, thursday, body))
    });
    assert_eq!(both(&story.dossier, thursday), (LATE, LATE));
}

#[test]
fn apology_exactly_one_working_day_before_the_due_date_is_accepted() {
    // Due Tue 26 Nov 08:00. Mon 25 Nov 08:00: 08:00–11:30 = 210 +
    // 13:30–17:00 = 210 + Tue 26 07:00–08:00 = 60 → exactly 480 min.
    let at = vn(2024, 11, 25, 8, 0);
    given_when_then(
        &building_in_progress().events,
        apology(at, vn(2024, 11, 27, 17, 0)),
        vec![recorded(
            head(DISTRICT),
            at,
            DossierChange::ApologyIssued {
                previous_appointment_at: building_due(),
                new_appointment_at: vn(2024, 11, 27, 17, 0),
                reason: text("Chờ ý kiến Phòng Tài nguyên"),
            },
        )],
    );
}

/// The rejection of an apology given too late: less than one working day
/// (480 working minutes) before the due date Tue 26 Nov 2024 08:00 (01:00 UTC).
fn too_late_for_an_apology() -> DossierError {
    DossierError::RuleViolated {
        action: Action::IssueApology,
        rule: text(
            "an apology must be issued at least one working day before the due date \
             2024-11-26 01:00:00 UTC",
        ),
    }
}

#[test]
fn apology_less_than_one_working_day_before_the_due_date_is_rejected() {
    // Due Tue 26 Nov 08:00. Mon 25 Nov 08:01: 209 + 210 + 60 = 479 min <
    // 480; Tue 26 Nov 07:30: 30 min; Tue 26 Nov 10:00 is already past the
    // due date (0 min).
    for at in [
        vn(2024, 11, 25, 8, 1),
        vn(2024, 11, 26, 7, 30),
        vn(2024, 11, 26, 10, 0),
    ] {
        assert_eq!(
            rejection(
                &building_in_progress().events,
                apology(at, vn(2024, 11, 29, 17, 0)),
            ),
            too_late_for_an_apology(),
            "{at}"
        );
    }
}

#[test]
fn a_second_apology_is_measured_against_the_due_date_not_the_new_appointment() {
    // Due Tue 26 Nov 08:00. First apology Fri 22 Nov 16:00 → appointment
    // Fri 29 Nov 17:00.
    let story =
        building_in_progress().run(apology(vn(2024, 11, 22, 16, 0), vn(2024, 11, 29, 17, 0)));
    // Second apology Fri 22 Nov 16:30: to the due date = Fri 16:30–17:00 = 30
    // + Mon 25 = 480 + Tue 26 07:00–08:00 = 60 → 570 min ≥ 480: accepted,
    // replacing the 29 Nov appointment.
    let at = vn(2024, 11, 22, 16, 30);
    let dossier = given_when_then(
        &story.events,
        apology(at, vn(2024, 12, 6, 17, 0)),
        vec![recorded(
            head(DISTRICT),
            at,
            DossierChange::ApologyIssued {
                previous_appointment_at: vn(2024, 11, 29, 17, 0),
                new_appointment_at: vn(2024, 12, 6, 17, 0),
                reason: text("Chờ ý kiến Phòng Tài nguyên"),
            },
        )],
    );
    assert_eq!(
        dossier.deadlines().unwrap().appointment_at,
        vn(2024, 12, 6, 17, 0)
    );
    assert_eq!(dossier.deadlines().unwrap().due_at, building_due());
    // Mon 25 Nov 08:01: 479 min to the due date < 480, although the
    // appointment (Fri 29 Nov 17:00) is four working days away.
    assert_eq!(
        rejection(
            &story.events,
            apology(vn(2024, 11, 25, 8, 1), vn(2024, 12, 6, 17, 0)),
        ),
        too_late_for_an_apology()
    );
}

#[test]
fn a_second_apology_after_the_due_date_has_passed_is_rejected() {
    // Due Tue 26 Nov 08:00. First apology Fri 22 Nov 16:00 → Fri 29 Nov 17:00.
    let story =
        building_in_progress().run(apology(vn(2024, 11, 22, 16, 0), vn(2024, 11, 29, 17, 0)));
    // Wed 27 Nov 09:00, a day after the due date: 0 min of notice (1,320 min
    // to the appointment would not matter).
    assert_eq!(
        rejection(
            &story.events,
            apology(vn(2024, 11, 27, 9, 0), vn(2024, 12, 6, 17, 0)),
        ),
        too_late_for_an_apology()
    );
}

#[test]
fn apology_notice_counts_to_the_due_date_as_a_pause_moved_it() {
    // BUILDING due Tue 26 Nov 08:00. Fee requested Fri 22 Nov 09:00, paid
    // Mon 25 Nov 09:00: waited Fri 09:00–11:30 = 150 + 13:30–17:00 = 210 +
    // Mon 07:00–09:00 = 120 → 480 min. Payments shift: Tue 26 08:00 + 480:
    // 08:00–11:30 = 210, 13:30–17:00 = 210 (60 left), Wed 27 07:00 + 60 →
    // due (and appointment) Wed 27 Nov 08:00.
    let story = building_in_progress()
        .run(command(
            specialist(DISTRICT),
            vn(2024, 11, 22, 9, 0),
            CommandBody::RequestPayment {
                items: vec![PaymentItem {
                    name: text("Lệ phí cấp giấy phép xây dựng"),
                    amount_vnd: 75_000,
                }],
            },
        ))
        .run(command(
            officer(DISTRICT),
            vn(2024, 11, 25, 9, 0),
            CommandBody::ConfirmPayment {
                amount_vnd: 75_000,
                receipt_number: text("BL-0075"),
                method: PaymentMethod::Cash,
            },
        ));
    let deadlines = story.dossier.deadlines().unwrap();
    assert_eq!(deadlines.due_at, vn(2024, 11, 27, 8, 0));
    assert_eq!(deadlines.appointment_at, vn(2024, 11, 27, 8, 0));
    // Apology Mon 25 Nov 09:00: to the moved due date = Mon 09:00–11:30 = 150
    // + 210 + Tue 480 + Wed 07:00–08:00 = 60 → 900 min ≥ 480 (to the
    // original Tue 26 08:00 it would be 360 + 60 = 420 < 480).
    let at = vn(2024, 11, 25, 9, 0);
    given_when_then(
        &story.events,
        apology(at, vn(2024, 11, 29, 17, 0)),
        vec![recorded(
            head(DISTRICT),
            at,
            DossierChange::ApologyIssued {
                previous_appointment_at: vn(2024, 11, 27, 8, 0),
                new_appointment_at: vn(2024, 11, 29, 17, 0),
                reason: text("Chờ ý kiến Phòng Tài nguyên"),
            },
        )],
    );
}

#[test]
fn apology_must_name_a_later_appointment() {
    let at = vn(2024, 11, 22, 16, 0);
    for new_appointment in [building_due(), vn(2024, 11, 25, 17, 0)] {
        let error = rejection(&building_in_progress().events, apology(at, new_appointment));
        assert!(
            matches!(&error, DossierError::InvalidField { field, .. } if field == "new_appointment"),
            "{error:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Withdraw, stop
// ---------------------------------------------------------------------------

#[test]
fn withdrawn_before_acceptance_with_status_7() {
    let dossier = given_when_then(
        &submitted().events,
        command(
            portal(),
            t(8, 30),
            CommandBody::Withdraw {
                reason: text("Nộp nhầm thủ tục"),
            },
        ),
        vec![recorded(
            portal(),
            t(8, 30),
            DossierChange::DossierWithdrawn {
                reason: text("Nộp nhầm thủ tục"),
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(7));
    assert_eq!(dossier.step(), Step::Withdrawn);
    assert_eq!(dossier.closed_at(), Some(t(8, 30)));
    assert_eq!(dossier.timeliness(TimelinessPolicy::ByDate, t(17, 0)), None);
}

#[test]
fn withdrawn_after_acceptance_with_status_7() {
    let dossier = given_when_then(
        &with_specialist().events,
        command(
            officer(COMMUNE),
            t(9, 0),
            CommandBody::Withdraw {
                reason: text("Công dân xin rút hồ sơ"),
            },
        ),
        vec![recorded(
            officer(COMMUNE),
            t(9, 0),
            DossierChange::DossierWithdrawn {
                reason: text("Công dân xin rút hồ sơ"),
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(7));
    assert_eq!(dossier.closed_at(), Some(t(9, 0)));
    assert_eq!(dossier.finished_at(), None);
    assert_eq!(dossier.timeliness(TimelinessPolicy::ByDate, t(17, 0)), None);
}

#[test]
fn withdrawn_while_waiting_for_a_supplement_ends_the_pause() {
    let dossier = given_when_then(
        &awaiting_supplement().events,
        command(
            portal(),
            t(10, 0),
            CommandBody::Withdraw {
                reason: text("Không bổ sung được"),
            },
        ),
        vec![recorded(
            portal(),
            t(10, 0),
            DossierChange::DossierWithdrawn {
                reason: text("Không bổ sung được"),
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(7));
    assert_eq!(dossier.pause(), None);
}

#[test]
fn processing_stopped_by_the_leader_with_status_8() {
    let dossier = given_when_then(
        &with_specialist().events,
        command(
            leader(COMMUNE),
            t(9, 0),
            CommandBody::StopProcessing {
                reason: text("Hồ sơ giả mạo giấy tờ"),
            },
        ),
        vec![recorded(
            leader(COMMUNE),
            t(9, 0),
            DossierChange::ProcessingStopped {
                reason: text("Hồ sơ giả mạo giấy tờ"),
            },
        )],
    );
    assert_eq!(code_of(&dossier), Some(8));
    assert_eq!(dossier.step(), Step::Stopped);
    assert_eq!(dossier.closed_at(), Some(t(9, 0)));
    assert_eq!(dossier.timeliness(TimelinessPolicy::ByDate, t(17, 0)), None);
}

// ---------------------------------------------------------------------------
// Administrative corrections
// ---------------------------------------------------------------------------

#[test]
fn due_date_corrected_by_an_administrator() {
    let corrected = vn(2024, 11, 6, 17, 0);
    let dossier = given_when_then(
        &with_specialist().events,
        command(
            admin(COMMUNE),
            t(9, 0),
            CommandBody::CorrectDueDate {
                due_at: corrected,
                reason: text("Nhập sai thời hạn"),
            },
        ),
        vec![recorded(
            admin(COMMUNE),
            t(9, 0),
            DossierChange::DueDateCorrected {
                previous_due_at: t(14, 15),
                due_at: corrected,
                previous_appointment_at: t(14, 15),
                appointment_at: corrected,
                reason: text("Nhập sai thời hạn"),
            },
        )],
    );
    let deadlines = dossier.deadlines().unwrap();
    assert_eq!(deadlines.due_at, corrected);
    assert_eq!(deadlines.appointment_at, corrected);
    assert_eq!(deadlines.original_due_at, t(14, 15));
    assert_eq!(dossier.step(), Step::WithSpecialist);
    // Tue 16:00 is now within time, even by timestamp.
    assert_eq!(
        dossier.timeliness(TimelinessPolicy::ByTimestamp, t(16, 0)),
        WITHIN
    );
}

#[test]
fn due_date_correction_after_an_apology_also_resets_the_appointment() {
    // Apology at Fri 22 Nov 16:00 moved the appointment to Fri 29 Nov 17:00;
    // the administrator then sets the due date (and appointment) to Wed 27 Nov.
    let story =
        building_in_progress().run(apology(vn(2024, 11, 22, 16, 0), vn(2024, 11, 29, 17, 0)));
    let at = vn(2024, 11, 22, 16, 30);
    let corrected = vn(2024, 11, 27, 17, 0);
    let dossier = given_when_then(
        &story.events,
        command(
            admin(DISTRICT),
            at,
            CommandBody::CorrectDueDate {
                due_at: corrected,
                reason: text("Gia hạn theo văn bản 12/UBND"),
            },
        ),
        vec![recorded(
            admin(DISTRICT),
            at,
            DossierChange::DueDateCorrected {
                previous_due_at: building_due(),
                due_at: corrected,
                previous_appointment_at: vn(2024, 11, 29, 17, 0),
                appointment_at: corrected,
                reason: text("Gia hạn theo văn bản 12/UBND"),
            },
        )],
    );
    assert_eq!(dossier.deadlines().unwrap().appointment_at, corrected);
    assert_eq!(dossier.deadlines().unwrap().original_due_at, building_due());
}

#[test]
fn soft_deleted_then_every_other_command_is_refused_then_restored() {
    let given = with_specialist().events;
    let deleted = recorded(
        admin(COMMUNE),
        t(9, 0),
        DossierChange::DossierDeleted {
            reason: text("Tạo trùng"),
        },
    );
    let dossier = given_when_then(
        &given,
        command(
            admin(COMMUNE),
            t(9, 0),
            CommandBody::SoftDelete {
                reason: text("Tạo trùng"),
            },
        ),
        vec![deleted.clone()],
    );
    assert!(dossier.is_deleted());
    // Deletion is a flag: the lifecycle position is kept.
    assert_eq!(dossier.step(), Step::WithSpecialist);
    let given = [given, vec![deleted]].concat();

    // Every other kind of command, even by a principal holding every role,
    // is refused because the dossier is deleted.
    let mut refused = HashSet::new();
    for body in one_command_of_each_kind(COMMUNE, t(9, 30)) {
        let action = body.action();
        if action == Action::RestoreDeleted {
            continue;
        }
        let error = rejection(
            &given,
            command(all_roles("specialist", COMMUNE), t(9, 30), body),
        );
        assert_eq!(error, DossierError::Deleted { action });
        refused.insert(action);
    }
    let others: HashSet<Action> = Action::ALL
        .iter()
        .copied()
        .filter(|action| *action != Action::RestoreDeleted)
        .collect();
    assert_eq!(refused, others);

    // Restored by an administrator of the province.
    let dossier = given_when_then(
        &given,
        command(
            admin(PROVINCE),
            t(9, 30),
            CommandBody::RestoreDeleted {
                reason: text("Xóa nhầm"),
            },
        ),
        vec![recorded(
            admin(PROVINCE),
            t(9, 30),
            DossierChange::DossierRestored {
                reason: text("Xóa nhầm"),
            },
        )],
    );
    assert!(!dossier.is_deleted());
    assert_eq!(dossier.step(), Step::WithSpecialist);
    assert_eq!(code_of(&dossier), Some(4));
}

#[test]
fn a_restored_dossier_is_worked_on_again() {
    let story = with_specialist()
        .run(command(
            admin(COMMUNE),
            t(9, 0),
            CommandBody::SoftDelete {
                reason: text("Tạo trùng"),
            },
        ))
        .run(command(
            admin(COMMUNE),
            t(9, 10),
            CommandBody::RestoreDeleted {
                reason: text("Xóa nhầm"),
            },
        ));
    given_when_then(
        &story.events,
        command(
            specialist(COMMUNE),
            t(9, 20),
            CommandBody::SubmitDraft {
                summary: text("Đủ điều kiện"),
                document_ref: None,
            },
        ),
        vec![recorded(
            specialist(COMMUNE),
            t(9, 20),
            DossierChange::DraftSubmitted {
                summary: text("Đủ điều kiện"),
                document_ref: None,
            },
        )],
    );
}

// ---------------------------------------------------------------------------
// Timeliness
// ---------------------------------------------------------------------------

#[test]
fn finished_on_an_earlier_day_than_the_due_date_is_early() {
    // Submitted 15:50, accepted 16:00 Tue: 16:00–17:00 = 60, the remaining
    // 180 from Wed 07:00 → due Wed 6 Nov 10:00. Result issued Tue 16:45.
    let story = Story::new()
        .run(command(
            portal(),
            t(15, 50),
            submit(Channel::Online, birth_submission(Channel::Online), None),
        ))
        .run(command(
            officer(COMMUNE),
            t(16, 0),
            CommandBody::Accept {
                code: code_for(COMMUNE, t(16, 0), 1),
            },
        ));
    assert_eq!(
        story.dossier.deadlines().unwrap().due_at,
        vn(2024, 11, 6, 10, 0)
    );
    let story = issued_at(approved_at(story, t(16, 30)), t(16, 45));
    assert_eq!(both(&story.dossier, t(16, 45)), (EARLY, EARLY));
    // The report's instant does not matter for a finished dossier.
    assert_eq!(both(&story.dossier, vn(2025, 1, 1, 0, 0)), (EARLY, EARLY));
}

#[test]
fn finished_on_the_due_date_depends_on_the_policy() {
    // Standard story: due Tue 5 Nov 14:15.
    // 10:00 — same day, before the due instant: on time by date; by
    // timestamp "a finish on an earlier day is early, otherwise on time".
    assert_eq!(both(&result_issued().dossier, t(17, 0)), (ON_TIME, ON_TIME));
    // 14:15 — exactly the due instant: on time either way.
    let story = issued_at(approved(), t(14, 15));
    assert_eq!(both(&story.dossier, t(17, 0)), (ON_TIME, ON_TIME));
    // 16:00 — the due day but after the due instant: on time by date, late
    // by timestamp.
    let story = issued_at(approved(), t(16, 0));
    assert_eq!(both(&story.dossier, t(17, 0)), (ON_TIME, LATE));
}

#[test]
fn finished_after_the_due_date_is_late() {
    // Due Tue 5 Nov 14:15; result issued Wed 6 Nov 08:00.
    let story = issued_at(approved(), vn(2024, 11, 6, 8, 0));
    assert_eq!(both(&story.dossier, vn(2024, 11, 6, 8, 0)), (LATE, LATE));
}

#[test]
fn a_returned_dossier_keeps_the_timeliness_of_its_issue() {
    // Issued 10:00 (on time), returned Fri 8 Nov: the return time is not the finish.
    let story = result_issued().run(command(
        officer(COMMUNE),
        vn(2024, 11, 8, 9, 0),
        CommandBody::ReturnResult {
            method: ReturnMethod::Post,
            recipient: text("Nguyễn Văn An"),
        },
    ));
    assert_eq!(story.dossier.status(), Some(DossierStatus::ResultReturned));
    assert_eq!(
        both(&story.dossier, vn(2024, 11, 8, 9, 0)),
        (ON_TIME, ON_TIME)
    );
}

#[test]
fn an_open_dossier_is_within_time_until_its_due_date_then_overdue() {
    // Standard story, with the specialist; due Tue 5 Nov 14:15.
    let dossier = with_specialist().dossier;
    assert_eq!(both(&dossier, t(9, 0)), (WITHIN, WITHIN));
    assert_eq!(both(&dossier, t(14, 15)), (WITHIN, WITHIN));
    // 14:16 the same day: overdue by timestamp only.
    assert_eq!(both(&dossier, t(14, 16)), (WITHIN, OVERDUE));
    // Wed 6 Nov 07:00: overdue either way.
    assert_eq!(both(&dossier, vn(2024, 11, 6, 7, 0)), (OVERDUE, OVERDUE));
}

#[test]
fn waiting_for_the_applicant_counts_as_within_time_even_past_the_due_date() {
    // Due Tue 5 Nov 14:15; on Fri 8 Nov the dossier still waits.
    let friday = vn(2024, 11, 8, 10, 0);
    assert_eq!(
        both(&awaiting_supplement().dossier, friday),
        (WITHIN, WITHIN)
    );
    assert_eq!(both(&awaiting_payment().dossier, friday), (WITHIN, WITHIN));

    // The supplement arrives Mon 11 Nov 10:00. Waited since Tue 09:00: Tue
    // 360 + Wed, Thu, Fri 3 × 480 + Mon 07:00–10:00 180 = 1,980 min. Due
    // 14:15 Tue + 1,980: Tue 165 (1,815 left), Wed, Thu, Fri (375 left), Mon
    // 07:00–11:30 = 270 (105 left), 13:30 + 105 → Mon 11 Nov 15:15.
    let monday = |h, m| vn(2024, 11, 11, h, m);
    let story = awaiting_supplement().run(command(
        portal(),
        monday(10, 0),
        CommandBody::ReceiveSupplement {
            documents: vec![document("UQ")],
        },
    ));
    assert_eq!(story.dossier.paused(), WorkingMinutes(1_980));
    assert_eq!(story.dossier.deadlines().unwrap().due_at, monday(15, 15));
    assert_eq!(both(&story.dossier, monday(15, 15)), (WITHIN, WITHIN));
    assert_eq!(both(&story.dossier, monday(16, 0)), (WITHIN, OVERDUE));
    assert_eq!(
        both(&story.dossier, vn(2024, 11, 12, 7, 0)),
        (OVERDUE, OVERDUE)
    );
}

#[test]
fn no_timeliness_before_acceptance_or_when_closed_without_a_result() {
    let at = vn(2024, 11, 8, 10, 0);
    for story in [
        submitted(),
        awaiting_completion(),
        refused(),
        withdrawn(),
        stopped(),
    ] {
        assert_eq!(
            both(&story.dossier, at),
            (None, None),
            "{:?}",
            story.dossier.step()
        );
    }
    // A transferred dossier is still in progress.
    assert_eq!(both(&transferred_in().dossier, at), (OVERDUE, OVERDUE));
}

#[test]
fn a_deleted_dossier_reports_no_timeliness_until_it_is_restored() {
    let delete = |at| {
        command(
            admin(COMMUNE),
            at,
            CommandBody::SoftDelete {
                reason: text("Tạo trùng"),
            },
        )
    };
    let restore = |at| {
        command(
            admin(COMMUNE),
            at,
            CommandBody::RestoreDeleted {
                reason: text("Xóa nhầm"),
            },
        )
    };
    // In progress (due Tue 5 Nov 14:15): within time at 09:00, overdue on
    // Wed 6 Nov 07:00; deleted at 09:00, neither.
    let wednesday = vn(2024, 11, 6, 7, 0);
    let story = with_specialist();
    assert_eq!(both(&story.dossier, t(9, 0)), (WITHIN, WITHIN));
    assert_eq!(both(&story.dossier, wednesday), (OVERDUE, OVERDUE));
    let story = story.run(delete(t(9, 0)));
    assert!(story.dossier.is_deleted());
    assert_eq!(both(&story.dossier, t(9, 0)), (None, None));
    assert_eq!(both(&story.dossier, wednesday), (None, None));
    // Restored at 09:10: counted again, deadlines unchanged.
    let story = story.run(restore(t(9, 10)));
    assert_eq!(both(&story.dossier, t(9, 10)), (WITHIN, WITHIN));
    assert_eq!(both(&story.dossier, wednesday), (OVERDUE, OVERDUE));

    // Finished (issued 10:00, on time) then deleted at 10:15: no timeliness.
    let story = result_issued();
    assert_eq!(both(&story.dossier, t(17, 0)), (ON_TIME, ON_TIME));
    let story = story.run(delete(t(10, 15)));
    assert_eq!(story.dossier.finished_at(), Some(t(10, 0)));
    assert_eq!(both(&story.dossier, t(17, 0)), (None, None));
    let story = story.run(restore(t(10, 30)));
    assert_eq!(both(&story.dossier, t(17, 0)), (ON_TIME, ON_TIME));
}

// ---------------------------------------------------------------------------
// The whole story
// ---------------------------------------------------------------------------

#[test]
fn every_step_of_the_standard_story_reports_its_status_code() {
    // Formerly the smoke test: every step is reachable and reports its code.
    let expected: [(Step, Option<u8>); 16] = [
        (Step::NotSubmitted, None),
        (Step::Submitted, Some(1)),
        (Step::AwaitingCompletion, Some(1)),
        (Step::Refused, Some(3)),
        (Step::Accepted, Some(2)),
        (Step::TransferredIn, Some(4)),
        (Step::AtDepartment, Some(4)),
        (Step::WithSpecialist, Some(4)),
        (Step::AwaitingApproval, Some(4)),
        (Step::Approved, Some(4)),
        (Step::AwaitingSupplement, Some(5)),
        (Step::AwaitingPayment, Some(6)),
        (Step::Withdrawn, Some(7)),
        (Step::Stopped, Some(8)),
        (Step::ResultIssued, Some(9)),
        (Step::ResultReturned, Some(10)),
    ];
    assert_eq!(expected.map(|(step, _)| step), ALL_STEPS);
    for (step, code) in expected {
        let story = story_at(step);
        assert_eq!(story.dossier.step(), step);
        assert_eq!(code_of(&story.dossier), code, "{step:?}");
        // Replaying the story's events rebuilds the same aggregate.
        assert_eq!(replay(&story.events), story.dossier, "{step:?}");
    }
}

// ---------------------------------------------------------------------------
// Deliberate choices where the reference is silent
// ---------------------------------------------------------------------------

/// With the RESTART policy processing starts afresh: a new receipt gives the
/// new due date as the appointment, replacing what an earlier apology
/// promised (here even an earlier date than that promise).
#[test]
fn a_restart_makes_the_new_due_date_the_appointment() {
    // BUILDING accepted Tue 5 Nov 08:00, due Tue 26 Nov 08:00. Apology Fri
    // 8 Nov 09:00 → appointment Fri 20 Dec 17:00; supplement asked 10:00.
    let story = building_in_progress()
        .run(apology(vn(2024, 11, 8, 9, 0), vn(2024, 12, 20, 17, 0)))
        .run(command(
            specialist(DISTRICT),
            vn(2024, 11, 8, 10, 0),
            CommandBody::RequestSupplement {
                reason: text("Thiếu bản vẽ"),
                missing_items: vec![text("Bản vẽ mặt bằng")],
                applicant_deadline: vn(2024, 11, 15, 17, 0),
            },
        ));
    // Received Mon 11 Nov 10:00. Waited: Fri 10:00–17:00 = 300 + Mon
    // 07:00–10:00 = 180 → 480. Restart: 7,200 from Mon 10:00: Mon 300 (6,900
    // left = 14 days + 180); Tue 12–Fri 15 (4), Mon 18–Fri 22 (9), Mon 25–Fri
    // 29 (14); Mon 2 Dec 07:00 + 180 → 10:00 — before the promised 20 Dec.
    let at = vn(2024, 11, 11, 10, 0);
    let new_due = vn(2024, 12, 2, 10, 0);
    let dossier = given_when_then(
        &story.events,
        command(
            portal(),
            at,
            CommandBody::ReceiveSupplement {
                documents: vec![document("BV")],
            },
        ),
        vec![recorded(
            portal(),
            at,
            DossierChange::SupplementReceived {
                documents: vec![document("BV")],
                clock: ClockAdjustment {
                    waited: WorkingMinutes(480),
                    policy: SupplementClock::Restart,
                    previous_due_at: building_due(),
                    due_at: new_due,
                    previous_appointment_at: vn(2024, 12, 20, 17, 0),
                    appointment_at: new_due,
                },
            },
        )],
    );
    assert_eq!(dossier.deadlines().unwrap().appointment_at, new_due);
}

// ---------------------------------------------------------------------------
// Texts are recorded as they were validated
// ---------------------------------------------------------------------------

/// Every text is recorded trimmed, as validated: the top-level ones
/// (reasons, notes, department, summary...) and those nested in lists and
/// structs (applicant, documents, missing items, payment items). Formerly
/// the nested ones were recorded as sent, so " 002090001234 " passed the
/// 12-digit check and was stored with its spaces. (Written when that was a
/// suspected bug: rejecting such values would pass it too; the exact events
/// are pinned by `nested_texts_are_recorded_trimmed`.)
#[test]
fn texts_are_recorded_as_they_were_validated() {
    let mut problems = Vec::new();
    let mut check = |what: &str, recorded: Option<String>, trimmed: &str| {
        if let Some(recorded) = recorded
            && recorded != trimmed
        {
            problems.push(format!(
                "{what}: recorded {recorded:?}, validated {trimmed:?}"
            ));
        }
    };

    let mut padded = birth_submission(Channel::Online);
    padded.applicant.name = text("  Nguyễn Văn An ");
    padded.applicant.identity_number = text(" 002090001234 ");
    padded.documents[0].name = text(" Tờ khai ");
    let submitted = Story::new()
        .try_run(command(
            portal(),
            t(8, 0),
            submit(Channel::Online, padded, None),
        ))
        .ok()
        .and_then(|events| events.into_iter().next());
    if let Some(DossierEvent {
        change:
            DossierChange::DossierSubmitted {
                applicant,
                documents,
                ..
            },
        ..
    }) = submitted
    {
        check("applicant.name", Some(applicant.name), "Nguyễn Văn An");
        check(
            "applicant.identity_number",
            Some(applicant.identity_number),
            "002090001234",
        );
        check(
            "documents[0].name",
            Some(documents[0].name.clone()),
            "Tờ khai",
        );
    }

    let completion = submitted_at(t(8, 0)).try_run(command(
        officer(COMMUNE),
        t(8, 10),
        CommandBody::RequestCompletion {
            missing: vec![text(" Giấy chứng sinh ")],
            reason: text("Thiếu"),
        },
    ));
    if let Ok(events) = completion
        && let DossierChange::CompletionRequested { missing, .. } = &events[0].change
    {
        check("missing[0]", Some(missing[0].clone()), "Giấy chứng sinh");
    }

    let supplement = with_specialist().try_run(command(
        specialist(COMMUNE),
        t(9, 0),
        CommandBody::RequestSupplement {
            reason: text("Thiếu"),
            missing_items: vec![text(" Văn bản ủy quyền ")],
            applicant_deadline: vn(2024, 11, 12, 17, 0),
        },
    ));
    if let Ok(events) = supplement
        && let DossierChange::SupplementRequested { missing_items, .. } = &events[0].change
    {
        check(
            "missing_items[0]",
            Some(missing_items[0].clone()),
            "Văn bản ủy quyền",
        );
    }

    let payment = with_specialist().try_run(command(
        specialist(COMMUNE),
        t(9, 0),
        CommandBody::RequestPayment {
            items: vec![PaymentItem {
                name: text(" Lệ phí "),
                amount_vnd: 8_000,
            }],
        },
    ));
    if let Ok(events) = payment
        && let DossierChange::PaymentRequested { items, .. } = &events[0].change
    {
        check("items[0].name", Some(items[0].name.clone()), "Lệ phí");
    }

    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn nested_texts_are_recorded_trimmed() {
    // The submission: every applicant text, the component codes and the
    // document names padded with spaces; the component " GCS " is the
    // procedure's GCS once trimmed, so the file is complete.
    let mut padded = birth_submission(Channel::Online);
    padded.applicant.name = text("  Nguyễn Văn An ");
    padded.applicant.identity_number = text(" 002090001234 ");
    padded.applicant.address = Some(text(" Thôn Làng Mới, xã Đạo Đức\t"));
    padded.applicant.phone = Some(text(" 0912345678 "));
    padded.applicant.email = Some(text(" an.nguyen@example.vn "));
    padded.documents = vec![
        SubmittedDocument {
            name: text(" Thành phần TK "),
            ..document(" TK")
        },
        SubmittedDocument {
            name: text("Thành phần GCS\n"),
            ..document(" GCS ")
        },
    ];
    let submitted = recorded(
        portal(),
        t(8, 0),
        birth_submitted(Channel::Online, vec![document("TK"), document("GCS")]),
    );
    let dossier = given_when_then(
        &[],
        command(portal(), t(8, 0), submit(Channel::Online, padded, None)),
        vec![submitted.clone()],
    );
    assert_eq!(dossier.applicant(), Some(&applicant()));
    assert_eq!(dossier.documents(), [document("TK"), document("GCS")]);
    // The trimmed components count at acceptance (08:15, due 14:15).
    let code = code_for(COMMUNE, t(8, 15), 1);
    given_when_then(
        std::slice::from_ref(&submitted),
        command(
            officer(COMMUNE),
            t(8, 15),
            CommandBody::Accept { code: code.clone() },
        ),
        vec![recorded(
            officer(COMMUNE),
            t(8, 15),
            DossierChange::DossierAccepted {
                code,
                unit: unit(COMMUNE),
                counting_from: t(8, 15),
                due_at: t(14, 15),
            },
        )],
    );

    // Completion requested at 08:10, then provided at 08:40.
    let requested = recorded(
        officer(COMMUNE),
        t(8, 10),
        DossierChange::CompletionRequested {
            missing: vec![text("Văn bản ủy quyền"), text("Giấy chứng sinh")],
            reason: text("Thiếu"),
        },
    );
    given_when_then(
        std::slice::from_ref(&submitted),
        command(
            officer(COMMUNE),
            t(8, 10),
            CommandBody::RequestCompletion {
                missing: vec![text(" Văn bản ủy quyền"), text("Giấy chứng sinh  ")],
                reason: text(" Thiếu "),
            },
        ),
        vec![requested.clone()],
    );
    let dossier = given_when_then(
        &[submitted, requested],
        command(
            portal(),
            t(8, 40),
            CommandBody::ProvideCompletion {
                documents: vec![SubmittedDocument {
                    name: text("  Thành phần UQ"),
                    ..document("UQ ")
                }],
            },
        ),
        vec![recorded(
            portal(),
            t(8, 40),
            DossierChange::CompletionProvided {
                documents: vec![document("UQ")],
            },
        )],
    );
    assert_eq!(
        dossier.documents(),
        [document("TK"), document("GCS"), document("UQ")]
    );

    // Supplement requested at 09:00 and brought at 10:00 (waited 60 min,
    // shifted: due 14:15 + 60 → 15:15).
    let supplement_requested = recorded(
        specialist(COMMUNE),
        t(9, 0),
        DossierChange::SupplementRequested {
            reason: text("Thiếu"),
            missing_items: vec![text("Văn bản ủy quyền")],
            applicant_deadline: vn(2024, 11, 12, 17, 0),
        },
    );
    let given = with_specialist().events;
    given_when_then(
        &given,
        command(
            specialist(COMMUNE),
            t(9, 0),
            CommandBody::RequestSupplement {
                reason: text("Thiếu"),
                missing_items: vec![text(" Văn bản ủy quyền ")],
                applicant_deadline: vn(2024, 11, 12, 17, 0),
            },
        ),
        vec![supplement_requested.clone()],
    );
    let given = [given, vec![supplement_requested]].concat();
    given_when_then(
        &given,
        command(
            portal(),
            t(10, 0),
            CommandBody::ReceiveSupplement {
                documents: vec![SubmittedDocument {
                    name: text("Thành phần UQ "),
                    ..document(" UQ")
                }],
            },
        ),
        vec![recorded(
            portal(),
            t(10, 0),
            DossierChange::SupplementReceived {
                documents: vec![document("UQ")],
                clock: ClockAdjustment {
                    waited: WorkingMinutes(60),
                    policy: SupplementClock::Shift,
                    previous_due_at: t(14, 15),
                    due_at: t(15, 15),
                    previous_appointment_at: t(14, 15),
                    appointment_at: t(15, 15),
                },
            },
        )],
    );

    // Payment items at 09:00: names trimmed, the total unchanged.
    given_when_then(
        &with_specialist().events,
        command(
            specialist(COMMUNE),
            t(9, 0),
            CommandBody::RequestPayment {
                items: vec![
                    PaymentItem {
                        name: text(" Lệ phí đăng ký khai sinh "),
                        amount_vnd: 8_000,
                    },
                    PaymentItem {
                        name: text("\tPhí cấp bản sao trích lục"),
                        amount_vnd: 3_000,
                    },
                ],
            },
        ),
        vec![recorded(
            specialist(COMMUNE),
            t(9, 0),
            DossierChange::PaymentRequested {
                items: items(),
                total_vnd: 11_000,
            },
        )],
    );
}

#[test]
fn blank_optional_applicant_fields_are_recorded_as_absent() {
    // Address, phone and e-mail empty or only spaces: recorded as None.
    for blank in ["", "  ", "\t \n"] {
        let mut submission = birth_submission(Channel::Online);
        submission.applicant.address = Some(text(blank));
        submission.applicant.phone = Some(text(blank));
        submission.applicant.email = Some(text(blank));
        let mut expected = applicant();
        expected.address = None;
        expected.phone = None;
        expected.email = None;
        let dossier = given_when_then(
            &[],
            command(portal(), t(8, 0), submit(Channel::Online, submission, None)),
            vec![recorded(
                portal(),
                t(8, 0),
                DossierChange::DossierSubmitted {
                    dossier_id: DossierId::try_from(text("d-0001")).unwrap(),
                    unit: unit(COMMUNE),
                    channel: Channel::Online,
                    procedure: birth_terms(),
                    applicant: expected.clone(),
                    documents: vec![document("TK"), document("GCS")],
                },
            )],
        );
        assert_eq!(dossier.applicant(), Some(&expected), "{blank:?}");
    }
}
