using System.Diagnostics;
using VaeLab.Data;
using VaeLab.Evaluation.Inference;
using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Benchmarks;

/// <summary>Throughput of the inference-gap tools on a trained model, beside the matrix-product peak.</summary>
/// <param name="AisExamplesPerSecond">Examples per second of forward AIS at the default settings (<see cref="AisOptions"/>).</param>
/// <param name="AisGflops">Matrix-product GFLOP/s of those AIS runs (decoder forward and gradient with respect to z).</param>
/// <param name="AisMeasuredDistributions">Intermediate distributions of the timed run (the time is linear in them; scaled to the default).</param>
/// <param name="AisExamples">Examples of the timed AIS run (one full batch of rows).</param>
/// <param name="LocalExampleStepsPerSecond">Examples × Adam steps per second of the q* fit at the default settings.</param>
/// <param name="LocalGflops">Matrix-product GFLOP/s of the q* fit.</param>
/// <param name="PeakGflops">GFLOP/s of a 2048² float32 matrix product, measured in the same process.</param>
public sealed record InferenceBenchmarkResult(double AisExamplesPerSecond, double AisGflops, int AisMeasuredDistributions, int AisExamples,
    double LocalExampleStepsPerSecond, double LocalGflops, double PeakGflops)
{
    /// <summary>AIS GFLOP/s as a fraction of the peak.</summary>
    public double AisFractionOfPeak => AisGflops / PeakGflops;

    /// <summary>q* fit GFLOP/s as a fraction of the peak.</summary>
    public double LocalFractionOfPeak => LocalGflops / PeakGflops;
}

/// <summary>
/// Times forward AIS on one full batch of rows (RowsPerBatch / chains examples) at a tenth of the default distributions and
/// scales to the default (the work per distribution is constant), and the q* fit on one batch for a fixed number of steps.
/// </summary>
public static class InferenceBenchmark
{
    /// <summary>Measures on the first examples of <paramref name="test"/> with <paramref name="model"/>; <paramref name="peakGflops"/> from <see cref="MatmulPeak"/>.</summary>
    public static InferenceBenchmarkResult Run(VariationalAutoencoder model, Dataset test, double peakGflops, int localSteps = 200)
    {
        var defaults = new AisOptions();
        var local = new LocalPosteriorOptions();
        double perRow = GemmFlops.DecoderGradientPerRow(model);
        var parameter = model.parameters().First();

        int aisExamples = Math.Min(defaults.RowsPerBatch / (defaults.Chains + defaults.PilotChains), test.Count);   // one full batch of rows
        int localExamples = Math.Min(local.ExamplesPerBatch, test.Count);
        int measured = Math.Max(2, defaults.Distributions / 10);
        using Tensor first = arange(Math.Max(aisExamples, localExamples));
        using Dataset subset = test.Subset(first);
        using Tensor all = subset.Examples.view(subset.Count, -1).to(parameter.dtype);
        using Tensor x = all.slice(0, 0, aisExamples, 1);
        using var generator = new Generator(0);
        AnnealedImportanceSampling.Forward(model, x.slice(0, 0, Math.Min(8, aisExamples), 1), defaults with { Distributions = 3 }, generator); // warm-up
        AisEstimate timed = AnnealedImportanceSampling.Forward(model, x, defaults with { Distributions = measured }, generator);
        double scale = (defaults.DecoderPassesPerExample - defaults.Chains) / (double)((measured - 1L) * defaults.LeapfrogSteps * defaults.Chains);
        double aisSecondsPerExample = timed.Seconds / aisExamples * scale;
        double aisGflops = (defaults.DecoderPassesPerExample * perRow) / aisSecondsPerExample / 1e9;

        using Tensor localX = all.slice(0, 0, localExamples, 1);
        var fixedSteps = local with { MaxSteps = localSteps, Window = localSteps + 1 };
        var clock = Stopwatch.StartNew();
        var (fitted, steps) = LocalPosterior.Fit(model, localX.view([localX.shape[0], .. model.InputShape]), fixedSteps, generator);
        double localSeconds = clock.Elapsed.TotalSeconds;
        fitted.Dispose();
        double exampleSteps = (double)steps * localX.shape[0];
        double localGflops = exampleSteps * local.SamplesPerStep * perRow / localSeconds / 1e9;
        return new InferenceBenchmarkResult(1 / aisSecondsPerExample, aisGflops, measured, aisExamples, exampleSteps / localSeconds, localGflops, peakGflops);
    }
}
