//! [`super::check_plan`]: verifies a plan against its request, independently of how it was made.

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;

use super::{Cargo, RoundPlan, RoundRequest, Stop, StopKind, road_km};

/// Slack on times: the plan's times are whole seconds.
const SLACK_SECONDS: i64 = 2;
/// Slack on kilometres: the plan's kilometres are rounded to 0.1 km.
const SLACK_KM: f64 = 0.05 + 1e-6;

type Window = Option<(DateTime<Utc>, DateTime<Utc>)>;

/// Where a shipment is in the plan.
#[derive(Clone, Copy, PartialEq)]
enum Status {
    Waiting,
    OnBoard,
    Delivered,
}

fn same(cargo: &Cargo, req: &RoundRequest, i: usize) -> bool {
    let s = &req.shipments[i];
    s.producer_id == cargo.producer_id
        && s.slot_id == cargo.slot_id
        && s.crates == cargo.crates
        && s.kg == cargo.kg
}

fn describe(cargo: &Cargo) -> String {
    format!(
        "the {} crates from producer {} to slot {}",
        cargo.crates, cargo.producer_id, cargo.slot_id
    )
}

/// The windows of the farms or points a stop serves.
fn windows(req: &RoundRequest, stop: &Stop) -> Result<Vec<Window>, String> {
    let mut found: Vec<Window> = Vec::new();
    for cargo in &stop.picked_up {
        let farm = req
            .farms
            .iter()
            .find(|f| f.producer_id == cargo.producer_id)
            .ok_or_else(|| {
                format!(
                    "stop {}: producer {} has no farm",
                    stop.sequence, cargo.producer_id
                )
            })?;
        if farm.place.key != stop.place.key {
            return Err(format!(
                "stop {}: {} are not collected at their farm",
                stop.sequence,
                describe(cargo)
            ));
        }
        if !found.contains(&farm.window) {
            found.push(farm.window);
        }
    }
    for cargo in &stop.dropped {
        let point = req
            .points
            .iter()
            .find(|p| p.slot_id == cargo.slot_id)
            .ok_or_else(|| {
                format!(
                    "stop {}: slot {} has no pickup point",
                    stop.sequence, cargo.slot_id
                )
            })?;
        if point.place.key != stop.place.key {
            return Err(format!(
                "stop {}: {} are not delivered at their point",
                stop.sequence,
                describe(cargo)
            ));
        }
        if !found.contains(&point.window) {
            found.push(point.window);
        }
    }
    Ok(found)
}

fn check_shape(req: &RoundRequest, stops: &[Stop]) -> Result<(), String> {
    let (Some(first), Some(last)) = (stops.first(), stops.last()) else {
        return Err("a plan has at least a start and an end stop".to_string());
    };
    if stops.len() < 2 || first.kind != StopKind::Start || first.place.key != req.start.key {
        return Err("the plan does not begin at the round's start".to_string());
    }
    if last.kind != StopKind::End || last.place.key != req.end.key {
        return Err("the plan does not finish at the round's end".to_string());
    }
    if first.departure < req.departure {
        return Err("the vehicle leaves before the round's departure".to_string());
    }
    for (i, stop) in stops.iter().enumerate() {
        if usize::try_from(stop.sequence).ok() != Some(i) {
            return Err(format!("stop {i} is numbered {}", stop.sequence));
        }
        let inner = i > 0 && i + 1 < stops.len();
        let ok = match stop.kind {
            StopKind::Start | StopKind::End => {
                !inner && stop.picked_up.is_empty() && stop.dropped.is_empty()
            }
            StopKind::Collect => inner && stop.dropped.is_empty() && !stop.picked_up.is_empty(),
            StopKind::Deliver => inner && stop.picked_up.is_empty() && !stop.dropped.is_empty(),
        };
        if !ok {
            return Err(format!(
                "stop {i} ({:?}) is misplaced or handles the wrong crates",
                stop.kind
            ));
        }
        let producers_ok = match stop.producer_id {
            Some(p) => {
                stop.kind == StopKind::Collect && stop.picked_up.iter().all(|c| c.producer_id == p)
            }
            None => true,
        };
        let slots_ok = match stop.slot_id {
            Some(s) => {
                stop.kind == StopKind::Deliver && stop.dropped.iter().all(|c| c.slot_id == s)
            }
            None => true,
        };
        if !producers_ok || !slots_ok {
            return Err(format!(
                "stop {i}: its producer or slot does not match its crates"
            ));
        }
    }
    Ok(())
}

