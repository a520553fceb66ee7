//! The round as a `vrp-core` pickup-and-delivery problem with time windows and capacities, and its
//! reproducible solving.
//!
//! # The problem
//!
//! - One vehicle, leaving location 0 at time 0 (no departure shifting), ending at location 1.
//! - Each job is a `Multi` of a pickup then a delivery with dynamic (PUDO) demands: the load rises
//!   at the farm and falls at the point. The load is crates ([`SingleDimLoad`]) or crates and
//!   grams ([`MultiDimLoad`]) when the vehicle has a weight limit.
//! - The routing matrix is the [`Network`]'s: metres, and seconds of driving *plus the service time
//!   at the destination* (nothing between two activities at the same location), with windows
//!   shifted by the service time. The service is so spent once per stop, as in the plan.
//! - Goal: fewest unassigned jobs, then shortest distance.
//!
//! # The search
//!
//! `vrp-core`'s evolutionary ruin-and-recreate, configured for one vehicle and for runs that can be
//! repeated:
//!
//! - Recreate: `vrp-core`'s cheapest insertion, plain, with SISR "blinks" or with noise, trying *every*
//!   position (its default samples positions in long routes, which on a single round of a hundred
//!   stops costs several percent of distance for little time saved).
//! - Ruin: ours ([`RoundRuin`]), since `vrp-core`'s ruins draw jobs in hash orders (see below).
//! - Local search: `vrp-core`'s sequence exchange, now and then.
//! - Population: the best solution so far, or for small rounds a population of four (see
//!   [`announced_cpus`]), improved until the generation budget is spent or the best has not
//!   changed for [`STALL_GENERATIONS`] generations.
//!
//! # Reproducibility
//!
//! `vrp-core`'s repeatable random generator is a thread-local seeded with 0 when a thread first
//! draws from it, and its operators use rayon: the solve runs on a fresh one-thread rayon pool (a
//! new thread, so a freshly seeded generator, and no work stealing). One CPU is announced to the
//! heuristics whatever the machine, the operator selection is static (the dynamic one weighs
//! operators by their measured durations) and the budget is in generations. Finally, `vrp-core`
//! parks jobs waiting for insertion in `std` hash maps and sets whose order changes from run to
//! run (random hash keys, hashes of addresses): the jobs are put back in a fixed order before every
//! insertion ([`requeue_unassigned`]), and only operators that never follow such an order are used.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use vrp_core::construction::heuristics::{
    AllJobSelector, AllRouteSelector, BestResultSelector, BlinkResultSelector, InsertionHeuristic,
    LegSelection, NoiseResultSelector, ResultSelection, ResultSelector, UnassignmentInfo,
};
use vrp_core::models::common::{Demand, LoadOps, MultiDimLoad, SingleDimLoad, TimeWindow};
use vrp_core::models::problem::{JobIdDimension, Single};
use vrp_core::prelude::*;
use vrp_core::rosomaxa::evolution::{InitialOperator, InitialOperators, TelemetryMode};
use vrp_core::rosomaxa::hyper::{HeuristicDiversifyOperator, StaticSelective};
use vrp_core::rosomaxa::utils::{Noise, Parallelism};
use vrp_core::solver::search::{
    CompositeLocalOperator, ConfigurableRecreate, ExchangeSequence, LocalSearch, Recreate,
    RecreateWithCheapest, RecreateWithFarthest, RecreateWithRegret, RecreateWithSkipBest,
    RuinAndRecreate, WeightedHeuristicOperator, WeightedRecreate,
};
use vrp_core::solver::{
    RefinementContext, TargetHeuristicGroup, TargetSearchOperator,
    create_scalar_operator_probability,
};

use super::RoutingError;
use super::network::{Activity, END, LeftOut, Network, START};
use super::ruin::{RoundRuin, requeue_unassigned};

/// Violation codes, to tell the coordinator why a job was left out.
const TIME_CODE: ViolationCode = ViolationCode(1);
const CAPACITY_CODE: ViolationCode = ViolationCode(2);

/// Rounds of at most this many shipments are searched with a small population (see
/// [`announced_cpus`]).
const SMALL_ROUND: usize = 12;

/// Larger rounds are built by [`super::polish::construct`]: `vrp-core`'s constructions cost
/// about the fourth power of the shipments (5.5 s of wall time for 100 on the loaded 2-core
/// server, where the whole of the other path takes well under a second).
pub(super) const LARGEST_FOR_VRP_CORE: usize = 30;

