//! The machine's cores as a [`Team`]: one thread per core runs the same request on the shared model,
//! each its share of every batched loop (IG's path points, SmoothGrad's samples, occlusion's and the
//! metrics' perturbed inputs, coalitions), and the threads swap their parts in memory. The CPU backend
//! parallelises only its largest matrix products, so without this a second core sits idle.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex};

use gradlens_attribution::{DeviceError, Explanation, Hooks, NoHooks, Request, Stage, Stopped, Swap, Swapped, Team};
use gradlens_model::Classifier;
use pollster::FutureExt as _;

/// Where the threads of one request leave their parts and wait for the others'.
struct Exchange {
    size: usize,
    parts: Mutex<HashMap<u32, Vec<Option<Vec<f32>>>>>,
    arrived: Condvar,
}

impl Exchange {
    /// Leaves `member`'s part of a round and waits for every member's, in member order.
    fn swap(&self, member: usize, Swapped { round, part }: Swapped) -> Vec<Vec<f32>> {
        let mut parts = self.parts.lock().expect("no member panicked holding the lock");
        parts.entry(round).or_insert_with(|| vec![None; self.size])[member] = Some(part);
        self.arrived.notify_all();
        let parts = self.arrived.wait_while(parts, |p| p[&round].iter().any(Option::is_none)).expect("no member panicked holding the lock");
        parts[&round].iter().map(|p| p.clone().expect("every part is in")).collect()
    }
}

/// The threads to use: one per core, or `RAYON_NUM_THREADS` when set (as for the backend's own pool).
pub fn count() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Runs `work(member, team)` on `size` threads (member 0 on this one) and returns member 0's result.
/// Every member must run the same request, as a [`Team`] requires.
pub fn in_team<T: Send>(size: usize, work: impl Fn(usize, Team) -> T + Sync) -> T {
    if size <= 1 {
        return work(0, Team::alone());
    }
    let exchange = Arc::new(Exchange { size, parts: Mutex::default(), arrived: Condvar::new() });
    let team = |member: usize| {
        let exchange = exchange.clone();
        // The others' parts are in once `swap` returns: the future is ready at once.
        let swap: Swap = Rc::new(move |swapped| Box::pin(std::future::ready(Ok::<_, DeviceError>(exchange.swap(member, swapped)))));
        Team::new(member, size, swap)
    };
    let (work, team) = (&work, &team);
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..size).map(|member| scope.spawn(move || drop(work(member, team(member))))).collect();
        let result = work(0, team(0));
        for helper in helpers {
            helper.join().expect("a member thread panicked");
        }
        result
    })
}

/// Explains `request` on every core ([`in_team`]); `hooks` hear member 0's progress (the others run
/// the same stages quietly).
pub fn explain<H: Hooks + Send>(model: &Classifier, request: &Request, hooks: H) -> Result<Explanation, Stopped> {
    // Handed to member 0 alone: `work` is called once per member, from their threads.
    let hooks = Mutex::new(Some(hooks));
    in_team(count(), |member, team| {
        let ours = if member == 0 { hooks.lock().expect("taken once, without panicking").take() } else { None };
        match ours {
            Some(hooks) => gradlens_attribution::explain(model, request, &mut Member { hooks, team }).block_on(),
            None => gradlens_attribution::explain(model, request, &mut Member { hooks: NoHooks, team }).block_on(),
        }
    })
}

/// A member's hooks: `hooks` for progress, `team` for the pipeline.
struct Member<H> {
    hooks: H,
    team: Team,
}

impl<H: Hooks> Hooks for Member<H> {
    async fn before(&mut self, stage: &Stage) -> Result<(), Stopped> {
        self.hooks.before(stage).await
    }

    fn progressed(&mut self, so_far: &Explanation) {
        self.hooks.progressed(so_far);
    }

    fn team(&self) -> Team {
        self.team.clone()
    }
}
