using static TorchSharp.torch;

namespace VaeLab.Evaluation;

/// <summary>
/// log of a mean of importance weights, log (1/k) Σ_i w_i, and its Monte Carlo variance by the delta method:
/// Var(log p̂) ≈ Var(w) / (k · E[w]²), estimated as (k·Σw²/(Σw)² − 1) / (k − 1). The one home of that formula for the
/// importance-sampled log p(x) and the AIS estimates.
/// </summary>
public static class LogMeanExp
{
    /// <summary>The delta-method variance of log (1/k) Σ w from log Σ w and log Σ w² (per example; 0 when k = 1).</summary>
    public static Tensor DeltaVariance(Tensor logSum, Tensor logSumSquares, long k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        using var scope = NewDisposeScope();
        if (k == 1) return zeros_like(logSum).MoveToOuterDisposeScope();
        Tensor ratio = logSumSquares.sub(logSum.mul(2)).exp().mul(k);
        return ratio.sub(1).clamp_min(0).div(k - 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// log (1/k) Σ_i w_i over the last dimension of <paramref name="logWeights"/> [..., k], and its Monte Carlo variance for few,
    /// possibly heavy-tailed weights (AIS with 16 chains). The delta method alone reads the tail from the sample moments of w, which
    /// miss the rare large weights: with log w ~ N(·, s²) it reports half the true standard deviation at s = 2 (k = 16). So the
    /// variance is the larger of the delta method and min((e^{s²} − 1)/k, v_k·s²), s² the sample variance of log w: the first is the
    /// log-normal law of large k, the second the small-k limit where the mean is ruled by the largest weight (v_k = the variance of
    /// the maximum of k standard normals). Measured against simulated log-normal weights this is within −5 % … +50 % of the true
    /// standard deviation for s from 0.3 to 5 (conservative where it errs), and check 7 compares it with repeated AIS runs.
    /// </summary>
    public static (Tensor LogMean, Tensor Variance) Of(Tensor logWeights)
    {
        using var scope = NewDisposeScope();
        long k = logWeights.shape[^1];
        Tensor logSum = logWeights.logsumexp(-1);
        Tensor logSumSquares = logWeights.mul(2).logsumexp(-1);
        Tensor delta = DeltaVariance(logSum, logSumSquares, k);
        Tensor variance = delta;
        if (k > 1)
        {
            Tensor spread = logWeights.var(-1);
            Tensor tail = spread.expm1().div(k).minimum(spread.mul(MaximumOfNormalsVariance((int)Math.Min(k, int.MaxValue))));
            variance = delta.maximum(tail);
        }
        return (logSum.sub(Math.Log(k)).MoveToOuterDisposeScope(), variance.MoveToOuterDisposeScope());
    }

    /// <summary>The variance of the largest of <paramref name="k"/> independent standard normals (0.70 for k = 2, 0.37 for 8, 0.30 for 16), by quadrature.</summary>
    public static double MaximumOfNormalsVariance(int k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        // Density of the maximum k φ(x) Φ(x)^{k−1} on a fine grid over [−12, 12] (the tails beyond hold < 1e-30).
        const int points = 24_000;
        const double low = -12, high = 12, h = (high - low) / points;
        double m0 = 0, m1 = 0, m2 = 0;
        for (int i = 0; i < points; i++)
        {
            double x = low + (i + 0.5) * h;
            double density = k * Math.Exp(-0.5 * x * x - 0.5 * Math.Log(2 * Math.PI) + (k - 1) * LogStandardNormalCdf(x));
            m0 += density * h;
            m1 += density * x * h;
            m2 += density * x * x * h;
        }
        double mean = m1 / m0;
        return m2 / m0 - mean * mean;
    }

    // log Φ(x) from erfc below (relative error ~1e-7: ample for a variance constant).
    static double LogStandardNormalCdf(double x) => x > -5 ? Math.Log(0.5 * Erfc(-x / Math.Sqrt(2))) : LogTail(x);

    // log Φ(x) for x ≤ −5 by the asymptotic series: log φ(x) − log(−x) + log(1 − 1/x² + 3/x⁴ − 15/x⁶).
    static double LogTail(double x)
    {
        double x2 = x * x;
        return -0.5 * x2 - 0.5 * Math.Log(2 * Math.PI) - Math.Log(-x) + Math.Log(1 - 1 / x2 + 3 / (x2 * x2) - 15 / (x2 * x2 * x2));
    }

    // erfc by the Numerical Recipes Chebyshev fit (fractional error below 1.2e-7 everywhere): enough for a variance constant.
    static double Erfc(double x)
    {
        double z = Math.Abs(x), t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398
            + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