fn check_shipments(req: &RoundRequest, plan: &RoundPlan) -> Result<(), String> {
    let mut status = vec![Status::Waiting; req.shipments.len()];
    for stop in &plan.stops {
        for cargo in &stop.picked_up {
            let i = (0..status.len())
                .find(|&i| status[i] == Status::Waiting && same(cargo, req, i))
                .ok_or_else(|| {
                    format!(
                        "stop {}: {} are collected twice or unknown",
                        stop.sequence,
                        describe(cargo)
                    )
                })?;
            status[i] = Status::OnBoard;
        }
        for cargo in &stop.dropped {
            let Some(i) =
                (0..status.len()).find(|&i| status[i] == Status::OnBoard && same(cargo, req, i))
            else {
                let waiting =
                    (0..status.len()).any(|i| status[i] == Status::Waiting && same(cargo, req, i));
                return Err(if waiting {
                    format!(
                        "stop {}: {} are delivered before they are collected",
                        stop.sequence,
                        describe(cargo)
                    )
                } else {
                    format!(
                        "stop {}: {} are delivered twice or unknown",
                        stop.sequence,
                        describe(cargo)
                    )
                });
            };
            status[i] = Status::Delivered;
        }
    }
    if let Some(i) = status.iter().position(|s| *s == Status::OnBoard) {
        let s = &req.shipments[i];
        return Err(format!(
            "the crates from producer {} to slot {} are collected but never delivered",
            s.producer_id, s.slot_id
        ));
    }
    for left in &plan.unassigned {
        let i = (0..status.len())
            .find(|&i| {
                let s = &req.shipments[i];
                status[i] == Status::Waiting && s.producer_id == left.producer_id && s.slot_id == left.slot_id
            })
            .ok_or_else(|| {
                format!(
                    "the shipment from producer {} to slot {} is listed as unassigned but carried or unknown",
                    left.producer_id, left.slot_id
                )
            })?;
        status[i] = Status::Delivered;
    }
    if let Some(i) = status.iter().position(|s| *s == Status::Waiting) {
        let s = &req.shipments[i];
        return Err(format!(
            "the shipment from producer {} to slot {} is neither carried nor listed as unassigned",
            s.producer_id, s.slot_id
        ));
    }
    Ok(())
}

fn check_loads(req: &RoundRequest, stops: &[Stop]) -> Result<(), String> {
    let (mut crates, mut kg) = (0_u64, Decimal::ZERO);
    for stop in stops {
        for c in &stop.picked_up {
            crates += u64::from(c.crates);
            kg += c.kg;
        }
        for c in &stop.dropped {
            crates = crates.saturating_sub(u64::from(c.crates));
            kg -= c.kg;
        }
        if u64::from(stop.load_crates) != crates || stop.load_kg != kg {
            return Err(format!(
                "stop {}: the load shown ({} crates, {} kg) is not what is on board ({crates} crates, {kg} kg)",
                stop.sequence, stop.load_crates, stop.load_kg
            ));
        }
        if crates > u64::from(req.capacity_crates) {
            return Err(format!(
                "stop {}: {crates} crates on board, above the vehicle's capacity of {}",
                stop.sequence, req.capacity_crates
            ));
        }
        if let Some(limit) = req.capacity_kg
            && kg > limit
        {
            return Err(format!(
                "stop {}: {kg} kg on board, above the vehicle's capacity of {limit} kg",
                stop.sequence
            ));
        }
    }
    Ok(())
}

