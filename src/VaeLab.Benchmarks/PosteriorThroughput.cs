using VaeLab.Data;
using VaeLab.Models;
using VaeLab.Models.Posteriors;
using VaeLab.Training;
using static TorchSharp.torch;

namespace VaeLab.Benchmarks;

/// <summary>Training throughput of the reference architecture with one posterior family, beside the matrix-product peak.</summary>
/// <param name="Posterior">The family of q(z|x).</param>
/// <param name="Parallelism">How training used the cores (<see cref="Trainer.Parallelism"/>): the fastest step that applies to the family.</param>
/// <param name="ExamplesPerSecond">Training examples per second (mean of two timed passes after a warm-up pass).</param>
/// <param name="GflopPerExample">Matrix-product work of training one example, GFLOP (<see cref="GemmFlops.TrainingPerExample"/>, flow layers included).</param>
/// <param name="PeakGflops">The 2048² matrix-product peak: the highest of those measured before each family in the run.</param>
public sealed record PosteriorThroughputPoint(PosteriorSpec Posterior, TrainingParallelism Parallelism, double ExamplesPerSecond, double GflopPerExample, double PeakGflops)
{
    /// <summary>Matrix-product GFLOP/s of training.</summary>
    public double TrainingGflops => ExamplesPerSecond * GflopPerExample;

    /// <summary>Training GFLOP/s over the peak.</summary>
    public double FractionOfPeak => TrainingGflops / PeakGflops;
}

/// <summary>
/// What a richer posterior costs in training: the reference architecture (784-400-20, Bernoulli) trained with each family over
/// the same slice of the training set, each after a peak measurement; every fraction is of the highest of those peaks, so that the
/// families compare side by side in one process. The diagonal family is measured twice: with the fastest step (hand-derived formulas,
/// the layers split over the cores) and with the step a flow takes (autograd, the batch split by examples), so that what the flow
/// costs and what the hand-derived step saves read apart.
/// </summary>
public static class PosteriorThroughput
{
    /// <summary>The flows measured by default beside the diagonal Gaussian.</summary>
    public static IReadOnlyList<PosteriorSpec> DefaultFamilies { get; } = [PosteriorSpec.Parse("Iaf:2"), PosteriorSpec.Parse("Planar:4")];

    /// <summary>Measures the diagonal family (fastest step, then autograd split by examples) and each of <paramref name="families"/> (fastest step that applies).</summary>
    /// <param name="train">Training data (a slice of <paramref name="examples"/> is used).</param>
    /// <param name="families">Families beside the diagonal one (default <see cref="DefaultFamilies"/>).</param>
    /// <param name="examples">Examples per timed pass.</param>
    /// <param name="progress">Hears what is being measured.</param>
    public static IReadOnlyList<PosteriorThroughputPoint> Run(Dataset train, IReadOnlyList<PosteriorSpec>? families = null, int examples = 10_000, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        families ??= DefaultFamilies;
        using var indices = arange(Math.Min(examples, train.Count));
        using Dataset slice = train.Subset(indices);
        var points = new List<PosteriorThroughputPoint>();
        progress?.Report("posterior families: Diagonal, fastest step");
        points.Add(Measure(slice, PosteriorSpec.Diagonal, TrainingParallelism.Auto));
        progress?.Report("posterior families: Diagonal, autograd split by examples");
        points.Add(Measure(slice, PosteriorSpec.Diagonal, get_num_threads() >= 2 ? TrainingParallelism.SplitExamples : TrainingParallelism.OneModel));
        foreach (PosteriorSpec family in families)
        {
            progress?.Report($"posterior families: {family}");
            points.Add(Measure(slice, family, TrainingParallelism.Auto));
        }
        // One peak for every family, so their fractions compare: the highest measured before any of them (a measurement taken while
        // the previous trainer's threads wind down, or another guest of the host is busy, comes out low).
        double peak = points.Max(p => p.PeakGflops);
        return points.Select(p => p with { PeakGflops = peak }).ToArray();
    }

    static PosteriorThroughputPoint Measure(Dataset slice, PosteriorSpec family, TrainingParallelism parallelism)
    {
        double peak = MatmulPeak.Measure(rounds: 2, secondsPerRound: 0.5);
        manual_seed(0);
        using VariationalAutoencoder model = (VaeConfig.Reference with { Posterior = family }).Build();
        double perExample = GemmFlops.TrainingPerExample(model) / 1e9;
        using var trainer = new Trainer(model, new TrainingOptions(Epochs: 3, BatchSize: 128, Seed: 0, Parallelism: parallelism));
        var history = trainer.Fit(slice);
        // The first pass warms up (threads, caches, the allocator); the mean of the other two is reported.
        double rate = history.Skip(1).Select(m => m.ExamplesPerSecond).Average();
        return new PosteriorThroughputPoint(family, trainer.Parallelism, rate, perExample, peak);
    }
}
