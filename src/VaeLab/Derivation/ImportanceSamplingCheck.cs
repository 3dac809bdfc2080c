using System.Globalization;
using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Models;
using VaeLab.Objectives;
using static TorchSharp.torch;
using VaeLab.Derivation.References;

namespace VaeLab.Derivation;

/// <summary>
/// Check 3, any latent size: the library's <see cref="ImportanceWeightedBound"/> and
/// <see cref="Evaluator"/> on the linear-Gaussian VAE, where the ELBO and log p(x) are exact. IWAE_k sits between
/// the ELBO and log p(x) and closes the gap as k grows (error bars: standard errors over examples × repetitions);
/// when q is the exact posterior every importance weight equals p(x), so the bound and the evaluator's estimate
/// are log p(x) to round-off with zero Monte Carlo error; the evaluator's averages and standard errors equal a
/// loop written here over the same draws.
/// </summary>
public sealed class ImportanceSamplingCheck : IDerivationCheck
{
    /// <inheritdoc/>
    public int Number => 3;

    string IDerivationCheck.Name => Name;

    /// <inheritdoc/>
    public IReadOnlyList<DerivationRow> Rows(CheckContext context)
    {
        var rows = Run(context.Components, out BoundsSummary bounds);
        context.Bounds = bounds;
        return rows;
    }

    /// <summary>The check's name in the report.</summary>
    public const string Name = "3 importance sampling";

    /// <summary>Runs the check for k in <paramref name="ks"/> (default 1, 10, 100, 1000, 5000).</summary>
    public static IReadOnlyList<DerivationRow> Run(CheckedComponents? components = null, long seed = 3, int dataDimensions = 784, int latentDimensions = 20, int examples = 8, int repetitions = 4, int[]? ks = null) =>
        Run(components, out _, seed, dataDimensions, latentDimensions, examples, repetitions, ks);

    /// <summary>Runs the check and also returns the bounds themselves, for the chart of ELBO, IWAE_k and log p(x).</summary>
    public static IReadOnlyList<DerivationRow> Run(CheckedComponents? components, out BoundsSummary bounds, long seed = 3, int dataDimensions = 784, int latentDimensions = 20, int examples = 8, int repetitions = 4, int[]? ks = null)
    {
        components ??= CheckedComponents.Library;
        ks ??= [1, 10, 100, 1000, 5000];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed);
        using var model = LinearGaussianModel.Random(dataDimensions, latentDimensions, sigma: 0.5, seed, weightScale: 0.2);
        var (x, _) = model.Sample(examples, generator);
        VariationalAutoencoder vae = components.Apply(model.MeanFieldVariationalAutoencoder());
        var (qMean, qLogVariance) = vae.EncodeDiagonal(x);
        Tensor exactLogMarginal = model.LogMarginal(x);
        double logMarginal = exactLogMarginal.mean().item<double>();
        double elbo = model.ExpectedLogLikelihood(x, qMean, qLogVariance).sub(ReferenceGaussian.KlToStandardNormal(qMean, qLogVariance.exp())).mean().item<double>();

        var rows = new List<DerivationRow>();
        var gaps = new List<(int K, double Gap, double Se)>();
        foreach (int k in ks)
        {
            string kText = k.ToString(CultureInfo.InvariantCulture);
            var estimates = new List<double>();                         // IWAE_k − log p(x), per example and repetition
            for (int r = 0; r < repetitions; r++)
            {
                using var inner = NewDisposeScope();
                estimates.AddRange(ImportanceWeightedBound.Estimate(vae, x, k, generator).sub(exactLogMarginal).data<double>().ToArray());
            }
            double meanGap = estimates.Average();
            double se = Math.Sqrt(estimates.Sum(e => (e - meanGap) * (e - meanGap)) / (estimates.Count - 1) / estimates.Count);
            double iwae = logMarginal + meanGap;
            string method = $"mean of {estimates.Count} ImportanceWeightedBound.Estimate values ({examples} examples × {repetitions}) against the closed form; tolerance 3 standard errors ({se:G2})";
            rows.Add(DerivationRow.AtMost(Name, $"ELBO ≤ IWAE_{kText}", elbo, iwae, 3 * se, method));
            rows.Add(DerivationRow.AtMost(Name, $"IWAE_{kText} ≤ log p(x)", iwae, logMarginal, 3 * se, method));
            if (k == 1)
                rows.Add(DerivationRow.Equal(Name, "IWAE_1 = ELBO (one importance weight is an unbiased ELBO estimate)", iwae, elbo, 3 * se, method));
            gaps.Add((k, -meanGap, se));
        }
        bounds = new BoundsSummary(elbo, logMarginal, gaps.Select(g => new IwaeEstimate(g.K, logMarginal - g.Gap, g.Se)).ToArray());
        var last = gaps[^1];
        rows.Add(DerivationRow.Equal(Name, $"IWAE_{last.K.ToString(CultureInfo.InvariantCulture)} = log p(x)", logMarginal - last.Gap, logMarginal, 3 * last.Se,
            "mean estimate against Woodbury log p(x); tolerance 3 standard errors"));
        rows.Add(GapsShrink(gaps));

