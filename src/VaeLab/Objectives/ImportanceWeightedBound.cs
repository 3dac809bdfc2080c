using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Objectives;

/// <summary>
/// The importance-weighted bound (Burda, Grosse and Salakhutdinov 2016):
/// IWAE_k = E[log (1/k) Σ_i w_i], w_i = p(x|z_i) p(z_i) / q(z_i|x), z_i ~ q(z|x). IWAE_1 is the ELBO, the bound
/// does not decrease with k, and it tends to log p(x). Computed with a stable log-sum-exp. Its gradient is
/// autodiff through log-sum-exp of reparameterised log-weights, Σ_i w̃_i ∇ log w_i with normalised weights w̃
/// treated as the softmax's output: no extra term, as in the paper.
/// </summary>
public static class ImportanceWeightedBound
{
    static readonly double Log2Pi = Math.Log(2 * Math.PI);

    /// <summary>
    /// log w for <paramref name="k"/> draws per example: [k, N]. log p(z) and log q(z|x) use the same ε, so
    /// log q = −½ Σ_j (ε_j² + log σ_j² + log 2π) exactly.
    /// </summary>
    public static Tensor LogWeights(VariationalAutoencoder model, Tensor flatX, Tensor mean, Tensor logVariance, int k, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        long n = flatX.shape[0], d = mean.shape[1];
        Tensor epsilon = randn(new long[] { k, n, d }, mean.dtype, mean.device, generator: generator);
        Tensor z = mean.unsqueeze(0).addcmul(logVariance.mul(0.5).exp().unsqueeze(0), epsilon, 1);
        Tensor zFlat = z.view(k * n, d);
        Tensor xK = flatX.unsqueeze(0).expand(k, -1, -1).reshape(k * n, -1);
        Tensor logLikelihood = model.Likelihood.LogProb(xK, model.Decode(zFlat)).view(k, n);
        Tensor logPrior = z.square().sum(2).add(d * Log2Pi).mul(-0.5);
        Tensor logPosterior = epsilon.square().sum(2).add(logVariance.sum(1).unsqueeze(0)).add(d * Log2Pi).mul(-0.5);
        return logLikelihood.add(logPrior).sub(logPosterior).MoveToOuterDisposeScope();
    }

    /// <summary>IWAE_k per example, [N], differentiable (for training with the IWAE objective).</summary>
    /// <exception cref="ArgumentOutOfRangeException">k below 1.</exception>
    public static Tensor Estimate(VariationalAutoencoder model, Tensor x, int k, Generator? generator = null)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        using var scope = NewDisposeScope();
        Tensor flat = x.view(x.shape[0], -1);
        var (mean, logVariance) = model.Encode(x);
        Tensor logWeights = LogWeights(model, flat, mean, logVariance, k, generator);
        return logWeights.logsumexp(0).sub(Math.Log(k)).MoveToOuterDisposeScope();
    }
}
