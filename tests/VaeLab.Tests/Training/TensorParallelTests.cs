using VaeLab.Data;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Training;

namespace VaeLab.Tests.Training;

public class TensorParallelTests
{
    static TrainingOptions Options(int epochs, string? checkpoint = null, double? clip = null) =>
        new(Epochs: epochs, BatchSize: 32, LearningRate: 3e-3, Seed: 23, CheckpointPath: checkpoint, GradientClipNorm: clip);

    static Tensor Flat(VariationalAutoencoder model) => torch.cat(model.parameters().Select(p => p.detach().flatten()).ToArray());

    [Theory]
    [InlineData(2, 7, 44, 1.0, 33)]   // blocks 16 + 28 hidden units, 32 + 17 pixels: vector tails in every loop
    [InlineData(2, 7, 44, 3.5, 5)]
    [InlineData(3, 8, 48, 0.0, 32)]   // three threads: 16 + 16 + 16 hidden units, 16 + 32 + 16 pixels
    public void TheSplitStepsGradientIsAutogradsInFloat64AndItsUpdateIsAdamsOnIt(int threads, int side, int hidden, double beta, int rows)
    {
        var config = new VaeConfig([1, side, side], LatentDimensions: 5, HiddenSizes: [hidden], Likelihood: LikelihoodKind.Bernoulli);
        manual_seed(3);
        VariationalAutoencoder model = config.Build();
        manual_seed(3);
        VariationalAutoencoder twin = config.Build();
        using var optimizer = new FlatAdam(model.parameters(), 1e-2);
        using var twinOptimizer = new FlatAdam(twin.parameters(), 1e-2);
        using Tensor x = rand(rows, 1, side, side);
        const long seed = 11;

        using var generator = new Generator(0);
        generator.manual_seed(seed);
        using Tensor epsilon = randn(new long[] { rows, 5 }, generator: generator);   // what every thread draws
        var (expectedLoss, expected) = MlpBernoulliStepTests.Reference(config, model, x, epsilon, beta);

        using var split = TensorParallelStep.TryCreate(model, new ObjectiveOptions(Beta: beta), optimizer, threads, threadsPerThread: 1);
        Assert.NotNull(split);
        foreach (var p in model.parameters()) p.grad!.fill_(float.NaN);   // every gradient element must be written, not added to
        TensorParallelOutcome outcome = split.Run(x, beta, seed);

        Assert.True(outcome.LossFinite && outcome.Updated);
        Assert.Equal(expectedLoss, outcome.Loss, 4);
        Assert.Equal(expectedLoss, (beta * outcome.KlSum - outcome.ReconstructionSum) / rows, 4);
        var actual = model.parameters().Select(p => p.grad!).ToArray();
        for (int i = 0; i < actual.Length; i++)
        {
            double scale = expected[i].abs().max().item<double>() + 1e-12;
            double error = (actual[i].to_type(ScalarType.Float64) - expected[i]).abs().max().item<double>() / scale;
            Assert.True(error < 1e-5, $"parameter {i} [{string.Join("x", actual[i].shape)}]: relative error {error:E2}");
        }

        // Every parameter was updated exactly once, as one Adam step on the whole gradient updates it.
        using (no_grad())
            foreach (var (mine, theirs) in twin.parameters().Zip(model.parameters())) mine.grad!.copy_(theirs.grad!);
        twinOptimizer.Step();
        Assert.Equal(1, optimizer.Steps);
        using Tensor difference = (Flat(model) - Flat(twin)).abs().max();
        Assert.Equal(0f, difference.item<float>());
        foreach (var g in expected) g.Dispose();
    }

