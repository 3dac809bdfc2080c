using TorchSharp;
using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Evaluation.Inference;
using VaeLab.Models;
using static TorchSharp.torch;
using VaeLab.Derivation.References;

namespace VaeLab.Derivation;

/// <summary>
/// Check 8, every figure the evaluator reports, on every data path, against an answer known exactly: the test ELBO with its
/// reconstruction, KL and standard error, the importance-sampled log p(x) per example with its Monte Carlo and data standard
/// errors, forward AIS over a data set, and bits per dimension. On raw continuous data and on 8-bit data (dequantised, the
/// Jacobian D·log 256 taken off) with a linear-Gaussian VAE whose encoder is the exact posterior (so every importance weight
/// is p(x̃) and the ELBO's expectation is log p(x̃), both by Woodbury); on dynamically binarised data (Bernoulli) and on 8-bit
/// data under a discretised Gaussian with a one-dimensional latent, where log p(x) is a fine grid over z and the ELBO a
/// Gauss–Hermite rule over q. The data is binarised or dequantised by the library's evaluator; the check replays the same
/// draws (each evaluation batch's generator, <see cref="Evaluator.BatchSeed"/>) and evaluates the references at them.
/// 45 examples in batches of 20 cross the evaluator's batch boundaries and its threads; the discretised likelihood's
/// evaluations take its blocked no-gradient path.
/// </summary>
public sealed class ReportedFiguresCheck : IDerivationCheck
{
    /// <inheritdoc/>
    public int Number => 8;

    string IDerivationCheck.Name => Name;

    /// <inheritdoc/>
    public IReadOnlyList<DerivationRow> Rows(CheckContext context) => Run(context.Components);

    /// <summary>The check's name in the report.</summary>
    public const string Name = "8 reported figures (every data path)";

    const int Examples = 45, BatchSize = 20, ElboSamples = 400, Levels = 256;

    /// <summary>Runs the check.</summary>
    /// <param name="components">The components under test (the library's by default).</param>
    /// <param name="seed">Seed of the models, the data and every draw.</param>
    public static IReadOnlyList<DerivationRow> Run(CheckedComponents? components = null, long seed = 8)
    {
        components ??= CheckedComponents.Library;
        var rows = new List<DerivationRow>();
        rows.AddRange(LinearGaussianRows(components, seed, quantised: false));
        rows.AddRange(LinearGaussianRows(components, seed, quantised: true));
        rows.AddRange(OneLatentRows(components, seed, discretised: false));
        rows.AddRange(OneLatentRows(components, seed, discretised: true));
        return rows;
    }