fn check_times(req: &RoundRequest, stops: &[Stop]) -> Result<(), String> {
    let slack = TimeDelta::seconds(SLACK_SECONDS);
    for pair in stops.windows(2) {
        let (prev, stop) = (&pair[0], &pair[1]);
        let km = road_km(&prev.place, &stop.place, req.detour_factor);
        let drive = TimeDelta::milliseconds((km / req.speed_kmh * 3_600_000.0).round() as i64);
        if stop.arrival + slack < prev.departure + drive {
            return Err(format!(
                "stop {}: arrives at {} sooner than {:.1} km at {} km/h allow",
                stop.sequence, stop.place.name, km, req.speed_kmh
            ));
        }
        if stop.departure < stop.arrival {
            return Err(format!("stop {}: leaves before it arrives", stop.sequence));
        }
        let minutes = match stop.kind {
            StopKind::Collect => req.collect_minutes,
            StopKind::Deliver => req.deliver_minutes,
            StopKind::Start | StopKind::End => continue,
        };
        let windows = windows(req, stop)?;
        let opens = windows.iter().flatten().map(|w| w.0).max();
        let begins = opens.map_or(stop.arrival, |o| o.max(stop.arrival));
        for (_, closes) in windows.iter().flatten() {
            if begins > *closes {
                return Err(format!(
                    "stop {}: the vehicle is served at {} at {begins}, after its window closes at {closes}",
                    stop.sequence, stop.place.name
                ));
            }
        }
        if stop.departure + slack < begins + TimeDelta::minutes(i64::from(minutes)) {
            return Err(format!(
                "stop {}: leaves {} before the {minutes} minutes of service (window included) are over",
                stop.sequence, stop.place.name
            ));
        }
    }
    Ok(())
}

fn check_merged(req: &RoundRequest, stops: &[Stop]) -> Result<(), String> {
    for pair in stops.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let served = matches!(a.kind, StopKind::Collect | StopKind::Deliver);
        if served
            && a.kind == b.kind
            && a.place.key == b.place.key
            && windows(req, a)? == windows(req, b)?
        {
            return Err(format!(
                "stops {} and {} at {} follow each other and should be one stop",
                a.sequence, b.sequence, a.place.name
            ));
        }
    }
    Ok(())
}

fn check_km(req: &RoundRequest, plan: &RoundPlan) -> Result<(), String> {
    let mut total = 0.0;
    for pair in plan.stops.windows(2) {
        let (prev, stop) = (&pair[0], &pair[1]);
        let km = road_km(&prev.place, &stop.place, req.detour_factor);
        total += km;
        if (stop.km_from_previous - km).abs() > SLACK_KM {
            return Err(format!(
                "stop {}: {} km from the previous stop shown, {km:.2} km computed",
                stop.sequence, stop.km_from_previous
            ));
        }
        if (stop.km_total - total).abs() > SLACK_KM {
            return Err(format!(
                "stop {}: {} km in total shown, {total:.2} km computed",
                stop.sequence, stop.km_total
            ));
        }
    }
    let last = plan.stops.last().map_or(0.0, |s| s.km_total);
    if (plan.total_km - total).abs() > SLACK_KM || (plan.total_km - last).abs() > 1e-6 {
        return Err(format!(
            "the round's total of {} km is not the {total:.2} km of its stops",
            plan.total_km
        ));
    }
    if let (Some(first), Some(end)) = (plan.stops.first(), plan.stops.last()) {
        let seconds = (end.arrival - first.departure).num_seconds();
        if (i64::from(plan.total_minutes) * 60 - seconds).abs() > 60 {
            return Err(format!(
                "the round's {} minutes are not the {seconds} seconds from departure to arrival",
                plan.total_minutes
            ));
        }
    }
    Ok(())
}

/// See [`super::check_plan`].
pub(super) fn check(req: &RoundRequest, plan: &RoundPlan) -> Result<(), String> {
    check_shape(req, &plan.stops)?;
    check_shipments(req, plan)?;
    check_loads(req, &plan.stops)?;
    check_times(req, &plan.stops)?;
    check_merged(req, &plan.stops)?;
    check_km(req, plan)
}
