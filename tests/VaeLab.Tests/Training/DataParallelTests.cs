using VaeLab.Data;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Training;
using VaeLab.Training.Steps;

namespace VaeLab.Tests.Training;

public class DataParallelTests
{
    static TrainingOptions Options(int epochs, ObjectiveOptions? objective = null) =>
        new(Epochs: epochs, BatchSize: 32, LearningRate: 3e-3, Seed: 23, Objective: objective);

    [Fact]
    public void ShardsCoverTheBatchAndDrawUnrelatedSeeds()
    {
        foreach (int n in new[] { 1, 7, 32, 33, 128 })
            for (int shards = 1; shards <= 4; shards++)
            {
                var rows = Enumerable.Range(0, shards).Select(s => SplitExamplesStep.Rows(n, s, shards)).ToArray();
                Assert.Equal(0, rows[0].Start);
                for (int s = 1; s < shards; s++) Assert.Equal(rows[s - 1].Start + rows[s - 1].Count, rows[s].Start);
                Assert.Equal(n, rows.Sum(r => r.Count));
                Assert.True(rows.Max(r => r.Count) - rows.Min(r => r.Count) <= 1);
            }
        var seeds = from run in new long[] { 0, 1, 23 } from step in new long[] { 0, 1, 2, 1000 } from shard in new[] { 0, 1, 2 } select SplitExamplesStep.ShardSeed(run, step, shard);
        Assert.Equal(36, seeds.Distinct().Count());
    }

