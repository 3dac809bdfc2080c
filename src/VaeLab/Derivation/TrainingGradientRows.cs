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
/// Part of check 5: the pathwise gradient of the β-ELBO as training computes it. The data-parallel step splits a batch over
/// shards, each drawing its ε from its own generator and (for MLP encoders and decoders with a Bernoulli likelihood) taking a
/// hand-derived forward and backward pass with a vectorised likelihood kernel, then adds the shards' gradients with weights
/// nₛ/n; the tensor-parallel step splits the encoder's first and the decoder's last layer by units between threads, each
/// computing its units' activations and gradients, with partial sums exchanged at two barriers. The reference is autograd in
/// float64 through the library's formulas (the encoder, <see cref="DiagonalGaussian.Sample"/>, the likelihood's LogProb,
/// <see cref="GaussianKl"/>) on the same ε: a different route to the same derivative.
/// </summary>
public static class TrainingGradientRows
{
    /// <summary>The rows (added to check 5).</summary>
    public static IReadOnlyList<DerivationRow> Run(long seed = 5)
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
        var (mean, logVariance) = copy.Encode(x);
        Tensor epsilon = randn(mean.shape, generator: generator).to_type(ScalarType.Float64);
        Tensor z = DiagonalGaussian.Sample(mean, logVariance, epsilon);
        return GaussianKl.PerDimension(mean, logVariance).sum(1).mul(beta).sub(copy.Likelihood.LogProb(x, copy.Decode(z))).mean();
    }

    static double[] Flatten(IEnumerable<Tensor> tensors) =>
        tensors.SelectMany(t => t.to_type(ScalarType.Float64).flatten().data<double>().ToArray()).ToArray();
}
