using VaeLab.Data;
using VaeLab.Data.Synthetic;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Optimization;
using VaeLab.Training;
using VaeLab.Training.Steps;
using TorchSharp;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// Check 5, the sampling step f(μ, Σ) = μ + σ·ε as the library takes it (<see cref="VariationalAutoencoder.Reparameterize"/>):
/// its draws have mean μ and variance σ² = e^(log σ²); the pathwise gradient of E_q[g(z)] (g(z) = Σ_j sin z_j, whose
/// expectation sin μ · e^(−σ²/2) is known) equals central finite differences of the same estimate (same noise, by
/// reseeding), the score-function estimate within its confidence interval, and the exact gradient within its
/// standard error. Per-sample gradients are computed from the drawn z, not from the library's noise. Its last rows hold the
/// training steps' gradient and loss (<see cref="TrainingGradientRows"/>) to autograd in float64.
/// </summary>
public sealed class ReparameterisationCheck : IDerivationCheck
{
    /// <inheritdoc/>
    public int Number => 5;

    string IDerivationCheck.Name => Name;

    /// <inheritdoc/>
    public IReadOnlyList<DerivationRow> Rows(CheckContext context) => [.. Run(), .. TrainingGradientRows()];

    /// <summary>The check's name in the report.</summary>
    public const string Name = "5 reparameterisation";