    static IEnumerable<DerivationRow> LinearGaussianRows(CheckedComponents components, long seed, bool quantised)
    {
        const int dimensions = 196, latent = 3;
        const double sigma = 0.1;
        var rows = new List<DerivationRow>();
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        // Orthogonal columns make the posterior diagonal, so the mean-field encoder is exact; means around ½ keep 8-bit pixels inside [0, 1].
        using var random = LinearGaussianModel.Random(dimensions, latent, sigma, seed, orthogonalColumns: true, weightScale: 0.01);
        using var model = new LinearGaussianModel(random.Weight.clone(), randn(dimensions, ScalarType.Float64, generator: generator).mul(0.1).add(0.5), sigma);
        var (raw, _) = model.Sample(Examples, generator);
        Tensor stored = quantised ? raw.clamp(0, 1).mul(Levels - 1).round().div(Levels - 1) : raw;
        using var data = new Dataset(quantised ? "8-bit linear-Gaussian draws" : "linear-Gaussian draws", "derivation check 8", stored.clone(), levels: quantised ? Levels : null);
        VariationalAutoencoder vae = components.Apply(model.MeanFieldVariationalAutoencoder());
        string path = quantised ? "8-bit data, dequantised" : "raw data";
        double jacobian = quantised ? dimensions * Math.Log(Levels) : 0;
        string where = quantised ? $" at the x̃ the evaluator drew, − {dimensions} log 256" : "";
        long evaluationSeed = seed + 11;
        // x̃ as the evaluator draws it: the first draws of each batch's generator dequantise that batch, x̃ = (k + u)/256.
        Tensor treated = quantised ? ReplayPerBatch(stored, evaluationSeed, (x, g) => Dequantised(x, g)) : stored;
        Tensor exact = model.LogMarginal(treated).sub(jacobian);
        double[] exactValues = exact.data<double>().ToArray();
        double exactMean = exactValues.Average(), exactSe = StandardErrorOfMean(exactValues);

        LogLikelihoodEstimate importance = Evaluator.ImportanceSampledLogLikelihood(vae, data, k: 50, seed: evaluationSeed, batchSize: BatchSize, chunk: 30);
        double worst = importance.PerExampleNats!.Zip(exactValues, (a, b) => Math.Abs(a - b)).Append(Math.Abs(importance.LogLikelihoodNats - exactMean)).Max();
        rows.Add(new DerivationRow(Name, $"{path}: the evaluator's importance-sampled log p(x), each example and the mean = exact log p(x) (q = p(z|x): every weight is p(x))",
            importance.LogLikelihoodNats, exactMean, worst, 1e-8,
            $"Evaluator.ImportanceSampledLogLikelihood (k = 50 in chunks of 30, {Examples} examples in batches of {BatchSize} on the evaluation threads) against Woodbury log N(x; b, WWᵀ + σ²I){where}; worst of the {Examples} examples and the mean; tolerance 1e-8 (round-off)",
            worst <= 1e-8));
        rows.Add(DerivationRow.AtMost(Name, $"{path}: the importance-sampled estimate's Monte Carlo standard error is 0 (equal weights)", importance.MonteCarloStandardError, 0, 1e-6,
            "reported MonteCarloStandardError; tolerance 1e-6, the square root of float64 round-off in the weights' variance"));
        rows.Add(DerivationRow.Equal(Name, $"{path}: the importance-sampled estimate's data standard error = the standard deviation of the exact log p(x) over examples / √n",
            importance.DataStandardError, exactSe, 1e-8, $"reported DataStandardError against the {Examples} Woodbury values; tolerance 1e-8"));
        rows.Add(DerivationRow.Equal(Name, $"{path}: −log p(x) in bits per dimension = −exact log p(x) · log₂ e / D",
            importance.NegativeLogLikelihoodBitsPerDimension, -exactMean * Math.Log2(Math.E) / dimensions, 1e-10,
            $"LogLikelihoodEstimate.NegativeLogLikelihoodBitsPerDimension (D = {dimensions}) against the Woodbury mean converted with log₂ e; tolerance 1e-10"));

        // The test ELBO at q = p(z|x): its expectation is log p(x), its KL is closed form, and one draw's variance is
        // Var_q[log q(z) − log p(z)] = Σ_j ½(s_j² − 1)² + m_j² s_j² (log p(x|z) = log p(x) + log q(z|x) − log p(z) there).
        ElboSummary elbo = Evaluator.TestElbo(vae, data, evaluationSeed, batchSize: BatchSize, samples: ElboSamples);
        var (posteriorMean, posteriorCovariance) = model.Posterior(treated);
        Tensor variances = posteriorCovariance.diagonal().unsqueeze(0).expand_as(posteriorMean);
        Tensor kl = ReferenceGaussian.KlToStandardNormal(posteriorMean, variances);
        Tensor oneDraw = variances.sub(1).square().mul(0.5).add(posteriorMean.square().mul(variances)).sum(1);
        double se = Math.Sqrt(oneDraw.sum().item<double>() / ElboSamples) / Examples;
        string elboMethod = $"Evaluator.TestElbo ({ElboSamples} samples per example, batches of {BatchSize}) against Woodbury log p(x){where}; tolerance 4 standard errors ({se:G2}) of the ELBO's draws, from their closed-form variance";
        rows.Add(DerivationRow.Equal(Name, $"{path}: the test ELBO at q = p(z|x) = exact log p(x)", elbo.ElboNats, exactMean, 4 * se, elboMethod));
        double reconstruction = exact.add(kl).mean().item<double>();
        rows.Add(DerivationRow.Equal(Name, $"{path}: the test ELBO's E_q[log p(x|z)] = log p(x) + KL(q ‖ p(z))", elbo.ReconstructionLogLikelihoodNats, reconstruction, 4 * se, elboMethod));
        rows.Add(DerivationRow.Equal(Name, $"{path}: the test ELBO's distortion (results.csv distortion_nats) = −log p(x) − KL(q ‖ p(z))", elbo.DistortionNats, -reconstruction, 4 * se, elboMethod));
        rows.Add(DerivationRow.Equal(Name, $"{path}: the test ELBO's KL(q ‖ p(z)) = the dense-matrix KL of the exact posterior", elbo.KlNats, kl.mean().item<double>(), 1e-8,
            "Evaluator.TestElbo's mean analytic KL against ReferenceGaussian.KlToStandardNormal of Woodbury's posterior; tolerance 1e-8"));
        rows.Add(DerivationRow.Equal(Name, $"{path}: the test ELBO's standard error = the standard deviation of log p(x) over examples / √n",
            elbo.ElboStandardError, exactSe, 0.1 * exactSe,
            $"reported ElboStandardError against the {Examples} Woodbury values (the draws add about {Math.Sqrt(oneDraw.mean().item<double>() / ElboSamples):G2} nats per example); tolerance 10 %"));
        rows.Add(DerivationRow.Equal(Name, $"{path}: −ELBO in bits per dimension = −ELBO · log₂ e / D", elbo.NegativeElboBitsPerDimension, -elbo.ElboNats * Math.Log2(Math.E) / dimensions, 1e-12,
            $"ElboSummary.NegativeElboBitsPerDimension (D = {dimensions}) against its own ELBO converted with log₂ e; tolerance 1e-12"));

        // Forward AIS over the data set: AnnealedImportanceSampling.Estimate dequantises all examples with the first draws of its generator.
        AisEstimate ais = AnnealedImportanceSampling.Estimate(vae, data, new AisOptions(Distributions: 200), seed: evaluationSeed);
        Tensor aisTreated = stored;
        if (quantised)
            using (var replay = new Generator((ulong)evaluationSeed)) aisTreated = Dequantised(stored, replay);
        double aisExact = model.LogMarginal(aisTreated).sub(jacobian).mean().item<double>();
        double aisSe = ais.MonteCarloStandardError;
        rows.Add(DerivationRow.Equal(Name, $"{path}: AIS over the data set (AnnealedImportanceSampling.Estimate) = exact log p(x)", ais.LogLikelihoodNats, aisExact, 3 * aisSe + 0.01,
            $"200 distributions × 16 chains against Woodbury{where}; tolerance 3 standard errors ({aisSe:G2}) + 0.01 (AIS's downward bias)"));
        return rows;
    }

