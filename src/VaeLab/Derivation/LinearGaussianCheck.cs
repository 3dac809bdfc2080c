using VaeLab.Models;
using VaeLab.Objectives;
using static TorchSharp.torch;
using VaeLab.Derivation.References;

namespace VaeLab.Derivation;

/// <summary>
/// Check 1, exact: the linear-Gaussian model p(z) = N(0, I), p(x|z) = N(Wz + b, σ²I) built as a
/// <see cref="VariationalAutoencoder"/> from the library's own classes (an affine encoder, a one-layer decoder,
/// the fixed-σ Gaussian likelihood). Its log p(x), posterior and ELBO are closed form, so the library's encoder,
/// decoder, likelihood, <see cref="GaussianKl"/> and <see cref="Elbo.Estimate(VariationalAutoencoder, Tensor, Generator?, int)"/> meet exact values: to round-off
/// where the library computes in closed form, within Monte Carlo standard errors where it samples.
/// </summary>
public sealed class LinearGaussianCheck : IDerivationCheck
{
    /// <inheritdoc/>
    public int Number => 1;

    string IDerivationCheck.Name => Name;

    /// <inheritdoc/>
    public IReadOnlyList<DerivationRow> Rows(CheckContext context) => Run(context.Components);

    /// <summary>The check's name in the report.</summary>
    public const string Name = "1 linear-Gaussian VAE (exact)";

    /// <summary>Runs the check on a random model with D = <paramref name="dataDimensions"/>, d = <paramref name="latentDimensions"/>.</summary>
    /// <param name="components">The components under test (the library's by default).</param>
    /// <param name="seed">Seed of the model, the data and every draw.</param>
    /// <param name="dataDimensions">D.</param>
    /// <param name="latentDimensions">d.</param>
    /// <param name="examples">Examples drawn from the model.</param>
    /// <param name="monteCarloSamples">z draws per example for the ELBO estimates.</param>
    public static IReadOnlyList<DerivationRow> Run(CheckedComponents? components = null, long seed = 1, int dataDimensions = 784, int latentDimensions = 20, int examples = 8, int monteCarloSamples = 4_000)
    {
        components ??= CheckedComponents.Library;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed);
        var rows = new List<DerivationRow>();
        using var model = LinearGaussianModel.Random(dataDimensions, latentDimensions, sigma: 0.5, seed, weightScale: 0.2);
        var (x, _) = model.Sample(examples, generator);

        // An encoder that is not the posterior: its mean map shifted, its log-variance affine in x around −3.
        var (a, bias) = model.PosteriorMeanMap();
        VariationalAutoencoder vae = components.Apply(model.ToVariationalAutoencoder(a, bias + randn(latentDimensions, dtype: ScalarType.Float64, generator: generator).mul(0.3),
            randn(latentDimensions, dataDimensions, dtype: ScalarType.Float64, generator: generator).mul(0.002),
            randn(latentDimensions, dtype: ScalarType.Float64, generator: generator).mul(0.5).sub(3)));
        var (qMean, qLogVariance) = vae.EncodeDiagonal(x);
        var (posteriorMean, posteriorCovariance) = model.Posterior(x);
        Tensor logMarginal = model.LogMarginal(x);
        Tensor closedReconstruction = model.ExpectedLogLikelihood(x, qMean, qLogVariance);
        Tensor klToPosterior = ReferenceGaussian.KlDiagonalToFull(qMean, qLogVariance.exp(), posteriorMean, posteriorCovariance);
        rows.Add(MaxRow("log p(x) − ELBO(q) = KL(q ‖ p(z|x))", logMarginal - (closedReconstruction - GaussianKl.ToStandardNormal(qMean, qLogVariance)), klToPosterior, 1e-8,
            "left: Woodbury log N(x; b, WWᵀ+σ²I) − (closed-form E_q[log p(x|z)] − GaussianKl) for the encoder's q; right: dense-matrix KL to the exact posterior N(M⁻¹Wᵀ(x−b), σ²M⁻¹)"));
        rows.Add(DerivationRow.AtMost(Name, "KL(q ‖ p(z|x)) ≥ 0 (smallest over the batch)", 0, klToPosterior.min().item<double>(), 0, "dense-matrix KL, closed form"));

        Tensor z = randn(new long[] { examples, latentDimensions }, ScalarType.Float64, generator: generator);
        Tensor decoded = vae.Likelihood.LogProb(x, vae.Decode(z));
        Tensor reference = ReferenceGaussian.LogDensity(x, z.matmul(model.Weight.t()).add(model.Bias), full(new long[] { 1 }, model.Sigma, ScalarType.Float64));
        rows.Add(MaxRow("log p(x|z) of the VAE's decoder and likelihood = log N(x; Wz + b, σ²I)", decoded, reference, 1e-9,
            "VariationalAutoencoder.Decode + Likelihood.LogProb against TorchSharp's Normal.log_prob at Wz + b"));

