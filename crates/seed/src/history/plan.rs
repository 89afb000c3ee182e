//! Planning the arrivals: for each dossier, where, when, how and under which
//! procedure it is submitted, and what the desk does with it before (and
//! including) acceptance — decided before anything runs, so that dossier
//! codes can be handed out in acceptance order, the same for the same seed.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use motcua_domain::calendar::{VIETNAM, WorkingCalendar, WorkingMinutes};
use motcua_domain::dossier::command::Channel;
use motcua_domain::procedure::OnlineLevel;
use motcua_domain::unit::UnitLevel;

use super::mix::Mix;
use crate::catalog::Handler;
use crate::error::SeedError;
use crate::province::{Province, UnitKind};
use crate::rng::{Cumulative, Rng};

/// The random stream of dossier `index`'s arrival.
pub(super) const STREAM_PLAN: u64 = 10;

/// What the desk does with a submitted dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reception {
    /// Handed in at the counter and accepted in the same step.
    AtCounter,
    Accepted {
        at: DateTime<Utc>,
    },
    Refused {
        at: DateTime<Utc>,
    },
    Withdrawn {
        at: DateTime<Utc>,
    },
}

/// The desk asked for the file to be completed, and the applicant did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Completion {
    pub requested_at: DateTime<Utc>,
    pub provided_at: DateTime<Utc>,
}

/// One dossier's arrival.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub index: u32,
    /// Index in [`Province::units`] of the receiving unit.
    pub unit: u16,
    /// Index in [`Province::procedures`].
    pub procedure: u32,
    pub case: u8,
    pub channel: Channel,
    pub submitted_at: DateTime<Utc>,
    pub completion: Option<Completion>,
    pub reception: Reception,
}

impl Plan {
    /// When the dossier is accepted, if it is.
    pub fn accepted_at(&self) -> Option<DateTime<Utc>> {
        match self.reception {
            Reception::AtCounter => Some(self.submitted_at),
            Reception::Accepted { at } => Some(at),
            Reception::Refused { .. } | Reception::Withdrawn { .. } => None,
        }
    }
}

/// The procedures one unit can receive, with their popularity, all and
/// those offered online.
#[derive(Debug, Default)]
struct ProcedureChoice {
    all: Vec<usize>,
    all_weights: Cumulative,
    online: Vec<usize>,
    online_weights: Cumulative,
}

/// Everything needed to plan arrivals, drawn from the province once.
pub(super) struct Planner<'a> {
    province: &'a Province,
    calendar: &'a WorkingCalendar,
    mix: Mix,
    seed: u64,
    units: Cumulative,
    /// By unit index.
    choices: Vec<ProcedureChoice>,
    working_days: Vec<NaiveDate>,
    working_day_weights: Cumulative,
    all_days: Vec<NaiveDate>,
    all_day_weights: Cumulative,
}

/// Monday is the busiest day at the desks, Friday afternoon the quietest.
fn weekday_weight(day: Weekday) -> f64 {
    match day {
        Weekday::Mon => 1.25,
        Weekday::Tue => 1.05,
        Weekday::Wed => 1.0,
        Weekday::Thu => 0.95,
        Weekday::Fri => 0.85,
        Weekday::Sat | Weekday::Sun => 0.3,
    }
}

/// 00:00 of `day` in Vietnam.
pub(super) fn local_midnight(day: NaiveDate) -> DateTime<Utc> {
    VIETNAM
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .single()
        .map_or(DateTime::<Utc>::MIN_UTC, |local| local.with_timezone(&Utc))
}

/// `minutes` of working time after `after`, strictly later than it.
pub(super) fn after_work(
    calendar: &WorkingCalendar,
    after: DateTime<Utc>,
    minutes: f64,
) -> DateTime<Utc> {
    let minutes = WorkingMinutes(minutes.round().clamp(1.0, 10_000_000.0) as u32);
    calendar
        .add_working_time(after, minutes)
        .max(after + Duration::seconds(1))
}

