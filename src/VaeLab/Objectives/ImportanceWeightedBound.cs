using VaeLab.Models;
using VaeLab.Models.Posteriors;
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
    /// <summary>
    /// log w = log p(x|z) + log p(z) − log q(z|x) for <paramref name="k"/> reparameterised draws per example from q with parameters
    /// λ ([N, P] in the model's family): [k, N].
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">k below 1.</exception>
    /// <exception cref="ArgumentException">λ not [N, P] for the model's family, or not one row per example of <paramref name="flatX"/>.</exception>
    public static Tensor LogWeights(VariationalAutoencoder model, Tensor flatX, Tensor parameters, int k, Generator? generator = null)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        model.Posterior.CheckParameters(parameters, nameof(parameters));
        if (parameters.shape[0] != flatX.shape[0])
            throw new ArgumentException($"parameters has {parameters.shape[0]} rows for {flatX.shape[0]} examples.", nameof(parameters));
        using var scope = NewDisposeScope();
        var (logLikelihood, logPrior, logDensity) = WeightTerms(model, flatX, parameters, k, generator);
        return LogWeight(logLikelihood, logPrior, logDensity).MoveToOuterDisposeScope();
    }

    /// <summary>log w = log p(x|z) + log p(z) − log q(z|x), elementwise.</summary>
    internal static Tensor LogWeight(Tensor logLikelihood, Tensor logPrior, Tensor logDensity) => logLikelihood.add(logPrior).sub(logDensity);

    /// <summary>log w for a diagonal Gaussian q = N(<paramref name="mean"/>, diag exp(<paramref name="logVariance"/>)), on a model whose family is that one.</summary>
    /// <exception cref="InvalidOperationException">The model's posterior family is not the diagonal Gaussian.</exception>
    public static Tensor LogWeights(VariationalAutoencoder model, Tensor flatX, Tensor mean, Tensor logVariance, int k, Generator? generator = null)
    {
        if (model.Posterior is not DiagonalPosterior)
            throw new InvalidOperationException($"q given as (μ, log σ²) needs a diagonal Gaussian posterior; the model's is {model.Posterior.Spec}: pass its parameters λ.");
        using Tensor parameters = cat([mean, logVariance], -1);
        return LogWeights(model, flatX, parameters, k, generator);
    }

    /// <summary>The three terms of log w for k draws z ~ q: log p(x|z), log p(z) and log q(z|x), each [k, N].</summary>
    internal static (Tensor LogLikelihood, Tensor LogPrior, Tensor LogDensity) WeightTerms(VariationalAutoencoder model, Tensor flatX, Tensor parameters, int k, Generator? generator)
    {
        using var scope = NewDisposeScope();
        long n = flatX.shape[0], d = model.LatentDimensions;
        var (z, logDensity) = model.SamplePosterior(parameters, k, generator);   // [k, N, d], [k, N]
        Tensor xK = flatX.unsqueeze(0).expand(k, -1, -1).reshape(k * n, -1);
        Tensor logLikelihood = model.Likelihood.LogProb(xK, model.Decode(z.view(k * n, d))).view(k, n);
        Tensor logPrior = model.Prior.LogDensity(z);
        return (logLikelihood.MoveToOuterDisposeScope(), logPrior.MoveToOuterDisposeScope(), logDensity.MoveToOuterDisposeScope());
    }

    /// <summary>IWAE_k per example, [N], differentiable (for training with the IWAE objective).</summary>
    /// <exception cref="ArgumentOutOfRangeException">k below 1.</exception>
    public static Tensor Estimate(VariationalAutoencoder model, Tensor x, int k, Generator? generator = null)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        using var scope = NewDisposeScope();
        Tensor flat = x.view(x.shape[0], -1);
        Tensor logWeights = LogWeights(model, flat, model.Encode(x), k, generator);
        return FromLogWeights(logWeights).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// MIWAE(M, K) from log-weights [M·K, N]: the mean over M groups of K consecutive samples of each group's IWAE_K, [N] (Rainforth
    /// et al. 2018). M = 1 is IWAE_{K}; K = 1 the mean of the log-weights, the ELBO's Monte Carlo estimate.
    /// </summary>
    /// <exception cref="ArgumentException">The sample count is not M·K for a whole K.</exception>
    public static Tensor Miwae(Tensor logWeights, int groups)
    {
        if (groups < 1 || logWeights.shape[0] % groups != 0)
            throw new ArgumentException($"MIWAE's {groups} groups must divide the {logWeights.shape[0]} samples.", nameof(groups));
        long k = logWeights.shape[0] / groups;
        using Tensor grouped = logWeights.view(groups, k, -1);
        using Tensor perGroup = grouped.logsumexp(1).sub(Math.Log(k));   // [M, N]
        return perGroup.mean([0]);
    }

    /// <summary>CIWAE(β) from log-weights [K, N]: β·(mean of the log-weights: the ELBO) + (1 − β)·IWAE_K, [N] (Rainforth et al. 2018).</summary>
    public static Tensor Ciwae(Tensor logWeights, double beta)
    {
        if (!(beta >= 0 && beta <= 1)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "CIWAE's β must lie in [0, 1].");
        using Tensor elbo = logWeights.mean([0]);
        using Tensor iwae = FromLogWeights(logWeights);
        return elbo.mul(beta).add(iwae.mul(1 - beta));
    }

    /// <summary>log (1/k) Σ_i w_i per example from log-weights [k, N], by a stable log-sum-exp: [N].</summary>
    public static Tensor FromLogWeights(Tensor logWeights)
    {
        using Tensor logSum = logWeights.logsumexp(0);
        return logSum.sub(Math.Log(logWeights.shape[0]));
    }
}
