//! A team of copies of the pipeline (the page's workers) that split a request's batches: each member
//! ends with the same explanation as one copy running alone.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::task::{Poll, Waker};

use burn::prelude::*;
use futures::future::{join_all, poll_fn};
use gradlens_attribution::metrics::{Metric, PerturbationOptions};
use gradlens_attribution::{Explanation, Hooks, Method, NoHooks, Request, Swap, Swapped, Team, explain};
use gradlens_model::{Classifier, GraphKind, ModelAssets};
use pollster::FutureExt as _;

fn tiny() -> Classifier {
    Classifier::load(&ModelAssets::full_precision(GraphKind::Tiny).unwrap(), &Device::flex().autodiff()).unwrap()
}

/// Where the members of an in-process team leave their parts (the page relays them between workers).
#[derive(Default)]
struct Board {
    parts: HashMap<u32, Vec<Option<Vec<f32>>>>,
    waiting: Vec<Waker>,
    swaps: usize,
}

struct Member {
    team: Team,
}

impl Hooks for Member {
    fn team(&self) -> Team {
        self.team.clone()
    }
}

fn team_of(size: usize, board: &Rc<RefCell<Board>>) -> Vec<Member> {
    (0..size)
        .map(|member| {
            let board = board.clone();
            let swap: Swap = Rc::new(move |swapped: Swapped| {
                let board = board.clone();
                {
                    let mut b = board.borrow_mut();
                    b.swaps += 1;
                    b.parts.entry(swapped.round).or_insert_with(|| vec![None; size])[member] = Some(swapped.part);
                    b.waiting.drain(..).for_each(Waker::wake);
                }
                Box::pin(poll_fn(move |cx| {
                    let mut b = board.borrow_mut();
                    let parts = &b.parts[&swapped.round];
                    if parts.iter().all(Option::is_some) {
                        Poll::Ready(Ok(parts.iter().map(|p| p.clone().unwrap()).collect()))
                    } else {
                        b.waiting.push(cx.waker().clone());
                        Poll::Pending
                    }
                }))
            });
            Member { team: Team::new(member, size, swap) }
        })
        .collect()
}

fn close(what: &str, got: &[f32], alone: &[f32]) {
    assert_eq!(got.len(), alone.len(), "{what}");
    for (i, (g, a)) in got.iter().zip(alone).enumerate() {
        assert!((g - a).abs() <= 1e-5 * (1.0 + a.abs()), "{what}[{i}]: {g} in a team, {a} alone");
    }
}

#[test]
fn a_team_splits_the_batches_and_every_member_gets_the_result_of_one_copy_alone() {
    let model = tiny();
    // Every batched loop: path sums (IG, DIG, SmoothGrad) and collected values (occlusion, coalitions,
    // metrics); small batches so that each loop has several, and more samples than coalitions exist.
    let methods: Vec<Method> = ["integrated_gradients", "dig", "smooth_grad", "occlusion", "kernel_shap", "lime", "shapley_sampling"]
        .iter()
        .map(|name| Method::by_name(name).unwrap())
        .collect();
    let request = Request {
        metrics: Metric::all_defaults(),
        perturbation: PerturbationOptions { batch_size: 3, curve_intervals: Some(4), ..PerturbationOptions::default() },
        ..Request::new("A gorgeous, witty, seductive movie that never quite lands its final act.", methods)
    };
    let alone = explain(&model, &request, &mut NoHooks).block_on().unwrap();
    for size in [2, 3] {
        let board = Rc::new(RefCell::new(Board::default()));
        let mut members = team_of(size, &board);
        let results: Vec<Explanation> =
            join_all(members.iter_mut().map(|member| explain(&model, &request, member))).block_on().into_iter().map(Result::unwrap).collect();
        assert!(board.borrow().swaps >= size * 10, "{} swaps: the loops were not shared", board.borrow().swaps);
        for (member, result) in results.iter().enumerate() {
            for (team, alone) in result.attributions.iter().zip(&alone.attributions) {
                let what = format!("{} by member {member} of {size}", team.method);
                close(&what, &team.token_scores, &alone.token_scores);
                let values = |a: &gradlens_attribution::Attribution| a.metrics.iter().map(|m| m.value).collect::<Vec<_>>();
                close(&format!("metrics of {what}"), &values(team), &values(alone));
            }
            // Every member adds the same parts in the same order: the same bits.
            assert_eq!(
                result.attributions.iter().map(|a| &a.token_scores).collect::<Vec<_>>(),
                results[0].attributions.iter().map(|a| &a.token_scores).collect::<Vec<_>>()
            );
        }
    }
}