        // Exact posterior: log w = log p(x|z) + log p(z) − log q(z|x) = log p(x) for every z.
        using var orthogonal = LinearGaussianModel.Random(dataDimensions, latentDimensions, sigma: 0.5, seed + 1, orthogonalColumns: true, weightScale: 0.2);
        var (xo, _) = orthogonal.Sample(examples, generator);
        VariationalAutoencoder exact = components.Apply(orthogonal.MeanFieldVariationalAutoencoder());
        var (exactMean, exactLogVariance) = exact.EncodeDiagonal(xo);
        Tensor exactLogPx = orthogonal.LogMarginal(xo);
        Tensor logWeights = ImportanceWeightedBound.LogWeights(exact, xo, exactMean, exactLogVariance, 200, generator);
        rows.Add(MaxRow("q = p(z|x): every importance weight p(x|z)p(z)/q(z|x) equals p(x) (worst of 200 draws × examples)", logWeights, exactLogPx.unsqueeze(0),
            "ImportanceWeightedBound.LogWeights against Woodbury log p(x)"));
        rows.Add(MaxRow("q = p(z|x): IWAE_1000 = log p(x) (worst example)", ImportanceWeightedBound.Estimate(exact, xo, 1000, generator), exactLogPx,
            "ImportanceWeightedBound.Estimate against Woodbury log p(x)"));
        using (var exactData = new Dataset("linear-Gaussian (orthogonal W)", "derivation check 3", xo.clone()))
        {
            LogLikelihoodEstimate estimate = Evaluator.ImportanceSampledLogLikelihood(exact, exactData, k: 1000, seed: seed, batchSize: 3, chunk: 300);
            double truth = exactLogPx.mean().item<double>();
            rows.Add(DerivationRow.Equal(Name, "q = p(z|x): the evaluator's log p(x) (k = 1000, in chunks of 300) is exact",
                estimate.LogLikelihoodNats, truth, 1e-8, "Evaluator.ImportanceSampledLogLikelihood against Woodbury log p(x); tolerance 1e-8 (round-off)"));
            // Equal weights have zero variance; the reported SE is the square root of the variance's round-off, about √ε.
            rows.Add(DerivationRow.AtMost(Name, "q = p(z|x): the evaluator's Monte Carlo standard error is 0", estimate.MonteCarloStandardError, 0, 1e-6,
                "reported MonteCarloStandardError; tolerance 1e-6, the square root of float64 round-off in the weights' variance"));
        }

