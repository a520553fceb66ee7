//! The exact planner: dynamic programming over the stop orders of a small round.
//!
//! A state is the status of every job (waiting, on board, delivered: a base-3 number) and the
//! location the vehicle is at. Since time windows make the earliest time matter as well as the
//! distance, each state keeps every label (kilometres, time) that no other label of the state
//! beats on both. Layer by layer (one more activity each time), every label is extended by every
//! feasible next activity (capacity and windows checked with [`Network::advance`], the clock the
//! plans are built with). The answer is the label carrying the most shipments, then with the
//! fewest kilometres back to the end. At most 3^8 × 18 states for 8 shipments.

use super::network::{Activity, END, LeftOut, Network, START};

/// One way of reaching a state.
struct Label {
    km: f64,
    time: f64,
    /// The label this one extends, `None` at the start.
    parent: Option<usize>,
    /// The activity that led here from the parent.
    activity: Option<Activity>,
}

/// Status digit of `job` in `code`: 0 waiting, 1 on board, 2 delivered.
fn digit(code: usize, pow3: &[usize], job: usize) -> usize {
    (code / pow3[job]) % 3
}

/// Orders the activities of the network's jobs optimally; returns the order and the jobs left out.
pub(super) fn solve(net: &Network) -> (Vec<Activity>, Vec<LeftOut>) {
    let k = net.jobs.len();
    let n = net.size();
    let pow3: Vec<usize> = (0..=k).map(|i| 3_usize.pow(i as u32)).collect();
    let states = pow3[k];

    let mut labels = vec![Label {
        km: 0.0,
        time: 0.0,
        parent: None,
        activity: None,
    }];
    // Labels not dominated, per state slot (code × n + location).
    let mut table: Vec<Vec<usize>> = vec![Vec::new(); states * n];
    table[START] = vec![0];
    let mut layer = vec![START];

    for _ in 0..2 * k {
        let mut next: Vec<usize> = Vec::new();
        for &slot in &layer {
            let (code, at) = (slot / n, slot % n);
            let sources = table[slot].clone();
            let mut on_board = vec![0_i64; net.capacity.len()];
            for (j, job) in net.jobs.iter().enumerate() {
                if digit(code, &pow3, j) == 1 {
                    on_board
                        .iter_mut()
                        .zip(&job.load)
                        .for_each(|(o, l)| *o += i64::from(*l));
                }
            }
            for (j, job) in net.jobs.iter().enumerate() {
                let pickup = match digit(code, &pow3, j) {
                    0 => true,
                    1 => false,
                    _ => continue,
                };
                if pickup {
                    let fits = on_board
                        .iter()
                        .zip(&job.load)
                        .zip(&net.capacity)
                        .all(|((o, l), c)| o + i64::from(*l) <= i64::from(*c));
                    if !fits {
                        continue;
                    }
                }
                let activity = Activity { job: j, pickup };
                let to = net.location(activity);
                let target = (code + pow3[j]) * n + to;
                for &from in &sources {
                    let Some(time) = net.advance(at, labels[from].time, to) else {
                        continue;
                    };
                    let km = labels[from].km + net.km(at, to);
                    let dominated = table[target]
                        .iter()
                        .any(|&l| labels[l].km <= km + 1e-9 && labels[l].time <= time + 1e-9);
                    if dominated {
                        continue;
                    }
                    table[target].retain(|&l| !(km <= labels[l].km && time <= labels[l].time));
                    if table[target].is_empty() {
                        next.push(target);
                    }
                    labels.push(Label {
                        km,
                        time,
                        parent: Some(from),
                        activity: Some(activity),
                    });
                    table[target].push(labels.len() - 1);
                }
            }
        }
        next.sort_unstable();
        next.dedup();
        for slot in &layer {
            // Keep the finished states (nothing on board) for the final choice.
            let code = slot / n;
            if (0..k).any(|j| digit(code, &pow3, j) == 1) {
                table[*slot].clear();
            }
        }
        layer = next;
    }

    // Best finished label: most shipments delivered, then fewest kilometres to the end.
    let mut best: Option<(usize, f64, usize)> = None;
    for (slot, ids) in table.iter().enumerate() {
        let (code, at) = (slot / n, slot % n);
        if (0..k).any(|j| digit(code, &pow3, j) == 1) {
            continue;
        }
        let delivered = (0..k).filter(|&j| digit(code, &pow3, j) == 2).count();
        for &id in ids {
            let km = labels[id].km + net.km(at, END);
            let better = match best {
                None => true,
                Some((count, best_km, _)) => {
                    delivered > count || (delivered == count && km < best_km - 1e-9)
                }
            };
            if better {
                best = Some((delivered, km, id));
            }
        }
    }

    let mut order = Vec::new();
    let mut cursor = best.map(|(_, _, id)| id);
    while let Some(id) = cursor {
        if let Some(activity) = labels[id].activity {
            order.push(activity);
        }
        cursor = labels[id].parent;
    }
    order.reverse();

    let left_out = net
        .jobs
        .iter()
        .enumerate()
        .filter(|(j, _)| !order.iter().any(|a| a.job == *j))
        .map(|(_, job)| {
            (
                job.shipment,
                "it cannot be fitted into the round along with the other shipments".to_string(),
            )
        })
        .collect();
    (order, left_out)
}