        // The library's Monte Carlo ELBO against the closed form (reconstruction from the model, KL by dense algebra).
        Tensor closedElbo = closedReconstruction - ReferenceGaussian.KlToStandardNormal(qMean, qLogVariance.exp());
        var (oneSample, oneVariance) = EstimateRow("Elbo.Estimate, one z per example (x repeated) = closed-form ELBO", vae, x, closedElbo, monteCarloSamples, 1, generator);
        var (fiftySamples, fiftyVariance) = EstimateRow("Elbo.Estimate(samples: 50) = closed-form ELBO", vae, x, closedElbo, monteCarloSamples / 50, 50, generator);
        rows.Add(oneSample);
        rows.Add(fiftySamples);
        // An average of 50 independent draws has 1/50 of one draw's variance; the sample variances' relative SE is √(2/(R − 1)) each.
        double ratio = 50 * fiftyVariance / oneVariance;
        double ratioSe = ratio * Math.Sqrt(2.0 / (monteCarloSamples / 50 - 1) / x.shape[0] + 2.0 / (monteCarloSamples - 1) / x.shape[0]);
        rows.Add(DerivationRow.Equal(Name, "Elbo.Estimate(samples: 50) averages 50 independent draws: 50 × its variance = the one-draw variance", ratio, 1, 4 * ratioSe,
            $"ratio of the pooled per-example variances of the two rows above, times 50; tolerance 4 standard errors ({ratioSe:G2})"));

        rows.Add(MaxRow("Reconstruct(x) = the likelihood's mean at z = μ(x): W μ(x) + b", vae.Reconstruct(x), qMean.matmul(model.Weight.t()).add(model.Bias), 1e-9,
            "VariationalAutoencoder.Reconstruct against a dense matrix product with the encoder's μ"));
        rows.Add(SampleRow(vae, model, monteCarloSamples * 5, generator));
        rows.AddRange(BayesRuleSteps(vae, x, logMarginal, posteriorMean, posteriorCovariance, klToPosterior, monteCarloSamples * 5, generator));