impl<'a> Planner<'a> {
    pub fn new(
        province: &'a Province,
        mix: Mix,
        seed: u64,
        from: NaiveDate,
        until: NaiveDate,
    ) -> Result<Self, SeedError> {
        let calendar = province.calendar();
        let units = Cumulative::new(province.units().iter().map(|unit| unit.workload));
        let choices = province
            .units()
            .iter()
            .enumerate()
            .map(|(index, unit)| {
                let handler = match unit.kind {
                    UnitKind::PeoplesCommittee | UnitKind::Department => Handler::Unit(index),
                    UnitKind::City | UnitKind::District => Handler::AnyDistrict,
                    UnitKind::Commune => Handler::AnyCommune,
                };
                let mut choice = ProcedureChoice::default();
                for (position, entry) in province.procedures().iter().enumerate() {
                    if entry.handler != handler {
                        continue;
                    }
                    choice.all.push(position);
                    if entry.procedure.online_level != OnlineLevel::InformationOnly {
                        choice.online.push(position);
                    }
                }
                let popularity = |positions: &[usize]| {
                    Cumulative::new(positions.iter().map(|&position| {
                        province
                            .procedures()
                            .get(position)
                            .map_or(0.0, |entry| entry.popularity)
                    }))
                };
                choice.all_weights = popularity(&choice.all);
                choice.online_weights = popularity(&choice.online);
                choice
            })
            .collect();
        let all_days: Vec<NaiveDate> = from.iter_days().take_while(|day| *day < until).collect();
        let working_days: Vec<NaiveDate> = all_days
            .iter()
            .copied()
            .filter(|day| calendar.is_working_day(*day))
            .collect();
        if working_days.is_empty() {
            return Err(SeedError::Config(format!(
                "the period {from} to {until} has no working day"
            )));
        }
        let working_day_weights =
            Cumulative::new(working_days.iter().map(|day| weekday_weight(day.weekday())));
        let all_day_weights = Cumulative::new(all_days.iter().map(|day| {
            if calendar.is_working_day(*day) {
                weekday_weight(day.weekday())
            } else {
                0.3
            }
        }));
        Ok(Planner {
            province,
            calendar,
            mix,
            seed,
            units,
            choices,
            working_days,
            working_day_weights,
            all_days,
            all_day_weights,
        })
    }

