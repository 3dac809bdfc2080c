using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VaeLab.Benchmarks;
using VaeLab.Training;
using VaeLab.Data;
using VaeLab.Runtime;

namespace VaeLab.Cli.Commands;

/// <summary><c>vaelab bench</c>: performance figures measured side by side in one process.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var threads = CommonOptions.Threads();
        var data = CommonOptions.Data();
        var repeats = new Option<int>("--repeats") { Description = "Timed runs of the IDX load.", DefaultValueFactory = _ => 7 };
        var repetitionsOption = new Option<int>("--repetitions") { Description = "Peak-then-training-epoch pairs timed after one warm-up epoch; the median and range of training / peak are reported.", DefaultValueFactory = _ => 5 };
        var scaling = new Option<bool>("--scaling") { Description = "Also measure training throughput against the batch size (32 to 1,024) and the thread count (1 and 2): about two minutes more.", DefaultValueFactory = _ => false };
        var gap = new Option<bool>("--gap") { Description = "Also time the inference-gap tools (AIS and the q* fit at their default settings) with the trained model: about a minute more.", DefaultValueFactory = _ => true };
        var posteriors = new Option<bool>("--posteriors") { Description = "Also measure training throughput with an Iaf:2 and a Planar:4 posterior beside the diagonal one, each against the peak measured right before: about a minute more.", DefaultValueFactory = _ => true };
        var command = new Command("bench", "Measure, in one process: reference training speed against the matrix-product peak, importance-sampling throughput, AIS and q* throughput, training with flow posteriors, IDX load time.")
        {
            threads, data, repeats, repetitionsOption, gap, scaling, posteriors,
        };
        command.SetAction(parse =>
        {
            RuntimeInfo info = TorchRuntime.Initialize(seed: 0, threads: parse.GetValue(threads));
            AnsiConsole.MarkupLine($"[grey]TorchSharp {info.TorchSharpVersion}, libtorch {info.LibTorchVersion}, {info.Threads} thread(s), {Markup.Escape(string.Join(" ", info.CpuFeatures))}[/]");
            using DataChoice choice = FashionMnist.Load(parse.GetValue(data));
            AnsiConsole.MarkupLine($"[grey]data: {Markup.Escape(choice.Description)}[/]");
            var status = new Progress<string>(what => Console.Error.WriteLine($"measuring {what} …"));
            var (training, model) = TrainingBenchmark.RunKeepingModel(choice, parse.GetValue(repetitionsOption), progress: status);
            InferenceBenchmarkResult? inference = null;
            if (parse.GetValue(gap))
            {
                ((IProgress<string>)status).Report("inference-gap tools: AIS and the q* fit at their default settings");
                inference = InferenceBenchmark.Run(model, choice.Test, training.PeakGflops);
            }
            IReadOnlyList<PosteriorThroughputPoint>? families = parse.GetValue(posteriors) ? PosteriorThroughput.Run(choice.Train, progress: status) : null;
            IReadOnlyList<ScalingPoint>? points = parse.GetValue(scaling) ? TrainingScaling.Run(choice.Train, progress: status) : null;
            IdxLoadResult idx = IdxLoadBenchmark.Run(parse.GetValue(repeats), parse.GetValue(data));
            var table = Tables.Create("measurement", "value");
            string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
            void Row(string name, string value) => table.AddPlainRow(name, value);
            string P(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
            string G(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
            var reps = training.Repetitions;
            var (low, high) = training.FractionRange;
            Row("(a) reference training: seconds per epoch", F(training.SecondsPerEpoch) + $"  ({training.TrainingExamples:N0} examples, median of {reps.Count} repetitions)");
            Row("(a) reference training: GFLOP/s", G(training.TrainingGflops) + $"  ({G(training.GflopPerEpoch)} GFLOP of matrix products per epoch)");
            Row("(b) float32 matrix product 2048²: GFLOP/s", G(training.PeakGflops) + $"  (median; measured before each epoch)");
            Row("(c) training / peak", P(training.FractionOfPeak) + $"  (median of {reps.Count}; range {P(low)}–{P(high)})");
            string how = reps[0].Parallelism switch
            {
                TrainingParallelism.SplitLayers => $"{reps[0].Shards} threads: layers split between them (tensor-parallel)",
                TrainingParallelism.SplitExamples => $"{reps[0].Shards} shards: batch split by examples (data-parallel)",
                _ => "one model, libtorch's threads",
            };
            Row("(c) per repetition: training / peak", string.Join("  ", reps.Select(r => P(r.FractionOfPeak))) + $"  ({how})");
            if (reps.Any(r => double.IsFinite(r.SplitExamplesSecondsPerEpoch)))
                Row("(c) per repetition: batch split by examples / peak", string.Join("  ", reps.Select(r => P(r.SplitExamplesFractionOfPeak))) + $"  (median {P(training.SplitExamplesFractionOfPeak)}; the same epoch right after)");
            if (reps.Any(r => double.IsFinite(r.SingleModelSecondsPerEpoch)))
                Row("(c) per repetition: one model on libtorch's threads / peak", string.Join("  ", reps.Select(r => P(r.SingleModelFractionOfPeak))) + $"  (median {P(training.SingleModelFractionOfPeak)}; the same epoch right after)");
            Row("(c) per repetition: core-to-core round trip (ns)", string.Join("  ", reps.Select(r => double.IsNaN(r.CoreToCoreNanoseconds) ? "n/a" : r.CoreToCoreNanoseconds.ToString("0", CultureInfo.InvariantCulture))));
            Row("(c) per repetition: copy bandwidth (GB/s)", string.Join("  ", reps.Select(r => r.BandwidthGBs.ToString("0", CultureInfo.InvariantCulture))));
            Row("(c) per repetition: other processes, steal (% CPU)", string.Join("  ", reps.Select(r => $"{Percent(r.OtherCpu)}/{Percent(r.Steal)}")));
            Row("(c) per repetition: resident memory after the epoch (MB)", string.Join("  ", reps.Select(r => (r.ResidentBytes / 1e6).ToString("0", CultureInfo.InvariantCulture))));
            Row($"(d) log p(x), k = {training.ImportanceSamples}: examples/s", G(training.ImportanceSampledExamplesPerSecond));
            Row($"(d) log p(x): GFLOP/s, / peak", $"{G(training.ImportanceSampledGflops)}, {P(training.ImportanceFractionOfPeak)}  (encoder + k decoder passes; peak {G(training.ImportancePeakGflops)} measured right before)");
            if (points is not null)
                foreach (ScalingPoint point in points)
                    Row($"(h) training, batch {point.BatchSize}, {point.Threads} thread(s)", $"{point.ExamplesPerSecond.ToString("N0", CultureInfo.InvariantCulture)} examples/s, {G(point.TrainingGflops)} GFLOP/s, / peak {P(point.FractionOfPeak)} (peak {G(point.PeakGflops)}; {point.Parallelism})");
            if (inference is not null)
            {
                var ais = new VaeLab.Evaluation.Inference.AisOptions();
                Row($"(f) AIS log p(x) ({ais.Distributions}×{ais.Chains}×{ais.LeapfrogSteps}): examples/s", inference.AisExamplesPerSecond.ToString("0.00", CultureInfo.InvariantCulture) + $"  ({inference.AisExamples} examples timed at T = {inference.AisMeasuredDistributions}, scaled to T = {ais.Distributions})");
                Row("(f) AIS: GFLOP/s, / peak", $"{inference.AisGflops.ToString("0.0", CultureInfo.InvariantCulture)}, {inference.AisFractionOfPeak.ToString("0.00", CultureInfo.InvariantCulture)}  (decoder forward + gradient to z)");
                Row("(g) q* fit: example-steps/s", inference.LocalExampleStepsPerSecond.ToString("0", CultureInfo.InvariantCulture) + $"  ({new VaeLab.Evaluation.Inference.LocalPosteriorOptions().SamplesPerStep} samples per step)");
                Row("(g) q* fit: GFLOP/s, / peak", $"{inference.LocalGflops.ToString("0.0", CultureInfo.InvariantCulture)}, {inference.LocalFractionOfPeak.ToString("0.00", CultureInfo.InvariantCulture)}");
            }
            if (families is not null)
                foreach (PosteriorThroughputPoint point in families)
                    Row($"(i) training, {point.Posterior} posterior", $"{point.ExamplesPerSecond.ToString("N0", CultureInfo.InvariantCulture)} examples/s, {G(point.TrainingGflops)} GFLOP/s, / peak {P(point.FractionOfPeak)} (peak {G(point.PeakGflops)}, the run's highest; {point.Parallelism}; {(point.GflopPerExample * 1e3).ToString("0.00", CultureInfo.InvariantCulture)} MFLOP per example)");
            Row("(e) IDX load: source", idx.Source);
            Row("(e) IDX load: images (with labels)", idx.Images.ToString("N0", CultureInfo.InvariantCulture));
            Row($"(e) IDX load: median of {idx.Repeats} (s)", F(idx.MedianSeconds));
            Row("(e) IDX load: fastest (s)", F(idx.MinSeconds));
            Row("(e) IDX load: file part, median (s)", F(idx.MedianReadSeconds) + "  (read, gunzip, validate)");
            Row("(e) IDX load: tensor part, median (s)", F(idx.MedianSeconds - idx.MedianReadSeconds) + "  (bytes → float32 in [0, 1])");
            Row("(e) IDX load: first load of the process (s)", F(idx.ColdSeconds) + "  (JIT, first touch of the VM's memory)");
            Row("(e) IDX load: plain loader, same process (s)", double.IsNaN(idx.BaselineSeconds) ? "n/a (needs the full set)" : F(idx.BaselineSeconds) + "  (byte[] → float[] loop → torch.tensor)");
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    static string Percent(double fraction) => double.IsNaN(fraction) ? "n/a" : (100 * fraction).ToString("0", CultureInfo.InvariantCulture);
}
