//! The JSON form of every event type, pinned by insta snapshots.
//!
//! Events are stored forever and read by other tools: their JSON is a public
//! contract. Each `DossierChange` variant has one example here, produced by
//! running real commands through the fixture's stories (so times, codes and
//! due dates are the ones the aggregate computes), and one snapshot under
//! `tests/snapshots/`. A changed shape fails here; it needs a new
//! `event_version` and an upcaster, not an edited snapshot.
//!
//! Adding a variant: [`snapshot_name`] stops compiling until it names it,
//! then [`every_event_type_has_an_example`] fails until [`examples`] produces
//! it, then the snapshot test fails until the new snapshot is reviewed and
//! committed (`INSTA_UPDATE=always cargo test -p motcua-domain --test event_json`
//! writes it; CI, where `CI=true`, never does).
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;

use cqrs_es::DomainEvent;
use motcua_domain::dossier::command::CommandBody;
use motcua_domain::dossier::event::{DossierChange, DossierEvent, EVENT_VERSION};
use motcua_domain::role::Principal;
use support::*;

/// The snapshot of each event type. Exhaustive on purpose: no `_` arm.
fn snapshot_name(change: &DossierChange) -> &'static str {
    match change {
        DossierChange::DossierSubmitted { .. } => "dossier_submitted",
        DossierChange::DossierAccepted { .. } => "dossier_accepted",
        DossierChange::CompletionRequested { .. } => "completion_requested",
        DossierChange::CompletionProvided { .. } => "completion_provided",
        DossierChange::DossierRefused { .. } => "dossier_refused",
        DossierChange::ForwardedToDepartment { .. } => "forwarded_to_department",
        DossierChange::SpecialistAssigned { .. } => "specialist_assigned",
        DossierChange::SupplementRequested { .. } => "supplement_requested",
        DossierChange::SupplementReceived { .. } => "supplement_received",
        DossierChange::PaymentRequested { .. } => "payment_requested",
        DossierChange::PaymentConfirmed { .. } => "payment_confirmed",
        DossierChange::PaymentExempted { .. } => "payment_exempted",
        DossierChange::PaymentRefunded { .. } => "payment_refunded",
        DossierChange::DossierTransferred { .. } => "dossier_transferred",
        DossierChange::DossierHandedOver { .. } => "dossier_handed_over",
        DossierChange::DraftSubmitted { .. } => "draft_submitted",
        DossierChange::DraftApproved { .. } => "draft_approved",
        DossierChange::DraftSentBack { .. } => "draft_sent_back",
        DossierChange::ResultIssued { .. } => "result_issued",
        DossierChange::ResultReturned { .. } => "result_returned",
        DossierChange::ApologyIssued { .. } => "apology_issued",
        DossierChange::DossierWithdrawn { .. } => "dossier_withdrawn",
        DossierChange::ProcessingStopped { .. } => "processing_stopped",
        DossierChange::DueDateCorrected { .. } => "due_date_corrected",
        DossierChange::DossierDeleted { .. } => "dossier_deleted",
        DossierChange::DossierRestored { .. } => "dossier_restored",
    }
}

/// The last event of a story.
fn last(story: Story) -> DossierEvent {
    story.events.last().cloned().unwrap()
}

/// The story continued by one more command.
fn then(
    story: Story,
    principal: Principal,
    hour: u32,
    minute: u32,
    body: CommandBody,
) -> DossierEvent {
    last(story.run(command(principal, t(hour, minute), body)))
}

fn deleted() -> Story {
    with_specialist().run(command(
        admin(COMMUNE),
        t(9, 0),
        CommandBody::SoftDelete {
            reason: "Hồ sơ tạo trùng".to_owned(),
        },
    ))
}

