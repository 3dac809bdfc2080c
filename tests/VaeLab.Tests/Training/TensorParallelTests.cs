using VaeLab.Data;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Training;
using VaeLab.Training.Steps;

namespace VaeLab.Tests.Training;

public class TensorParallelTests
{
    static TrainingOptions Options(int epochs, double? clip = null) =>
        new(Epochs: epochs, BatchSize: 32, LearningRate: 3e-3, Seed: 23, GradientClipNorm: clip);

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
        using var optimizer = new FlatAdam(model.parameters(), 1e-2, weightDecay: 0.1);
        using var twinOptimizer = new FlatAdam(twin.parameters(), 1e-2, weightDecay: 0.1);
        using Tensor x = rand(rows, 1, side, side);
        const long seed = 11;

        using var generator = new Generator(0);
        generator.manual_seed(seed);
        using Tensor epsilon = randn(new long[] { rows, 5 }, generator: generator);   // what every thread draws
        var (expectedLoss, expected) = MlpBernoulliStepTests.Reference(config, model, x, epsilon, beta);

        using var split = TestSteps.SplitLayers(model, new ObjectiveOptions(Beta: beta), optimizer, threads, threadsPerThread: 1);
        Assert.NotNull(split);
        foreach (var p in model.parameters()) p.grad!.fill_(float.NaN);   // every gradient element must be written, not added to
        SplitLayersOutcome outcome = split.Pass(x, beta, seed);

        Assert.True(outcome.LossFinite && outcome.Updated);
        Assert.Equal(expectedLoss, outcome.Loss, 1e-4);
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
    public void BatchesOfChangingSizeOnOneStepEachGiveAutogradsGradient()
    {
        var config = new VaeConfig([1, 8, 8], LatentDimensions: 4, HiddenSizes: [40], Likelihood: LikelihoodKind.Bernoulli);
        manual_seed(9);
        VariationalAutoencoder model = config.Build();
        using var optimizer = new FlatAdam(model.parameters(), 1e-2);
        using var split = TestSteps.SplitLayers(model, new ObjectiveOptions(Beta: 2), optimizer, 2, 1)!;
        foreach (int rows in new[] { 12, 5, 20, 12 })   // grows past the exchange buffers' size, shrinks below it
        {
            using Tensor x = rand(rows, 1, 8, 8);
            using var generator = new Generator(0);
            generator.manual_seed(rows);
            using Tensor epsilon = randn(new long[] { rows, 4 }, generator: generator);
            var (expectedLoss, expected) = MlpBernoulliStepTests.Reference(config, model, x, epsilon, 2);
            foreach (var p in model.parameters()) p.grad!.fill_(float.NaN);
            SplitLayersOutcome outcome = split.Pass(x, 2, seed: rows);
            Assert.True(outcome.Updated);
            Assert.Equal(expectedLoss, outcome.Loss, 1e-4);
            foreach (var (actual, wanted) in model.parameters().Select(p => p.grad!).Zip(expected))
            {
                double scale = wanted.abs().max().item<double>() + 1e-12;
                Assert.True((actual.to_type(ScalarType.Float64) - wanted).abs().max().item<double>() / scale < 1e-5, $"{rows} rows");
                wanted.Dispose();
            }
        }
        Assert.Equal(4, optimizer.Steps);
    }

    [Fact]
    public void SeveralStepsFollowTheSerialHandDerivedStepAndAdam()
    {
        // The same run as one thread computes it (MlpBernoulliStep, FlatAdam.Step) with the same ε: the update of the layers
        // every thread reads, made after the join, and the owned parts, made inside, must together be one Adam step each time.
        var config = new VaeConfig([1, 8, 8], LatentDimensions: 4, HiddenSizes: [40], Likelihood: LikelihoodKind.Bernoulli);
        manual_seed(12);
        VariationalAutoencoder a = config.Build();
        manual_seed(12);
        VariationalAutoencoder b = config.Build();
        using var adamA = new FlatAdam(a.parameters(), 1e-2, weightDecay: 0.05);
        using var adamB = new FlatAdam(b.parameters(), 1e-2, weightDecay: 0.05);
        var objective = new ObjectiveOptions(Beta: 1.3);
        using var split = TestSteps.SplitLayers(a, objective, adamA, 2, 1)!;
        MlpBernoulliStep serial = new MlpBernoulliStep(b);
        using Dataset data = TestModels.SmallShapes(160, seed: 8);
        int offset = 0;
        foreach (int rows in new[] { 32, 32, 17, 32, 9, 32 })
        {
            using Tensor x = data.Examples.narrow(0, offset, rows);
            offset += rows;
            SplitLayersOutcome outcome = split.Pass(x, 1.3, seed: 100 + rows + offset);
            using var generator = new Generator(0);
            generator.manual_seed(100 + rows + offset);
            var (loss, _, _) = serial.Run(x, 1.3, generator);
            adamB.Step();
            Assert.True(outcome.Updated);
            Assert.Equal(loss, outcome.Loss, 1e-4);   // float32 sums in another order: a tolerance, not a rounding (which splits at a boundary)
        }
        using Tensor difference = (Flat(a) - Flat(b)).abs().max();
        Assert.True(difference.item<float>() < 1e-5, $"parameters differ by {difference.item<float>():E2}");
    }

