using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Objectives;

/// <summary>The evidence lower bound of a VAE, estimated with reparameterised samples and the analytic KL.</summary>
public static class Elbo
{
    /// <summary>
    /// Estimates the ELBO terms for a batch <paramref name="x"/> [N, ...]: E_q[log p(x|z)] by the mean over
    /// <paramref name="samples"/> reparameterised draws z = μ + σ ⊙ ε (ε from <paramref name="generator"/>),
    /// and KL(q‖p) analytically. Differentiable: call backward on a loss built from it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one sample.</exception>
    public static ElboEstimate Estimate(VariationalAutoencoder model, Tensor x, Generator? generator = null, int samples = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "At least one sample of z is needed.");
        var (mean, logVariance) = model.Encode(x);
        using (mean)
        using (logVariance)
            return Estimate(model, x, mean, logVariance, generator, samples);
    }

    /// <summary>
    /// The ELBO terms for a given diagonal Gaussian q = N(<paramref name="mean"/>, diag exp(<paramref name="logVariance"/>)) ([N, d]
    /// each) instead of the encoder's: what a per-example q fitted by optimisation is scored with (<c>LocalPosterior</c>).
    /// Differentiable in μ and log σ² (and the decoder). The returned estimate owns its tensors, including copies' handles to μ and log σ².
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one sample.</exception>
    public static ElboEstimate Estimate(VariationalAutoencoder model, Tensor x, Tensor mean, Tensor logVariance, Generator? generator = null, int samples = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "At least one sample of z is needed.");
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        Tensor flat = x.view(n, -1);
        Tensor logLikelihood;
        if (samples == 1)
        {
            Tensor z = VariationalAutoencoder.Reparameterize(mean, logVariance, generator);
            logLikelihood = model.Likelihood.LogProb(flat, model.Decode(z));
        }
        else
        {
            // All samples in one batch [S·N, d]: one decoder pass instead of S.
            Tensor meanS = mean.unsqueeze(0).expand(samples, -1, -1).reshape(samples * n, -1);
            Tensor logVarianceS = logVariance.unsqueeze(0).expand(samples, -1, -1).reshape(samples * n, -1);
            Tensor z = VariationalAutoencoder.Reparameterize(meanS, logVarianceS, generator);
            Tensor xS = flat.unsqueeze(0).expand(samples, -1, -1).reshape(samples * n, -1);
            logLikelihood = model.Likelihood.LogProb(xS, model.Decode(z)).view(samples, n).mean([0]);
        }
        Tensor klPerDimension = GaussianKl.PerDimension(mean, logVariance);
        Tensor kl = klPerDimension.sum(1);
        return new ElboEstimate(logLikelihood.MoveToOuterDisposeScope(), kl.MoveToOuterDisposeScope(),
            klPerDimension.MoveToOuterDisposeScope(), mean.alias().MoveToOuterDisposeScope(), logVariance.alias().MoveToOuterDisposeScope());
    }
}