    // A one-dimensional latent z ~ N(0, 1) with a linear decoder (w z + b): Bernoulli logits on dynamically binarised grey levels,
    // or the locations of a discretised Gaussian (fixed scale 0.05) on 8-bit pixels. log p(x) on a grid, the ELBO by Gauss–Hermite.
    static IEnumerable<DerivationRow> OneLatentRows(CheckedComponents components, long seed, bool discretised)
    {
        const int dimensions = 24;
        const double scale = 0.05;
        var rows = new List<DerivationRow>();
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed + (discretised ? 2UL : 1UL));
        Tensor w = randn(dimensions, ScalarType.Float64, generator: generator).mul(discretised ? 0.1 : 0.6);
        Tensor b = discretised ? rand(dimensions, ScalarType.Float64, generator: generator).mul(0.6).add(0.2) : randn(dimensions, ScalarType.Float64, generator: generator).mul(0.5);
        Likelihood likelihood = discretised ? new DiscretizedLikelihood(DiscretizedFamily.Gaussian, GaussianVariance.Fixed, dimensions, Levels, scale) : new BernoulliLikelihood();
        // An encoder near the Laplace approximation (curvature c per pixel), its variance doubled: a proposal wider than the posterior.
        double curvature = discretised ? 1 / (scale * scale) : 0.25;
        Tensor centre = discretised ? b : b.sigmoid();
        double precision = 1 + w.square().sum().item<double>() * curvature;
        VariationalAutoencoder vae = components.Apply(OneLatentVae(likelihood, w.mul(curvature / precision), w.mul(centre).sum().mul(-curvature / precision), Math.Log(2 / precision), w, b));

        Tensor z = randn(Examples, 1, ScalarType.Float64, generator: generator);
        Tensor location = z.matmul(w.unsqueeze(0)).add(b);
        Tensor stored = discretised
            ? location.add(randn(location.shape, ScalarType.Float64, generator: generator).mul(scale)).mul(Levels).floor().clamp(0, Levels - 1).div(Levels - 1)
            : location.sigmoid();
        using var data = new Dataset(discretised ? "8-bit one-latent draws" : "grey one-latent draws", "derivation check 8", stored.clone(), levels: discretised ? Levels : null);
        PixelTreatment treatment = PixelTreatment.Resolve(vae.Likelihood, data, discretised ? Binarization.None : Binarization.Dynamic);
        string path = discretised ? "8-bit data, discretised Gaussian" : "binarised data, Bernoulli";
        long evaluationSeed = seed + 13;
        // Binarised as the evaluator binarises: each batch's generator draws its Bernoulli pixels first.
        Tensor treated = discretised ? stored : ReplayPerBatch(stored, evaluationSeed, (x, g) => bernoulli(x, g));
        Func<Tensor, Tensor, Tensor> logLikelihood = (x, zs) => OneLatentLogLikelihood(x, zs, w, b, discretised, scale);
        Tensor exact = GridLogMarginal(treated, logLikelihood);
        double exactMean = exact.mean().item<double>();
        string reference = discretised ? "Σ log[Φ((k + 1)/256) − Φ(k/256)] by direct CDF differences" : "Σ x log σ(l) + (1 − x) log σ(−l)";

