using VaeLab.Evaluation.Inference;
using VaeLab.Models;
using VaeLab.Objectives;
using TorchSharp;
using static TorchSharp.torch;
using VaeLab.Derivation.References;

namespace VaeLab.Derivation;

/// <summary>
/// Check 7, the tools that measure the inference gap, where the truth is known. On the linear-Gaussian VAE (exact log p(x) by
/// Woodbury, exact posterior): forward AIS meets log p(x) within its standard errors and closes in as distributions are added;
/// the BDMC bracket (forward and reverse AIS from the latents that generated the data) contains it; with orthogonal columns of W
/// the exact posterior is diagonal, so the fitted q* reaches log p(x) (approximation gap 0) and the amortisation gap L[q*] − L[q]
/// equals KL(q ‖ p(z|x)); without, q* reaches the mean-field optimum. On the 2-D latent VAE of check 2: AIS meets quadrature.
/// Every estimate is the library's (<see cref="AnnealedImportanceSampling"/>, <see cref="LocalPosterior"/>); every reference is
/// closed form or quadrature.
/// </summary>
public sealed class InferenceGapCheck : IDerivationCheck
{
    /// <inheritdoc/>
    public int Number => 7;

    string IDerivationCheck.Name => Name;

    /// <inheritdoc/>
    public IReadOnlyList<DerivationRow> Rows(CheckContext context)
    {
        var (model, test, failure) = context.Pinwheel();
        var rows = Run(context.Components, model, model is null ? null : test);
        return failure is null ? rows : [.. rows, context.TrainingFailureRow(Name)];   // last, where the rows on the trained model would be
    }

    /// <summary>The check's name in the report.</summary>
    public const string Name = "7 inference gap (AIS, BDMC, local q*)";

    /// <summary>Runs the linear-Gaussian rows, and the quadrature row when a 2-D latent <paramref name="quadratureModel"/> and its examples are given.</summary>
    /// <param name="components">The components under test (the library's by default).</param>
    /// <param name="quadratureModel">A trained VAE with a 2-D latent (check 2's), or null to skip that row.</param>
    /// <param name="quadratureExamples">Its examples.</param>
    /// <param name="seed">Seed of the models, the data and every draw.</param>
    public static IReadOnlyList<DerivationRow> Run(CheckedComponents? components = null, VariationalAutoencoder? quadratureModel = null, Tensor? quadratureExamples = null, long seed = 7)
    {
        components ??= CheckedComponents.Library;
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var rows = new List<DerivationRow>();
        rows.AddRange(AisRows(components, seed, generator));
        rows.Add(TwoDistributionRow(components, seed));
        rows.AddRange(LocalRows(components, seed, generator, orthogonal: true));
        rows.AddRange(LocalRows(components, seed, generator, orthogonal: false));
        rows.AddRange(EightBitRows(components, seed));
        if (quadratureModel is not null && quadratureExamples is not null)
            rows.Add(QuadratureRow(components, quadratureModel, quadratureExamples, generator));
        return rows;
    }