        // q = p(z|x): with orthogonal columns of W the posterior is diagonal, the encoder can output it, and the bound is tight.
        using var orthogonal = LinearGaussianModel.Random(dataDimensions, latentDimensions, sigma: 0.5, seed + 1, orthogonalColumns: true, weightScale: 0.2);
        var (xo, _) = orthogonal.Sample(examples, generator);
        VariationalAutoencoder exact = components.Apply(orthogonal.MeanFieldVariationalAutoencoder());
        var (exactMean, exactLogVariance) = exact.EncodeDiagonal(xo);
        Tensor tight = orthogonal.ExpectedLogLikelihood(xo, exactMean, exactLogVariance) - GaussianKl.ToStandardNormal(exactMean, exactLogVariance);
        rows.Add(MaxRow("ELBO(q) = log p(x) when the encoder gives q = p(z|x)", tight, orthogonal.LogMarginal(xo), 1e-8,
            "W with orthogonal columns (diagonal posterior), encoder set to the exact posterior; closed-form E_q[log p(x|z)] − GaussianKl against Woodbury log p(x)"));
        return rows;
    }

    // The notes' steps from Bayes' rule for the first example, at the library's own draws z ~ q(z|x):
    // KL(q ‖ p(z|x)) = E_q[log q − log p(z|x)] = E_q[log q − log p(x|z) − log p(z)] + log p(x) = log p(x) − E_q[log p(x|z)] + KL(q ‖ p(z)).
    static IEnumerable<DerivationRow> BayesRuleSteps(VariationalAutoencoder vae, Tensor x, Tensor logMarginal, Tensor posteriorMean, Tensor posteriorCovariance, Tensor klToPosterior, int samples, Generator generator)
    {
        using var scope = NewDisposeScope();
        Tensor x0 = x[0].unsqueeze(0);
        var (mean, logVariance) = vae.EncodeDiagonal(x0);
        Tensor z = VariationalAutoencoder.Reparameterize(mean.expand(samples, -1), logVariance.expand(samples, -1), generator);
        Tensor logLikelihood = vae.Likelihood.LogProb(x0.expand(samples, -1), vae.Decode(z));
        Tensor logPrior = DiagonalGaussian.LogStandardNormal(z), logQ = DiagonalGaussian.LogDensity(z, mean, logVariance);
        double logPx = logMarginal[0].item<double>(), truth = klToPosterior[0].item<double>();
        Tensor logPosterior = ReferenceGaussian.LogDensityFull(z, posteriorMean[0], posteriorCovariance);
        double worst = (logLikelihood + logPrior - logPx - logPosterior).abs().max().item<double>();
        yield return new DerivationRow(Name, $"Bayes' rule at each of {samples:N0} drawn z: log p(x|z) + log p(z) − log p(x) = log p(z|x) (first example, worst z)",
            (logLikelihood + logPrior).mean().item<double>() - logPx, logPosterior.mean().item<double>(), worst, 1e-8,
            "left: the VAE's decoder and likelihood, DiagonalGaussian.LogStandardNormal, Woodbury log p(x); right: full-covariance log N(z; M⁻¹Wᵀ(x−b), σ²M⁻¹) by Cholesky; tolerance 1e-8", worst <= 1e-8);
        Tensor direct = logQ - logPosterior;
        double directSe = direct.std().item<double>() / Math.Sqrt(samples);
        yield return DerivationRow.Equal(Name, "KL(q ‖ p(z|x)) = E_q[log q(z|x) − log p(z|x)] (first example)", direct.mean().item<double>(), truth, 4 * directSe,
            $"Monte Carlo over the drawn z with DiagonalGaussian.LogDensity against the dense-matrix KL; tolerance 4 standard errors ({directSe:G2})");
        double rearrangedSe = logLikelihood.std().item<double>() / Math.Sqrt(samples);
        double rearranged = logPx - logLikelihood.mean().item<double>() + GaussianKl.ToStandardNormal(mean, logVariance).item<double>();
        yield return DerivationRow.Equal(Name, "KL(q ‖ p(z|x)) = log p(x) − E_q[log p(x|z)] + KL(q ‖ p(z)) (first example)", rearranged, truth, 4 * rearrangedSe,
            $"Woodbury log p(x), Monte Carlo E_q[log p(x|z)] over the drawn z, GaussianKl; against the dense-matrix KL; tolerance 4 standard errors ({rearrangedSe:G2})");
    }

    // VariationalAutoencoder.Sample decodes z ~ p(z) to the likelihood's mean Wz + b: mean b, variance (WWᵀ)_ii per pixel.
    static DerivationRow SampleRow(VariationalAutoencoder vae, LinearGaussianModel model, int samples, Generator generator)
    {
        using var scope = NewDisposeScope();
        Tensor drawn = vae.Sample(samples, generator);
        Tensor variance = model.Weight.square().sum([1]);                                  // diag(WWᵀ)
        Tensor meanZ = drawn.mean([0]).sub(model.Bias).div(variance.div(samples).sqrt()).abs();
        Tensor varianceZ = drawn.var(0).sub(variance).div(variance.mul(Math.Sqrt(2.0 / (samples - 1)))).abs();
        double worst = Math.Max(meanZ.max().item<double>(), varianceZ.max().item<double>());
        return new DerivationRow(Name, $"Sample({samples:N0}) = E[x|z] for z ~ p(z): mean b and variance diag(WWᵀ) per pixel (worst of {2 * model.DataDimensions} standard scores)",
            drawn.mean().item<double>(), model.Bias.mean().item<double>(), worst, 4.5,
            "VariationalAutoencoder.Sample against the linear model's moments; difference in standard errors, tolerance 4.5 (784 pixels × 2 moments)", worst <= 4.5);
    }

    static DerivationRow MaxRow(string step, Tensor left, Tensor right, double tolerance, string method)
    {
        double worst = (left - right).abs().max().item<double>();
        return new DerivationRow(Name, step + " (worst example)", left.mean().item<double>(), right.mean().item<double>(), worst, tolerance,
            method + $"; tolerance {tolerance:G2} (float64 round-off)", worst <= tolerance);
    }

    // Elbo.Estimate on x repeated `replicates` times, `samples` z per call: the mean over examples against the closed form,
    // with the standard error from the spread of the replicates of each example.
    static (DerivationRow Row, double PooledVariance) EstimateRow(string step, VariationalAutoencoder vae, Tensor x, Tensor closedElbo, int replicates, int samples, Generator generator)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        using ElboEstimate terms = Elbo.Estimate(vae, x.repeat(replicates, 1), generator, samples);
        Tensor values = terms.ElboNats().view(replicates, n);
        double pooledVariance = values.var(0).mean().item<double>();
        double standardError = Math.Sqrt(pooledVariance * n / replicates) / n;
        return (DerivationRow.Equal(Name, step, values.mean().item<double>(), closedElbo.mean().item<double>(), 4 * standardError,
            $"mean over {n} examples × {replicates:N0} calls of {samples} sample(s); closed form −(D/2) log 2πσ² − (‖x−Wm−b‖² + Σ s²‖W_j‖²)/2σ² minus the dense-matrix KL; tolerance 4 standard errors ({standardError:G2})"), pooledVariance);
    }
}
