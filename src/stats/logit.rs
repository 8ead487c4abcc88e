//! A logistic regression by Newton–Raphson (iteratively reweighted least
//! squares) for the propensity of training (docs/STATISTICS.md `adjust.method:
//! propensity`): P(trained | x) = 1/(1 + e^(−x·β)).
//!
//! The solver does not see the data: each step asks `moments(β)` for the
//! log-likelihood, the gradient Σ (y − μ)·x and the information matrix
//! Σ μ(1 − μ)·x·xᵀ at β, which the caller computes however it likes (a
//! polars query over the accounts, or a loop over rows in the tests). It
//! reports non-convergence and separation instead of hiding them.

/// What the likelihood looks like at β.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    pub log_likelihood: f64,
    pub gradient: Vec<f64>,
    /// The information matrix (the negative Hessian), row-major p × p.
    pub information: Vec<Vec<f64>>,
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub coefficients: Vec<f64>,
    pub iterations: u32,
    pub log_likelihood: f64,
}

/// Why a fit failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Still moving after the last iteration.
    NoConvergence { iterations: u32, step: f64 },
    /// A coefficient runs off to ±∞: some covariate level (or range)
    /// predicts training perfectly, so no finite estimate exists.
    Separation { coefficient: usize, value: f64 },
    /// The information matrix cannot be inverted at the start: covariates
    /// that are linear combinations of each other (or a level nobody has).
    Singular { pivot: usize },
}

/// Iterations before giving up; Newton's method for a logit converges in
/// well under 25 steps when a finite optimum exists.
pub const MAX_ITERATIONS: u32 = 50;
/// |β| beyond which a coefficient is taken to diverge (e^30 ≈ 10¹³ as an
/// odds ratio: only a separated level gets there).
pub const DIVERGENT: f64 = 30.0;

/// Newton–Raphson from β = 0 until the largest step is below `tolerance`
/// (and the log-likelihood stops rising).
pub fn fit<E>(
    parameters: usize,
    tolerance: f64,
    mut moments: impl FnMut(&[f64]) -> Result<Moments, E>,
) -> Result<Result<Fit, Failure>, E> {
    let mut beta = vec![0.0; parameters];
    let mut step_size = f64::INFINITY;
    for iteration in 1..=MAX_ITERATIONS {
        let m = moments(&beta)?;
        let step = match solve(&m.information, &m.gradient) {
            Ok(step) => step,
            // At β = 0 the information is X'X/4: singular only for collinear
            // columns. Later it vanishes along a direction whose fitted
            // probabilities have saturated at 0 or 1: separation.
            Err(pivot) if iteration == 1 => return Ok(Err(Failure::Singular { pivot })),
            Err(pivot) => {
                return Ok(Err(Failure::Separation {
                    coefficient: pivot,
                    value: beta[pivot],
                }))
            }
        };
        for (b, s) in beta.iter_mut().zip(&step) {
            *b += s;
        }
        step_size = step.iter().fold(0.0_f64, |a, s| a.max(s.abs()));
        if let Some((coefficient, value)) = beta
            .iter()
            .enumerate()
            .find(|(_, b)| !b.is_finite() || b.abs() > DIVERGENT)
            .map(|(i, b)| (i, *b))
        {
            return Ok(Err(Failure::Separation { coefficient, value }));
        }
        if step_size < tolerance {
            let m = moments(&beta)?;
            return Ok(Ok(Fit {
                coefficients: beta,
                iterations: iteration,
                log_likelihood: m.log_likelihood,
            }));
        }
    }
    Ok(Err(Failure::NoConvergence {
        iterations: MAX_ITERATIONS,
        step: step_size,
    }))
}

