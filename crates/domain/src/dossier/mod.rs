//! The Dossier aggregate (hồ sơ thủ tục hành chính).
//!
//! `decide` (in [`decide`]) checks a command against the state and returns
//! the events it causes, or a typed rejection; `apply` (here) folds an event
//! into the state and never fails. The cqrs-es `handle` is the two glued
//! together: decide everything first, then write, so a rejected command
//! emits nothing and leaves the aggregate untouched.

pub mod code;
pub mod command;
pub mod decide;
pub mod error;
pub mod event;
mod lifecycle;
pub mod status;
pub mod timeliness;

pub use self::lifecycle::Lifecycle;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use crate::services::DossierServices;

use self::command::{Applicant, DossierCommand, DossierId, SubmittedDocument};
use self::error::DossierError;
use self::event::{DossierChange, DossierEvent};
use self::status::Step;

/// The deadlines of an accepted dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// Accepted at the desk (thời điểm tiếp nhận).
    pub received_at: DateTime<Utc>,
    /// When processing time started counting (the next session if after hours).
    pub counting_from: DateTime<Utc>,
    /// The due date computed at acceptance. Never changes.
    pub original_due_at: DateTime<Utc>,
    /// The legal due date: moved only by pauses and administrative correction.
    pub due_at: DateTime<Utc>,
    /// What the applicant was told: the due date, or an apology's new date.
    pub appointment_at: DateTime<Utc>,
}

/// Fees and charges: the state of the latest request. Totals paid and
/// refunded over the dossier's life are kept beside it on [`Dossier`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum PaymentState {
    #[default]
    NotRequested,
    Requested {
        total_vnd: u64,
    },
    Paid {
        amount_vnd: u64,
    },
    Exempted,
    /// Refunded, in part or in full: the total refunded so far.
    Refunded {
        amount_vnd: u64,
    },
}

/// A pause waiting for the applicant, and where processing resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub since: DateTime<Utc>,
    pub resume_step: Step,
}

/// A dossier: its lifecycle, and the applicant's data and documents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dossier {
    id: Option<DossierId>,
    applicant: Option<Applicant>,
    documents: Vec<SubmittedDocument>,
    /// Flattened: snapshots keep the JSON shape they had before the split.
    #[serde(flatten)]
    lifecycle: Lifecycle,
}

impl Dossier {
    pub fn id(&self) -> Option<&DossierId> {
        self.id.as_ref()
    }
    pub fn applicant(&self) -> Option<&Applicant> {
        self.applicant.as_ref()
    }
    pub fn documents(&self) -> &[SubmittedDocument] {
        &self.documents
    }
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }
}

/// A dossier reads as its lifecycle (`dossier.step()`, `dossier.holder()`…):
/// one set of accessors for both.
impl std::ops::Deref for Dossier {
    type Target = Lifecycle;

    fn deref(&self) -> &Lifecycle {
        &self.lifecycle
    }
}

impl Aggregate for Dossier {
    const TYPE: &'static str = "Dossier";
    type Command = DossierCommand;
    type Event = DossierEvent;
    type Error = DossierError;
    type Services = DossierServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        // Decide everything before writing anything: a rejection leaves no trace.
        for event in self.decide(&command, services)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.lifecycle.apply(&event);
        match event.change {
            DossierChange::DossierSubmitted {
                dossier_id,
                applicant,
                documents,
                ..
            } => {
                self.id = Some(dossier_id);
                self.applicant = Some(applicant);
                self.documents = documents;
            }
            DossierChange::CompletionProvided { documents }
            | DossierChange::SupplementReceived { documents, .. } => {
                self.documents.extend(documents);
            }
            _ => {}
        }
    }
}