    /// <summary>Runs the check.</summary>
    public static IReadOnlyList<DerivationRow> Run(long seed = 5, int samples = 200_000)
    {
        using var scope = NewDisposeScope();
        var rows = new List<DerivationRow>();
        double[] mu = [0.7, -1.3, 0.2], logVar = [-0.6, 0.4, -1.5];
        int d = mu.Length;

        // The library's draws for parameters (μ, log σ²), always from the same seed: the same ε each time.
        Tensor Draw(Tensor mean, Tensor logVariance)
        {
            using var generator = new Generator((ulong)seed);
            return VariationalAutoencoder.Reparameterize(mean.expand(samples, -1), logVariance.expand(samples, -1), generator);
        }

        Tensor mean = tensor(mu).view(1, d), logVariance = tensor(logVar).view(1, d);
        Tensor z;
        using (no_grad()) z = Draw(mean, logVariance);
        double[] zMean = z.mean([0]).data<double>().ToArray(), zVar = z.var(0).data<double>().ToArray();
        double worstMean = 0, worstMeanTolerance = 1, worstVar = 0, worstVarTolerance = 1;
        for (int j = 0; j < d; j++)
        {
            double variance = Math.Exp(logVar[j]);
            double meanSe = Math.Sqrt(variance / samples), varSe = variance * Math.Sqrt(2.0 / (samples - 1));
            if (Math.Abs(zMean[j] - mu[j]) / meanSe > worstMean / worstMeanTolerance) { worstMean = Math.Abs(zMean[j] - mu[j]); worstMeanTolerance = 4 * meanSe; }
            if (Math.Abs(zVar[j] - variance) / varSe > worstVar / worstVarTolerance) { worstVar = Math.Abs(zVar[j] - variance); worstVarTolerance = 4 * varSe; }
        }
        rows.Add(new DerivationRow(Name, "mean of Reparameterize(μ, log σ²) = μ (worst dimension)", zMean.Average(), mu.Average(), worstMean, worstMeanTolerance,
            $"{samples:N0} draws; tolerance 4 standard errors", worstMean <= worstMeanTolerance));
        rows.Add(new DerivationRow(Name, "variance of Reparameterize(μ, log σ²) = e^(log σ²) (worst dimension)", zVar.Average(), logVar.Average(Math.Exp), worstVar, worstVarTolerance,
            $"{samples:N0} draws; tolerance 4 standard errors of a sample variance", worstVar <= worstVarTolerance));

        // Pathwise gradient with respect to μ and log σ², by autodiff through the library's sampling step.
        Tensor m = mean.clone().requires_grad_(true), lv = logVariance.clone().requires_grad_(true);
        Tensor perSample = Draw(m, lv).sin().sum(1);
        var gradients = autograd.grad([perSample.mean()], [m, lv]);
        double[] pathwise = [.. gradients[0].data<double>().ToArray(), .. gradients[1].data<double>().ToArray()];

        // The same estimate differentiated by central finite differences (same seed, so the same ε).
        const double h = 1e-5;
        var finite = new double[2 * d];
        using (no_grad())
            for (int i = 0; i < 2 * d; i++)
            {
                double Estimate(double shift)
                {
                    using var inner = NewDisposeScope();
                    double[] mm = (double[])mu.Clone(), ll = (double[])logVar.Clone();
                    if (i < d) mm[i] += shift; else ll[i - d] += shift;
                    return Draw(tensor(mm).view(1, d), tensor(ll).view(1, d)).sin().sum(1).mean().item<double>();
                }
                finite[i] = (Estimate(h) - Estimate(-h)) / (2 * h);
            }
        double worstFd = pathwise.Zip(finite).Max(p => Math.Abs(p.First - p.Second));
        rows.Add(new DerivationRow(Name, "pathwise ∇(μ, log σ²) E_q[g] = central finite differences of the same estimate (worst component)",
            pathwise.Sum(), finite.Sum(), worstFd, 1e-6, "autodiff through Reparameterize against (f(θ+h) − f(θ−h))/2h, h = 1e-5, float64, same seed", worstFd <= 1e-6));

        // Per-sample gradients from the drawn z: pathwise ∂/∂μ = cos z, ∂/∂log σ² = cos z · (z − μ)/2;
        // score function g(z)·∇ log q(z) with ∂/∂μ log q = (z − μ)/σ², ∂/∂log σ² log q = ½((z − μ)²/σ² − 1).
        using (no_grad())
        {
            Tensor variances = tensor(logVar.Select(Math.Exp).ToArray()).view(1, d);
            Tensor centred = z - mean;
            Tensor g = z.sin().sum(1, keepdim: true);
            Tensor pathAll = cat([z.cos(), z.cos() * centred * 0.5], 1);
            Tensor scoreAll = cat([g * centred / variances, g * (centred.square() / variances - 1) * 0.5], 1);
            double[] pathSe = pathAll.std(0).div(Math.Sqrt(samples)).data<double>().ToArray();
            double[] scoreMean = scoreAll.mean([0]).data<double>().ToArray(), scoreSe = scoreAll.std(0).div(Math.Sqrt(samples)).data<double>().ToArray();
            double[] exact = new double[2 * d];
            for (int j = 0; j < d; j++)
            {
                double v = Math.Exp(logVar[j]), damping = Math.Exp(-v / 2);
                exact[j] = Math.Cos(mu[j]) * damping;
                exact[d + j] = -Math.Sin(mu[j]) * damping * v / 2;
            }
            rows.Add(WorstRow("pathwise gradient = score-function gradient (worst component)", pathwise, scoreMean,
                pathSe.Zip(scoreSe, (a, b) => 4 * Math.Sqrt(a * a + b * b)).ToArray(), "both unbiased estimates; tolerance 4 joint standard errors"));
            rows.Add(WorstRow("pathwise gradient = exact ∇ Σ sin μ · e^(−σ²/2) (worst component)", pathwise, exact,
                pathSe.Select(s => 4 * s).ToArray(), "tolerance 4 standard errors of the pathwise estimate"));
        }
        return rows;
    }

    static DerivationRow WorstRow(string step, double[] left, double[] right, double[] tolerance, string method)
    {
        int worst = Enumerable.Range(0, left.Length).MaxBy(i => Math.Abs(left[i] - right[i]) / tolerance[i]);
        double difference = Math.Abs(left[worst] - right[worst]);
        return new DerivationRow(Name, step, left[worst], right[worst], difference, tolerance[worst], method, difference <= tolerance[worst]);
    }