/// Up to this many shipments, a larger round from which the insertion leaves shipments out is
/// searched by `vrp-core` as well, and the plan carrying more (then shorter) is kept.
pub(super) const LARGEST_FOR_SECOND_OPINION: usize = 80;

/// At most this many generations (one ruin and recreate per selected solution each)…
const MAX_GENERATIONS: usize = 500;
/// …stopping earlier once the best round has not changed for this many generations.
const STALL_GENERATIONS: usize = 300;

/// Weights of the removals of [`RoundRuin`]: random, string, related, worst.
const RUIN_WEIGHTS: [usize; 4] = [10, 60, 20, 10];

/// CPUs announced to the heuristics: a function of the round only, never of the machine. It
/// sets the population. Large rounds keep one best solution, improved greedily: the budget goes to
/// improving it. Small rounds, where a greedy search gets stuck for good (a forced second trip to
/// a farm, say), keep `vrp-core`'s rosomaxa population of four, which explores more and costs
/// little at that size. The search still runs on one thread.
fn announced_cpus(jobs: usize) -> usize {
    if jobs <= SMALL_ROUND { 4 } else { 1 }
}

/// Probability of the sequence exchange local search in a generation.
const LOCAL_SEARCH: f64 = 0.05;

/// Orders the activities of the network's jobs; returns the order and the jobs left out, with
/// their reasons.
pub(super) fn solve(net: &Network) -> Result<(Vec<Activity>, Vec<LeftOut>), RoutingError> {
    if net.jobs.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|_| "halle-round-planner".to_string())
        .build()
        .map_err(|e| RoutingError::Solver(format!("cannot start the planner's thread: {e}")))?;
    pool.install(|| {
        catch_unwind(AssertUnwindSafe(|| {
            if net.capacity.len() == 1 {
                solve_with::<SingleDimLoad>(net)
            } else {
                solve_with::<MultiDimLoad>(net)
            }
        }))
        .unwrap_or_else(|panic| Err(RoutingError::Solver(panic_message(panic.as_ref()))))
    })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the solver stopped unexpectedly".to_string())
}

fn solver_error(e: impl std::fmt::Display) -> RoutingError {
    RoutingError::Solver(e.to_string())
}

/// The vehicle's load: crates only ([`SingleDimLoad`], cheaper), or crates and grams.
trait RoundLoad: LoadOps + Copy {
    fn of(values: &[i32]) -> Self;
}

impl RoundLoad for SingleDimLoad {
    fn of(values: &[i32]) -> Self {
        SingleDimLoad::new(values.first().copied().unwrap_or(0))
    }
}

impl RoundLoad for MultiDimLoad {
    fn of(values: &[i32]) -> Self {
        MultiDimLoad::new(values.to_vec())
    }
}

/// Single job ids: "p3" is the pickup of job 3, "d3" its delivery.
fn activity_of(single: &Single) -> Option<Activity> {
    let id = single.dimens.get_job_id()?;
    let (kind, job) = id.split_at_checked(1)?;
    let job = job.parse().ok()?;
    match kind {
        "p" => Some(Activity { job, pickup: true }),
        "d" => Some(Activity { job, pickup: false }),
        _ => None,
    }
}

/// A dynamic demand: `load` rises at the pickup, falls at the delivery.
fn pudo<T: RoundLoad>(load: &[i32], pickup: bool) -> Demand<T> {
    let zero = || T::of(&vec![0; load.len()]);
    let change = T::of(load);
    if pickup {
        Demand {
            pickup: (zero(), change),
            delivery: (zero(), zero()),
        }
    } else {
        Demand {
            pickup: (zero(), zero()),
            delivery: (zero(), change),
        }
    }
}

fn single<T: RoundLoad>(net: &Network, job: usize, pickup: bool) -> Result<Single, RoutingError> {
    let activity = Activity { job, pickup };
    let location = net.location(activity);
    let times = match net.solver_window(location) {
        Some((earliest, latest)) => vec![TimeWindow::new(earliest, latest)],
        None => vec![TimeWindow::max()],
    };
    SingleBuilder::default()
        .id(&format!("{}{job}", if pickup { 'p' } else { 'd' }))
        .demand(pudo::<T>(&net.jobs[job].load, pickup))
        .location(location)
        .and_then(|b| b.duration(0.0))
        .and_then(|b| b.times(times))
        .and_then(|b| b.build())
        .map_err(solver_error)
}

