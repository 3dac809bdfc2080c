using VaeLab.Derivation.References;
using VaeLab.Evaluation.Inference;
using VaeLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>One example's sides of log p(x) = ELBO + KL(q ‖ p(z|x)), each measured by its own method (<see cref="GridIdentity"/>).</summary>
/// <param name="LogMarginal">log p(x) on check 2's global grid (1024² midpoints), nats.</param>
/// <param name="Elbo">The ELBO by <see cref="LocalPosterior.Score(VariationalAutoencoder, Tensor, Tensor, int, Generator?, int)"/> with the encoder's q, nats.</param>
/// <param name="ElboStandardError">The ELBO's Monte Carlo standard error, nats.</param>
/// <param name="Kl">KL(q(z|x) ‖ p(z|x)) on a 300² local grid, q's density from the family's own LogDensity, the posterior normalised there, nats.</param>
/// <param name="Tolerance">4 standard errors of the ELBO + both grids' refinement changes + 0.001 nats: how far apart the sides may be.</param>
/// <param name="QMass">∫ q(z|x) dz on the local grid (1 up to the grid's error).</param>
public sealed record IdentitySides(double LogMarginal, double Elbo, double ElboStandardError, double Kl, double Tolerance, double QMass)
{
    /// <summary>log p(x) − ELBO, the left side.</summary>
    public double Difference => LogMarginal - Elbo;

    /// <summary>Whether the two sides agree within <see cref="Tolerance"/>.</summary>
    public bool Holds => Math.Abs(Difference - Kl) <= Tolerance;
}

/// <summary>
/// The identity log p(x) = ELBO + KL(q ‖ p(z|x)) on a VAE with a 2-D latent and any posterior family, each side by its own
/// method: log p(x) by quadrature over [−7, 7]², the ELBO by the library's Monte Carlo estimator (Monte Carlo KL where the
/// family has no closed form), and the KL by quadrature on a local grid with q's density from the family's inversion. Check 10
/// runs it on a planar flow; notebook 07 shows it.
/// </summary>
public static class GridIdentity
{
    /// <summary>Measures both sides for each example of <paramref name="x"/> [N, ...] (the model is evaluated in float64 and returned to its dtype).</summary>
    /// <param name="model">A VAE with a 2-D latent.</param>
    /// <param name="x">The examples.</param>
    /// <param name="seed">Seed of the Monte Carlo draws.</param>
    /// <param name="samples">Draws of the ELBO per example.</param>
    /// <exception cref="ArgumentException">A latent size other than 2.</exception>
    public static IReadOnlyList<IdentitySides> Measure(VariationalAutoencoder model, Tensor x, long seed = 2, int samples = 20_000)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        if (model.LatentDimensions != 2) throw new ArgumentException($"The identity on grids needs a 2-dimensional latent; this model has {model.LatentDimensions}.", nameof(model));
        ScalarType original = model.parameters().First().dtype;
        bool training = model.training;
        model.to(ScalarType.Float64);
        model.eval();
        try
        {
            return Sides(model, x, seed, samples);
        }
        finally
        {
            model.to(original);
            model.train(training);
        }
    }

    static List<IdentitySides> Sides(VariationalAutoencoder model, Tensor x, long seed, int samples)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int examples = (int)x.shape[0];
        Tensor flat = x.to_type(ScalarType.Float64).view(examples, -1);
        Tensor coarse = QuadratureCheck.LogMarginalOnGrid(model, flat, 512), logMarginal = QuadratureCheck.LogMarginalOnGrid(model, flat, 1024);
        Tensor parameters = model.Encode(flat);
        using var generator = new Generator((ulong)seed);
        var (elbo, variance) = LocalPosterior.Score(model, flat, parameters, samples, generator);
        var (posteriorMean, posteriorSd) = QuadratureCheck.PosteriorMomentsOnGrid(model, flat, 256);
        var result = new List<IdentitySides>();
        for (int i = 0; i < examples; i++)
        {
            using var inner = NewDisposeScope();
            Tensor lambda = parameters.narrow(0, i, 1);
            // Where q sits: the mean and spread of its draws.
            Tensor draws = model.Posterior.Sample(lambda, randn(new long[] { 4000, 1, 2 }, ScalarType.Float64, generator: generator)).squeeze(1);
            Tensor qMean = draws.mean([0]), qSd = draws.std(0);
            Tensor low = minimum(qMean - qSd * 10, posteriorMean[i] - posteriorSd[i] * 10), high = maximum(qMean + qSd * 10, posteriorMean[i] + posteriorSd[i] * 10);
            (double Kl, double Mass) OnGrid(int n)
            {
                using var gridScope = NewDisposeScope();
                double[] lo = low.data<double>().ToArray(), hi = high.data<double>().ToArray();
                Tensor[] axes = Enumerable.Range(0, 2).Select(j => arange(n, dtype: ScalarType.Float64).add(0.5).mul((hi[j] - lo[j]) / n).add(lo[j])).ToArray();
                Tensor grid = stack(meshgrid(axes, indexing: "ij").Select(g => g.reshape(-1)).ToArray(), 1);
                double logCell = Math.Log((hi[0] - lo[0]) / n) + Math.Log((hi[1] - lo[1]) / n);
                Tensor logJoint = QuadratureCheck.LogLikelihood(model, flat[i], grid).add(ReferenceGaussian.LogStandardNormal(grid));
                double logNormaliser = logJoint.logsumexp(0).item<double>() + logCell;
                Tensor logQ = model.Posterior.LogDensity(grid.unsqueeze(1), lambda).squeeze(1);
                Tensor qMass = logQ.add(logCell).exp();
                double mass = qMass.sum().item<double>();
                return (qMass.mul(logQ - logJoint).sum().item<double>() / mass + logNormaliser, mass);
            }
            var (klCoarse, _) = OnGrid(150);
            var (kl, qTotal) = OnGrid(300);
            double standardError = Math.Sqrt(variance[i].item<double>());
            double tolerance = 4 * standardError + Math.Abs(kl - klCoarse) + Math.Abs(logMarginal[i].item<double>() - coarse[i].item<double>()) + 1e-3;
            result.Add(new IdentitySides(logMarginal[i].item<double>(), elbo[i].item<double>(), standardError, kl, tolerance, qTotal));
        }
        return result;
    }
}