    [Theory]
    [InlineData(ObjectiveKind.BetaElbo, LikelihoodKind.Bernoulli, 2)]    // the hand-derived step on each shard
    [InlineData(ObjectiveKind.BetaElbo, LikelihoodKind.Bernoulli, 3)]
    [InlineData(ObjectiveKind.Iwae, LikelihoodKind.Bernoulli, 2)]        // autograd on each shard
    [InlineData(ObjectiveKind.BetaElbo, LikelihoodKind.GaussianShared, 2)]
    public void TheShardsGradientsAddUpToTheBatchGradientWithTheirEpsilon(ObjectiveKind kind, LikelihoodKind likelihood, int shards)
    {
        var objective = new ObjectiveOptions(kind, Beta: 1.5, IwaeSamples: 3);
        var (model, config) = TestModels.SmallVae(seed: 5, likelihood: likelihood);
        var (reference, _) = TestModels.SmallVae(seed: 5, likelihood: likelihood);
        using Dataset data = TestModels.SmallShapes(33, seed: 4);   // 16 + 17 rows: unequal shares
        const long runSeed = 23, step = 6;

        // Reference: one model, the whole batch's mean loss with each shard's rows' ε from that shard's generator.
        var parts = new List<Tensor>();
        for (int s = 0; s < shards; s++)
        {
            var (start, count) = SplitExamplesStep.Rows(33, s, shards);
            using var generator = new Generator(0);
            generator.manual_seed(unchecked((long)SplitExamplesStep.ShardSeed(runSeed, step, s)));
            using ObjectiveValue value = TrainingObjective.Evaluate(objective, reference, data.Examples.narrow(0, start, count), step, generator);
            parts.Add(value.Loss.mul(count / 33.0));
        }
        using (Tensor loss = torch.stack(parts).sum()) loss.backward();
        Tensor[] expected = reference.parameters().Select(p => p.grad!.clone()).ToArray();

        using var optimizer = new FlatAdam(model.parameters());
        using var sharded = TestSteps.SplitExamples(model, optimizer, shards);
        var outcomes = sharded.ForwardBackward(objective, data.Examples, step, runSeed);
        Assert.Equal(Enumerable.Range(0, shards).Select(s => SplitExamplesStep.Rows(33, s, shards).Count), outcomes.Select(o => o.Examples));
        Assert.All(outcomes, o => Assert.Null(o.NonFinite));
        double norm = sharded.ReduceGradients();

        Tensor[] actual = model.parameters().Select(p => p.grad!).ToArray();
        double squares = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double scale = expected[i].abs().max().item<float>() + 1e-12;
            double error = (actual[i] - expected[i]).abs().max().item<float>() / scale;
            Assert.True(error < 1e-5, $"parameter {i}: relative error {error:E2}");
            squares += expected[i].square().sum().item<float>();
        }
        Assert.Equal(Math.Sqrt(squares), norm, Math.Sqrt(squares) * 1e-5);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void TheUpdateThatAddsTheShardsOnTheFlyEqualsReducingThenStepping(int shards)
    {
        // 33 rows: unequal weights; weight decay on: the decayed gradient is formed inside the update as well.
        var config = new VaeConfig([1, 8, 8], LatentDimensions: 3, HiddenSizes: [30], Likelihood: LikelihoodKind.Bernoulli);   // 30: scalar tails
        manual_seed(8);
        var a = config.Build();
        manual_seed(8);
        var b = config.Build();
        using Dataset data = TestModels.SmallShapes(33, seed: 3);
        var objective = new ObjectiveOptions();
        using var adamA = new FlatAdam(a.parameters(), 1e-2, weightDecay: 0.05);
        using var adamB = new FlatAdam(b.parameters(), 1e-2, weightDecay: 0.05);
        using var shardedA = TestSteps.SplitExamples(a, adamA, shards);
        using var shardedB = TestSteps.SplitExamples(b, adamB, shards);
        for (int step = 0; step < 4; step++)
        {
            shardedA.ForwardBackward(objective, data.Examples, step, 1);
            Assert.True(shardedA.StepWithShardGradients());
            shardedB.ForwardBackward(objective, data.Examples, step, 1);
            shardedB.ReduceGradients();
            shardedB.Step();
        }
        foreach (var (pa, pb) in a.parameters().Zip(b.parameters()))
            Assert.True((pa - pb).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void ANonFiniteGradientIsRefusedBeforeAnythingNonFiniteIsWritten()
    {
        var (model, config) = TestModels.SmallVae(seed: 2);
        using Dataset data = TestModels.SmallShapes(32);
        using var optimizer = new FlatAdam(model.parameters());
        using var sharded = TestSteps.SplitExamples(model, optimizer, 2);
        sharded.ForwardBackward(new ObjectiveOptions(), data.Examples, 0, 1);
        Tensor before = torch.cat(model.parameters().Select(p => p.detach().flatten()).ToArray());
        using (no_grad()) model.parameters().Last().grad![0] = float.PositiveInfinity;   // shard 0's gradient of the last bias
        Assert.False(sharded.StepWithShardGradients());
        Tensor after = torch.cat(model.parameters().Select(p => p.detach().flatten()).ToArray());
        Assert.True(after.isfinite().all().item<bool>());
        Assert.Equal(before.numel(), after.numel());
    }

    [Fact]
    public void AShardedRunIsReproducibleLearnsAndResumesExactly()
    {
        using Dataset data = TestModels.SmallShapes(160);
        using var folder = new TempDirectory();
        IReadOnlyList<EpochMetrics> Train(TrainingOptions options, string? checkpoint = null, string? resumeFrom = null, long modelSeed = 1)
        {
            var (model, config) = TestModels.SmallVae(modelSeed);
            using var trainer = new Trainer(model, options with { Parallelism = TrainingParallelism.SplitExamples, Threads = 2 });
            Assert.Equal((TrainingParallelism.SplitExamples, 2), (trainer.Parallelism, trainer.Strategy.Threads));
            if (resumeFrom is not null) trainer.Resume(resumeFrom);
            return trainer.Fit(data, data, checkpointPath: checkpoint).Select(m => m.WithoutTimings()).ToArray();
        }
        var uninterrupted = Train(Options(4));
        Assert.Equal(uninterrupted, Train(Options(4)));
        Assert.True(uninterrupted[^1].TrainLossNats < uninterrupted[0].TrainLossNats, "the loss fell over four epochs");

        string checkpoint = folder.File("run.ckpt");
        Train(Options(2), checkpoint);
        var resumed = Train(Options(4), checkpoint, resumeFrom: checkpoint, modelSeed: 99);
        Assert.Equal(uninterrupted, resumed);
    }

    [Fact]
    public void AResumedAutoRunKeepsTheCheckpointsShardCountOnAMachineWithMoreThreads()
    {
        using Dataset data = TestModels.SmallShapes(192);
        using var folder = new TempDirectory();
        string checkpoint = folder.File("run.ckpt");
        TrainingOptions options = new(Epochs: 4, BatchSize: 64, LearningRate: 3e-3, Seed: 23, Threads: 2);
        IReadOnlyList<EpochMetrics> uninterrupted;
        var (first, _) = TestModels.SmallVae(1, likelihood: LikelihoodKind.GaussianShared);
        using (var trainer = new Trainer(first, options))
        {
            Assert.Equal((TrainingParallelism.SplitExamples, 2), (trainer.Strategy.Parallelism, trainer.Strategy.Threads));
            uninterrupted = trainer.Fit(data, data).Select(m => m.WithoutTimings()).ToArray();
        }
        var (half, _) = TestModels.SmallVae(1, likelihood: LikelihoodKind.GaussianShared);
        using (var trainer = new Trainer(half, options with { Epochs = 2 }))
            trainer.Fit(data, data, checkpointPath: checkpoint);

        // Three libtorch threads here: Auto alone would split into three shards (other ε); the resumed run keeps two.
        var (resumedModel, _) = TestModels.SmallVae(99, likelihood: LikelihoodKind.GaussianShared);
        using (TorchThreads.Use(3))
        using (var resumed = new Trainer(resumedModel, options with { Threads = null }))
        {
            Assert.Equal((TrainingParallelism.SplitExamples, 3), (resumed.Strategy.Parallelism, resumed.Strategy.Threads));
            resumed.Resume(checkpoint);
            Assert.Equal((TrainingParallelism.SplitExamples, 2), (resumed.Strategy.Parallelism, resumed.Strategy.Threads));
            Assert.Equal(uninterrupted, resumed.Fit(data, data).Select(m => m.WithoutTimings()).ToArray());
        }
    }

    [Fact]
    public void ClippingTheShardsSummedGradientScalesTheUpdate()
    {
        // Adam divides by √v + ε: a gradient clipped to a norm of 1e-12 moves each parameter by ~lr · 1e-4, an unclipped one by ~lr.
        using Dataset data = TestModels.SmallShapes(64);
        double Moved(double? clip)
        {
            var (model, config) = TestModels.SmallVae(seed: 3);
            using Tensor before = torch.cat(model.parameters().Select(p => p.detach().flatten().clone()).ToArray());
            using var trainer = new Trainer(model, new TrainingOptions(Epochs: 1, BatchSize: 32, LearningRate: 1e-2, Seed: 5, GradientClipNorm: clip) with { Parallelism = TrainingParallelism.SplitExamples, Threads = 2 });
            Assert.Equal(TrainingParallelism.SplitExamples, trainer.Parallelism);
            trainer.Fit(data);
            using Tensor after = torch.cat(model.parameters().Select(p => p.detach().flatten()).ToArray());
            return (after - before).abs().max().item<float>();
        }
        double free = Moved(null), clipped = Moved(1e-12), loose = Moved(1e6);
        Assert.True(free > 5e-3, $"unclipped: moved {free}");
        Assert.True(clipped < 1e-4, $"clipped to 1e-12: moved {clipped}");
        Assert.Equal(free, loose, 6);   // a limit above the norm changes nothing
    }

    [Fact]
    public void AutoSplitsWhereTheBatchCanBeSplitAndAnExplicitSplitIsRefusedWithTheReason()
    {
        // Two threads whatever the machine: the rules, not the core count, are under test.
        var (model, config) = TestModels.SmallVae();
        var (gaussian, _) = TestModels.SmallVae(likelihood: LikelihoodKind.GaussianFixed);
        TrainingStrategy Auto(VaeLab.Models.VariationalAutoencoder m, TrainingOptions o)
        {
            using var trainer = new Trainer(m, o with { Threads = 2 });
            return trainer.Strategy;
        }
        TrainingStrategy reference = Auto(gaussian, new TrainingOptions(BatchSize: 128));
        Assert.Equal((TrainingParallelism.SplitExamples, 2), (reference.Parallelism, reference.Threads));
        Assert.Contains("not SplitLayers: this model has a GaussianLikelihood", reference.Reason);
        TrainingStrategy small = Auto(gaussian, new TrainingOptions(BatchSize: 24));
        Assert.Equal(TrainingParallelism.OneModel, small.Parallelism);   // fewer than 16 examples a shard: libtorch's threads on one model
        Assert.Contains("fewer than 16 examples", small.Reason);
        TrainingStrategy capacity = Auto(gaussian, new TrainingOptions(BatchSize: 128, Objective: new ObjectiveOptions(ObjectiveKind.Capacity)));
        Assert.Equal(TrainingParallelism.OneModel, capacity.Parallelism);
        Assert.Contains("not a mean over examples", capacity.Reason);
        // A model assembled from parts carries no configuration: no replica can be made.
        using var assembled = new VaeLab.Models.VariationalAutoencoder(gaussian.Encoder, gaussian.Decoder, gaussian.Likelihood, [1, 8, 8]);
        TrainingStrategy noConfig = Auto(assembled, new TrainingOptions(BatchSize: 128));
        Assert.Equal(TrainingParallelism.OneModel, noConfig.Parallelism);
        Assert.Contains("not built from a VaeConfig", noConfig.Reason);

        // Many threads, a small batch: Auto splits into as many shards of 16 as the batch holds, not one per thread.
        using (var many = new Trainer(gaussian, new TrainingOptions(BatchSize: 32, Threads: 8)))
            Assert.Equal((TrainingParallelism.SplitExamples, 2), (many.Strategy.Parallelism, many.Strategy.Threads));

        var refused = Assert.Throws<ArgumentException>(() => new Trainer(model, Options(1, objective: new ObjectiveOptions(ObjectiveKind.Capacity)) with { Parallelism = TrainingParallelism.SplitExamples, Threads = 2 }));
        Assert.Contains("not a mean over examples", refused.Message);
        refused = Assert.Throws<ArgumentException>(() => new Trainer(assembled, Options(1) with { Parallelism = TrainingParallelism.SplitExamples, Threads = 2 }));
        Assert.Contains("not built from a VaeConfig", refused.Message);
        refused = Assert.Throws<ArgumentException>(() => new Trainer(model, Options(1) with { Parallelism = TrainingParallelism.SplitExamples, Threads = 1 }));
        Assert.Contains("there is 1 thread", refused.Message);
    }

    [Fact]
    public void BuildingReplicasLeavesTorchsGeneratorAndThreadCountAsTheyWere()
    {
        using Dataset data = TestModels.SmallShapes(64);
        var (model, config) = TestModels.SmallVae();
        manual_seed(42);
        using Tensor expected = rand(5);
        manual_seed(42);
        int threads = torch.get_num_threads();
        using (var trainer = new Trainer(model, Options(1) with { Parallelism = TrainingParallelism.SplitExamples, Threads = 2 }))
        {
            using Tensor drawn = rand(5);
            Assert.True(TensorAssert.Identical(expected, drawn));
            trainer.Fit(data);
        }
        Assert.Equal(threads, torch.get_num_threads());
    }

    [Fact]
    public void ANaNInAShardStopsTrainingNamingTheTerm()
    {
        using Dataset data = TestModels.SmallShapes(64);
        var (model, config) = TestModels.SmallVae();
        using (no_grad())
        {
            var weight = model.Encoder.named_parameters().First(p => p.name.EndsWith("weight")).parameter;
            weight[0, 0] = float.NaN;
        }
        using var trainer = new Trainer(model, Options(1) with { Parallelism = TrainingParallelism.SplitExamples, Threads = 2 });
        var error = Assert.Throws<NonFiniteValueException>(() => trainer.Fit(data));
        Assert.Equal((1, 1), (error.Epoch, error.Batch));
        Assert.Contains("encoder mean μ", error.Term);
    }
}
