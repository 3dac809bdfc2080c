using VaeLab.Data;
using VaeLab.Models;
using VaeLab.Runtime;
using VaeLab.Training;
using static TorchSharp.torch;

namespace VaeLab.Benchmarks;

/// <summary>Training throughput of the reference architecture at one batch size and thread count, beside the peak at that thread count.</summary>
/// <param name="BatchSize">Examples per step.</param>
/// <param name="Threads">Intra-op threads of libtorch.</param>
/// <param name="ExamplesPerSecond">Training examples per second (mean of two timed passes after a warm-up pass).</param>
/// <param name="TrainingGflops">Matrix-product GFLOP/s of training.</param>
/// <param name="PeakGflops">The 2048² matrix-product peak at the same thread count, measured right before.</param>
/// <param name="Parallelism">How training used the cores at this point (<see cref="Trainer.Parallelism"/>).</param>
public sealed record ScalingPoint(int BatchSize, int Threads, double ExamplesPerSecond, double TrainingGflops, double PeakGflops,
    TrainingParallelism Parallelism = TrainingParallelism.OneModel)
{
    /// <summary>Training GFLOP/s over the peak.</summary>
    public double FractionOfPeak => TrainingGflops / PeakGflops;
}

/// <summary>
/// How training throughput moves with the batch size (32 to 1,024 at the process's thread count) and with the thread count
/// (1 and 2 at batch 128): each point trains the reference architecture over the same slice of the training set, after the
/// peak at that thread count.
/// </summary>
public static class TrainingScaling
{
    /// <summary>Batch sizes measured by default.</summary>
    public static IReadOnlyList<int> BatchSizes { get; } = new[] { 32, 64, 128, 256, 512, 1024 };

    /// <summary>Measures every batch size, then batch 128 at each of <paramref name="threadCounts"/>; restores the thread count.</summary>
    /// <param name="train">Training data (a slice of <paramref name="examples"/> is used).</param>
    /// <param name="examples">Examples per timed pass.</param>
    /// <param name="threadCounts">Thread counts for the second series.</param>
    /// <param name="progress">Hears what is being measured.</param>
    public static IReadOnlyList<ScalingPoint> Run(Dataset train, int examples = 20_000, IReadOnlyList<int>? threadCounts = null, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        threadCounts ??= new[] { 1, 2 };
        int original = get_num_threads();
        using var indices = arange(Math.Min(examples, train.Count));
        using Dataset slice = train.Subset(indices);
        var points = new List<ScalingPoint>();
        foreach (int batch in BatchSizes)
        {
            progress?.Report($"scaling: batch {batch}, {original} thread(s)");
            points.Add(Measure(slice, batch, original));
        }
        foreach (int threads in threadCounts)
        {
            progress?.Report($"scaling: batch 128, {threads} thread(s)");
            using (TorchThreads.Use(threads)) points.Add(Measure(slice, 128, threads));
        }
        return points;
    }

    static ScalingPoint Measure(Dataset slice, int batch, int threads)
    {
        double peak = MatmulPeak.Measure(rounds: 2, secondsPerRound: 0.5);
        manual_seed(0);
        using VariationalAutoencoder model = VaeConfig.Reference.Build();
        double perExample = GemmFlops.TrainingPerExample(model);
        using var trainer = new Trainer(model, new TrainingOptions(Epochs: 3, BatchSize: batch, Seed: 0));
        var history = trainer.Fit(slice);
        // The first pass warms up (threads, caches, the allocator); the mean of the other two is reported.
        double rate = history.Skip(1).Select(m => m.ExamplesPerSecond).Average();
        return new ScalingPoint(batch, threads, rate, rate * perExample / 1e9, peak, trainer.Parallelism);
    }
}
