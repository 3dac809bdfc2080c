using TorchSharp;
using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Evaluation.Inference;
using VaeLab.Models;
using static TorchSharp.torch;
using VaeLab.Derivation.References;

namespace VaeLab.Derivation;

/// <summary>
/// Check 9, the insides of the estimators behind the inference-gap figures, where an error moves an answer by less than the
/// statistical rows of check 7 can see: which chains' weights enter an AIS estimate (replayed exactly with one distribution,
/// where the weights are closed form), the log-mean-exp's standard error in each of its regimes, the distribution reverse AIS's
/// transitions leave invariant (with two distributions reverse AIS is unbiased for 1/p(x)), what BDMC simulates (a draw from
/// p(x|z), not its mean), and the gap decomposition's arithmetic (every mean and standard error over its per-example values,
/// the gaps adding up, L[q*], the approximation gap and the total gap on 8-bit data against closed forms).
/// </summary>
public sealed class EstimatorInternalsCheck : IDerivationCheck
{
    /// <inheritdoc/>
    public int Number => 9;

    string IDerivationCheck.Name => Name;

    /// <inheritdoc/>
    public IReadOnlyList<DerivationRow> Rows(CheckContext context) => Run(context.Components);

    /// <summary>The check's name in the report.</summary>
    public const string Name = "9 estimator internals";

    /// <summary>Runs the check.</summary>
    /// <param name="components">The components under test (the library's by default).</param>
    /// <param name="seed">Seed of the models, the data and every draw.</param>
    public static IReadOnlyList<DerivationRow> Run(CheckedComponents? components = null, long seed = 9)
    {
        components ??= CheckedComponents.Library;
        var rows = new List<DerivationRow>();
        rows.AddRange(SingleDistributionRows(components, seed));
        rows.AddRange(LogMeanExpRows(seed));
        rows.Add(ReverseTwoDistributionRow(components, seed));
        rows.AddRange(BdmcRows(components, seed));
        rows.AddRange(GapArithmeticRows(components, seed));
        return rows;
    }

    // With one distribution AIS is importance sampling from the prior, log w = log p(x|z₀) with z₀ ~ N(0, I): replaying the chains'
    // starting draws (pilots first in each example's block of rows, batches of RowsPerBatch rows) gives every weight in closed form.
    static IEnumerable<DerivationRow> SingleDistributionRows(CheckedComponents components, long seed)
    {
        const int examples = 7, chains = 16, pilots = 2, width = chains + pilots, perBatch = 3;
        var rows = new List<DerivationRow>();
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        using var model = LinearGaussianModel.Random(196, 3, sigma: 0.5, seed, weightScale: 0.05);
        var (x, _) = model.Sample(examples, generator);
        VariationalAutoencoder vae = components.Apply(model.MeanFieldVariationalAutoencoder());
        var options = new AisOptions(Distributions: 1, Chains: chains, PilotChains: pilots, RowsPerBatch: perBatch * width);
        AisEstimate ais;
        using (var run = new Generator((ulong)seed + 1)) ais = AnnealedImportanceSampling.Forward(vae, x, options, run);
        var logWeights = new List<double[]>();
        using (var replay = new Generator((ulong)seed + 1))
            for (int start = 0; start < examples; start += perBatch)
            {
                int count = Math.Min(perBatch, examples - start);
                Tensor z = randn(new long[] { count * width, 3 }, ScalarType.Float64, generator: replay);
                double[] all = model.LogLikelihood(x.narrow(0, start, count).repeat_interleave(width, 0), z).data<double>().ToArray();
                for (int i = 0; i < count; i++) logWeights.Add(all.Skip(i * width + pilots).Take(chains).ToArray());
            }
        double vk = LogMeanExp.MaximumOfNormalsVariance(chains);   // the constant has a row of its own
        var reference = logWeights.Select(w => LogMeanExpLoop(w, vk)).ToArray();
        double worstValue = reference.Select((r, i) => Math.Abs(ais.PerExampleNats[i] - r.LogMean)).Max();
        double worstVariance = reference.Select((r, i) => Math.Abs(ais.PerExampleVariance[i] - r.Variance) / r.Variance).Max();
        rows.Add(DerivationRow.Equal(Name, "AIS with one distribution: each example's estimate = log-mean-exp of its 16 kept chains' weights log p(x|z₀) (pilots excluded; 3 batches)",
            worstValue, 0, 1e-9, $"AnnealedImportanceSampling.Forward (T = 1, 16 chains + 2 pilots, {perBatch} examples a batch) against the replayed starting draws, Woodbury's log N(x; Wz₀ + b, σ²I) and a C# loop; worst of {examples} examples; tolerance 1e-9"));
        rows.Add(DerivationRow.Equal(Name, "AIS with one distribution: each example's Monte Carlo variance = max(delta method, min((e^{s²} − 1)/k, v_k s²)) of its kept weights (worst, relative)",
            worstVariance, 0, 1e-9, $"AisEstimate.PerExampleVariance against the documented formula in a C# loop, v₁₆ = {vk:F6} (its own row below); tolerance 1e-9 relative"));
        double mean = reference.Average(r => r.LogMean);
        double monteCarlo = Math.Sqrt(reference.Sum(r => r.Variance)) / examples;
        double data = Math.Sqrt(reference.Sum(r => (r.LogMean - mean) * (r.LogMean - mean)) / (examples - 1) / examples);
        double worstSe = new[] { ais.LogLikelihoodNats - mean, (ais.MonteCarloStandardError - monteCarlo) / monteCarlo, (ais.DataStandardError - data) / data }.Max(Math.Abs);
        rows.Add(new DerivationRow(Name, "AIS with one distribution: the mean, its Monte Carlo standard error √(Σ Var_i)/n and its data standard error = a loop (worst, relative)",
            ais.MonteCarloStandardError, monteCarlo, worstSe, 1e-9, $"AisEstimate's LogLikelihoodNats, MonteCarloStandardError ({monteCarlo:G3}) and DataStandardError ({data:G3}) against the loop's; tolerance 1e-9", worstSe <= 1e-9));
        return rows;
    }