        ElboSummary elbo = Evaluator.TestElbo(vae, data, evaluationSeed, batchSize: BatchSize, samples: ElboSamples, treatment: treatment);
        Tensor qMean, qLogVariance;
        using (no_grad()) (qMean, qLogVariance) = vae.EncodeDiagonal(treated);
        var (expected, oneDraw) = GaussHermiteMoments(treated, qMean, qLogVariance, logLikelihood);
        Tensor kl = qMean.square().add(qLogVariance.exp()).sub(1).sub(qLogVariance).mul(0.5).sum(1);
        double se = Math.Sqrt(oneDraw.sum().item<double>() / ElboSamples) / Examples;
        rows.Add(DerivationRow.Equal(Name, $"{path}: the test ELBO = Gauss–Hermite E_q[log p(x|z)] − KL(q ‖ p(z))", elbo.ElboNats, expected.sub(kl).mean().item<double>(), 4 * se,
            $"Evaluator.TestElbo ({ElboSamples} samples, batches of {BatchSize}{(discretised ? ", blocked masses" : ", the same binarisation draws")}) against a 40-node Gauss–Hermite rule over q of {reference}; tolerance 4 standard errors ({se:G2}) of the draws, their variance by the same rule"));
        rows.Add(DerivationRow.Equal(Name, $"{path}: the test ELBO's KL(q ‖ p(z)) = ½(μ² + σ² − 1 − log σ²)", elbo.KlNats, kl.mean().item<double>(), 1e-10,
            "closed form at the encoder's q; tolerance 1e-10"));

        LogLikelihoodEstimate importance = Evaluator.ImportanceSampledLogLikelihood(vae, data, k: 1000, seed: evaluationSeed, batchSize: BatchSize, chunk: 100, treatment: treatment);
        double isSe = importance.MonteCarloStandardError;
        rows.Add(DerivationRow.Equal(Name, $"{path}: the evaluator's importance-sampled log p(x) = log p(x) on a grid", importance.LogLikelihoodNats, exactMean, 4 * isSe + 1e-4,
            $"Evaluator.ImportanceSampledLogLikelihood (k = 1000 in chunks of 100: {BatchSize * 100} rows per decoder pass) against the midpoint rule on 4,001 points of z over [−8, 8] of {reference}; tolerance 4 Monte Carlo standard errors ({isSe:G2}) + 1e-4"));
        double worst = importance.PerExampleNats!.Zip(exact.data<double>().ToArray(), (a, c) => Math.Abs(a - c)).Max();
        rows.Add(DerivationRow.Equal(Name, $"{path}: the importance-sampled log p(x) of each example = its grid value (worst example)", worst, 0, 0.15,
            $"PerExampleNats against the grid, example by example: a batch or block that read another's rows moves whole examples by nats; tolerance 0.15 (IS-1000 from this q: a few 0.01)"));