    [Fact]
    public void ANonFiniteLossUpdatesNothingAndCountsNoStep()
    {
        var (model, _) = TestModels.SmallVae();
        using (no_grad()) model.Encoder.named_parameters().First(p => p.name.EndsWith("weight")).parameter[0, 0] = float.NaN;
        using var optimizer = new FlatAdam(model.parameters());
        using var split = TestSteps.SplitLayers(model, new ObjectiveOptions(), optimizer, 2, 1)!;
        using Tensor before = Flat(model).nan_to_num();
        using Dataset data = TestModels.SmallShapes(32);
        SplitLayersOutcome outcome = split.Pass(data.Examples, 1, seed: 3);
        Assert.False(outcome.LossFinite || outcome.Updated);
        Assert.Equal(0, optimizer.Steps);
        using Tensor after = Flat(model).nan_to_num();
        Assert.True(TensorAssert.Identical(before, after));
    }

    [Fact]
    public void AFailingStepThrowsWithoutHangingCountsNoStepAndTheNextOneWorks()
    {
        var (model, config) = TestModels.SmallVae();
        using var optimizer = new FlatAdam(model.parameters());
        using var split = TestSteps.SplitLayers(model, new ObjectiveOptions(), optimizer, 2, 1)!;
        using Dataset data = TestModels.SmallShapes(32);
        using Tensor before = Flat(model).clone();
        using (Tensor wrongType = data.Examples.to_type(ScalarType.Float64))
            Assert.ThrowsAny<Exception>(() => split.Pass(wrongType, 1, seed: 3));   // every thread fails in its first phase
        Assert.Equal(0, optimizer.Steps);
        using (Tensor after = Flat(model)) Assert.True(TensorAssert.Identical(before, after));

        using var generator = new Generator(0);
        generator.manual_seed(3);
        using Tensor epsilon = randn(new long[] { 32, 4 }, generator: generator);
        var (expectedLoss, expected) = MlpBernoulliStepTests.Reference(config, model, data.Examples, epsilon, 1);
        SplitLayersOutcome outcome = split.Pass(data.Examples, 1, seed: 3);
        Assert.True(outcome.Updated);
        Assert.Equal(expectedLoss, outcome.Loss, 1e-4);
        Assert.Equal(1, optimizer.Steps);
        foreach (var g in expected) g.Dispose();
    }

