using VaeLab.Models;
using VaeLab.Models.Posteriors;
using static TorchSharp.torch;

namespace VaeLab.Objectives;

/// <summary>
/// The evidence lower bound of a VAE, estimated with reparameterised samples of q(z|x) in the model's posterior family, and the
/// KL to the prior analytic where the family has a closed form (the Gaussians), else by Monte Carlo on the same samples:
/// KL ≈ (1/S) Σ_s [log q(z_s|x) − log p(z_s)].
/// </summary>
public static class Elbo
{
    /// <summary>
    /// Estimates the ELBO terms for a batch <paramref name="x"/> [N, ...]: E_q[log p(x|z)] by the mean over
    /// <paramref name="samples"/> reparameterised draws z = f(λ(x), ε) (ε from <paramref name="generator"/>), and KL(q‖p).
    /// Differentiable: call backward on a loss built from it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one sample.</exception>
    public static ElboEstimate Estimate(VariationalAutoencoder model, Tensor x, Generator? generator = null, int samples = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "At least one sample of z is needed.");
        using Tensor parameters = model.Encode(x);
        return Estimate(model, x, parameters, generator, samples);
    }

    /// <summary>
    /// The ELBO terms for a given diagonal Gaussian q = N(<paramref name="mean"/>, diag exp(<paramref name="logVariance"/>)) ([N, d]
    /// each) instead of the encoder's, for a model whose posterior family is the diagonal Gaussian.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one sample.</exception>
    /// <exception cref="InvalidOperationException">The model's posterior family is not the diagonal Gaussian.</exception>
    public static ElboEstimate Estimate(VariationalAutoencoder model, Tensor x, Tensor mean, Tensor logVariance, Generator? generator = null, int samples = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Posterior is not DiagonalPosterior)
            throw new InvalidOperationException($"q given as (μ, log σ²) needs a diagonal Gaussian posterior; the model's is {model.Posterior.Spec}: pass its parameters λ.");
        using Tensor parameters = cat([mean, logVariance], -1);
        return Estimate(model, x, parameters, generator, samples);
    }

    /// <summary>
    /// The ELBO terms for given posterior parameters λ ([N, P] in the model's family) instead of the encoder's: what a per-example q
    /// fitted by optimisation is scored with (<c>LocalPosterior</c>). Differentiable in λ (and the decoder and the family's weights).
    /// The returned estimate owns its tensors, including a handle to λ.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one sample.</exception>
    public static ElboEstimate Estimate(VariationalAutoencoder model, Tensor x, Tensor parameters, Generator? generator = null, int samples = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "At least one sample of z is needed.");
        PosteriorFamily family = model.Posterior;
        family.CheckParameters(parameters, nameof(parameters));
        using var scope = NewDisposeScope();
        long n = x.shape[0], d = model.LatentDimensions;
        Tensor flat = x.view(n, -1);
        // The closed form is KL to N(0, I): for any other prior the KL is estimated from the same draws.
        Tensor? kl = model.AnalyticKl(parameters);
        // One noise tensor [S, N, d] for all samples: S samples are one decoder pass of S·N rows.
        Tensor epsilon = model.PosteriorNoise(parameters, samples, generator);
        Tensor z, logDensity = empty(0);
        if (kl is null) (z, logDensity) = family.SampleWithLogDensity(parameters, epsilon);
        else z = family.Sample(parameters, epsilon);
        Tensor logLikelihood;
        if (samples == 1)
            logLikelihood = model.Likelihood.LogProb(flat, model.Decode(z.reshape(n, d)));
        else
        {
            Tensor xS = flat.unsqueeze(0).expand(samples, -1, -1).reshape(samples * n, -1);
            logLikelihood = model.Likelihood.LogProb(xS, model.Decode(z.reshape(samples * n, d))).view(samples, n).mean([0]);
        }
        // Without a closed form: KL ≈ the mean over the samples of log q(z|x) − log p(z).
        kl ??= logDensity.sub(model.Prior.LogDensity(z)).mean([0]);
        Tensor? klPerDimension = model.AnalyticKlPerDimension(parameters);
        return new ElboEstimate(logLikelihood.MoveToOuterDisposeScope(), kl.MoveToOuterDisposeScope(),
            klPerDimension?.MoveToOuterDisposeScope(), parameters.alias().MoveToOuterDisposeScope());
    }
}
