using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Optimization;
using VaeLab.Training;
using VaeLab.Training.Steps;

namespace VaeLab.Tests.Training;

/// <summary>The parallel steps built directly (not through a trainer), one thread of libtorch each, for tests of their internals.</summary>
static class TestSteps
{
    static StepSetup Setup(VariationalAutoencoder model, FlatAdam optimizer, ObjectiveOptions objective, long seed) =>
        new(model, optimizer, objective, new TrainingOptions(Seed: seed), new Generator(0));

    /// <summary>The examples' split over <paramref name="shards"/> replicas of <paramref name="model"/> (built from its configuration).</summary>
    public static SplitExamplesStep SplitExamples(VariationalAutoencoder model, FlatAdam optimizer, int shards, ObjectiveOptions? objective = null) =>
        new(Setup(model, optimizer, objective ?? new ObjectiveOptions(), 0), new TrainingStrategy(TrainingParallelism.SplitExamples, shards, "test"), threadsPerShard: 1);

    /// <summary>The layers' split between <paramref name="threads"/> threads, or null where the selector's rules rule it out.</summary>
    public static SplitLayersStep? SplitLayers(VariationalAutoencoder model, ObjectiveOptions objective, FlatAdam optimizer, int threads, int threadsPerThread = 1) =>
        StepSelector.WhyNotSplitLayers(model, objective, new TrainingOptions(), threads, optimizer) is null
            ? new SplitLayersStep(Setup(model, optimizer, objective, 0), new TrainingStrategy(TrainingParallelism.SplitLayers, threads, "test"), threadsPerThread)
            : null;
}
