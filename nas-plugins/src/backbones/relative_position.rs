//! The learned relative position bias of window attention (Swin, MaxViT): one value per head
//! and relative offset between two tokens of a square window, gathered into the full
//! `(heads, tokens, tokens)` bias once, at load, in the order torchvision's
//! `relative_position_index` gives.

/// For every pair of tokens of a `window x window` window, row by row, the row of the relative
/// position table torchvision's `relative_position_index` picks: row offset, then column offset.
pub(crate) fn relative_positions(window: usize) -> impl Iterator<Item = usize> {
    let span = 2 * window - 1;
    let tokens = window * window;
    (0..tokens * tokens).map(move |pair| {
        let (i, j) = (pair / tokens, pair % tokens);
        let dy = i / window + window - 1 - j / window;
        let dx = i % window + window - 1 - j % window;
        dy * span + dx
    })
}

/// `table` (`(2 window - 1)^2` rows of `heads` values) gathered into the bias of every head
/// between the tokens of a window, `(heads, window^2, window^2)`, through `finish`.
pub(crate) fn gathered_bias(table: &[f32], heads: usize, window: usize, finish: impl Fn(f32) -> f32) -> Vec<f32> {
    let pairs = window.pow(4);
    let mut bias = vec![0f32; heads * pairs];
    for (pair, row) in relative_positions(window).enumerate() {
        for h in 0..heads {
            bias[h * pairs + pair] = finish(table[row * heads + h]);
        }
    }
    bias
}