        AisEstimate ais = AnnealedImportanceSampling.Estimate(vae, data, new AisOptions(Distributions: 300), seed: evaluationSeed, treatment: treatment);
        Tensor aisTreated = stored;
        if (!discretised)
            using (var replay = new Generator((ulong)evaluationSeed)) aisTreated = bernoulli(stored, replay);
        double aisExact = GridLogMarginal(aisTreated, logLikelihood).mean().item<double>();
        rows.Add(DerivationRow.Equal(Name, $"{path}: AIS over the data set = log p(x) on a grid", ais.LogLikelihoodNats, aisExact, 3 * ais.MonteCarloStandardError + 0.01,
            $"AnnealedImportanceSampling.Estimate (300 distributions × 16 chains, with gradients: the unblocked path) against the grid at the data it drew; tolerance 3 standard errors ({ais.MonteCarloStandardError:G2}) + 0.01"));
        return rows;
    }

    // The evaluator's treatment, replayed: batch b of BatchSize rows drawn first from a generator seeded Evaluator.BatchSeed(seed, b).
    static Tensor ReplayPerBatch(Tensor stored, long seed, Func<Tensor, Generator, Tensor> draw)
    {
        var parts = new List<Tensor>();
        for (int batch = 0, start = 0; start < stored.shape[0]; batch++, start += BatchSize)
        {
            using var generator = new Generator((ulong)Evaluator.BatchSeed(seed, batch));
            parts.Add(draw(stored.narrow(0, start, Math.Min(BatchSize, stored.shape[0] - start)), generator));
        }
        return cat(parts, 0);
    }

    // x̃ = (k + u)/256 with k = round(255 x) and u ~ U[0, 1) drawn as the dequantiser draws it.
    static Tensor Dequantised(Tensor stored, Generator generator) =>
        stored.mul(Levels - 1).round().add(rand(stored.shape, stored.dtype, generator: generator)).div(Levels);

    static double StandardErrorOfMean(double[] values)
    {
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1) / values.Length);
    }

    // log p(x|z) of the one-latent model for x [N, D] and z [N, M]: [N, M], written without the library's likelihoods.
    static Tensor OneLatentLogLikelihood(Tensor x, Tensor z, Tensor w, Tensor b, bool discretised, double scale)
    {
        using var scope = NewDisposeScope();
        Tensor location = z.unsqueeze(2).mul(w).add(b);                       // [N, M, D]
        Tensor pixels = x.unsqueeze(1);                                        // [N, 1, D]
        Tensor result = discretised
            ? DiscretizationCheck.DirectBinMass(DiscretizedFamily.Gaussian, pixels.mul(Levels - 1).round(), location, tensor(scale)).clamp_min(1e-300).log().sum(2)
            : pixels.mul(nn.functional.logsigmoid(location)).add(pixels.neg().add(1).mul(nn.functional.logsigmoid(location.neg()))).sum(2);
        return result.MoveToOuterDisposeScope();
    }

    // log ∫ p(x|z) N(z; 0, 1) dz by the midpoint rule on 4,001 points over [−8, 8]: [N].
    static Tensor GridLogMarginal(Tensor x, Func<Tensor, Tensor, Tensor> logLikelihood)
    {
        const int points = 4001;
        const double low = -8, high = 8, step = (high - low) / points;
        using var scope = NewDisposeScope();
        Tensor grid = arange(points, dtype: ScalarType.Float64).add(0.5).mul(step).add(low);
        Tensor logPrior = grid.square().mul(-0.5).sub(0.5 * Math.Log(2 * Math.PI));
        Tensor joint = logLikelihood(x, grid.unsqueeze(0).expand(x.shape[0], -1)).add(logPrior);
        return joint.logsumexp(1).add(Math.Log(step)).MoveToOuterDisposeScope();
    }

    // E_q[f] and Var_q[f] of f = log p(x|z) under q = N(m, s²) per example by a 40-node Gauss–Hermite rule: ([N], [N]).
    static (Tensor Mean, Tensor Variance) GaussHermiteMoments(Tensor x, Tensor mean, Tensor logVariance, Func<Tensor, Tensor, Tensor> logLikelihood)
    {
        var (nodes, weights) = GaussHermite.Rule(40);
        using var scope = NewDisposeScope();
        Tensor t = tensor(nodes), p = tensor(weights).div(Math.Sqrt(Math.PI));
        Tensor z = mean.to_type(ScalarType.Float64).add(logVariance.to_type(ScalarType.Float64).mul(0.5).exp().mul(Math.Sqrt(2)).mul(t.unsqueeze(0)));   // [N, 40]
        Tensor f = logLikelihood(x, z);
        Tensor first = f.mul(p).sum(1), second = f.square().mul(p).sum(1);
        return (first.MoveToOuterDisposeScope(), second.sub(first.square()).MoveToOuterDisposeScope());
    }

    // The library's VAE with a one-dimensional latent: an MlpEncoder head [μ, log σ²] = [a·x + a₀, c] and an MlpDecoder z ↦ w z + b, in float64.
    static VariationalAutoencoder OneLatentVae(Likelihood likelihood, Tensor meanWeight, Tensor meanBias, double logVariance, Tensor w, Tensor b)
    {
        long dimensions = w.shape[0];
        var encoder = new MlpEncoder(dimensions, [], 1);
        var decoder = new MlpDecoder(1, [], dimensions);
        var model = new VariationalAutoencoder(encoder, decoder, likelihood, [dimensions]);
        model.to(ScalarType.Float64);
        using (no_grad())
        {
            var head = encoder.modules().OfType<TorchSharp.Modules.Linear>().Single();
            head.weight!.copy_(stack([meanWeight, zeros_like(meanWeight)], 0));
            head.bias!.copy_(stack([meanBias.view([]), tensor(logVariance)]));
            var layer = decoder.modules().OfType<TorchSharp.Modules.Linear>().Single();
            layer.weight!.copy_(w.unsqueeze(1));
            layer.bias!.copy_(b);
        }
        model.eval();
        return model;
    }
}
