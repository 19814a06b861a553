//! Quadrature rules for path integrals over `alpha` in [0, 1] (Integrated Gradients and its kin).
//! The points follow Captum's `approximation_methods` conventions, so that results can be compared with it
//! step for step. The weights too, but for the trapezoid rule: Captum weights its `n` points (spaced
//! `1/(n-1)`) by `1/n`, halved at the ends, which sums to `(n-1)/n`; here they are the rule's own `1/(n-1)`.

use serde::{Deserialize, Serialize};

/// How the path integral is approximated with `steps` points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum IntegrationRule {
    /// Left Riemann sum: `alpha_k = k / n` for `k = 0, ..., n - 1`, weights `1 / n`.
    RiemannLeft,
    /// Right Riemann sum: `alpha_k = (k + 1) / n`.
    RiemannRight,
    /// Midpoint rule: `alpha_k = (k + 1/2) / n`.
    RiemannMiddle,
    /// Trapezoid rule: `n` points spaced `1 / (n - 1)` from 0 to 1, end weights halved.
    RiemannTrapezoid,
    /// Gauss-Legendre quadrature: exact for polynomials of degree `2 steps - 1` (Captum's default).
    #[default]
    GaussLegendre,
}

impl IntegrationRule {
    /// Every rule, in the order front ends list them.
    pub const ALL: [IntegrationRule; 5] = [
        IntegrationRule::RiemannLeft,
        IntegrationRule::RiemannRight,
        IntegrationRule::RiemannMiddle,
        IntegrationRule::RiemannTrapezoid,
        IntegrationRule::GaussLegendre,
    ];

    /// The rule's name, as in JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            IntegrationRule::RiemannLeft => "riemann_left",
            IntegrationRule::RiemannRight => "riemann_right",
            IntegrationRule::RiemannMiddle => "riemann_middle",
            IntegrationRule::RiemannTrapezoid => "riemann_trapezoid",
            IntegrationRule::GaussLegendre => "gauss_legendre",
        }
    }

    /// `(alpha_k, weight_k)` for `steps` points; the weights sum to 1.
    pub fn points(self, steps: usize) -> Vec<(f64, f64)> {
        assert!(steps >= 1, "an integral needs at least one point");
        let n = steps as f64;
        match self {
            IntegrationRule::RiemannLeft => (0..steps).map(|k| (k as f64 / n, 1.0 / n)).collect(),
            IntegrationRule::RiemannRight => (0..steps).map(|k| ((k + 1) as f64 / n, 1.0 / n)).collect(),
            IntegrationRule::RiemannMiddle => (0..steps).map(|k| ((k as f64 + 0.5) / n, 1.0 / n)).collect(),
            IntegrationRule::RiemannTrapezoid if steps == 1 => vec![(0.5, 1.0)],
            IntegrationRule::RiemannTrapezoid => {
                let h = 1.0 / (n - 1.0);
                (0..steps)
                    .map(|k| {
                        let end = k == 0 || k == steps - 1;
                        (k as f64 * h, if end { h / 2.0 } else { h })
                    })
                    .collect()
            }
            IntegrationRule::GaussLegendre => gauss_legendre(steps).into_iter().map(|(x, w)| ((x + 1.0) / 2.0, w / 2.0)).collect(),
        }
    }
}

/// Nodes and weights of `n`-point Gauss-Legendre quadrature on [-1, 1], ascending: roots of the
/// Legendre polynomial P_n by Newton's method from Chebyshev guesses, `w = 2 / ((1 - x^2) P_n'(x)^2)`.
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let mut nodes = Vec::with_capacity(n);
    for i in 0..n {
        let mut x = -(std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut derivative = 0.0;
        for _ in 0..100 {
            let (p, dp) = legendre(n, x);
            derivative = dp;
            let step = p / dp;
            x -= step;
            if step.abs() < 1e-15 {
                break;
            }
        }
        nodes.push((x, 2.0 / ((1.0 - x * x) * derivative * derivative)));
    }
    nodes
}

/// `(P_n(x), P_n'(x))` by the three-term recurrence.
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    if n == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=n {
        let k = k as f64;
        let p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
    }
    (p1, n as f64 * (x * p1 - p0) / (x * x - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_and_points_lie_in_the_unit_interval() {
        for rule in IntegrationRule::ALL {
            for steps in [1, 2, 7, 50] {
                let points = rule.points(steps);
                assert_eq!(points.len(), steps);
                let total: f64 = points.iter().map(|p| p.1).sum();
                assert!((total - 1.0).abs() < 1e-12, "{rule:?} {steps}: {total}");
                assert!(points.iter().all(|&(a, w)| (0.0..=1.0).contains(&a) && w > 0.0));
            }
        }
    }

    #[test]
    fn gauss_legendre_matches_known_nodes_and_is_exact_for_high_degree() {
        // Two points: +-1/sqrt(3) on [-1, 1], i.e. 0.5 -+ 0.5/sqrt(3) on [0, 1], weights 1/2.
        let two = IntegrationRule::GaussLegendre.points(2);
        assert!((two[0].0 - (0.5 - 0.5 / 3f64.sqrt())).abs() < 1e-14 && (two[0].1 - 0.5).abs() < 1e-14);
        // 50 points integrate a^97 over [0, 1] exactly: 1/98.
        let integral: f64 = IntegrationRule::GaussLegendre.points(50).iter().map(|&(a, w)| w * a.powi(97)).sum();
        assert!((integral - 1.0 / 98.0).abs() < 1e-12, "{integral}");
    }

    #[test]
    fn riemann_rules_place_points_as_captum_does() {
        assert_eq!(IntegrationRule::RiemannLeft.points(4).iter().map(|p| p.0).collect::<Vec<_>>(), [0.0, 0.25, 0.5, 0.75]);
        assert_eq!(IntegrationRule::RiemannRight.points(4).iter().map(|p| p.0).collect::<Vec<_>>(), [0.25, 0.5, 0.75, 1.0]);
        assert_eq!(IntegrationRule::RiemannMiddle.points(2).iter().map(|p| p.0).collect::<Vec<_>>(), [0.25, 0.75]);
        let trapezoid = IntegrationRule::RiemannTrapezoid.points(3);
        assert_eq!(trapezoid, vec![(0.0, 0.25), (0.5, 0.5), (1.0, 0.25)]);
    }
}
