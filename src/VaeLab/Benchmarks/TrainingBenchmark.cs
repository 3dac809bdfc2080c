using System.Diagnostics;
using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Models;
using VaeLab.Training;
using static TorchSharp.torch;

namespace VaeLab.Benchmarks;

/// <summary>The reference training run's speed, the matrix-product peak and the importance-sampling throughput, measured in one process.</summary>
/// <param name="Data">Which data the run used.</param>
/// <param name="TrainingExamples">Examples per epoch.</param>
/// <param name="TimedEpochs">Epochs timed (after one warm-up epoch).</param>
/// <param name="SecondsPerEpoch">Median training time of an epoch (no validation), seconds.</param>
/// <param name="GflopPerEpoch">Matrix-product work of an epoch, GFLOP (see <see cref="GemmFlops"/>).</param>
/// <param name="TrainingGflops">GFLOP per second of the training run.</param>
/// <param name="PeakGflops">GFLOP per second of a 2048×2048 float32 matrix product.</param>
/// <param name="ImportanceSamples">k of the log p(x) throughput measurement.</param>
/// <param name="ImportanceSampledExamplesPerSecond">Test examples per second evaluated with k samples each.</param>
public sealed record TrainingBenchmarkResult(string Data, int TrainingExamples, int TimedEpochs, double SecondsPerEpoch, double GflopPerEpoch,
    double TrainingGflops, double PeakGflops, int ImportanceSamples, double ImportanceSampledExamplesPerSecond)
{
    /// <summary>Training GFLOP/s as a fraction of the matrix-product peak.</summary>
    public double FractionOfPeak => TrainingGflops / PeakGflops;
}

/// <summary>
/// Times the reference recipe (784-400-20 MLP, Bernoulli decoder on grey levels, Adam 1e-3, batch 128) on
/// the resolved data, beside the matrix-product peak of the same libtorch, and the throughput of
/// importance-sampled log p(x) with the model it trained.
/// </summary>
public static class TrainingBenchmark
{
    /// <summary>Runs the measurements; <paramref name="progress"/> hears what is being measured.</summary>
    public static TrainingBenchmarkResult Run(DataChoice data, int timedEpochs = 2, int importanceSamples = 1000, int importanceExamples = 200, IProgress<string>? progress = null)
    {
        var (result, model) = RunKeepingModel(data, timedEpochs, importanceSamples, importanceExamples, progress);
        model.Dispose();
        return result;
    }

    /// <summary>As <see cref="Run"/>, and returns the trained model too (for more measurements in the same process).</summary>
    public static (TrainingBenchmarkResult Result, VariationalAutoencoder Model) RunKeepingModel(DataChoice data, int timedEpochs = 2, int importanceSamples = 1000, int importanceExamples = 200, IProgress<string>? progress = null)
    {
        if (timedEpochs < 1) throw new ArgumentOutOfRangeException(nameof(timedEpochs), timedEpochs, "Time at least one epoch.");
        progress?.Report("matrix-product peak");
        double peak = MatmulPeak.Measure();

        progress?.Report($"reference training: 1 warm-up + {timedEpochs} timed epochs");
        manual_seed(0);
        VariationalAutoencoder model = VaeConfig.Reference.Build();
        using var trainer = new Trainer(model, new TrainingOptions(Epochs: 1 + timedEpochs, Seed: 0), VaeConfig.Reference);
        var history = trainer.Fit(data.Train);
        double seconds = Median(history.Skip(1).Select(m => m.Seconds));
        double gflop = GemmFlops.TrainingPerExample(model) * data.Train.Count / 1e9;

        progress?.Report($"importance-sampled log p(x), k = {importanceSamples}");
        using var indices = arange(Math.Min(importanceExamples, data.Test.Count));
        using Dataset subset = data.Test.Subset(indices);
        var clock = Stopwatch.StartNew();
        Evaluator.ImportanceSampledLogLikelihood(model, subset, importanceSamples, seed: 0);
        double rate = subset.Count / clock.Elapsed.TotalSeconds;

        return (new TrainingBenchmarkResult(data.Description, data.Train.Count, timedEpochs, seconds, gflop, gflop / seconds, peak, importanceSamples, rate), model);
    }

    static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.OrderBy(v => v).ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