    /// <summary>
    /// Check 5's rows on the pathwise gradient of the β-ELBO as training computes it. The examples' split puts a batch over
    /// shards, each drawing its ε from its own generator and (for MLP encoders and decoders with a Bernoulli likelihood) taking a
    /// hand-derived forward and backward pass with a vectorised likelihood kernel, then adds the shards' gradients with weights
    /// nₛ/n; the layers' split puts the encoder's first and the decoder's last layer in blocks of units between threads, each
    /// computing its units' activations and gradients, with partial sums exchanged at two barriers. The reference is autograd in
    /// float64 through the library's formulas (the encoder, <see cref="DiagonalGaussian.Sample"/>, the likelihood's LogProb,
    /// <see cref="GaussianKl"/>) on the same ε: a different route to the same derivative.
    /// </summary>
    public static IReadOnlyList<DerivationRow> TrainingGradientRows(long seed = 5)
    {
        using var scope = NewDisposeScope();
        const int rows = 37;   // 18 + 19: unequal shards
        const double beta = 1.7;
        using Dataset data = Shapes.Generate(rows, seed, size: 8);
        var config = new VaeConfig([1, 8, 8], LatentDimensions: 3, HiddenSizes: [24, 16], Likelihood: LikelihoodKind.Bernoulli);
        manual_seed(seed);
        using VariationalAutoencoder model = config.Build();
        var objective = new ObjectiveOptions(Beta: beta);
        var result = new List<DerivationRow>();

        // The training path: two shards, hand-derived on each, gradients added into the optimiser's buffer.
        using var optimizer = new FlatAdam(model.parameters());
        using var unused = new Generator(0);   // the autograd route's generator; the shards seed their own
        double[] shardLosses, actual;
        var setup = new StepSetup(model, optimizer, objective, new TrainingOptions(Seed: seed), unused);
        using (var sharded = new SplitExamplesStep(setup, new TrainingStrategy(TrainingParallelism.SplitExamples, 2, "check 5"), threadsPerShard: 1))
        {
            var outcomes = sharded.ForwardBackward(objective, data.Examples, step: 3, runSeed: seed);
            shardLosses = outcomes.Select(o => o.Loss * o.Examples / rows).ToArray();
            sharded.ReduceGradients();
            actual = Flatten(model.parameters().Select(p => p.grad!));
        }

        // The reference: float64 autograd through the library's formulas, on each shard's rows with that shard's ε.
        using VariationalAutoencoder copy = Float64Copy(config, model);
        Tensor loss = zeros(1, ScalarType.Float64);
        for (int s = 0; s < 2; s++)
        {
            var (start, count) = SplitExamplesStep.Rows(rows, s, 2);
            Tensor shardLoss = Float64MeanLoss(copy, data.Examples.narrow(0, start, count), unchecked((long)SplitExamplesStep.ShardSeed(seed, 3, s)), beta);
            loss = loss + shardLoss.mul((double)count / rows);
        }
        loss.backward();
        double[] expected = Flatten(copy.parameters().Select(p => p.grad!));
        double expectedLoss = loss.item<double>(), actualLoss = shardLosses.Sum();

        double scale = expected.Max(Math.Abs);
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        result.Add(new DerivationRow(ReparameterisationCheck.Name,
            "training's β-ELBO gradient (two shards, hand-derived MLP–Bernoulli pass, weighted sum) = autograd in float64 (worst element)",
            actual[Array.IndexOf(expected, expected.MaxBy(Math.Abs))], expected.MaxBy(Math.Abs), worst, 1e-5 * scale,
            $"SplitExamplesStep + MlpBernoulliStep (float32) against autograd through Encode, DiagonalGaussian.Sample, LogProb, GaussianKl (float64), " +
            $"same ε, {rows} examples, β = {beta}; tolerance 1e-5 of the largest gradient ({scale:G3})", worst <= 1e-5 * scale));
        double lossTolerance = 1e-6 * Math.Abs(expectedLoss);
        result.Add(new DerivationRow(ReparameterisationCheck.Name,
            "training's β-ELBO loss (the shards' means weighted by their share) = the batch's mean loss in float64",
            actualLoss, expectedLoss, Math.Abs(actualLoss - expectedLoss), lossTolerance,
            "Σₛ (nₛ/n)·lossₛ from the training path against the float64 reference; tolerance 1e-6 relative", Math.Abs(actualLoss - expectedLoss) <= lossTolerance));
        result.AddRange(SplitLayerRows(data, seed, beta));
        return result;
    }

