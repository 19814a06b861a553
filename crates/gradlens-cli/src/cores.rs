//! The machine's cores as a [`Team`]: one thread per core runs the same request on the shared model,
//! each its share of every batched loop (IG's path points, SmoothGrad's samples, occlusion's and the
//! metrics' perturbed inputs, coalitions), and the threads swap their parts in memory. The CPU backend
//! parallelises only its largest matrix products, so without this a second core sits idle.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex};

use gradlens_attribution::{DeviceError, Hooks, Stage, Stopped, Swap, Swapped, Team};

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

/// A member's hooks: `hooks` for progress (member 0's report; the others run quietly), `team` for the
/// pipeline.
pub struct Member<H> {
    pub hooks: H,
    pub team: Team,
}

impl<H: Hooks> Hooks for Member<H> {
    async fn before(&mut self, stage: &Stage) -> Result<(), Stopped> {
        self.hooks.before(stage).await
    }

    fn progressed(&mut self, so_far: &gradlens_attribution::Explanation) {
        self.hooks.progressed(so_far);
    }

    fn team(&self) -> Team {
        self.team.clone()
    }
}