/// Solves A·x = b by Gaussian elimination with partial pivoting; `Err`
/// with the column whose pivot vanishes (relative to the matrix's scale).
pub fn solve(a: &[Vec<f64>], b: &[f64]) -> Result<Vec<f64>, usize> {
    let n = b.len();
    let scale = a
        .iter()
        .flatten()
        .fold(0.0_f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let mut m: Vec<Vec<f64>> = a
        .iter()
        .zip(b)
        .map(|(row, v)| {
            let mut r = row.clone();
            r.push(*v);
            r
        })
        .collect();
    for column in 0..n {
        let pivot = (column..n)
            .max_by(|&i, &j| m[i][column].abs().total_cmp(&m[j][column].abs()))
            .unwrap_or(column);
        if m[pivot][column].abs() <= 1e-12 * scale {
            return Err(column);
        }
        m.swap(column, pivot);
        for row in column + 1..n {
            let factor = m[row][column] / m[column][column];
            for k in column..=n {
                m[row][k] -= factor * m[column][k];
            }
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let tail: f64 = (row + 1..n).map(|k| m[row][k] * x[k]).sum();
        x[row] = (m[row][n] - tail) / m[row][row];
    }
    Ok(x)
}

/// The moments of a logit at β over rows (x, y).
pub fn moments_of_rows(rows: &[(Vec<f64>, f64)], beta: &[f64]) -> Moments {
    let patterns: Vec<Pattern> = rows
        .iter()
        .map(|(x, y)| Pattern {
            x: x.clone(),
            units: 1.0,
            trained: *y,
        })
        .collect();
    moments_of_patterns(&patterns, beta)
}

/// Rows that share their covariates: `units` rows with x, `trained` of
/// them with y = 1 (the binomial form of the same likelihood).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub x: Vec<f64>,
    pub units: f64,
    pub trained: f64,
}

/// The moments of a logit at β over covariate patterns: log-likelihood
/// Σ t·η − n·ln(1 + e^η), gradient Σ (t − n·μ)·x, information
/// Σ n·μ(1 − μ)·x·xᵀ.
pub fn moments_of_patterns(patterns: &[Pattern], beta: &[f64]) -> Moments {
    let p = beta.len();
    let mut m = Moments {
        log_likelihood: 0.0,
        gradient: vec![0.0; p],
        information: vec![vec![0.0; p]; p],
    };
    for pattern in patterns {
        let x = &pattern.x;
        let eta: f64 = x.iter().zip(beta).map(|(a, b)| a * b).sum();
        let mu = 1.0 / (1.0 + (-eta).exp());
        // ln(1 + e^η) without overflow.
        let softplus = eta.max(0.0) + (-eta.abs()).exp().ln_1p();
        m.log_likelihood += pattern.trained * eta - pattern.units * softplus;
        let weight = pattern.units * mu * (1.0 - mu);
        for i in 0..p {
            m.gradient[i] += (pattern.trained - pattern.units * mu) * x[i];
            for j in 0..p {
                m.information[i][j] += weight * x[i] * x[j];
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (plan 0/1/2, seats, trained): 40 rows drawn once with numpy
    /// (seed 7) from a logit with plan and seats effects.
    const ROWS: [(u8, u8, u8); 40] = [
        (2, 28, 1),
        (1, 13, 0),
        (2, 50, 1),
        (2, 10, 0),
        (1, 51, 1),
        (2, 37, 1),
        (2, 7, 1),
        (0, 3, 0),
        (0, 27, 0),
        (0, 3, 0),
        (0, 9, 0),
        (2, 31, 1),
        (2, 58, 1),
        (0, 28, 1),
        (1, 48, 1),
        (2, 55, 1),
        (0, 49, 0),
        (2, 38, 1),
        (0, 27, 0),
        (1, 31, 1),
        (2, 16, 1),
        (0, 30, 0),
        (1, 23, 0),
        (0, 15, 1),
        (2, 59, 1),
        (0, 1, 1),
        (2, 6, 1),
        (1, 12, 1),
        (1, 58, 0),
        (1, 41, 1),
        (1, 53, 1),
        (1, 12, 1),
        (1, 43, 0),
        (2, 22, 1),
        (2, 29, 1),
        (2, 1, 0),
        (2, 37, 0),
        (1, 49, 0),
        (1, 40, 1),
        (2, 10, 1),
    ];

    fn design(rows: &[(u8, u8, u8)]) -> Vec<(Vec<f64>, f64)> {
        rows.iter()
            .map(|&(plan, seats, y)| {
                let x = vec![
                    1.0,
                    (plan == 1) as u8 as f64,
                    (plan == 2) as u8 as f64,
                    seats as f64,
                ];
                (x, y as f64)
            })
            .collect()
    }

    #[test]
    fn newton_matches_statsmodels_logit() {
        // statsmodels 0.15 Logit(y, [1, plan=1, plan=2, seats]).fit(tol=1e-12):
        // β = (−1.0550410446621574, 1.1427267628302988, 2.3006150900199014, 0.0105703832059409),
        // log-likelihood −22.5768118205314, 6 iterations.
        let rows = design(&ROWS);
        let fit = fit::<()>(4, 1e-10, |b| Ok(moments_of_rows(&rows, b)))
            .unwrap()
            .unwrap();
        let expected = [
            -1.0550410446621574,
            1.1427267628302988,
            2.3006150900199014,
            0.0105703832059409,
        ];
        for (b, e) in fit.coefficients.iter().zip(expected) {
            assert!((b - e).abs() < 1e-9, "{b} vs {e}");
        }
        assert!((fit.log_likelihood - (-22.5768118205314)).abs() < 1e-9);
        assert!(fit.iterations <= 10, "{}", fit.iterations);
    }

    #[test]
    fn separation_and_collinearity_are_reported() {
        // Every plan-2 account trained: the plan-2 coefficient runs off to +∞.
        let mut rows = ROWS.to_vec();
        for row in rows.iter_mut().filter(|r| r.0 == 2) {
            row.2 = 1;
        }
        let failure = fit::<()>(4, 1e-10, |b| Ok(moments_of_rows(&design(&rows), b)))
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(failure, Failure::Separation { coefficient: 2, .. }),
            "{failure:?}"
        );
        // A column that repeats another: the information matrix is singular.
        let twice: Vec<(Vec<f64>, f64)> = design(&ROWS)
            .into_iter()
            .map(|(mut x, y)| {
                x.push(x[1]);
                (x, y)
            })
            .collect();
        let failure = fit::<()>(5, 1e-10, |b| Ok(moments_of_rows(&twice, b)))
            .unwrap()
            .unwrap_err();
        assert!(matches!(failure, Failure::Singular { .. }), "{failure:?}");
    }

    #[test]
    fn solve_inverts_a_small_system() {
        // 2x + y = 5, x + 3y = 10 → x = 1, y = 3.
        let x = solve(&[vec![2.0, 1.0], vec![1.0, 3.0]], &[5.0, 10.0]).unwrap();
        assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 3.0).abs() < 1e-12);
        assert_eq!(
            solve(&[vec![1.0, 2.0], vec![2.0, 4.0]], &[1.0, 2.0]),
            Err(1)
        );
    }
}