    // The tensor-parallel path: hidden units and pixels in blocks of 16 and 24 (vector tails), every thread the same ε.
    static IReadOnlyList<DerivationRow> SplitLayerRows(Dataset data, long seed, double beta)
    {
        using var scope = NewDisposeScope();
        int rows = (int)data.Count;
        var config = new VaeConfig([1, 8, 8], LatentDimensions: 3, HiddenSizes: [40], Likelihood: LikelihoodKind.Bernoulli);
        manual_seed(seed + 1);
        using VariationalAutoencoder model = config.Build();
        using VariationalAutoencoder copy = Float64Copy(config, model);   // before the update
        long stepSeed = unchecked((long)SplitExamplesStep.ShardSeed(seed, 3, 0));
        using var optimizer = new FlatAdam(model.parameters());
        using var unused = new Generator(0);   // the autograd route's generator; the threads seed their own
        SplitLayersOutcome outcome;
        var setup = new StepSetup(model, optimizer, new ObjectiveOptions(Beta: beta), new TrainingOptions(Seed: seed), unused);
        using (var split = new SplitLayersStep(setup, new TrainingStrategy(TrainingParallelism.SplitLayers, 2, "check 5"), threadsPerThread: 1))
            outcome = split.Pass(data.Examples, beta, stepSeed);
        double[] actual = Flatten(model.parameters().Select(p => p.grad!));

        Tensor loss = Float64MeanLoss(copy, data.Examples, stepSeed, beta);   // the ε every thread drew
        loss.backward();
        double[] expected = Flatten(copy.parameters().Select(p => p.grad!));
        double expectedLoss = loss.item<double>();

        double scale = expected.Max(Math.Abs);
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        double lossTolerance = 1e-6 * Math.Abs(expectedLoss);
        return
        [
            new DerivationRow(ReparameterisationCheck.Name,
                "training's β-ELBO gradient (layers split between two threads, partial sums exchanged) = autograd in float64 (worst element)",
                actual[Array.IndexOf(expected, expected.MaxBy(Math.Abs))], expected.MaxBy(Math.Abs), worst, 1e-5 * scale,
                $"SplitLayersStep (float32; hidden units and pixels in blocks per thread) against autograd through Encode, DiagonalGaussian.Sample, " +
                $"LogProb, GaussianKl (float64), same ε, {rows} examples, β = {beta}; tolerance 1e-5 of the largest gradient ({scale:G3})",
                outcome.Updated && worst <= 1e-5 * scale),
            new DerivationRow(ReparameterisationCheck.Name,
                "training's β-ELBO loss (layers split: the threads' log-likelihood blocks added) = the batch's mean loss in float64",
                outcome.Loss, expectedLoss, Math.Abs(outcome.Loss - expectedLoss), lossTolerance,
                "(β·KL − Σ blocks' log p)/n from the tensor-parallel step against the float64 reference; tolerance 1e-6 relative",
                Math.Abs(outcome.Loss - expectedLoss) <= lossTolerance),
        ];
    }

    // The model's parameters in a float64 copy of the same architecture.
    static VariationalAutoencoder Float64Copy(VaeConfig config, VariationalAutoencoder model)
    {
        VariationalAutoencoder copy = config.Build();
        using (no_grad())
            foreach (var (mine, theirs) in copy.parameters().Zip(model.parameters())) mine.copy_(theirs);
        copy.to(ScalarType.Float64);
        return copy;
    }

    // The β-ELBO's mean loss of examples x in float64 through Encode, DiagonalGaussian.Sample, LogProb and GaussianKl, with the
    // ε a float32 generator seeded epsilonSeed draws for them (what the training path draws).
    static Tensor Float64MeanLoss(VariationalAutoencoder copy, Tensor examples, long epsilonSeed, double beta)
    {
        long n = examples.shape[0];
        using var generator = new Generator(0);
        generator.manual_seed(epsilonSeed);
        Tensor x = examples.reshape(n, -1).to_type(ScalarType.Float64);
        var (mean, logVariance) = copy.EncodeDiagonal(x);
        Tensor epsilon = randn(mean.shape, generator: generator).to_type(ScalarType.Float64);
        Tensor z = DiagonalGaussian.Sample(mean, logVariance, epsilon);
        return GaussianKl.PerDimension(mean, logVariance).sum(1).mul(beta).sub(copy.Likelihood.LogProb(x, copy.Decode(z))).mean();
    }

    static double[] Flatten(IEnumerable<Tensor> tensors) =>
        tensors.SelectMany(t => t.to_type(ScalarType.Float64).flatten().data<double>().ToArray()).ToArray();
}