        using var data = new Dataset("linear-Gaussian", "derivation check 3", x.clone());
        rows.AddRange(EvaluatorRows(vae, data, exactLogMarginal, seed));
        return rows;
    }

    // The evaluator on the mean-field q: its estimate against the truth, and its arithmetic against a loop over the same draws.
    static IEnumerable<DerivationRow> EvaluatorRows(VariationalAutoencoder vae, Dataset data, Tensor exactLogMarginal, long seed)
    {
        using var scope = NewDisposeScope();
        Tensor x = data.Examples;
        int n = data.Count;
        double truth = exactLogMarginal.mean().item<double>();
        LogLikelihoodEstimate estimate = Evaluator.ImportanceSampledLogLikelihood(vae, data, k: 1000, seed: seed, batchSize: 5, chunk: 250);
        yield return DerivationRow.Equal(Name, "the evaluator's importance-sampled log p(x) (k = 1000) = exact log p(x)", estimate.LogLikelihoodNats, truth,
            4 * estimate.MonteCarloStandardError, $"Evaluator.ImportanceSampledLogLikelihood against Woodbury; tolerance 4 reported Monte Carlo standard errors ({estimate.MonteCarloStandardError:G2})");

        // One batch and one chunk: the evaluator draws exactly the weights LogWeights draws from a generator with its seed.
        const int k = 400;
        LogLikelihoodEstimate single = Evaluator.ImportanceSampledLogLikelihood(vae, data, k, seed, batchSize: n, chunk: k);
        double[] logW;
        using (var generator = new Generator((ulong)seed))
        {
            var (mean, logVariance) = vae.EncodeDiagonal(x);
            logW = ImportanceWeightedBound.LogWeights(vae, x.view(n, -1), mean, logVariance, k, generator).t().contiguous().data<double>().ToArray();
        }
        var (loopMean, loopMonteCarlo, loopData) = LoopLogLikelihood(logW, n, k);
        double worst = new[] { single.LogLikelihoodNats - loopMean, single.MonteCarloStandardError - loopMonteCarlo, single.DataStandardError - loopData }.Max(Math.Abs);
        yield return new DerivationRow(Name, "the evaluator's log p̂(x), Monte Carlo and data standard errors = a loop over the same weights (worst of the three)",
            single.LogLikelihoodNats, loopMean, worst, 1e-9,
            $"C# loop: log-mean-exp per example, delta-method variance Σ(w − w̄)²/(k(k−1)w̄²), spread over examples; MC SE {loopMonteCarlo:G3}, data SE {loopData:G3}; tolerance 1e-9",
            worst <= 1e-9);

        ElboSummary summary = Evaluator.TestElbo(vae, data, seed, batchSize: n);
        double[] elbo, reconstruction, kl;
        using (var generator = new Generator((ulong)seed))
        {
            using ElboEstimate terms = Elbo.Estimate(vae, x, generator);
            elbo = terms.ElboNats().data<double>().ToArray();
            reconstruction = terms.ReconstructionLogLikelihoodNats.data<double>().ToArray();
            kl = terms.KlNats.data<double>().ToArray();
        }
        double elboMean = elbo.Average(), elboSe = Math.Sqrt(elbo.Sum(e => (e - elboMean) * (e - elboMean)) / (n - 1) / n);
        double worstElbo = new[] { summary.ElboNats - elboMean, summary.ElboStandardError - elboSe, summary.ReconstructionLogLikelihoodNats - reconstruction.Average(), summary.KlNats - kl.Average() }.Max(Math.Abs);
        yield return new DerivationRow(Name, "the evaluator's test ELBO, its standard error, E_q[log p(x|z)] and KL = a loop over Elbo.Estimate's values (worst of the four)",
            summary.ElboNats, elboMean, worstElbo, 1e-9, "C# loop over the per-example terms of one Elbo.Estimate call with the evaluator's seed; tolerance 1e-9", worstElbo <= 1e-9);

        double[] klPerDimension = Evaluator.KlPerDimension(vae, data);
        var (qMean, qLogVariance) = vae.EncodeDiagonal(x);
        double[] reference = ReferenceGaussian.KlPerDimensionByQuadrature(qMean, qLogVariance.exp()).mean([0]).data<double>().ToArray();
        double worstKl = klPerDimension.Zip(reference, (a, b) => Math.Abs(a - b)).Max();
        yield return new DerivationRow(Name, "the evaluator's KL per latent dimension = Gauss–Hermite E_q[log q − log p] (worst dimension)",
            klPerDimension.Sum(), reference.Sum(), worstKl, 1e-10, "12-node Gauss–Hermite rule per dimension with Normal.log_prob; tolerance 1e-10", worstKl <= 1e-10);
    }

    static (double Mean, double MonteCarloSe, double DataSe) LoopLogLikelihood(double[] logW, int n, int k)
    {
        var perExample = new double[n];
        double monteCarloVariance = 0;
        for (int i = 0; i < n; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < k; j++) max = Math.Max(max, logW[i * k + j]);
            var w = new double[k];
            for (int j = 0; j < k; j++) w[j] = Math.Exp(logW[i * k + j] - max);   // weights scaled by e^(−max): the ratios below do not change
            double wMean = w.Average();
            perExample[i] = max + Math.Log(wMean);
            double sampleVariance = w.Sum(v => (v - wMean) * (v - wMean)) / (k - 1);
            monteCarloVariance += sampleVariance / (k * wMean * wMean);
        }
        double mean = perExample.Average();
        double dataSe = Math.Sqrt(perExample.Sum(v => (v - mean) * (v - mean)) / (n - 1) / n);
        return (mean, Math.Sqrt(monteCarloVariance) / n, dataSe);
    }

    static DerivationRow MaxRow(string step, Tensor left, Tensor right, string method)
    {
        double worst = (left - right).abs().max().item<double>();
        return new DerivationRow(Name, step, left.mean().item<double>(), right.mean().item<double>(), worst, 1e-8, method + "; tolerance 1e-8 (round-off)", worst <= 1e-8);
    }

    // log p(x) − IWAE_k must not grow with k: each gap at most the previous one, up to 3 joint standard errors.
    static DerivationRow GapsShrink(List<(int K, double Gap, double Se)> gaps)
    {
        double worstExcess = double.NegativeInfinity, worstIncrease = 0, tolerance = 0;
        for (int i = 1; i < gaps.Count; i++)
        {
            double increase = gaps[i].Gap - gaps[i - 1].Gap;
            double allowed = 3 * Math.Sqrt(gaps[i].Se * gaps[i].Se + gaps[i - 1].Se * gaps[i - 1].Se);
            if (increase - allowed > worstExcess) { worstExcess = increase - allowed; worstIncrease = Math.Max(0, increase); tolerance = allowed; }
        }
        string shown = string.Join("; ", gaps.Select(g => string.Create(CultureInfo.InvariantCulture, $"k={g.K}: {g.Gap:G3} ± {g.Se:G2}")));
        return new DerivationRow(Name, "log p(x) − IWAE_k shrinks as k grows (largest increase between successive k)",
            gaps[0].Gap, gaps[^1].Gap, worstIncrease, tolerance, $"gaps (nats ± SE): {shown}; tolerance 3 joint standard errors", worstIncrease <= tolerance);
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