    /// The arrival of dossier `index`.
    pub fn plan(&self, index: u32) -> Result<Plan, SeedError> {
        let mut rng = Rng::derive(self.seed, STREAM_PLAN, u64::from(index));
        let missing = |what: &str| SeedError::Generated {
            what: "plan",
            reason: format!("no {what} to draw"),
        };
        let unit_index = self.units.draw(&mut rng).ok_or_else(|| missing("unit"))?;
        let unit = self
            .province
            .units()
            .get(unit_index)
            .ok_or_else(|| missing("unit"))?;
        let choice = self
            .choices
            .get(unit_index)
            .ok_or_else(|| missing("procedure"))?;
        let online_share = match unit.level() {
            UnitLevel::Province => self.mix.online_province,
            UnitLevel::District => self.mix.online_district,
            UnitLevel::Commune => self.mix.online_commune,
        };
        let mut channel = if rng.chance(online_share) {
            Channel::Online
        } else if rng.chance(self.mix.by_post) {
            Channel::Post
        } else {
            Channel::InPerson
        };
        let online_pick = if channel == Channel::Online {
            choice.online_weights.draw(&mut rng)
        } else {
            None
        };
        let procedure = match online_pick.and_then(|pick| choice.online.get(pick)) {
            Some(&procedure) => procedure,
            None => {
                // Nothing of this unit is offered online: the applicant comes to the desk.
                if channel == Channel::Online {
                    channel = Channel::InPerson;
                }
                let pick = choice
                    .all_weights
                    .draw(&mut rng)
                    .ok_or_else(|| missing("procedure"))?;
                *choice.all.get(pick).ok_or_else(|| missing("procedure"))?
            }
        };
        let cases = self
            .province
            .procedures()
            .get(procedure)
            .map_or(1, |entry| entry.procedure.cases.len());
        let case = rng.below(cases);
        let submitted_at = self.submission_instant(&mut rng, channel)?;
        let (completion, reception) = self.reception(&mut rng, channel, submitted_at);
        let narrow = |what: &'static str| SeedError::Generated {
            what,
            reason: "out of range".to_owned(),
        };
        Ok(Plan {
            index,
            unit: u16::try_from(unit_index).map_err(|_| narrow("unit index"))?,
            procedure: u32::try_from(procedure).map_err(|_| narrow("procedure index"))?,
            case: u8::try_from(case).map_err(|_| narrow("case index"))?,
            channel,
            submitted_at,
            completion,
            reception,
        })
    }

    /// At the desk or by post: office hours of a working day. Online: any
    /// day, mostly in the daytime.
    fn submission_instant(
        &self,
        rng: &mut Rng,
        channel: Channel,
    ) -> Result<DateTime<Utc>, SeedError> {
        let missing = || SeedError::Generated {
            what: "submission day",
            reason: "no day to draw".to_owned(),
        };
        let day = if channel == Channel::Online {
            let pick = self.all_day_weights.draw(rng).ok_or_else(missing)?;
            *self.all_days.get(pick).ok_or_else(missing)?
        } else {
            let pick = self.working_day_weights.draw(rng).ok_or_else(missing)?;
            *self.working_days.get(pick).ok_or_else(missing)?
        };
        let midnight = local_midnight(day);
        let seconds = Duration::seconds(rng.between(0, 59) as i64);
        let in_office_hours =
            channel != Channel::Online || (self.calendar.is_working_day(day) && rng.chance(0.6));
        Ok(if in_office_hours {
            // A working day has 480 minutes; leave the last ten for the desk.
            let minutes = WorkingMinutes(rng.between(0, 470) as u32);
            self.calendar.add_working_time(midnight, minutes) + seconds
        } else {
            midnight + Duration::minutes(rng.between(6 * 60, 23 * 60) as i64) + seconds
        })
    }

    fn reception(
        &self,
        rng: &mut Rng,
        channel: Channel,
        submitted_at: DateTime<Utc>,
    ) -> (Option<Completion>, Reception) {
        let mix = &self.mix;
        let desk = |rng: &mut Rng, after, low, high| {
            after_work(self.calendar, after, rng.between(low, high) as f64)
        };
        if rng.chance(mix.refused) {
            return (
                None,
                Reception::Refused {
                    at: desk(rng, submitted_at, 5, 600),
                },
            );
        }
        if channel != Channel::InPerson && rng.chance(mix.withdrawn_before_acceptance) {
            let at = if channel == Channel::Online {
                submitted_at + Duration::minutes(rng.between(30, 2 * 24 * 60) as i64)
            } else {
                desk(rng, submitted_at, 60, 960)
            };
            return (None, Reception::Withdrawn { at });
        }
        let completion = rng.chance(mix.completion_requested).then(|| {
            let requested_at = desk(rng, submitted_at, 10, 480);
            let provided_at = if channel == Channel::Online {
                requested_at + Duration::minutes(rng.between(60, 3 * 24 * 60) as i64)
            } else {
                desk(rng, requested_at, 240, 2400)
            };
            Completion {
                requested_at,
                provided_at,
            }
        });
        let checked_from = completion.map_or(submitted_at, |completion| completion.provided_at);
        let reception = match channel {
            Channel::InPerson
                if completion.is_none() && !rng.chance(mix.accepted_later_at_counter) =>
            {
                Reception::AtCounter
            }
            Channel::InPerson => Reception::Accepted {
                at: desk(rng, checked_from, 5, 240),
            },
            Channel::Online => Reception::Accepted {
                at: desk(rng, checked_from, 10, 480),
            },
            Channel::Post => Reception::Accepted {
                at: desk(rng, checked_from, 30, 960),
            },
        };
        (completion, reception)
    }
}
