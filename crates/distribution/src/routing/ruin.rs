//! The ruin step of the solver's ruin-and-recreate search, written against `vrp-core`'s [`Ruin`]
//! trait.
//!
//! `vrp-core`'s own ruin operators keep a tabu list in a `std` hash set and pick jobs from the
//! tour's hash set of jobs; both orders depend on memory addresses and on `std`'s random hash
//! keys, so they give a different search on every run even with a fixed seed. These operators
//! draw the same moves (random, string, related and worst removal, the classic LNS removals for
//! pickup and delivery) from the tour's visiting order and the seeded generator only. Everything
//! else (recreate, constraints, evaluation, population) is `vrp-core`'s.

use vrp_core::models::problem::JobIdDimension;
use vrp_core::prelude::*;
use vrp_core::solver::RefinementContext;
use vrp_core::solver::search::Ruin;

/// At most this many jobs removed at once (all of them in smaller rounds): more restructures the
/// round faster per generation, but each generation costs about the square more.
const MAX_REMOVED: usize = 5;

/// Index of a job from its id ("s12").
pub(super) fn job_index(job: &Job) -> usize {
    job.dimens()
        .get_job_id()
        .and_then(|id| id.strip_prefix('s'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}

/// Moves the unassigned jobs back to the jobs to insert, in a fixed order. `vrp-core` would do it
/// at the start of the next insertion, in its hash map's order, which varies from run to run.
pub(super) fn requeue_unassigned(insertion_ctx: &mut InsertionContext) {
    let mut back: Vec<Job> = insertion_ctx
        .solution
        .unassigned
        .drain()
        .map(|(job, _)| job)
        .collect();
    back.sort_by_key(job_index);
    insertion_ctx.solution.required.extend(back);
}

/// Which removal to apply.
#[derive(Clone, Copy)]
enum Removal {
    Random,
    String,
    Related,
    Worst,
}

/// Removes a few jobs from the round, by one of the four removals (weighted draw).
pub(super) struct RoundRuin {
    /// Road kilometres between locations, row-major.
    km: Vec<f64>,
    size: usize,
    /// (pickup, delivery) locations of each job.
    places: Vec<(usize, usize)>,
    removals: Vec<Removal>,
    weights: Vec<usize>,
}

impl RoundRuin {
    /// `km`: road kilometres between the `size` locations, row-major; `places`: pickup and
    /// delivery location of each job; `weights`: of the random, string, related and worst
    /// removals.
    pub fn new(
        km: Vec<f64>,
        size: usize,
        places: Vec<(usize, usize)>,
        weights: [usize; 4],
    ) -> Self {
        Self {
            km,
            size,
            places,
            removals: vec![
                Removal::Random,
                Removal::String,
                Removal::Related,
                Removal::Worst,
            ],
            weights: weights.to_vec(),
        }
    }

    fn km(&self, a: usize, b: usize) -> f64 {
        self.km.get(a * self.size + b).copied().unwrap_or(0.0)
    }
}

/// The jobs of a route in visiting order (each at its first activity).
fn route_jobs(route_ctx: &RouteContext, count: usize) -> Vec<Job> {
    let mut seen = vec![false; count];
    let mut jobs = Vec::new();
    for activity in route_ctx.route().tour.all_activities() {
        if let Some(job) = activity.retrieve_job() {
            let i = job_index(&job);
            if let Some(flag) = seen.get_mut(i)
                && !*flag
            {
                *flag = true;
                jobs.push(job);
            }
        }
    }
    jobs
}

/// A uniform index below `n` (n ≥ 1).
fn below(random: &dyn Random, n: usize) -> usize {
    let max = i32::try_from(n.saturating_sub(1)).unwrap_or(i32::MAX);
    usize::try_from(random.uniform_int(0, max)).unwrap_or(0)
}

/// A skewed draw below `n` favouring small indices (Ropke & Pisinger's y^p selection).
fn skewed(random: &dyn Random, n: usize, power: i32) -> usize {
    let y = random.uniform_real(0.0, 1.0);
    ((y.powi(power) * n as f64).floor() as usize).min(n.saturating_sub(1))
}

impl Ruin for RoundRuin {
    fn run(&self, _: &RefinementContext, mut insertion_ctx: InsertionContext) -> InsertionContext {
        requeue_unassigned(&mut insertion_ctx);

        let random = insertion_ctx.environment.random.clone();
        let count = self.places.len();
        let Some(route_ctx) = insertion_ctx.solution.routes.first() else {
            return insertion_ctx;
        };
        let jobs = route_jobs(route_ctx, count);
        if jobs.is_empty() {
            return insertion_ctx;
        }
        let most = jobs.len().min(MAX_REMOVED);
        let how_many = 1 + below(random.as_ref(), most);

        let removal = self.removals[random.weighted(&self.weights)];
        let chosen: Vec<Job> = match removal {
            Removal::Random => {
                let mut pool = jobs;
                let mut chosen = Vec::new();
                while chosen.len() < how_many && !pool.is_empty() {
                    chosen.push(pool.swap_remove(below(random.as_ref(), pool.len())));
                }
                chosen
            }
            Removal::String => {
                // Consecutive activities of the tour, from a random one.
                let activities: Vec<Job> = route_ctx
                    .route()
                    .tour
                    .all_activities()
                    .filter_map(|a| a.retrieve_job())
                    .collect();
                let length = 1 + below(random.as_ref(), (how_many * 2).min(activities.len()));
                let from = below(random.as_ref(), activities.len() - length + 1);
                let mut chosen: Vec<Job> = Vec::new();
                for job in &activities[from..from + length] {
                    if !chosen.contains(job) {
                        chosen.push(job.clone());
                    }
                }
                chosen
            }
            Removal::Related => {
                // A seed and the jobs whose farm and point are closest to its own.
                let seed = jobs[below(random.as_ref(), jobs.len())].clone();
                let (sp, sd) = self
                    .places
                    .get(job_index(&seed))
                    .copied()
                    .unwrap_or_default();
                let mut others: Vec<(f64, usize, Job)> = jobs
                    .into_iter()
                    .filter(|j| *j != seed)
                    .map(|j| {
                        let i = job_index(&j);
                        let (p, d) = self.places.get(i).copied().unwrap_or_default();
                        (self.km(sp, p) + self.km(sd, d), i, j)
                    })
                    .collect();
                others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let mut chosen = vec![seed];
                while chosen.len() < how_many && !others.is_empty() {
                    chosen.push(others.remove(skewed(random.as_ref(), others.len(), 4)).2);
                }
                chosen
            }
            Removal::Worst => {
                // The jobs whose two stops cost the longest detours.
                let locations: Vec<usize> = route_ctx
                    .route()
                    .tour
                    .all_activities()
                    .map(|a| a.place.location)
                    .collect();
                let owners: Vec<Option<usize>> = route_ctx
                    .route()
                    .tour
                    .all_activities()
                    .map(|a| a.retrieve_job().map(|j| job_index(&j)))
                    .collect();
                let detour = |at: usize| {
                    let (Some(prev), Some(here), Some(next)) = (
                        locations.get(at.wrapping_sub(1)),
                        locations.get(at),
                        locations.get(at + 1),
                    ) else {
                        return 0.0;
                    };
                    self.km(*prev, *here) + self.km(*here, *next) - self.km(*prev, *next)
                };
                let mut costs: Vec<(f64, usize, Job)> = jobs
                    .into_iter()
                    .map(|job| {
                        let i = job_index(&job);
                        let cost: f64 = (0..owners.len())
                            .filter(|&at| owners[at] == Some(i))
                            .map(detour)
                            .sum();
                        (cost, i, job)
                    })
                    .collect();
                costs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let mut chosen = Vec::new();
                while chosen.len() < how_many && !costs.is_empty() {
                    chosen.push(costs.remove(skewed(random.as_ref(), costs.len(), 3)).2);
                }
                chosen
            }
        };

        if let Some(route_ctx) = insertion_ctx.solution.routes.first_mut() {
            for job in chosen {
                if route_ctx.route_mut().tour.remove(&job) {
                    insertion_ctx.solution.required.push(job);
                }
            }
        }
        insertion_ctx
    }
}
