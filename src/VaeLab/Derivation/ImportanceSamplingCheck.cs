using System.Globalization;
using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// Check 3, any latent size: the importance-weighted bounds IWAE_k sit between the ELBO and log p(x) and
/// close the gap as k grows. Run on the linear-Gaussian model, where the ELBO and log p(x) are exact, with
/// q the best mean-field approximation of the posterior (its mean, variances σ²/M_jj). Error bars are
/// standard errors over examples × repetitions.
/// </summary>
public static class ImportanceSamplingCheck
{
    /// <summary>The check's name in the report.</summary>
    public const string Name = "3 importance sampling";

    /// <summary>Runs the check for k in <paramref name="ks"/> (default 1, 10, 100, 1000, 5000).</summary>
    public static IReadOnlyList<DerivationRow> Run(DerivationFormulas formulas, long seed = 3, int dataDimensions = 784, int latentDimensions = 20, int examples = 8, int repetitions = 4, int[]? ks = null) =>
        Run(formulas, out _, seed, dataDimensions, latentDimensions, examples, repetitions, ks);

    /// <summary>Runs the check and also returns the bounds themselves, for the chart of ELBO, IWAE_k and log p(x).</summary>
    public static IReadOnlyList<DerivationRow> Run(DerivationFormulas formulas, out BoundsSummary bounds, long seed = 3, int dataDimensions = 784, int latentDimensions = 20, int examples = 8, int repetitions = 4, int[]? ks = null)
    {
        ks ??= [1, 10, 100, 1000, 5000];
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        using var model = LinearGaussianModel.Random(dataDimensions, latentDimensions, sigma: 0.5, seed, weightScale: 0.2);
        var (x, _) = model.Sample(examples, generator);
        var (qMean, _) = model.Posterior(x);
        Tensor qLogVariance = model.PrecisionMatrix().diagonal().reciprocal().mul(model.Sigma * model.Sigma).log().unsqueeze(0).expand(examples, -1);
        double logMarginal = model.LogMarginal(x).mean().item<double>();
        double elbo = LinearGaussianCheck.Elbo(model, formulas, x, qMean, qLogVariance).mean().item<double>();

        var rows = new List<DerivationRow>();
        var gaps = new List<(int K, double Gap, double Se)>();
        foreach (int k in ks)
        {
            var estimates = new List<double>();
            for (int r = 0; r < repetitions; r++)
                for (int n = 0; n < examples; n++)
                {
                    using var inner = NewDisposeScope();
                    Tensor logWeights = LogWeights(model, formulas, x[n], qMean[n], qLogVariance[n], k, generator);
                    estimates.Add(logWeights.logsumexp(0).item<double>() - Math.Log(k) - model.LogMarginal(x[n].unsqueeze(0)).item<double>());
                }
            double meanGap = estimates.Average();                       // IWAE_k − log p(x), averaged
            double se = Math.Sqrt(estimates.Sum(e => (e - meanGap) * (e - meanGap)) / (estimates.Count - 1) / estimates.Count);
            double iwae = logMarginal + meanGap;
            string kText = k.ToString(CultureInfo.InvariantCulture);
            rows.Add(DerivationRow.AtMost(Name, $"ELBO ≤ IWAE_{kText}", elbo, iwae, 3 * se,
                $"exact ELBO against the mean of {estimates.Count} IWAE_{kText} estimates; tolerance 3 standard errors"));
            rows.Add(DerivationRow.AtMost(Name, $"IWAE_{kText} ≤ log p(x)", iwae, logMarginal, 3 * se,
                "mean IWAE estimate against exact log N(x; b, WWᵀ+σ²I); tolerance 3 standard errors"));
            gaps.Add((k, -meanGap, se));
        }
        bounds = new BoundsSummary(elbo, logMarginal, gaps.Select(g => new IwaeEstimate(g.K, logMarginal - g.Gap, g.Se)).ToArray());
        var last = gaps[^1];
        rows.Add(DerivationRow.Equal(Name, $"IWAE_{last.K.ToString(CultureInfo.InvariantCulture)} = log p(x)", logMarginal - last.Gap, logMarginal, 3 * last.Se,
            "mean estimate against exact log p(x); tolerance 3 standard errors"));
        // The gap log p(x) − IWAE_k shrinks with k: each gap at most the previous one (up to 3 joint standard errors).
        double worstIncrease = 0, tolerance = 0;
        for (int i = 1; i < gaps.Count; i++)
        {
            double increase = gaps[i].Gap - gaps[i - 1].Gap;
            double allowed = 3 * Math.Sqrt(gaps[i].Se * gaps[i].Se + gaps[i - 1].Se * gaps[i - 1].Se);
            if (increase - allowed > worstIncrease - tolerance) { worstIncrease = increase; tolerance = allowed; }
        }
        rows.Add(new DerivationRow(Name, "log p(x) − IWAE_k shrinks as k grows (largest increase between successive k)",
            gaps[0].Gap, gaps[^1].Gap, Math.Max(0, worstIncrease), tolerance,
            $"gaps {string.Join(", ", gaps.Select(g => $"k={g.K}: {g.Gap.ToString("G3", CultureInfo.InvariantCulture)}"))}",
            worstIncrease <= tolerance));
        return rows;
    }

    /// <summary>log w_i = log p(x|z_i) + log p(z_i) − log q(z_i), z_i = reparameterised draws from q: [k].</summary>
    static Tensor LogWeights(LinearGaussianModel model, DerivationFormulas formulas, Tensor x, Tensor qMean, Tensor qLogVariance, int k, Generator generator)
    {
        using var scope = NewDisposeScope();
        double log2Pi = Math.Log(2 * Math.PI);
        Tensor epsilon = randn(new long[] { k, qMean.shape[0] }, ScalarType.Float64, generator: generator);
        Tensor z = formulas.Reparameterize(qMean.unsqueeze(0), qLogVariance.unsqueeze(0), epsilon);
        Tensor logLikelihood = model.LogLikelihood(x.unsqueeze(0).expand(k, -1), z);
        Tensor logPrior = model.LogPrior(z);
        // log q(z) at the drawn z, written from z itself so a wrong reparameterisation shows.
        Tensor standardised = (z - qMean).mul(qLogVariance.mul(-0.5).exp());
        Tensor logQ = standardised.square().add(qLogVariance).add(log2Pi).sum(1).mul(-0.5);
        return logLikelihood.add(logPrior).sub(logQ).MoveToOuterDisposeScope();
    }
}

/// <summary>IWAE_k averaged over examples and repetitions, with its standard error (nats).</summary>
public sealed record IwaeEstimate(int K, double BoundNats, double StandardError);

/// <summary>The ELBO, the IWAE_k bounds and the exact log p(x) of one model and batch (means over the batch, nats).</summary>
public sealed record BoundsSummary(double ElboNats, double LogMarginalNats, IReadOnlyList<IwaeEstimate> Iwae)
{
    /// <summary>log p(x) − ELBO = the mean KL(q(z|x) ‖ p(z|x)).</summary>
    public double PosteriorGapNats => LogMarginalNats - ElboNats;
}
