using System.Diagnostics;
using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Models;
using VaeLab.Training;
using static TorchSharp.torch;

namespace VaeLab.Benchmarks;

/// <summary>One repetition of the steady benchmark: a matrix-product peak measured right before one timed training epoch.</summary>
/// <param name="PeakGflops">GFLOP/s of a 2048×2048 float32 matrix product.</param>
/// <param name="SecondsPerEpoch">Training time of the epoch that followed (no validation), seconds.</param>
/// <param name="TrainingGflops">Matrix-product GFLOP of the epoch over its time.</param>
/// <param name="OtherCpu">Fraction of the machine's CPU time that other processes used during the pair (NaN where unknown).</param>
/// <param name="Steal">Fraction of the CPU time the hypervisor gave to other guests during the pair (NaN where unknown).</param>
/// <param name="ResidentBytes">This process's resident memory after the epoch.</param>
/// <param name="BandwidthGBs">Copy bandwidth (<see cref="MemoryBandwidth"/>) measured between the peak and the epoch, GB/s.</param>
/// <param name="CoreToCoreNanoseconds">Cache-line round trip between two threads (<see cref="CoreToCoreLatency"/>) right before the epoch, ns.</param>
/// <param name="Shards">Threads of the timed epoch (<see cref="Trainer.Strategy"/>).</param>
/// <param name="SingleModelSecondsPerEpoch">The same epoch right after, trained as one model on libtorch's threads (NaN where not measured, or where the timed epoch was that already).</param>
/// <param name="Parallelism">How the timed epoch used the cores (<see cref="Trainer.Parallelism"/>).</param>
/// <param name="SplitExamplesSecondsPerEpoch">The same epoch right after with the batch split by examples instead of the layers (NaN where not measured).</param>
public sealed record BenchRepetition(double PeakGflops, double SecondsPerEpoch, double TrainingGflops, double OtherCpu, double Steal, long ResidentBytes, double BandwidthGBs,
    double CoreToCoreNanoseconds = double.NaN, int Shards = 1, double SingleModelSecondsPerEpoch = double.NaN,
    TrainingParallelism Parallelism = TrainingParallelism.OneModel, double SplitExamplesSecondsPerEpoch = double.NaN)
{
    /// <summary>The split-by-examples epoch's GFLOP/s over the same peak (NaN where not measured).</summary>
    public double SplitExamplesFractionOfPeak => TrainingGflops * SecondsPerEpoch / SplitExamplesSecondsPerEpoch / PeakGflops;

    /// <summary>Training GFLOP/s over the peak of the same repetition.</summary>
    public double FractionOfPeak => TrainingGflops / PeakGflops;

    /// <summary>The single-model epoch's GFLOP/s over the same peak (NaN where not measured).</summary>
    public double SingleModelFractionOfPeak => TrainingGflops * SecondsPerEpoch / SingleModelSecondsPerEpoch / PeakGflops;
}

/// <summary>The reference training run's speed against the matrix-product peak, repetition by repetition, and importance sampling's.</summary>
/// <param name="Data">Which data the run used.</param>
/// <param name="TrainingExamples">Examples per epoch.</param>
/// <param name="GflopPerEpoch">Matrix-product work of an epoch, GFLOP (see <see cref="GemmFlops"/>).</param>
/// <param name="Repetitions">Peak-then-epoch pairs, in order, after one warm-up epoch.</param>
/// <param name="ImportanceSamples">k of the log p(x) throughput measurement.</param>
/// <param name="ImportanceSampledExamplesPerSecond">Test examples per second evaluated with k samples each.</param>
/// <param name="ImportanceSampledGflops">Matrix-product GFLOP/s of that evaluation.</param>
/// <param name="ImportancePeakGflops">The peak measured right before it.</param>
public sealed record TrainingBenchmarkResult(string Data, int TrainingExamples, double GflopPerEpoch, IReadOnlyList<BenchRepetition> Repetitions,
    int ImportanceSamples, double ImportanceSampledExamplesPerSecond, double ImportanceSampledGflops, double ImportancePeakGflops)
{
    /// <summary>Median over repetitions of training / peak: the headline.</summary>
    public double FractionOfPeak => Median(Repetitions.Select(r => r.FractionOfPeak));

    /// <summary>Smallest and largest training / peak over the repetitions.</summary>
    public (double Min, double Max) FractionRange => (Repetitions.Min(r => r.FractionOfPeak), Repetitions.Max(r => r.FractionOfPeak));

    /// <summary>Median seconds per epoch.</summary>
    public double SecondsPerEpoch => Median(Repetitions.Select(r => r.SecondsPerEpoch));

    /// <summary>Median training GFLOP/s.</summary>
    public double TrainingGflops => Median(Repetitions.Select(r => r.TrainingGflops));

    /// <summary>Median over repetitions of the single-model epoch's training / peak (NaN where not measured).</summary>
    public double SingleModelFractionOfPeak => Median(Repetitions.Select(r => r.SingleModelFractionOfPeak).Where(double.IsFinite));

    /// <summary>Median over repetitions of the split-by-examples epoch's training / peak (NaN where not measured).</summary>
    public double SplitExamplesFractionOfPeak => Median(Repetitions.Select(r => r.SplitExamplesFractionOfPeak).Where(double.IsFinite));

    /// <summary>Median peak GFLOP/s.</summary>
    public double PeakGflops => Median(Repetitions.Select(r => r.PeakGflops));

    /// <summary>Importance sampling's GFLOP/s over the peak measured right before it.</summary>
    public double ImportanceFractionOfPeak => ImportanceSampledGflops / ImportancePeakGflops;

    internal static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0) return double.NaN;
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}

