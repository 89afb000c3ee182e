//! The proportions of a history: how dossiers arrive and what happens to them.

/// Shares and probabilities of the history's channels and transitions.
///
/// Each is the probability that a dossier takes the turn when it could
/// (a refusal among dossiers at reception, a send-back among drafts...);
/// the shares in a generated history come out close to these, minus the
/// dossiers the end of the period cuts short. [`Mix::default`] is the
/// realistic mix; [`Mix::eventful`] makes the rare turns common, so that a
/// few hundred dossiers take every one of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mix {
    /// Submitted online, by the receiving unit's level (the Decision 766
    /// targets are 90/70/50%).
    pub online_province: f64,
    pub online_district: f64,
    pub online_commune: f64,
    /// Of the dossiers not submitted online, those sent by post.
    pub by_post: f64,
    /// Handed in at the counter but accepted later rather than on the spot.
    pub accepted_later_at_counter: f64,
    /// Refused at reception.
    pub refused: f64,
    /// The desk asks for the file to be completed before accepting it.
    pub completion_requested: f64,
    /// Withdrawn before acceptance.
    pub withdrawn_before_acceptance: f64,
    /// Withdrawn during processing.
    pub withdrawn_in_processing: f64,
    /// The specialist asks for a supplement.
    pub supplement: f64,
    /// Of the supplement requests: the applicant withdraws instead.
    pub supplement_withdrawn: f64,
    /// Of the supplement requests: nothing comes and the leader stops processing.
    pub supplement_abandoned: f64,
    /// The leader stops processing for another reason.
    pub stopped: f64,
    /// Of the dossiers whose procedure has fees: a payment is requested.
    pub payment: f64,
    /// Of the payment requests: made at acceptance (else before the result).
    pub payment_at_acceptance: f64,
    /// Of the payment requests: exempted rather than paid.
    pub exempted: f64,
    /// Of the paid dossiers: partly refunded after the result.
    pub refunded: f64,
    /// Transferred to another unit (liên thông).
    pub transfer: f64,
    /// The leader sends the draft back once.
    pub send_back: f64,
    /// Reassigned to another specialist.
    pub reassigned: f64,
    /// Worked on more slowly than the procedure's time: finishes late.
    pub late: f64,
    /// Worked on at 85–100% of the procedure's time: mostly on the due day.
    pub close_to_due: f64,
    /// Of the late dossiers: an apology with a new appointment, when there
    /// is still a working day before the due date.
    pub apology: f64,
    /// An administrator corrects the due date.
    pub due_date_corrected: f64,
    /// An administrator soft-deletes the dossier once it is closed.
    pub deleted: f64,
    /// Of the deleted dossiers: restored later.
    pub restored: f64,
    /// Of the online dossiers: the result is delivered online.
    pub returned_online: f64,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            online_province: 0.90,
            online_district: 0.70,
            online_commune: 0.50,
            by_post: 0.10,
            accepted_later_at_counter: 0.03,
            refused: 0.01,
            completion_requested: 0.03,
            withdrawn_before_acceptance: 0.003,
            withdrawn_in_processing: 0.006,
            supplement: 0.08,
            supplement_withdrawn: 0.04,
            supplement_abandoned: 0.03,
            stopped: 0.0025,
            payment: 0.75,
            payment_at_acceptance: 0.7,
            exempted: 0.05,
            refunded: 0.01,
            transfer: 0.03,
            send_back: 0.05,
            reassigned: 0.02,
            late: 0.035,
            close_to_due: 0.2,
            apology: 0.5,
            due_date_corrected: 0.002,
            deleted: 0.001,
            restored: 0.7,
            returned_online: 0.6,
        }
    }
}

impl Mix {
    /// Every rare turn made common: for tests that must see each transition
    /// in a few hundred dossiers.
    pub fn eventful() -> Self {
        Mix {
            accepted_later_at_counter: 0.2,
            refused: 0.05,
            completion_requested: 0.15,
            withdrawn_before_acceptance: 0.03,
            withdrawn_in_processing: 0.03,
            supplement: 0.3,
            supplement_withdrawn: 0.15,
            supplement_abandoned: 0.15,
            stopped: 0.03,
            payment: 0.8,
            exempted: 0.2,
            refunded: 0.3,
            transfer: 0.15,
            send_back: 0.2,
            reassigned: 0.1,
            late: 0.2,
            apology: 0.8,
            due_date_corrected: 0.05,
            deleted: 0.05,
            restored: 0.5,
            ..Mix::default()
        }
    }
}