/// One event of each type, from real commands on the fixture.
fn examples() -> Vec<DossierEvent> {
    vec![
        submitted().events[0].clone(),
        last(accepted()),
        last(awaiting_completion()),
        then(
            awaiting_completion(),
            portal(),
            8,
            40,
            CommandBody::ProvideCompletion {
                documents: vec![document("GCS")],
            },
        ),
        last(refused()),
        last(at_department()),
        last(with_specialist()),
        last(awaiting_supplement()),
        last(awaiting_supplement().run(command(
            portal(),
            vn(2024, 11, 6, 9, 0),
            CommandBody::ReceiveSupplement {
                documents: vec![document("UQ")],
            },
        ))),
        last(awaiting_payment()),
        last(paid()),
        then(
            awaiting_payment(),
            head(COMMUNE),
            9,
            30,
            CommandBody::ExemptPayment {
                reason: "Trẻ em thuộc hộ nghèo".to_owned(),
            },
        ),
        then(
            paid(),
            officer(COMMUNE),
            9,
            40,
            CommandBody::RefundPayment {
                amount_vnd: 8_000,
                reason: "Thu nhầm lệ phí".to_owned(),
            },
        ),
        last(transferred_in()),
        then(
            with_specialist(),
            admin(PROVINCE),
            9,
            0,
            CommandBody::HandOver {
                to_unit: unit(OTHER_COMMUNE),
                reason: "Sáp nhập xã Đạo Đức vào xã Phú Linh".to_owned(),
            },
        ),
        last(awaiting_approval()),
        last(approved()),
        then(
            awaiting_approval(),
            leader(COMMUNE),
            9,
            15,
            CommandBody::SendBackDraft {
                reason: "Sai tên cha trong dự thảo".to_owned(),
            },
        ),
        last(result_issued()),
        last(result_returned()),
        then(
            building_accepted(t(8, 0)),
            head(DISTRICT),
            9,
            0,
            CommandBody::IssueApology {
                new_appointment: vn(2024, 12, 3, 17, 0),
                reason: "Cần xác minh hiện trạng công trình".to_owned(),
            },
        ),
        last(withdrawn()),
        last(stopped()),
        then(
            with_specialist(),
            admin(COMMUNE),
            9,
            0,
            CommandBody::CorrectDueDate {
                due_at: vn(2024, 11, 6, 17, 0),
                reason: "Nhập sai ngày hẹn trả".to_owned(),
            },
        ),
        last(deleted()),
        then(
            deleted(),
            admin(COMMUNE),
            9,
            5,
            CommandBody::RestoreDeleted {
                reason: "Xóa nhầm".to_owned(),
            },
        ),
    ]
}

/// Every variant name of `DossierChange`, as serde knows them: read from
/// the error of an unknown tag, so this list cannot fall behind the enum.
fn all_event_types() -> BTreeSet<String> {
    let error = serde_json::from_str::<DossierChange>(r#"{"type":"NoSuchEvent"}"#)
        .unwrap_err()
        .to_string();
    let expected = error
        .split_once("expected one of ")
        .map(|(_, list)| list)
        .unwrap_or_else(|| panic!("unexpected serde error: {error}"));
    expected
        .split(", ")
        .map(|name| name.split('`').nth(1).unwrap().to_owned())
        .collect()
}

#[test]
fn every_event_type_has_an_example() {
    let all = all_event_types();
    assert_eq!(all.len(), 26, "{all:?}");
    let examples = examples();
    let covered: BTreeSet<String> = examples
        .iter()
        .map(|event| event.change.event_type().to_owned())
        .collect();
    assert_eq!(covered.len(), examples.len(), "two examples of one type");
    assert_eq!(covered, all);
    let names: BTreeSet<&str> = examples
        .iter()
        .map(|event| snapshot_name(&event.change))
        .collect();
    assert_eq!(names.len(), examples.len(), "two types share a snapshot");
}

#[test]
fn the_type_tag_is_the_event_type_and_the_version_is_1_0() {
    for event in examples() {
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["change"]["type"], event.change.event_type(), "{json}");
        assert_eq!(DomainEvent::event_type(&event), event.change.event_type());
        assert_eq!(event.event_version(), "1.0");
        assert_eq!(EVENT_VERSION, "1.0");
        let back: DossierEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}

#[test]
fn every_event_type_has_a_stable_json_form() {
    for event in examples() {
        insta::assert_json_snapshot!(snapshot_name(&event.change), event);
    }
}
