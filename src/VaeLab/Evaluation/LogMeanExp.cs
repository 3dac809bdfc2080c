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

    /// <summary>log (1/k) Σ_i w_i over the last dimension of <paramref name="logWeights"/> [..., k], and its delta-method variance.</summary>
    public static (Tensor LogMean, Tensor Variance) Of(Tensor logWeights)
    {
        using var scope = NewDisposeScope();
        long k = logWeights.shape[^1];
        Tensor logSum = logWeights.logsumexp(-1);
        Tensor logSumSquares = logWeights.mul(2).logsumexp(-1);
        Tensor variance = DeltaVariance(logSum, logSumSquares, k);
        return (logSum.sub(Math.Log(k)).MoveToOuterDisposeScope(), variance.MoveToOuterDisposeScope());
    }
}