    static IEnumerable<DerivationRow> AisRows(CheckedComponents components, long seed, Generator generator)
    {
        using var model = LinearGaussianModel.Random(784, 20, sigma: 0.5, seed, weightScale: 0.07);
        var (x, z) = model.Sample(8, generator);
        VariationalAutoencoder vae = components.Apply(model.MeanFieldVariationalAutoencoder());
        double exact;
        using (Tensor logMarginal = model.LogMarginal(x)) exact = logMarginal.mean().item<double>();
        var errors = new List<(int T, double Error)>();
        AisEstimate? finest = null;
        foreach (int t in new[] { 10, 50, 400 })
        {
            finest = AnnealedImportanceSampling.Forward(vae, x, new AisOptions(Distributions: t), generator);
            errors.Add((t, exact - finest.LogLikelihoodNats));
            // A stochastic lower bound at every T: a kernel that does not leave its target invariant can overshoot.
            yield return DerivationRow.AtMost(Name, $"AIS is a lower bound at T = {t}: AIS ≤ exact log p(x)", finest.LogLikelihoodNats, exact, 3 * finest.MonteCarloStandardError,
                $"mean of 8 examples; tolerance 3 standard errors ({finest.MonteCarloStandardError:G2})");
        }
        double se = finest!.MonteCarloStandardError;
        double[] perExample;
        using (Tensor logMarginals = model.LogMarginal(x)) perExample = logMarginals.data<double>().ToArray();
        double worstScore = Enumerable.Range(0, perExample.Length).Max(i => (finest.PerExampleNats[i] - perExample[i]) / Math.Sqrt(finest.PerExampleVariance[i]));
        yield return DerivationRow.AtMost(Name, "AIS per example is a lower bound: (AIS − exact) in its own standard errors (worst of 8, T = 400)", worstScore, 4, 0,
            "each example's estimate against its own Woodbury log p(x) (an estimate matched with the wrong example overshoots), divided by the delta-method standard error over its 16 chains; at most 4");
        yield return DerivationRow.Equal(Name, "AIS log p(x) = exact log p(x) (linear-Gaussian, 400 distributions, 16 chains)", finest.LogLikelihoodNats, exact, 3 * se,
            $"AnnealedImportanceSampling.Forward (HMC on autograd of the VAE's decoder and likelihood) against Woodbury log N(x; b, WWᵀ+σ²I), mean of 8 simulated examples; tolerance 3 standard errors ({se:G2})");
        for (int i = 1; i < errors.Count; i++)
            yield return DerivationRow.AtMost(Name, $"AIS closes in as distributions are added: |error| at T = {errors[i].T} ≤ at T = {errors[i - 1].T}",
                Math.Abs(errors[i].Error), Math.Abs(errors[i - 1].Error), 0, "|exact − AIS| of the mean over the same 8 examples, each T run afresh");
        AisEstimate upper = AnnealedImportanceSampling.Reverse(vae, x, z, new AisOptions(Distributions: 400), generator);
        yield return DerivationRow.AtMost(Name, "BDMC lower end: forward AIS ≤ exact log p(x)", finest.LogLikelihoodNats, exact, 3 * se,
            $"forward AIS on data simulated from the model; tolerance 3 standard errors ({se:G2})");
        yield return DerivationRow.AtMost(Name, "BDMC upper end: exact log p(x) ≤ reverse AIS", exact, upper.LogLikelihoodNats, 3 * upper.MonteCarloStandardError,
            $"AnnealedImportanceSampling.Reverse started at the latents that generated each x (exact posterior samples); tolerance 3 standard errors ({upper.MonteCarloStandardError:G2})");
        double width = upper.LogLikelihoodNats - finest.LogLikelihoodNats, widthSe = Math.Sqrt(se * se + upper.MonteCarloStandardError * upper.MonteCarloStandardError);
        yield return DerivationRow.AtMost(Name, $"BDMC bracket: reverse − forward AIS ≤ 1 nat at T = 400 (width {width:F2})", width, 1, 3 * widthSe,
            $"both ends on the same 8 simulated examples; a bracket this narrow pins log p(x) from both sides; tolerance 3 standard errors ({widthSe:G2})");
        foreach (double beta in new[] { 0.3, 1.0 })
            yield return HamiltonianInvarianceRow(vae, model, x[0], beta, generator);
        yield return Calibration("AIS (T = 100)", 20, () =>
        {
            AisEstimate run = AnnealedImportanceSampling.Forward(vae, x, new AisOptions(Distributions: 100, Chains: 8), generator);
            return (run.LogLikelihoodNats, run.MonteCarloStandardError);
        });
    }