/// A vehicle's optimal round for a set of jobs: its kilometres and order.
type Round = (f64, Vec<Activity>);

/// The optimal sharing of a small round's jobs among vehicles of the given capacities: for every
/// vehicle and every set of jobs, the optimal round carrying them all (by [`solve`]), then, by
/// dynamic programming over the sets, the sharing carrying the most jobs, then with the fewest
/// kilometres in all. Returns each vehicle's order and the jobs left out. An unused vehicle drives
/// from its start to its end (nothing when they are the same place), as in the planner.
pub(super) fn solve_fleet(
    net: &Network,
    capacities: &[Vec<i32>],
) -> (Vec<Vec<Activity>>, Vec<usize>) {
    let k = net.jobs.len();
    let sets = 1_usize << k;
    // Per vehicle, per set of jobs: the optimal round carrying them all, if any.
    let mut rounds: Vec<Vec<Option<Round>>> = Vec::with_capacity(capacities.len());
    for (v, capacity) in capacities.iter().enumerate() {
        if let Some(same) = capacities[..v].iter().position(|c| c == capacity) {
            rounds.push(rounds[same].clone());
            continue;
        }
        let table = (0..sets)
            .map(|set| {
                let jobs: Vec<usize> = (0..k).filter(|j| set & (1 << j) != 0).collect();
                let sub = net.restricted(&jobs, capacity.clone());
                let (order, _) = solve(&sub);
                (order.len() == 2 * jobs.len()).then(|| {
                    let order: Vec<Activity> = order
                        .into_iter()
                        .map(|a| Activity {
                            job: jobs[a.job],
                            pickup: a.pickup,
                        })
                        .collect();
                    (super::order_km(net, &order), order)
                })
            })
            .collect();
        rounds.push(table);
    }
    // best[set]: the fewest kilometres of the vehicles so far carrying exactly `set`, and the
    // share of each vehicle.
    let mut best: Vec<Option<(f64, Vec<usize>)>> = vec![None; sets];
    best[0] = Some((0.0, Vec::new()));
    for table in &rounds {
        let mut next: Vec<Option<(f64, Vec<usize>)>> = vec![None; sets];
        for set in 0..sets {
            // Every share `own` of `set` for this vehicle, the rest for the ones before.
            let mut own = set;
            loop {
                if let (Some((before, shares)), Some((km, _))) = (&best[set & !own], &table[own]) {
                    let total = before + km;
                    if next[set].as_ref().is_none_or(|(b, _)| total < *b - 1e-9) {
                        let mut shares = shares.clone();
                        shares.push(own);
                        next[set] = Some((total, shares));
                    }
                }
                if own == 0 {
                    break;
                }
                own = (own - 1) & set;
            }
        }
        best = next;
    }
    let chosen = (0..sets)
        .filter_map(|set| best[set].as_ref().map(|(km, shares)| (set, *km, shares)))
        .min_by(|a, b| {
            b.0.count_ones()
                .cmp(&a.0.count_ones())
                .then(a.1.total_cmp(&b.1))
                .then(a.0.cmp(&b.0))
        });
    let Some((set, _, shares)) = chosen else {
        return (vec![Vec::new(); capacities.len()], (0..k).collect());
    };
    let orders = shares
        .iter()
        .zip(&rounds)
        .map(|(own, table)| {
            table[*own]
                .as_ref()
                .map(|(_, order)| order.clone())
                .unwrap_or_default()
        })
        .collect();
    let left = (0..k).filter(|j| set & (1 << j) == 0).collect();
    (orders, left)
}