    // LogMeanExp.Of in each regime of its variance: the delta method (log-weights spread 0.05), the log-normal tail (spread 1) and
    // the maximum-of-normals limit (spread 4), for k = 16 and k = 2; and the constant v_k against closed forms and quadrature.
    static IEnumerable<DerivationRow> LogMeanExpRows(long seed)
    {
        var rows = new List<DerivationRow>();
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed + 2);
        double worstValue = 0, worstVariance = 0;
        foreach (int k in new[] { 2, 16 })
        {
            double vk = LogMeanExp.MaximumOfNormalsVariance(k);
            foreach (double spread in new[] { 0.05, 1.0, 4.0 })
            {
                Tensor logWeights = randn(new long[] { 5, k }, ScalarType.Float64, generator: generator).mul(spread).add(-30);
                var (logMean, variance) = LogMeanExp.Of(logWeights);
                double[] values = logMean.data<double>().ToArray(), variances = variance.data<double>().ToArray();
                for (int i = 0; i < 5; i++)
                {
                    var reference = LogMeanExpLoop(logWeights[i].data<double>().ToArray(), vk);
                    worstValue = Math.Max(worstValue, Math.Abs(values[i] - reference.LogMean));
                    worstVariance = Math.Max(worstVariance, Math.Abs(variances[i] - reference.Variance) / reference.Variance);
                }
            }
        }
        rows.Add(DerivationRow.Equal(Name, "LogMeanExp.Of: log (1/k) Σ w and its variance in every regime (delta method, log-normal tail, maximum of normals; k = 2, 16) = a loop (worst, relative)",
            Math.Max(worstValue, worstVariance), 0, 1e-9, "30 rows of log-weights with spreads 0.05, 1, 4 around −30 against the documented formula in a C# loop; tolerance 1e-9"));
        double two = LogMeanExp.MaximumOfNormalsVariance(2), three = LogMeanExp.MaximumOfNormalsVariance(3), sixteen = LogMeanExp.MaximumOfNormalsVariance(16);
        double exactThree = 1 + Math.Sqrt(3) / (2 * Math.PI) - 9 / (4 * Math.PI), grid = MaximumOfNormalsVarianceByQuadrature(16);
        double worst = Math.Max(Math.Abs(two - (1 - 1 / Math.PI)), Math.Max(Math.Abs(three - exactThree), Math.Abs(sixteen - grid)));
        rows.Add(new DerivationRow(Name, "the variance of the largest of k standard normals: v₂ = 1 − 1/π, v₃ = 1 + √3/2π − 9/4π, v₁₆ by quadrature (worst)",
            two, 1 - 1 / Math.PI, worst, 1e-6, $"LogMeanExp.MaximumOfNormalsVariance against the closed forms and a 200,001-point rule with erfc (v₁₆ = {grid:F6}); tolerance 1e-6 (its erfc fit is good to 1.2e-7)", worst <= 1e-6));
        return rows;
    }

    // Reverse AIS from exact posterior draws with T = 2: the weight f₁(z₂)/f₂(z₂) · f₀(z₁)/f₁(z₁), z₁ from a transition that leaves f₁
    // invariant, has expectation 1/p(x) exactly. 256 posterior draws per example (each its own reverse run of 16 chains) pooled:
    // −log of the mean of e^{−estimate} is then unbiased up to the log of a mean. A transition that leaves f₂ (the posterior)
    // invariant instead keeps z₁ at the posterior and biases the weight.
    static DerivationRow ReverseTwoDistributionRow(CheckedComponents components, long seed)
    {
        const int examples = 8, draws = 256, chains = 16;
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed + 3);
        using var model = new LinearGaussianModel(full(4, 1, 0.5, dtype: ScalarType.Float64), zeros(4, dtype: ScalarType.Float64), 1.0);
        var (x, _) = model.Sample(examples, generator);
        VariationalAutoencoder vae = components.Apply(model.MeanFieldVariationalAutoencoder());
        var (posteriorMean, posteriorCovariance) = model.Posterior(x);
        Tensor z = posteriorMean.repeat_interleave(draws, 0).add(randn(new long[] { examples * draws, 1 }, ScalarType.Float64, generator: generator).mul(posteriorCovariance.sqrt()));
        var options = new AisOptions(Distributions: 2, Chains: chains, InitialStepSize: 0.15, RowsPerBatch: examples * draws * (chains + 2));
        AisEstimate reverse = AnnealedImportanceSampling.Reverse(vae, x.repeat_interleave(draws, 0), z, options, generator);
        double[] exact = model.LogMarginal(x).data<double>().ToArray();
        double pooledSum = 0, varianceSum = 0;
        for (int i = 0; i < examples; i++)
        {
            // v_r = e^{−estimate_r} p(x): mean 1 when unbiased.
            double[] ratios = reverse.PerExampleNats.Skip(i * draws).Take(draws).Select(e => Math.Exp(exact[i] - e)).ToArray();
            double mean = ratios.Average(), variance = ratios.Sum(v => (v - mean) * (v - mean)) / (draws - 1);
            pooledSum += exact[i] - Math.Log(mean);
            varianceSum += variance / (draws * mean * mean);
        }
        double pooled = pooledSum / examples, se = Math.Sqrt(varianceSum) / examples, truth = exact.Average();
        return DerivationRow.Equal(Name, "reverse AIS with T = 2 from exact posterior draws is unbiased for 1/p(x): −log of the pooled mean reverse weight = exact log p(x) (1-D latent)",
            pooled, truth, 3 * se + 0.002, $"AnnealedImportanceSampling.Reverse on 8 examples × {draws} posterior draws × {chains} chains of a 4-pixel model (W = 0.5, σ = 1), pooled per example, against Woodbury; tolerance 3 standard errors ({se:G2}) + 0.002");
    }

    // BDMC's data: z ~ p(z) and x ~ p(x|z), so x − (Wz + b) ~ N(0, σ²I) and z ~ N(0, I); and the bracket it computes on that data
    // contains the exact log p(x) of the same simulated examples (replayed from the seed).
    static IEnumerable<DerivationRow> BdmcRows(CheckedComponents components, long seed)
    {
        const int count = 4000, dimensions = 196, latent = 3;
        const double sigma = 0.5;
        var rows = new List<DerivationRow>();
        using var scope = NewDisposeScope();
        using var model = LinearGaussianModel.Random(dimensions, latent, sigma, seed, weightScale: 0.05);
        VariationalAutoencoder vae = components.Apply(model.MeanFieldVariationalAutoencoder());
        Tensor x, z;
        using (var generator = new Generator((ulong)seed + 4)) (x, z) = BidirectionalMonteCarlo.Simulate(vae, count, generator);
        Tensor residual = x.to_type(ScalarType.Float64).sub(z.to_type(ScalarType.Float64).matmul(model.Weight.t()).add(model.Bias));
        double n = residual.numel(), zn = z.numel();
        double[] scores =
        [
            residual.mean().item<double>() / (sigma / Math.Sqrt(n)),
            (residual.square().mean().item<double>() / (sigma * sigma) - 1) / Math.Sqrt(2 / n),
            z.mean().item<double>() / (1 / Math.Sqrt(zn)),
            (z.square().mean().item<double>() - 1) / Math.Sqrt(2 / zn),
        ];
        double worst = scores.Max(Math.Abs);
        rows.Add(new DerivationRow(Name, "BDMC simulates x ~ p(x|z), z ~ p(z): x − (Wz + b) has mean 0 and variance σ², z mean 0 and variance 1 (worst of 4 standard scores)",
            residual.square().mean().item<double>(), sigma * sigma, worst, 4.5, $"BidirectionalMonteCarlo.Simulate, {count:N0} pairs of a linear-Gaussian VAE (D = {dimensions}, σ = {sigma}); pooled moments in standard errors; at most 4.5", worst <= 4.5));

        const int bracketCount = 8;
        BdmcBracket bracket = BidirectionalMonteCarlo.Run(vae, bracketCount, new AisOptions(Distributions: 200), seed + 5);
        Tensor simulated;
        using (var replay = new Generator((ulong)seed + 5)) (simulated, _) = BidirectionalMonteCarlo.Simulate(vae, bracketCount, replay);
        double exact = model.LogMarginal(simulated).mean().item<double>();
        double lowSe = bracket.Lower.MonteCarloStandardError, highSe = bracket.Upper.MonteCarloStandardError;
        rows.Add(DerivationRow.AtMost(Name, "BidirectionalMonteCarlo.Run: forward AIS ≤ exact log p(x) of the simulated data", bracket.Lower.LogLikelihoodNats, exact, 3 * lowSe,
            $"the lower end (200 distributions × 16 chains) against Woodbury at the data Run simulated (replayed from its seed); tolerance 3 standard errors ({lowSe:G2})"));
        rows.Add(DerivationRow.AtMost(Name, "BidirectionalMonteCarlo.Run: exact log p(x) ≤ reverse AIS (the upper bound)", exact, bracket.Upper.LogLikelihoodNats, 3 * highSe,
            $"the upper end, reverse AIS from the simulating latents; tolerance 3 standard errors ({highSe:G2})"));
        rows.Add(DerivationRow.AtMost(Name, $"BidirectionalMonteCarlo.Run: the bracket is narrow, upper − lower ≤ 0.2 nats (width {bracket.WidthNats:F3})", bracket.WidthNats, 0.2,
            3 * Math.Sqrt(lowSe * lowSe + highSe * highSe), "BdmcBracket.WidthNats on a 3-latent model at 200 distributions; tolerance 3 joint standard errors"));
        return rows;
    }

    // The decomposition on 8-bit data with orthogonal W (q* can be the exact posterior) and an encoder that is off: every reported
    // mean and standard error over the per-example values, the per-example identities, and L[q*], the gaps against closed forms.
    static IEnumerable<DerivationRow> GapArithmeticRows(CheckedComponents components, long seed)
    {
        const int dimensions = 64, latent = 3, examples = 12;
        const double sigma = 0.05, optimisation = 0.05;
        var rows = new List<DerivationRow>();
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed + 6);
        using var random = LinearGaussianModel.Random(dimensions, latent, sigma, seed, orthogonalColumns: true, weightScale: 0.05);
        using var model = new LinearGaussianModel(random.Weight.clone(), randn(dimensions, ScalarType.Float64, generator: generator).mul(0.1).add(0.5), sigma);
        var (raw, _) = model.Sample(examples, generator);
        Tensor levels = raw.clamp(0, 1).mul(255).round().div(255);
        using var data = new Dataset("8-bit linear-Gaussian draws", "derivation check 9", levels, levels: 256);
        var (a, bias) = model.PosteriorMeanMap();
        VariationalAutoencoder vae = components.Apply(model.ToVariationalAutoencoder(a, bias + randn(latent, dtype: ScalarType.Float64, generator: generator).mul(0.3),
            zeros(latent, dimensions, dtype: ScalarType.Float64), randn(latent, dtype: ScalarType.Float64, generator: generator).mul(0.5).sub(6)));
        var options = new GapOptions(500, new AisOptions(Distributions: 400, Chains: 64), new LocalPosteriorOptions(Tolerance: 0.002, EvaluationSamples: 2000));
        GapDecomposition gap = InferenceGap.Decompose(vae, data, options, seed);
        GapPerExample p = gap.PerExample!;

        var reported = new (string Name, NatsWithError Value, double[] Values)[]
        {
            ("IS", gap.LogLikelihoodImportanceSampled, p.ImportanceSampled), ("AIS", gap.LogLikelihoodAis, p.Ais), ("log p̂", gap.LogLikelihood, p.LogLikelihood),
            ("L[q]", gap.ElboEncoder, p.ElboEncoder), ("L[q*]", gap.ElboLocal, p.ElboLocal), ("approximation gap", gap.ApproximationGap, p.ApproximationGap),
            ("amortisation gap", gap.AmortisationGap, p.AmortisationGap), ("inference gap", gap.InferenceGap, p.InferenceGap),
        };
        double worstMean = 0, worstSe = 0;
        foreach (var (_, value, values) in reported)
        {
            double mean = values.Average(), se = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1) / values.Length);
            worstMean = Math.Max(worstMean, Math.Abs(value.Nats - mean));
            worstSe = Math.Max(worstSe, Math.Abs(value.StandardError - se) / Math.Max(se, 1e-300));
        }
        rows.Add(DerivationRow.Equal(Name, "InferenceGap.Decompose: each of its 8 figures and standard errors = mean and standard deviation/√n of its per-example values (worst)",
            Math.Max(worstMean, worstSe), 0, 1e-9, "NatsWithError of IS, AIS, log p̂, L[q], L[q*] and the three gaps against a C# loop over GapDecomposition.PerExample; differences of means and relative differences of standard errors; tolerance 1e-9"));
        double[] chosen = gap.LogLikelihoodSource == "AIS" ? p.Ais : p.ImportanceSampled;
        double worstIdentity = Enumerable.Range(0, examples).Max(i => new[]
        {
            p.ApproximationGap[i] - (p.LogLikelihood[i] - p.ElboLocal[i]), p.AmortisationGap[i] - (p.ElboLocal[i] - p.ElboEncoder[i]),
            p.InferenceGap[i] - (p.LogLikelihood[i] - p.ElboEncoder[i]), p.LogLikelihood[i] - chosen[i],
        }.Max(Math.Abs));
        bool sourceIsTighter = gap.LogLikelihoodSource == "AIS" ? p.Ais.Average() >= p.ImportanceSampled.Average() : p.ImportanceSampled.Average() > p.Ais.Average();
        double sourceSe = gap.LogLikelihoodSource == "AIS" ? gap.AisMonteCarloStandardError : gap.ImportanceSamplingMonteCarloStandardError;
        double worstArithmetic = Math.Max(worstIdentity, Math.Abs(gap.LogLikelihoodMonteCarloStandardError - sourceSe));
        rows.Add(new DerivationRow(Name, $"InferenceGap.Decompose per example: approximation = log p̂ − L[q*], amortisation = L[q*] − L[q], total = log p̂ − L[q], log p̂ = the tighter estimator's ({gap.LogLikelihoodSource}) values",
            worstArithmetic, 0, worstArithmetic, 1e-9, "GapDecomposition.PerExample, example by example, and LogLikelihoodMonteCarloStandardError = the chosen estimator's; tolerance 1e-9",
            worstArithmetic <= 1e-9 && sourceIsTighter));

        // x̃ as Decompose draws it (the first draws of a generator seeded with the seed), then the closed forms there.
        Tensor dequantised;
        using (var replay = new Generator((ulong)seed))
            dequantised = levels.mul(255).round().add(rand(levels.shape, ScalarType.Float64, generator: replay)).div(256);
        double jacobian = dimensions * Math.Log(256);
        Tensor logMarginal = model.LogMarginal(dequantised).sub(jacobian);
        Tensor qMean, qLogVariance;
        using (no_grad()) (qMean, qLogVariance) = vae.EncodeDiagonal(dequantised);
        var (posteriorMean, posteriorCovariance) = model.Posterior(dequantised);
        double kl = ReferenceGaussian.KlDiagonalToFull(qMean, qLogVariance.exp(), posteriorMean, posteriorCovariance).mean().item<double>();
        double pSe = gap.LogLikelihoodMonteCarloStandardError, localSe = gap.ElboLocalMonteCarloStandardError, encoderSe = gap.ElboEncoderMonteCarloStandardError;
        double exact = logMarginal.mean().item<double>();
        rows.Add(DerivationRow.Equal(Name, "8-bit data: L[q*] = exact log p(x̃) − D log 256 (q* reaches the diagonal posterior)", gap.ElboLocal.Nats, exact, 3 * localSe + optimisation,
            $"LocalPosterior.Fit's q* scored by LocalPosterior.Score at the x̃ Decompose drew, against Woodbury; tolerance 3 standard errors ({localSe:G2}) + {optimisation} (optimiser)"));
        double approximationSe = Math.Sqrt(pSe * pSe + localSe * localSe);
        rows.Add(DerivationRow.Equal(Name, "8-bit data: the approximation gap log p̂ − L[q*] = 0 (the diagonal family holds the posterior)", gap.ApproximationGap.Nats, 0, 3 * approximationSe + optimisation + 0.02,
            $"Decompose's approximation gap; tolerance 3 standard errors ({approximationSe:G2}) + {optimisation} (optimiser) + 0.02 (the tighter of two estimators)"));
        double totalSe = Math.Sqrt(pSe * pSe + encoderSe * encoderSe);
        rows.Add(DerivationRow.Equal(Name, "8-bit data: the inference gap log p̂ − L[q] = KL(q ‖ p(z|x̃)) (dense matrices)", gap.InferenceGap.Nats, kl, 3 * totalSe + 0.02,
            $"Decompose's total gap against ReferenceGaussian.KlDiagonalToFull to Woodbury's posterior at the same x̃ (exact {kl:F2}); tolerance 3 standard errors ({totalSe:G2}) + 0.02"));
        rows.Add(DerivationRow.Equal(Name, "8-bit data: the amortisation gap L[q*] − L[q] = KL(q ‖ p(z|x̃)) when q* is exact", gap.AmortisationGap.Nats, kl, 3 * Math.Sqrt(localSe * localSe + encoderSe * encoderSe) + optimisation,
            $"Decompose's amortisation gap against the dense-matrix KL; tolerance 3 standard errors + {optimisation} (optimiser)"));
        return rows;
    }

    /// <summary>log (1/k) Σ w and its variance as <see cref="LogMeanExp.Of"/> documents them, in a loop over doubles.</summary>
    static (double LogMean, double Variance) LogMeanExpLoop(double[] logWeights, double maximumOfNormalsVariance)
    {
        int k = logWeights.Length;
        double max = logWeights.Max();
        double sum = 0, sumSquares = 0;
        foreach (double lw in logWeights)
        {
            double w = Math.Exp(lw - max);
            sum += w;
            sumSquares += w * w;
        }
        double logMean = max + Math.Log(sum / k);
        if (k == 1) return (logMean, 0);
        double delta = Math.Max(k * sumSquares / (sum * sum) - 1, 0) / (k - 1);
        double average = logWeights.Average();
        double spread = logWeights.Sum(v => (v - average) * (v - average)) / (k - 1);
        double expm1 = spread < 1e-5 ? spread + spread * spread / 2 + spread * spread * spread / 6 : Math.Exp(spread) - 1;   // e^{s²} − 1 without cancellation
        double tail = Math.Min(expm1 / k, maximumOfNormalsVariance * spread);
        return (logMean, Math.Max(delta, tail));
    }

    // Var(max of k standard normals) = ∫ x² f − (∫ x f)², f = k φ Φ^{k−1}, by the trapezoid rule on 200,001 points over [−10, 10], Φ by erfc.
    static double MaximumOfNormalsVarianceByQuadrature(int k)
    {
        using var scope = NewDisposeScope();
        Tensor x = linspace(-10, 10, 200_001, ScalarType.Float64);
        Tensor cdf = special.erfc(x.neg().div(Math.Sqrt(2))).mul(0.5);
        Tensor density = x.square().mul(-0.5).exp().div(Math.Sqrt(2 * Math.PI)).mul(cdf.pow(k - 1)).mul(k);
        double h = 20.0 / 200_000;
        double Integral(Tensor f) => (f.sum().item<double>() - 0.5 * (f[0].item<double>() + f[-1].item<double>())) * h;
        double m0 = Integral(density), m1 = Integral(density * x), m2 = Integral(density * x.square());
        return m2 / m0 - (m1 / m0) * (m1 / m0);
    }
}