fn solve_with<T: RoundLoad>(net: &Network) -> Result<(Vec<Activity>, Vec<LeftOut>), RoutingError> {
    let n = net.size();
    let mut durations = Vec::with_capacity(n * n);
    let mut distances = Vec::with_capacity(n * n);
    for a in 0..n {
        for b in 0..n {
            durations.push(net.solver_duration(a, b));
            distances.push(net.km(a, b) * 1000.0);
        }
    }
    let transport: Arc<dyn TransportCost> =
        Arc::new(SimpleTransportCost::new(durations, distances).map_err(solver_error)?);

    let features = [
        MinimizeUnassignedBuilder::new("min-unassigned").build(),
        TransportFeatureBuilder::new("min-distance")
            .set_transport_cost(transport.clone())
            .set_time_constrained(true)
            .set_violation_code(TIME_CODE)
            .build_minimize_distance(),
        CapacityFeatureBuilder::<T>::new("capacity")
            .set_violation_code(CAPACITY_CODE)
            .build(),
    ]
    .into_iter()
    .collect::<Result<Vec<_>, _>>()
    .map_err(solver_error)?;
    let goal = GoalContextBuilder::with_features(&features)
        .and_then(|b| b.build())
        .map_err(solver_error)?;

    let jobs = (0..net.jobs.len())
        .map(|job| {
            MultiBuilder::default()
                .id(&format!("s{job}"))
                .add_job(single::<T>(net, job, true)?)
                .add_job(single::<T>(net, job, false)?)
                .build_as_job()
                .map_err(solver_error)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let vehicle = VehicleDetailBuilder::default()
        .set_start_location(START)
        .set_start_time(0.0)
        .set_end_location(END)
        .build()
        .and_then(|detail| {
            VehicleBuilder::default()
                .id("vehicle")
                .add_detail(detail)
                .capacity(T::of(&net.capacity))
                .build()
        })
        .map_err(solver_error)?;

    let problem = Arc::new(
        ProblemBuilder::default()
            .add_jobs(jobs.into_iter())
            .add_vehicle(vehicle)
            .with_goal(goal)
            .with_transport_cost(transport)
            .with_logger(Arc::new(|_: &str| {}))
            .build()
            .map_err(solver_error)?,
    );

    let environment = Arc::new(Environment::new(
        Arc::new(DefaultRandom::new_repeatable()),
        None,
        Parallelism::new_with_cpus(announced_cpus(net.jobs.len())),
        Arc::new(|_: &str| {}),
        false,
    ));
    let initial = initial_operators(&environment);
    let config = VrpConfigBuilder::new(problem.clone())
        .set_environment(environment.clone())
        .set_telemetry_mode(TelemetryMode::None)
        .set_heuristic(Box::new(heuristic(net, &environment)))
        .prebuild()
        .map_err(solver_error)?
        .with_initial(initial.len(), 0.05, initial)
        .with_max_generations(Some(MAX_GENERATIONS))
        .with_min_cv(
            Some(("sample".to_string(), STALL_GENERATIONS, 0.0, true)),
            "stall".to_string(),
        )
        .build()
        .map_err(solver_error)?;
    let solution = Solver::new(problem, config).solve().map_err(solver_error)?;

    let order = solution
        .routes
        .iter()
        .flat_map(|route| route.tour.all_activities())
        .filter_map(|a| a.job.as_deref().and_then(activity_of))
        .collect::<Vec<_>>();

    let mut left_out = solution
        .unassigned
        .iter()
        .filter_map(|(job, info)| {
            let id = job.dimens().get_job_id()?;
            let job = id.strip_prefix('s')?.parse::<usize>().ok()?;
            Some((net.jobs.get(job)?.shipment, reason(info)))
        })
        .collect::<Vec<_>>();
    left_out.sort_by_key(|(shipment, _)| *shipment);

    Ok((order, left_out))
}

fn reason(info: &UnassignmentInfo) -> String {
    let codes: Vec<ViolationCode> = match info {
        UnassignmentInfo::Simple(code) => vec![*code],
        UnassignmentInfo::Detailed(details) => details.iter().map(|(_, code)| *code).collect(),
        UnassignmentInfo::Unknown => Vec::new(),
    };
    if codes.contains(&TIME_CODE) {
        "its time windows cannot be met along with the other stops of the round".to_string()
    } else if codes.contains(&CAPACITY_CODE) {
        "the vehicle has no room left for it along with the other shipments".to_string()
    } else {
        "it could not be fitted into the round".to_string()
    }
}

/// A `vrp-core` insertion heuristic trying every position of the pickup and of the delivery,
/// keeping the insertion `selector` prefers.
fn exhaustive(selector: Box<dyn ResultSelector>) -> Arc<dyn Recreate> {
    Arc::new(ConfigurableRecreate::new(
        Box::<AllJobSelector>::default(),
        Box::<AllRouteSelector>::default(),
        LegSelection::Exhaustive,
        ResultSelection::Concrete(selector),
        InsertionHeuristic::default(),
    ))
}

/// Builds an initial solution with a `vrp-core` construction heuristic, once the jobs are in a
/// fixed order (a new solution parks them in a hash map first).
struct Initial(Arc<dyn Recreate>);

impl InitialOperator for Initial {
    type Context = RefinementContext;
    type Objective = GoalContext;
    type Solution = InsertionContext;

    fn create(&self, heuristic_ctx: &Self::Context) -> Self::Solution {
        let mut insertion_ctx = InsertionContext::new(
            heuristic_ctx.problem.clone(),
            heuristic_ctx.environment.clone(),
        );
        requeue_unassigned(&mut insertion_ctx);
        self.0.run(heuristic_ctx, insertion_ctx)
    }
}

/// `vrp-core`'s usual first constructions: cheapest, farthest, regret and skip-best insertion.
fn initial_operators(
    environment: &Arc<Environment>,
) -> InitialOperators<RefinementContext, GoalContext, InsertionContext> {
    let random = environment.random.clone();
    let recreates: [Arc<dyn Recreate>; 4] = [
        Arc::new(RecreateWithCheapest::new(random.clone())),
        Arc::new(RecreateWithFarthest::new(random.clone())),
        Arc::new(RecreateWithRegret::new(2, 3, random.clone())),
        Arc::new(RecreateWithSkipBest::new(1, 2, random)),
    ];
    recreates
        .into_iter()
        .map(|recreate| {
            let operator: Box<
                dyn InitialOperator<
                        Context = RefinementContext,
                        Objective = GoalContext,
                        Solution = InsertionContext,
                    > + Send
                    + Sync,
            > = Box::new(Initial(recreate));
            (operator, 1)
        })
        .collect()
}

/// The search: ruin ([`RoundRuin`]) and recreate (exhaustive cheapest insertion, plain, with
/// blinks or with noise), and now and then `vrp-core`'s sequence exchange.
fn heuristic(
    net: &Network,
    environment: &Arc<Environment>,
) -> StaticSelective<RefinementContext, GoalContext, InsertionContext> {
    let random = environment.random.clone();
    let n = net.size();
    let km = (0..n * n).map(|i| net.km(i / n, i % n)).collect();
    let places = net.jobs.iter().map(|j| (j.pickup, j.delivery)).collect();
    let ruin = Arc::new(RoundRuin::new(km, n, places, RUIN_WEIGHTS));
    // The noisy one matters with time windows: `vrp-core` places a pickup at its cheapest
    // position first, then its delivery after it; when the delivery then misses its window, the
    // pickup's other positions are rarely tried. Noise on the costs makes them tried.
    let noise = Noise::new_with_ratio(0.5, (-0.25, 0.25), random.clone());
    let recreates: Vec<(Arc<dyn Recreate>, usize)> = vec![
        (exhaustive(Box::<BestResultSelector>::default()), 30),
        (
            exhaustive(Box::new(BlinkResultSelector::new_with_defaults(
                random.clone(),
            ))),
            50,
        ),
        (exhaustive(Box::new(NoiseResultSelector::new(noise))), 10),
    ];
    let ruin_recreate: TargetSearchOperator = Arc::new(RuinAndRecreate::new(
        ruin,
        Arc::new(WeightedRecreate::new(recreates)),
    ));
    let local_search: TargetSearchOperator = Arc::new(LocalSearch::new(Arc::new(
        CompositeLocalOperator::new(vec![(Arc::new(ExchangeSequence::default()), 1)], 1, 2),
    )));
    let group: TargetHeuristicGroup = vec![
        (
            ruin_recreate.clone(),
            create_scalar_operator_probability(1.0, random.clone()),
        ),
        (
            local_search,
            create_scalar_operator_probability(LOCAL_SEARCH, random),
        ),
    ];
    // Only a population of several solutions diversifies; the same search would then.
    let diversify: Vec<
        Arc<dyn HeuristicDiversifyOperator<Context = _, Objective = _, Solution = _> + Send + Sync>,
    > = vec![Arc::new(WeightedHeuristicOperator::new(
        vec![ruin_recreate],
        vec![1],
    ))];
    StaticSelective::new(group, diversify)
}
