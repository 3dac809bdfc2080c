using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Objectives;

/// <summary>How the aggregate posterior q(z) = (1/N) Σ_n q(z|x_n) is estimated from a minibatch of M of the N examples.</summary>
public enum TcEstimator
{
    /// <summary>
    /// Chen et al.'s (2018) minibatch-weighted sampling as published: log q(z_i) ≈ logsumexp_j log q(z_i|x_j) − log(N·M), and the
    /// same per dimension. Its gradients are those of a consistent estimate, but its values carry constants: at M = N its
    /// log q(z) is the empirical aggregate's minus log N, so the mutual information reads log N high, the total correlation
    /// (d − 1)·log N high and the dimension-wise KL d·log N low (their sum, the KL, is right).
    /// </summary>
    MinibatchWeighted,

    /// <summary>
    /// Stratified: the example's own posterior weighted 1/N and each of the M − 1 others (N − 1)/(N·(M − 1)), so the weights sum
    /// to 1 and at M = N the estimate is the empirical aggregate exactly (Chen et al.'s minibatch stratified sampling in spirit).
    /// </summary>
    MinibatchStratified,
}

/// <summary>
/// The KL term split as β-TCVAE does (Chen et al. 2018): for z_i ~ q(z|x_i), log q(z_i|x_i) − log p(z_i) = [log q(z_i|x_i) −
/// log q(z_i)] (index-code mutual information) + [log q(z_i) − Σ_d log q(z_id)] (total correlation) + [Σ_d log q(z_id) −
/// log p(z_i)] (dimension-wise KL), with q(z) and its marginals q(z_d) estimated from the minibatch. The three parts add up to
/// the single-draw KL exactly, whatever the estimator. Needs a diagonal Gaussian posterior (its marginals are closed-form).
/// </summary>
public static class TotalCorrelation
{
    /// <summary>The three parts per example, nats, [M] each.</summary>
    /// <param name="z">One draw per example from q(z|x), [M, d].</param>
    /// <param name="mean">μ(x), [M, d].</param>
    /// <param name="logVariance">log σ²(x), [M, d].</param>
    /// <param name="logPrior">log p(z_i), [M].</param>
    /// <param name="datasetSize">N, the number of training examples the minibatch was drawn from (at least M).</param>
    /// <param name="estimator">How q(z) is estimated.</param>
    public static (Tensor MutualInformation, Tensor TotalCorrelation, Tensor DimensionWiseKl) Decompose(Tensor z, Tensor mean, Tensor logVariance, Tensor logPrior,
        long datasetSize, TcEstimator estimator = TcEstimator.MinibatchWeighted)
    {
        long m = z.shape[0];
        if (datasetSize < m) throw new ArgumentOutOfRangeException(nameof(datasetSize), datasetSize, $"The data set of N = {datasetSize} examples cannot hold a minibatch of M = {m}.");
        if (estimator == TcEstimator.MinibatchStratified && m < 2) throw new ArgumentException("The stratified estimator needs a minibatch of at least 2.", nameof(z));
        using var scope = NewDisposeScope();
        Tensor perDimension = DiagonalGaussian.LogDensityPerDimension(z.unsqueeze(1), mean.unsqueeze(0), logVariance.unsqueeze(0));   // [M, M, d]: log q(z_id | x_j)
        Tensor logConditional = DiagonalGaussian.LogDensity(z, mean, logVariance);                                                       // [M]: log q(z_i | x_i)
        Tensor logWeights = LogWeights(m, datasetSize, estimator, z.dtype, z.device);                                                    // [M, M]
        Tensor logAggregate = perDimension.sum(2).add(logWeights).logsumexp(1);                                                          // [M]
        Tensor logMarginals = perDimension.add(logWeights.unsqueeze(2)).logsumexp(1).sum(1);                                            // [M]
        return (logConditional.sub(logAggregate).MoveToOuterDisposeScope(), logAggregate.sub(logMarginals).MoveToOuterDisposeScope(),
            logMarginals.sub(logPrior).MoveToOuterDisposeScope());
    }

    /// <summary>The log-weight of q(z_i | x_j) in the estimate of q(z_i), [M, M].</summary>
    public static Tensor LogWeights(long m, long datasetSize, TcEstimator estimator, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        if (estimator == TcEstimator.MinibatchWeighted) return full(new long[] { m, m }, -Math.Log((double)datasetSize * m), dtype, device);
        Tensor weights = full(new long[] { m, m }, Math.Log((datasetSize - 1.0) / (datasetSize * (m - 1.0))), dtype, device);
        using (Tensor own = weights.diagonal()) own.fill_(-Math.Log(datasetSize));   // a view: fills the weights' diagonal
        return weights;
    }
}
