//! How every method and metric bounds its memory and shares its work: the many copies of one text (path
//! points, noisy samples, coalitions, perturbed inputs) go through the model a batch at a time
//! (Captum's `_utils/batching.py`), and a [`Team`] of copies of this program (the page's workers) splits
//! those batches between its members. One place, so that every loop treats a batch size of 0 as 1 and
//! none forgets to share.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;

use burn::prelude::*;

use crate::input::{DeviceError, ExplainedInput, read};

/// What a member of a [`Team`] does at the end of each batched loop: send its part to the others and
/// resolve to every member's part, in member order (its own included).
pub type Swap = Rc<dyn Fn(Swapped) -> Pin<Box<dyn Future<Output = Result<Vec<Vec<f32>>, DeviceError>>>>>;

/// One member's part of a batched loop, numbered so that parts of the same loop meet.
#[derive(Clone, Debug, PartialEq)]
pub struct Swapped {
    /// Which batched loop of the request this is (0, 1, ... in the order every member runs them).
    pub round: u32,
    /// What this member computed: its batches' results in order, or its partial sum.
    pub part: Vec<f32>,
}

/// Copies of this program that run the same request in step (every member runs every stage, so each
/// ends with the whole result) and split its batched loops: member `k` of `n` runs batches `k`, `k + n`,
/// ..., then the members swap what they computed. Methods that draw random numbers draw them all before
/// the loop, so that every member draws the same. Alone, a team runs every batch and swaps nothing.
///
/// A team may also bound the tokens of a batch (copies x length): a backward pass keeps a few hundred
/// kilobytes per token, and wasm memory never shrinks, so the page's workers take fewer copies of a long
/// text at a time.
#[derive(Clone, Default)]
pub struct Team {
    member: usize,
    size: usize,
    swap: Option<Swap>,
    rounds: Rc<Cell<u32>>,
    batch_tokens: Option<usize>,
}

impl Team {
    /// A team of one: every batch runs here.
    pub fn alone() -> Self {
        Self::default()
    }

    /// Member `member` (from 0) of a team of `size`, which swaps parts through `swap`. Every member must
    /// run the same request.
    pub fn new(member: usize, size: usize, swap: Swap) -> Self {
        assert!(member < size, "member {member} of a team of {size}");
        Self { member, size, swap: Some(swap), rounds: Rc::default(), batch_tokens: None }
    }

    /// The same team, with batches of at most `tokens` token positions (at least one copy).
    pub fn with_batch_tokens(self, tokens: usize) -> Self {
        Self { batch_tokens: Some(tokens), ..self }
    }

    fn size(&self) -> usize {
        self.size.max(1)
    }

    /// The batches of `items` (copies of a text of `length` tokens), each with whether this member runs
    /// it. In a team, batches are no larger than needed to give every member one.
    fn batches<'a, T>(&self, items: &'a [T], batch_size: usize, length: usize) -> impl Iterator<Item = (bool, &'a [T])> {
        let size = self.size();
        let bounded = self.batch_tokens.map_or(batch_size, |tokens| batch_size.min(tokens / length.max(1)));
        let batch_size = bounded.min(items.len().div_ceil(size)).max(1);
        items.chunks(batch_size).enumerate().map(move |(b, batch)| (b % size == self.member, batch))
    }

    /// Every member's part of this round.
    async fn swap(&self, part: Vec<f32>) -> Result<Vec<Vec<f32>>, DeviceError> {
        let round = self.rounds.get();
        self.rounds.set(round + 1);
        match &self.swap {
            Some(swap) => swap(Swapped { round, part }).await,
            None => Ok(vec![part]),
        }
    }

    async fn collect_batches<T, F>(
        &self,
        items: &[T],
        batch_size: usize,
        length: usize,
        mut per_batch: impl FnMut(&[T]) -> F,
    ) -> Result<Vec<f32>, DeviceError>
    where
        F: Future<Output = Result<Vec<f32>, DeviceError>>,
    {
        let mut mine = Vec::new();
        for (_, batch) in self.batches(items, batch_size, length).filter(|(runs_here, _)| *runs_here) {
            mine.extend(per_batch(batch).await?);
        }
        if self.size() == 1 {
            return Ok(mine);
        }
        // Each member's part holds its batches in order: deal them back out batch by batch.
        let parts = self.swap(mine).await?;
        let mut cursors = vec![0; parts.len()];
        let mut out = Vec::with_capacity(items.len());
        for (b, (_, batch)) in self.batches(items, batch_size, length).enumerate() {
            let member = b % self.size();
            let part = parts[member].get(cursors[member]..cursors[member] + batch.len()).ok_or_else(|| wrong_size(member))?;
            out.extend_from_slice(part);
            cursors[member] += batch.len();
        }
        Ok(out)
    }

    async fn sum_batches<T, const D: usize>(
        &self,
        items: &[T],
        batch_size: usize,
        length: usize,
        zero: Tensor<D>,
        mut per_batch: impl FnMut(&[T]) -> Tensor<D>,
    ) -> Result<Tensor<D>, DeviceError> {
        let mine = self.batches(items, batch_size, length).filter(|(runs_here, _)| *runs_here).fold(zero, |sum, (_, batch)| sum + per_batch(batch));
        if self.size() == 1 {
            return Ok(mine);
        }
        let (shape, device) = (mine.shape(), mine.device());
        let parts = self.swap(read(mine).await?).await?;
        let mut sum = vec![0.0f32; shape.num_elements()];
        for (member, part) in parts.iter().enumerate() {
            if part.len() != sum.len() {
                return Err(wrong_size(member));
            }
            sum.iter_mut().zip(part).for_each(|(s, p)| *s += p);
        }
        Ok(Tensor::from_data(TensorData::new(sum, shape), &device))
    }
}

impl ExplainedInput<'_> {
    /// Runs `per_batch` on each batch of `items` (copies of this text, one value per copy) and
    /// concatenates what the batches give, in order; in a team, each member runs its share.
    pub(crate) async fn collect_batches<T, F>(
        &self,
        items: &[T],
        batch_size: usize,
        per_batch: impl FnMut(&[T]) -> F,
    ) -> Result<Vec<f32>, DeviceError>
    where
        F: Future<Output = Result<Vec<f32>, DeviceError>>,
    {
        self.team.collect_batches(items, batch_size, self.len(), per_batch).await
    }

    /// The sum over batches of `per_batch`'s tensors (gradients accumulated along a path or over
    /// samples). In a team, the members' partial sums are added in member order, so that every member
    /// gets the same bits.
    pub(crate) async fn sum_batches<T, const D: usize>(
        &self,
        items: &[T],
        batch_size: usize,
        zero: Tensor<D>,
        per_batch: impl FnMut(&[T]) -> Tensor<D>,
    ) -> Result<Tensor<D>, DeviceError> {
        self.team.sum_batches(items, batch_size, self.len(), zero, per_batch).await
    }
}

fn wrong_size(member: usize) -> DeviceError {
    DeviceError { device: format!("team member {member}"), reason: "sent a part of the wrong size".into() }
}