    [Fact]
    public void TheResultDoesNotDependOnTheNumberOfThreadsBeyondRounding()
    {
        var config = new VaeConfig([1, 8, 8], LatentDimensions: 4, HiddenSizes: [48], Likelihood: LikelihoodKind.Bernoulli);
        using Dataset data = TestModels.SmallShapes(64, seed: 6);
        Tensor Train(int threads)
        {
            manual_seed(4);
            VariationalAutoencoder model = config.Build();
            using var optimizer = new FlatAdam(model.parameters(), 1e-2);
            using var split = TensorParallelStep.TryCreate(model, new ObjectiveOptions(), optimizer, threads, 1)!;
            for (int step = 0; step < 5; step++)
                Assert.True(split.Run(data.Examples.narrow(0, step * 12, 12), 1.0, seed: 100 + step).Updated);
            return Flat(model);
        }
        using Tensor two = Train(2), three = Train(3);
        Assert.True((two - three).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void BlocksCoverTheUnitsOnSixteenUnitBoundaries()
    {
        foreach (int units in new[] { 32, 44, 49, 400, 784, 1000 })
            for (int parts = 2; parts <= 4 && units >= 16 * parts; parts++)
            {
                var blocks = TensorParallelStep.Blocks(units, parts);
                Assert.Equal(0, blocks[0].Start);
                for (int s = 1; s < parts; s++)
                {
                    Assert.Equal(blocks[s - 1].Start + blocks[s - 1].Count, blocks[s].Start);
                    Assert.Equal(0, blocks[s].Start % TensorParallelStep.BlockAlignment);
                }
                Assert.All(blocks, b => Assert.True(b.Count > 0));
                Assert.Equal(units, blocks.Sum(b => b.Count));
            }
        Assert.Equal([(0, 192), (192, 208)], TensorParallelStep.Blocks(400, 2));
    }

    [Fact]
    public void OnlyTheOneHiddenLayerMlpBernoulliBetaElboInFloat32IsSplit()
    {
        FlatAdam Adam(VariationalAutoencoder m) => new(m.parameters());
        var (bernoulli, _) = TestModels.SmallVae();
        using var adam = Adam(bernoulli);
        Assert.Null(TensorParallelStep.TryCreate(bernoulli, new ObjectiveOptions(ObjectiveKind.Iwae), adam, 2, 1));
        Assert.Null(TensorParallelStep.TryCreate(bernoulli, new ObjectiveOptions(ObjectiveKind.Capacity), adam, 2, 1));
        Assert.Null(TensorParallelStep.TryCreate(bernoulli, new ObjectiveOptions(), adam, 1, 1));
        Assert.Null(TensorParallelStep.TryCreate(bernoulli, new ObjectiveOptions(), adam, 3, 1));   // 32 hidden units: no three blocks of 16

        var (gaussian, _) = TestModels.SmallVae(likelihood: LikelihoodKind.GaussianFixed);
        using (var g = Adam(gaussian)) Assert.Null(TensorParallelStep.TryCreate(gaussian, new ObjectiveOptions(), g, 2, 1));
        var deep = new VaeConfig([1, 8, 8], LatentDimensions: 4, HiddenSizes: [32, 32], Likelihood: LikelihoodKind.Bernoulli).Build();
        using (var d = Adam(deep)) Assert.Null(TensorParallelStep.TryCreate(deep, new ObjectiveOptions(), d, 2, 1));
        var wideLatent = new VaeConfig([1, 8, 8], LatentDimensions: 64, HiddenSizes: [32], Likelihood: LikelihoodKind.Bernoulli).Build();
        using (var w = Adam(wideLatent)) Assert.Null(TensorParallelStep.TryCreate(wideLatent, new ObjectiveOptions(), w, 2, 1));   // the shared latent layer too large
        var (float64, _) = TestModels.SmallVae();
        float64.to(ScalarType.Float64);
        using (var f = Adam(float64)) Assert.Null(TensorParallelStep.TryCreate(float64, new ObjectiveOptions(), f, 2, 1));
    }

    [Fact]
    public void TheTrainerSplitsLayersWhereItCanAndExamplesOtherwise()
    {
        var (model, config) = TestModels.SmallVae();
        using (var split = new Trainer(model, Options(1), config, shards: 2))
            Assert.Equal((TrainingParallelism.SplitLayers, 2), (split.Parallelism, split.Shards));
        using (var noConfig = new Trainer(model, Options(1), config: null, shards: 2))
            Assert.Equal(TrainingParallelism.SplitLayers, noConfig.Parallelism);   // no replicas needed
        using (var examples = new Trainer(model, Options(1), config, shards: 2, splitLayers: false))
            Assert.Equal(TrainingParallelism.SplitExamples, examples.Parallelism);
        using (var clipped = new Trainer(model, Options(1, clip: 5), config, shards: 2))
            Assert.Equal(TrainingParallelism.SplitExamples, clipped.Parallelism);
        using (var iwae = new Trainer(model, Options(1) with { Objective = new ObjectiveOptions(ObjectiveKind.Iwae) }, config, shards: 2))
            Assert.Equal(TrainingParallelism.SplitExamples, iwae.Parallelism);
        using (var one = new Trainer(model, Options(1), config, shards: 1))
            Assert.Equal((TrainingParallelism.OneModel, 1), (one.Parallelism, one.Shards));
    }

    [Fact]
    public void ASplitRunIsReproducibleLearnsAndResumesExactly()
    {
        using Dataset data = TestModels.SmallShapes(160);
        using var folder = new TempDirectory();
        int threads = torch.get_num_threads();
        IReadOnlyList<EpochMetrics> Train(TrainingOptions options, string? resumeFrom = null, long modelSeed = 1)
        {
            var (model, config) = TestModels.SmallVae(modelSeed);
            using var trainer = new Trainer(model, options, config, shards: 2);
            Assert.Equal(TrainingParallelism.SplitLayers, trainer.Parallelism);
            if (resumeFrom is not null) trainer.Resume(resumeFrom);
            return trainer.Fit(data, data).Select(m => m.WithoutTimings()).ToArray();
        }
        var uninterrupted = Train(Options(4));
        Assert.Equal(uninterrupted, Train(Options(4)));
        Assert.True(uninterrupted[^1].TrainLossNats < uninterrupted[0].TrainLossNats, "the loss fell over four epochs");
        Assert.Equal(threads, torch.get_num_threads());

        string checkpoint = folder.File("run.ckpt");
        Train(Options(2, checkpoint));
        var resumed = Train(Options(4, checkpoint), resumeFrom: checkpoint, modelSeed: 99);
        Assert.Equal(uninterrupted, resumed);
    }

    [Fact]
    public void ANaNStopsTrainingNamingTheTermWithNothingUpdated()
    {
        using Dataset data = TestModels.SmallShapes(64);
        var (model, config) = TestModels.SmallVae();
        using (no_grad())
        {
            var weight = model.Encoder.named_parameters().First(p => p.name.EndsWith("weight")).parameter;
            weight[0, 0] = float.NaN;
        }
        using Tensor before = Flat(model).clone();
        using var trainer = new Trainer(model, Options(1), config, shards: 2);
        Assert.Equal(TrainingParallelism.SplitLayers, trainer.Parallelism);
        var error = Assert.Throws<NonFiniteValueException>(() => trainer.Fit(data));
        Assert.Equal((1, 1), (error.Epoch, error.Batch));
        Assert.Contains("encoder mean μ", error.Term);
        using Tensor after = Flat(model);
        Assert.True(TensorAssert.Identical(before.nan_to_num(), after.nan_to_num()));   // not a single parameter moved
        Assert.Equal(0, trainer.Step);
    }
}
