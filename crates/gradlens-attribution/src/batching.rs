//! How every method and metric bounds its memory: the many copies of one text (path points, noisy
//! samples, coalitions, perturbed inputs) go through the model a batch at a time (Captum's
//! `_utils/batching.py`). One place, so that every loop treats a batch size of 0 as 1 and none forgets
//! to.

use burn::prelude::*;

use crate::input::DeviceError;

/// Consecutive batches of at most `batch_size` of `items` (at least one item per batch).
fn batches<T>(items: &[T], batch_size: usize) -> std::slice::Chunks<'_, T> {
    items.chunks(batch_size.max(1))
}

/// Runs `per_batch` on each batch of `items` and concatenates what the batches give, in order.
pub(crate) async fn collect_batches<T, R, F>(items: &[T], batch_size: usize, mut per_batch: impl FnMut(&[T]) -> F) -> Result<Vec<R>, DeviceError>
where
    F: Future<Output = Result<Vec<R>, DeviceError>>,
{
    let mut out = Vec::with_capacity(items.len());
    for batch in batches(items, batch_size) {
        out.extend(per_batch(batch).await?);
    }
    Ok(out)
}

/// The sum over batches of `per_batch`'s tensors (gradients accumulated along a path or over samples).
pub(crate) fn sum_batches<T, const D: usize>(
    items: &[T],
    batch_size: usize,
    zero: Tensor<D>,
    mut per_batch: impl FnMut(&[T]) -> Tensor<D>,
) -> Tensor<D> {
    batches(items, batch_size).fold(zero, |sum, batch| sum + per_batch(batch))
}