/// <summary>
/// Times the reference recipe (784-400-20 MLP, Bernoulli decoder on grey levels, Adam 1e-3, batch 128) against the
/// matrix-product peak of the same libtorch, steadily: after a warm-up epoch, each repetition measures the peak and then
/// trains one epoch, so a slow spell of the machine (another process, a noisy neighbour on a shared cache) lowers both
/// and their ratio stays put; the median and the range over repetitions are reported, with the CPU time other processes
/// took during each. Then the throughput of importance-sampled log p(x) with the trained model.
/// </summary>
public static class TrainingBenchmark
{
    /// <summary>Runs the measurements; <paramref name="progress"/> hears what is being measured.</summary>
    public static TrainingBenchmarkResult Run(DataChoice data, int repetitions = 5, int importanceSamples = 1000, int importanceExamples = 200, IProgress<string>? progress = null)
    {
        var (result, model) = RunKeepingModel(data, repetitions, importanceSamples, importanceExamples, progress);
        model.Dispose();
        return result;
    }

    /// <summary>As <see cref="Run"/>, and returns the trained model too (for more measurements in the same process).</summary>
    public static (TrainingBenchmarkResult Result, VariationalAutoencoder Model) RunKeepingModel(DataChoice data, int repetitions = 5, int importanceSamples = 1000, int importanceExamples = 200, IProgress<string>? progress = null)
    {
        if (repetitions < 1) throw new ArgumentOutOfRangeException(nameof(repetitions), repetitions, "Time at least one repetition.");
        manual_seed(0);
        VariationalAutoencoder model = VaeConfig.Reference.Build();
        double gflop = GemmFlops.TrainingPerExample(model) * data.Train.Count / 1e9;
        progress?.Report("reference training: warm-up epoch");
        Train(model, data.Train, seed: 0);
        var reps = new List<BenchRepetition>();
        for (int i = 0; i < repetitions; i++)
        {
            progress?.Report($"repetition {i + 1} of {repetitions}: matrix-product peak, memory bandwidth, one training epoch");
            CpuShare before = CpuShare.Read();
            double peak = MatmulPeak.Measure(rounds: 2, secondsPerRound: 0.5);
            double bandwidth = MemoryBandwidth.Measure();
            double coreToCore = CoreToCoreLatency.Measure();
            var (seconds, shards, parallelism) = Train(model, data.Train, seed: i + 1);
            using var self = Process.GetCurrentProcess();
            long resident = self.WorkingSet64;
            // Side by side: the same epoch with the batch split by examples, and as one model on libtorch's threads.
            double examples = parallelism == TrainingParallelism.SplitLayers ? Train(model, data.Train, seed: i + 1, TrainingParallelism.SplitExamples).Seconds : double.NaN;
            double single = shards > 1 ? Train(model, data.Train, seed: i + 1, TrainingParallelism.OneModel).Seconds : double.NaN;
            CpuShare after = CpuShare.Read();
            reps.Add(new BenchRepetition(peak, seconds, gflop / seconds, after.OthersSince(before), after.StealSince(before), resident, bandwidth, coreToCore, shards, single, parallelism, examples));
        }

        progress?.Report($"importance-sampled log p(x), k = {importanceSamples}");
        double isPeak = MatmulPeak.Measure(rounds: 2, secondsPerRound: 0.5);
        using var indices = arange(Math.Min(importanceExamples, data.Test.Count));
        using Dataset subset = data.Test.Subset(indices);
        var clock = Stopwatch.StartNew();
        Evaluator.ImportanceSampledLogLikelihood(model, subset, importanceSamples, seed: 0);
        double rate = subset.Count / clock.Elapsed.TotalSeconds;
        double isGflops = rate * GemmFlops.ImportanceSampledPerExample(model, importanceSamples) / 1e9;
        return (new TrainingBenchmarkResult(data.Description, data.Train.Count, gflop, reps, importanceSamples, rate, isGflops, isPeak), model);
    }

    // One epoch of the reference recipe continuing from the model's current parameters (a fresh Adam each time: the
    // benchmark times the work, not the optimisation). Returns the epoch's training seconds and how it used the cores.
    static (double Seconds, int Shards, TrainingParallelism Parallelism) Train(VariationalAutoencoder model, Dataset train, long seed, TrainingParallelism parallelism = TrainingParallelism.Auto)
    {
        using var trainer = new Trainer(model, new TrainingOptions(Epochs: 1, Seed: seed, Parallelism: parallelism));
        return (trainer.Fit(train)[^1].Seconds, trainer.Strategy.Threads, trainer.Parallelism);
    }
}