    // With T = 2, AIS is w = p(x|z_0)^{β_1} p(x|z_1)^{1−β_1}, z_0 ~ p(z), z_1 ~ T_1(·|z_0), and E[w] = p(x) exactly if and only if
    // T_1 leaves f_1 = p(z) p(x|z)^{β_1} invariant. At T = 400 a kernel that leaves a neighbouring distribution invariant (f_0
    // for f_1, say) shifts the estimate by far less than its error bar; at T = 2 with a kernel that moves z_1 well away from z_0
    // it costs up to log E[p(x|z)] − 2 log E[p(x|z)^{1/2}], about 0.2 nats here. A weak likelihood (W = 0.5, σ = 1: the prior and
    // the posterior overlap, so log w varies little), one latent dimension and 4,096 chains per example make the unbiased
    // estimator's own error small (its standard error assumes log-normal tails, far too wide when log w varies by several nats).
    static DerivationRow TwoDistributionRow(CheckedComponents components, long seed)
    {
        const int examples = 8, chains = 4096;
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed + 3);
        using var model = new LinearGaussianModel(full(4, 1, 0.5, dtype: ScalarType.Float64), zeros(4, dtype: ScalarType.Float64), 1.0);
        var (x, _) = model.Sample(examples, generator);
        VariationalAutoencoder vae = components.Apply(model.MeanFieldVariationalAutoencoder());
        double exact = model.LogMarginal(x).mean().item<double>();
        // 10 leapfrog steps of 0.15: a quarter period of the prior's oscillator, so z_1 is nearly independent of z_0.
        var options = new AisOptions(Distributions: 2, Chains: chains, InitialStepSize: 0.15, RowsPerBatch: examples * (chains + 2));
        AisEstimate ais = AnnealedImportanceSampling.Forward(vae, x, options, generator);
        double se = ais.MonteCarloStandardError;
        return DerivationRow.Equal(Name, "AIS with T = 2 is unbiased for p(x), not only a bound: log-mean weight = exact log p(x) (1-D latent, 4,096 chains)",
            ais.LogLikelihoodNats, exact, 3 * se + 0.002,
            $"one HMC transition between z_0 ~ p(z) and the final weight; 8 examples of a 4-pixel model with W = 0.5, σ = 1 against Woodbury; tolerance 3 standard errors ({se:G2}) + 0.002 (the log of a mean is low by about Var(w)/2Np(x)²)");
    }

    // With orthogonal columns of W: q* reaches the exact (diagonal) posterior, so L[q*] = log p(x) and L[q*] − L[q] = KL(q ‖ p(z|x)).
    // Without: q* reaches the mean-field optimum N(posterior mean, σ²/M_jj), whose ELBO is closed form.
    static IEnumerable<DerivationRow> LocalRows(CheckedComponents components, long seed, Generator generator, bool orthogonal)
    {
        const double optimisation = 0.05;
        using var model = orthogonal
            ? LinearGaussianModel.Random(784, 20, sigma: 0.5, seed + 1, orthogonalColumns: true, weightScale: 0.07)
            : Correlated(LinearGaussianModel.Random(784, 20, sigma: 0.5, seed + 1, weightScale: 0.07));
        var (x, _) = model.Sample(8, generator);
        // An encoder that is not the optimum: the posterior mean shifted, variances far too small.
        var (a, bias) = model.PosteriorMeanMap();
        VariationalAutoencoder vae = components.Apply(model.ToVariationalAutoencoder(a, bias + randn(model.LatentDimensions, dtype: ScalarType.Float64, generator: generator).mul(0.3),
            zeros(model.LatentDimensions, model.DataDimensions, dtype: ScalarType.Float64), randn(model.LatentDimensions, dtype: ScalarType.Float64, generator: generator).mul(0.5).sub(3)));
        Tensor qMean, qLogVariance;
        using (no_grad()) (qMean, qLogVariance) = vae.EncodeDiagonal(x);
        var options = new LocalPosteriorOptions(Tolerance: 0.002, EvaluationSamples: 4000);
        var (fittedMean, fittedLogVariance, steps) = LocalPosterior.Fit(vae, x, qMean, qLogVariance, options, generator);
        Tensor closedLocal = ClosedElbo(model, x, fittedMean, fittedLogVariance);
        Tensor logMarginal = model.LogMarginal(x);
        if (orthogonal)
        {
            Tensor closedEncoder = ClosedElbo(model, x, qMean, qLogVariance);
            var (scored, variance) = LocalPosterior.Score(vae, x, qMean, qLogVariance, options.EvaluationSamples, generator);
            double scoreSe = Math.Sqrt(variance.sum().item<double>()) / x.shape[0];
            yield return DerivationRow.Equal(Name, "LocalPosterior.Score(q) = closed-form ELBO(q) (the encoder's q)", scored.mean().item<double>(), closedEncoder.mean().item<double>(), 4 * scoreSe,
                $"{options.EvaluationSamples:N0} samples per example against −(D/2) log 2πσ² − (‖x−Wm−b‖² + Σ s²‖W_j‖²)/2σ² − KL; tolerance 4 standard errors ({scoreSe:G2})");
            yield return Calibration("LocalPosterior.Score (50 samples)", 30, () =>
            {
                var (values, variances) = LocalPosterior.Score(vae, x, qMean, qLogVariance, 50, generator);
                return (values.mean().item<double>(), Math.Sqrt(variances.sum().item<double>()) / x.shape[0]);
            });
            yield return DerivationRow.Equal(Name, $"approximation gap = 0 when p(z|x) is diagonal: L[q*] = log p(x) (orthogonal W, {steps} Adam steps)",
                closedLocal.mean().item<double>(), logMarginal.mean().item<double>(), optimisation,
                $"closed-form ELBO of LocalPosterior.Fit's q* against Woodbury log p(x); tolerance {optimisation} nats per example (the optimiser's stopping rule)");
            var (scoredLocal, localVariance) = LocalPosterior.Score(vae, x, fittedMean, fittedLogVariance, options.EvaluationSamples, generator);
            double amortisation = scoredLocal.mean().item<double>() - scored.mean().item<double>();
            double amortisationSe = Math.Sqrt(variance.sum().item<double>() + localVariance.sum().item<double>()) / x.shape[0];
            var (posteriorMean, posteriorCovariance) = model.Posterior(x);
            double kl = ReferenceGaussian.KlDiagonalToFull(qMean, qLogVariance.exp(), posteriorMean, posteriorCovariance).mean().item<double>();
            yield return DerivationRow.Equal(Name, "amortisation gap L[q*] − L[q] = KL(q ‖ p(z|x)) when q* is exact", amortisation, kl, 4 * amortisationSe + optimisation,
                $"two LocalPosterior.Score estimates against the dense-matrix KL to the exact posterior; tolerance 4 standard errors ({amortisationSe:G2}) + {optimisation} (optimiser)");
        }
        else
        {
            VariationalAutoencoder meanField = model.MeanFieldVariationalAutoencoder();
            Tensor optimumMean, optimumLogVariance;
            using (no_grad()) (optimumMean, optimumLogVariance) = meanField.EncodeDiagonal(x);
            Tensor optimum = ClosedElbo(model, x, optimumMean, optimumLogVariance);
            yield return DerivationRow.Equal(Name, $"L[q*] = the mean-field optimum's ELBO, log p(x) − KL(q_MF ‖ p(z|x)) (correlated posterior, {steps} Adam steps)",
                closedLocal.mean().item<double>(), optimum.mean().item<double>(), optimisation,
                $"closed-form ELBO of LocalPosterior.Fit's q* against that of N(M⁻¹Wᵀ(x−b), diag σ²/M_jj); tolerance {optimisation} nats per example (the optimiser's stopping rule)");

            // The whole decomposition as a user runs it, against closed forms: approximation gap = KL(q_MF ‖ p(z|x)),
            // amortisation gap = ELBO(q_MF) − ELBO(q), their sum = KL(q ‖ p(z|x)).
            using var data = new VaeLab.Data.Dataset("linear-Gaussian draws", "check 7", x.view(x.shape[0], -1));
            var gapOptions = new GapOptions(2000, new AisOptions(Distributions: 800), options);
            GapDecomposition gap = InferenceGap.Decompose(vae, data, gapOptions, seed);
            double exactApproximation = (logMarginal - optimum).mean().item<double>();
            double exactAmortisation = (optimum - ClosedElbo(model, x, qMean, qLogVariance)).mean().item<double>();
            double pSe = gap.LogLikelihoodMonteCarloStandardError;
            yield return DerivationRow.Equal(Name, "InferenceGap.Decompose: log p̂(x) = exact log p(x)", gap.LogLikelihood.Nats, logMarginal.mean().item<double>(), 3 * pSe + 0.02,
                $"the better of IS-2000 and AIS (here {gap.LogLikelihoodSource}) against Woodbury; tolerance 3 of its standard errors ({pSe:G2}) + 0.02 (choosing the larger of two)");
            double approximationSe = Math.Sqrt(pSe * pSe + gap.ElboLocalMonteCarloStandardError * gap.ElboLocalMonteCarloStandardError);
            yield return DerivationRow.Equal(Name, $"InferenceGap.Decompose: approximation gap = KL(q_MF ‖ p(z|x)) (exact {exactApproximation:F2})", gap.ApproximationGap.Nats, exactApproximation,
                3 * approximationSe + optimisation + 0.02,
                $"log p̂ − L[q*] against Woodbury log p(x) − closed-form ELBO of the mean-field optimum; tolerance 3 standard errors ({approximationSe:G2}) + {optimisation} (optimiser) + 0.02");
            double amortisationSe = Math.Sqrt(gap.ElboLocalMonteCarloStandardError * gap.ElboLocalMonteCarloStandardError + gap.ElboEncoderMonteCarloStandardError * gap.ElboEncoderMonteCarloStandardError);
            yield return DerivationRow.Equal(Name, $"InferenceGap.Decompose: amortisation gap = ELBO(q_MF) − ELBO(q) (exact {exactAmortisation:F2})", gap.AmortisationGap.Nats, exactAmortisation,
                3 * amortisationSe + optimisation, $"L[q*] − L[q] by LocalPosterior.Score ({options.EvaluationSamples:N0} samples each) against closed forms; tolerance 3 standard errors ({amortisationSe:G2}) + {optimisation} (optimiser)");
        }
    }

    // On 8-bit data a density's figures are for the dequantised x̃ = (k + u)/256 minus D·log 256: the decomposition must take the
    // Jacobian off every estimate once, and score everything at the same x̃. The reference reproduces x̃ as Decompose draws it (the
    // treatment's first draws from a generator seeded with the seed) and evaluates the closed forms there.
    static IEnumerable<DerivationRow> EightBitRows(CheckedComponents components, long seed)
    {
        const int dimensions = 64, latent = 4;
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed + 2);
        Tensor w = randn(new long[] { dimensions, latent }, ScalarType.Float64, generator: generator).mul(0.08);
        using var model = new LinearGaussianModel(w, full(new long[] { dimensions }, 0.5, ScalarType.Float64), 0.05);
        var (raw, _) = model.Sample(12, generator);
        Tensor levels = raw.clamp(0, 1).mul(255).round().div(255);
        using var data = new VaeLab.Data.Dataset("quantised linear-Gaussian draws", "check 7", levels, levels: 256);
        VariationalAutoencoder vae = components.Apply(model.MeanFieldVariationalAutoencoder());
        var treatment = VaeLab.Models.PixelTreatment.Resolve(vae.Likelihood, data);
        using (var replay = new Generator((ulong)seed))
        {
            Tensor dequantised = treatment.Apply(data.Examples, replay);
            double jacobian = dimensions * Math.Log(256);
            var options = new GapOptions(1000, new AisOptions(Distributions: 200), new LocalPosteriorOptions(MaxSteps: 200, EvaluationSamples: 2000));
            GapDecomposition gap = InferenceGap.Decompose(vae, data, options, seed);
            double exact = model.LogMarginal(dequantised).mean().item<double>() - jacobian;
            double pSe = gap.LogLikelihoodMonteCarloStandardError;
            yield return DerivationRow.Equal(Name, "8-bit data: Decompose's log p̂ = exact log p(x̃) − D log 256 at the dequantised x̃", gap.LogLikelihood.Nats, exact, 3 * pSe + 0.02,
                $"64 pixels of 256 levels, Gaussian density, dequantised once; Woodbury at the same x̃ minus 64 log 256; tolerance 3 standard errors ({pSe:G2}) + 0.02");
            double isSe = gap.ImportanceSamplingMonteCarloStandardError;
            yield return DerivationRow.Equal(Name, "8-bit data: Decompose's IS-1000 log p(x̃) = exact log p(x̃) − D log 256 at the same x̃", gap.LogLikelihoodImportanceSampled.Nats, exact, 3 * isSe + 0.02,
                $"the importance-sampled estimate on its own (log p̂ takes the larger of it and AIS, so a wrong IS can hide behind AIS); tolerance 3 standard errors ({isSe:G2}) + 0.02");
            Tensor qMean, qLogVariance;
            using (no_grad()) (qMean, qLogVariance) = vae.EncodeDiagonal(dequantised);
            double closed = ClosedElbo(model, dequantised, qMean, qLogVariance).mean().item<double>() - jacobian;
            double qSe = gap.ElboEncoderMonteCarloStandardError;
            yield return DerivationRow.Equal(Name, "8-bit data: Decompose's L[q] = closed-form ELBO(q) at x̃ − D log 256", gap.ElboEncoder.Nats, closed, 4 * qSe,
                $"the encoder's ELBO scored by LocalPosterior.Score against the closed form at the same x̃; tolerance 4 standard errors ({qSe:G2})");
        }
    }

    // A reported standard error against the spread of repeated runs: the sample SD of `repeats` means over the mean reported
    // SE should be 1; the SD's own relative error is about 1/√(2(R − 1)), so [0.6, 1.6] fails an SE off by √8 or more.
    static DerivationRow Calibration(string what, int repeats, Func<(double Mean, double StandardError)> run)
    {
        var results = Enumerable.Range(0, repeats).Select(_ => run()).ToArray();
        double mean = results.Average(r => r.Mean);
        double spread = Math.Sqrt(results.Sum(r => (r.Mean - mean) * (r.Mean - mean)) / (repeats - 1));
        double reported = Math.Sqrt(results.Average(r => r.StandardError * r.StandardError));
        double ratio = spread / reported;
        return new DerivationRow(Name, $"{what}: its standard error = the spread of {repeats} independent runs (ratio)", ratio, 1, Math.Max(ratio - 1.6, 0.6 - ratio) < 0 ? 0 : Math.Max(ratio - 1.6, 0.6 - ratio), 0,
            $"sample standard deviation of the {repeats} means over the root-mean-square reported standard error; passes in [0.6, 1.6]", ratio >= 0.6 && ratio <= 1.6);
    }

    /// <summary>
    /// HMC leaves its target invariant: chains started at exact draws of the tempered linear-Gaussian posterior
    /// f_β ∝ N(z; 0, I) N(x; Wz + b, σ²I)^β (Gaussian, precision P = I + βWᵀW/σ², mean P⁻¹βWᵀ(x − b)/σ²) keep its mean and
    /// variances after 20 transitions with a fixed step size.
    /// </summary>
    internal static DerivationRow HamiltonianInvarianceRow(VariationalAutoencoder vae, LinearGaussianModel model, Tensor x0, double beta, Generator generator, int chains = 1024, int transitions = 20)
    {
        using var scope = NewDisposeScope();
        long d = model.LatentDimensions;
        double variance = model.Sigma * model.Sigma;
        Tensor precision = eye(d, dtype: ScalarType.Float64).add(model.Weight.t().matmul(model.Weight).mul(beta / variance));
        Tensor cholesky = linalg.cholesky(precision);
        Tensor rhs = model.Weight.t().matmul(x0.to_type(ScalarType.Float64).sub(model.Bias)).mul(beta / variance).unsqueeze(1);
        Tensor mean = cholesky_solve(rhs, cholesky).squeeze(1);
        Tensor covariance = cholesky_inverse(cholesky);
        // z = m + L⁻ᵀ ε has covariance (L Lᵀ)⁻¹ = P⁻¹.
        Tensor epsilon = randn(new long[] { d, chains }, ScalarType.Float64, generator: generator);
        Tensor start = linalg.solve_triangular(cholesky.t(), epsilon, upper: true).t().add(mean);
        double step = 0.5 / Math.Sqrt(linalg.eigvalsh(precision).max().item<double>());
        using var frozen = new Evaluation.Inference.FrozenParameters(vae);
        using var sampler = new HamiltonianMonteCarlo(vae, x0.unsqueeze(0).expand(chains, -1).contiguous(), start, step, 10, 0.65, generator);
        Tensor fixedStep = full(new long[] { chains, 1 }, step, ScalarType.Float64);
        for (int i = 0; i < transitions; i++)
        {
            sampler.SetStepSizes(fixedStep);
            sampler.Step(beta);
        }
        Tensor z = sampler.Z;
        Tensor sd = covariance.diagonal().sqrt();
        Tensor meanScores = z.mean([0]).sub(mean).div(sd.div(Math.Sqrt(chains))).abs();
        Tensor varianceScores = z.var(0).sub(covariance.diagonal()).div(covariance.diagonal().mul(Math.Sqrt(2.0 / (chains - 1)))).abs();
        double worst = Math.Max(meanScores.max().item<double>(), varianceScores.max().item<double>());
        double acceptance = sampler.AcceptanceSum / sampler.Transitions;
        return new DerivationRow(Name, $"HMC leaves f_β invariant (β = {beta}): {chains:N0} exact draws keep their mean and variance over {transitions} transitions (worst of {2 * d} standard scores; acceptance {acceptance:F2})",
            z.mean().item<double>(), mean.mean().item<double>(), worst, 4.5,
            "HamiltonianMonteCarlo (10 leapfrog steps of half the smallest posterior standard deviation) started at draws m + L⁻ᵀε of the closed-form tempered posterior; per-dimension means and variances in standard errors, at most 4.5", worst <= 4.5);
    }

    static DerivationRow QuadratureRow(CheckedComponents components, VariationalAutoencoder trained, Tensor examples, Generator generator)
    {
        ScalarType original = trained.parameters().First().dtype;
        trained.to(ScalarType.Float64);
        try
        {
            VariationalAutoencoder model = components.Apply(trained);
            Tensor flat = examples.to_type(ScalarType.Float64).view(examples.shape[0], -1);
            double quadrature;
            using (no_grad())
            using (Tensor grid = QuadratureCheck.LogMarginalOnGrid(model, flat, 512))
                quadrature = grid.mean().item<double>();
            AisEstimate ais = AnnealedImportanceSampling.Forward(model, flat, new AisOptions(Distributions: 200), generator);
            double se = ais.MonteCarloStandardError;
            return DerivationRow.Equal(Name, "AIS log p(x) = quadrature log p(x) (check 2's trained 2-D latent VAE)", ais.LogLikelihoodNats, quadrature, 3 * se + 1e-3,
                $"AnnealedImportanceSampling.Forward (200 distributions, 16 chains) against the midpoint rule on 512² points over [−7, 7]²; tolerance 3 standard errors ({se:G2}) + 1e-3 (grid)");
        }
        finally
        {
            trained.to(original);
        }
    }

    // Random Gaussian columns in 784 dimensions are nearly orthogonal (a mean-field gap of ~0.1 nats); mixing them as
    // W(I + 0.3(11ᵀ − I)) correlates the posterior, so the best diagonal q falls short by several nats.
    internal static LinearGaussianModel Correlated(LinearGaussianModel model)
    {
        using (model)
        using (var scope = NewDisposeScope())
        {
            long d = model.LatentDimensions;
            Tensor mix = eye(d, dtype: ScalarType.Float64).mul(0.7).add(0.3);
            return new LinearGaussianModel(model.Weight.matmul(mix), model.Bias, model.Sigma);
        }
    }

    // E_q[log p(x|z)] − KL(q ‖ p(z)) in closed form for the linear-Gaussian model.
    static Tensor ClosedElbo(LinearGaussianModel model, Tensor x, Tensor mean, Tensor logVariance) =>
        model.ExpectedLogLikelihood(x, mean, logVariance) - ReferenceGaussian.KlToStandardNormal(mean, logVariance.exp());
}