    [Fact]
    public void AnInfiniteGradientWithAFiniteLossIsNotApplied()
    {
        // Pixel 0 = 1e37 with its logit held at 0 (row 0 of the output layer and its bias zero; the encoder blind to it): the loss
        // stays finite, ∂loss/∂l₀ ≈ −1e37/n, and W₄'s row 0 gets ≈ −1e37 · Σ h₃ = −∞ with h₃ ≈ 200 (the latent layer's bias).
        var (model, _) = TestModels.SmallVae();
        var encoderFirst = ((MlpEncoder)model.Encoder).LinearLayers[0];
        var decoder = ((MlpDecoder)model.Decoder).LinearLayers;
        using (no_grad())
        {
            encoderFirst.weight![.., 0] = 0f;
            decoder[0].bias!.fill_(200);
            decoder[1].weight![0] = 0f;
            decoder[1].bias![0] = 0f;
        }
        using var optimizer = new FlatAdam(model.parameters());
        using var split = TestSteps.SplitLayers(model, new ObjectiveOptions(), optimizer, 2, 1)!;
        using Dataset data = TestModels.SmallShapes(32);
        using Tensor x = data.Examples.clone().view(32, -1);
        x[.., 0] = 1e37f;
        SplitLayersOutcome outcome = split.Pass(x, 1, seed: 4);
        Assert.True(outcome.LossFinite);
        Assert.False(outcome.Updated);
        Assert.False(decoder[1].weight!.grad!.isfinite().all().item<bool>());
        using Tensor after = Flat(model);
        Assert.True(after.isfinite().all().item<bool>());   // nothing non-finite was written
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
            using var split = TestSteps.SplitLayers(model, new ObjectiveOptions(), optimizer, threads, 1)!;
            for (int step = 0; step < 5; step++)
                Assert.True(split.Pass(data.Examples.narrow(0, step * 12, 12), 1.0, seed: 100 + step).Updated);
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
                var blocks = SplitLayersStep.Blocks(units, parts);
                Assert.Equal(0, blocks[0].Start);
                for (int s = 1; s < parts; s++)
                {
                    Assert.Equal(blocks[s - 1].Start + blocks[s - 1].Count, blocks[s].Start);
                    Assert.Equal(0, blocks[s].Start % SplitLayersStep.BlockAlignment);
                }
                Assert.All(blocks, b => Assert.True(b.Count > 0));
                Assert.Equal(units, blocks.Sum(b => b.Count));
            }
        Assert.Equal([(0, 192), (192, 208)], SplitLayersStep.Blocks(400, 2));
    }

    [Fact]
    public void OnlyTheOneHiddenLayerMlpBernoulliBetaElboInFloat32IsSplit()
    {
        FlatAdam Adam(VariationalAutoencoder m) => new(m.parameters());
        var (bernoulli, _) = TestModels.SmallVae();
        using var adam = Adam(bernoulli);
        Assert.Null(TestSteps.SplitLayers(bernoulli, new ObjectiveOptions(ObjectiveKind.Iwae), adam, 2, 1));
        Assert.Null(TestSteps.SplitLayers(bernoulli, new ObjectiveOptions(ObjectiveKind.Capacity), adam, 2, 1));
        Assert.Null(TestSteps.SplitLayers(bernoulli, new ObjectiveOptions(), adam, 1, 1));
        Assert.Null(TestSteps.SplitLayers(bernoulli, new ObjectiveOptions(), adam, 3, 1));   // 32 hidden units: no three blocks of 16

        var (gaussian, _) = TestModels.SmallVae(likelihood: LikelihoodKind.GaussianFixed);
        using (var g = Adam(gaussian)) Assert.Null(TestSteps.SplitLayers(gaussian, new ObjectiveOptions(), g, 2, 1));
        var deep = new VaeConfig([1, 8, 8], LatentDimensions: 4, HiddenSizes: [32, 32], Likelihood: LikelihoodKind.Bernoulli).Build();
        using (var d = Adam(deep)) Assert.Null(TestSteps.SplitLayers(deep, new ObjectiveOptions(), d, 2, 1));
        var wideLatent = new VaeConfig([1, 8, 8], LatentDimensions: 64, HiddenSizes: [32], Likelihood: LikelihoodKind.Bernoulli).Build();
        using (var w = Adam(wideLatent)) Assert.Null(TestSteps.SplitLayers(wideLatent, new ObjectiveOptions(), w, 2, 1));   // the shared latent layer too large
        var (float64, _) = TestModels.SmallVae();
        float64.to(ScalarType.Float64);
        using (var f = Adam(float64)) Assert.Null(TestSteps.SplitLayers(float64, new ObjectiveOptions(), f, 2, 1));
    }

    [Fact]
    public void TheTrainerSplitsLayersWhereItCanAndExamplesOtherwise()
    {
        var (model, config) = TestModels.SmallVae();
        using (var split = new Trainer(model, Options(1) with { Threads = 2 }))
            Assert.Equal((TrainingParallelism.SplitLayers, 2), (split.Parallelism, split.Strategy.Threads));
        var (parts, _) = TestModels.SmallVae(seed: 2);
        using (var assembled = new VariationalAutoencoder(parts.Encoder, parts.Decoder, parts.Likelihood, [1, 8, 8]))
        using (var noConfig = new Trainer(assembled, Options(1) with { Threads = 2 }))
            Assert.Equal(TrainingParallelism.SplitLayers, noConfig.Parallelism);   // no replicas needed: a model assembled from parts splits too
        using (var examples = new Trainer(model, Options(1) with { Parallelism = TrainingParallelism.SplitExamples, Threads = 2 }))
            Assert.Equal(TrainingParallelism.SplitExamples, examples.Parallelism);
        using (var clipped = new Trainer(model, Options(1, clip: 5) with { Threads = 2 }))
            Assert.Equal(TrainingParallelism.SplitExamples, clipped.Parallelism);
        using (var iwae = new Trainer(model, Options(1) with { Objective = new ObjectiveOptions(ObjectiveKind.Iwae) } with { Threads = 2 }))
            Assert.Equal(TrainingParallelism.SplitExamples, iwae.Parallelism);
        using (var large = new Trainer(model, Options(1) with { BatchSize = 512 } with { Threads = 2 }))
            Assert.Equal(TrainingParallelism.SplitExamples, large.Parallelism);   // above 256 the examples' split is faster
        using (var one = new Trainer(model, Options(1) with { Parallelism = TrainingParallelism.OneModel, Threads = 1 }))
            Assert.Equal((TrainingParallelism.OneModel, 1), (one.Parallelism, one.Strategy.Threads));
        var (gaussian, _) = TestModels.SmallVae(likelihood: LikelihoodKind.GaussianFixed);
        var refused = Assert.Throws<ArgumentException>(() => new Trainer(gaussian, Options(1) with { Parallelism = TrainingParallelism.SplitLayers, Threads = 2 }));
        Assert.Contains("SplitLayers needs a one-hidden-layer MLP VAE with a Bernoulli likelihood and the β-ELBO", refused.Message);
        Assert.Contains("this model has a GaussianLikelihood", refused.Message);
        refused = Assert.Throws<ArgumentException>(() => new Trainer(model, Options(1, clip: 5) with { Parallelism = TrainingParallelism.SplitLayers, Threads = 2 }));
        Assert.Contains("gradient clipping is on", refused.Message);
    }

    [Fact]
    public void ASplitRunIsReproducibleLearnsAndResumesExactly()
    {
        using Dataset data = TestModels.SmallShapes(160);
        using var folder = new TempDirectory();
        int threads = torch.get_num_threads();
        IReadOnlyList<EpochMetrics> Train(TrainingOptions options, string? checkpoint = null, string? resumeFrom = null, long modelSeed = 1)
        {
            var (model, config) = TestModels.SmallVae(modelSeed);
            using var trainer = new Trainer(model, options with { Threads = 2 });
            Assert.Equal(TrainingParallelism.SplitLayers, trainer.Parallelism);
            if (resumeFrom is not null) trainer.Resume(resumeFrom);
            return trainer.Fit(data, data, checkpointPath: checkpoint).Select(m => m.WithoutTimings()).ToArray();
        }
        var uninterrupted = Train(Options(4));
        Assert.Equal(uninterrupted, Train(Options(4)));
        Assert.True(uninterrupted[^1].TrainLossNats < uninterrupted[0].TrainLossNats, "the loss fell over four epochs");
        Assert.Equal(threads, torch.get_num_threads());

        string checkpoint = folder.File("run.ckpt");
        Train(Options(2), checkpoint);
        var resumed = Train(Options(4), checkpoint, resumeFrom: checkpoint, modelSeed: 99);
        Assert.Equal(uninterrupted, resumed);
    }

    [Fact]
    public void AutoResumesWithTheCheckpointsStrategyAndAnExplicitOtherOneIsRefused()
    {
        using Dataset data = TestModels.SmallShapes(160);
        using var folder = new TempDirectory();
        string checkpoint = folder.File("run.ckpt");
        IReadOnlyList<EpochMetrics> uninterrupted;
        var (first, _) = TestModels.SmallVae(1);
        using (var trainer = new Trainer(first, Options(4) with { Threads = 2 }))
            uninterrupted = trainer.Fit(data, data).Select(m => m.WithoutTimings()).ToArray();
        var (half, _) = TestModels.SmallVae(1);
        using (var trainer = new Trainer(half, Options(2) with { Threads = 2 }))
            trainer.Fit(data, data, checkpointPath: checkpoint);

        // One libtorch thread here: Auto alone would train as one model; resuming takes the checkpoint's two-thread layer split.
        var (resumedModel, _) = TestModels.SmallVae(99);
        using (TorchThreads.Use(1))
        using (var resumed = new Trainer(resumedModel, Options(4)))
        {
            Assert.Equal(TrainingParallelism.OneModel, resumed.Parallelism);
            resumed.Resume(checkpoint);
            Assert.Equal((TrainingParallelism.SplitLayers, 2), (resumed.Strategy.Parallelism, resumed.Strategy.Threads));
            Assert.Contains("resumed as the checkpoint's run trained", resumed.Strategy.Reason);
            Assert.Equal(uninterrupted, resumed.Fit(data, data).Select(m => m.WithoutTimings()).ToArray());
        }

        var (other, _) = TestModels.SmallVae(99);
        using var asked = new Trainer(other, Options(4) with { Parallelism = TrainingParallelism.OneModel });
        var refused = Assert.Throws<CheckpointException>(() => asked.Resume(checkpoint));
        Assert.Contains("trained with SplitLayers on 2 thread(s)", refused.Message);
        Assert.Contains("Parallelism = SplitLayers, Threads = 2", refused.Message);
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
        using var trainer = new Trainer(model, Options(1) with { Threads = 2 });
        Assert.Equal(TrainingParallelism.SplitLayers, trainer.Parallelism);
        var error = Assert.Throws<NonFiniteValueException>(() => trainer.Fit(data));
        Assert.Equal((1, 1), (error.Epoch, error.Batch));
        Assert.Contains("encoder mean μ", error.Term);
        using Tensor after = Flat(model);
        Assert.True(TensorAssert.Identical(before.nan_to_num(), after.nan_to_num()));   // not a single parameter moved
        Assert.Equal(0, trainer.Step);
    }
}
