using System.CommandLine;
using System.Diagnostics;
using System.Text;
using VaeLab.Derivation;
using VaeLab.Experiments;
using VaeLab.IO;
using VaeLab.Plotting;
using VaeLab.Runtime;

namespace VaeLab.Cli.Commands;

/// <summary>
/// <c>vaelab report</c>, the main job: run (or continue) a sweep — by default latent sizes 2, 10, 20 × β 0.5, 1, 4
/// for 3 epochs on Fashion-MNIST as resolved — and the derivation checks, then write one self-contained HTML report.
/// </summary>
internal static class ReportCommand
{
    /// <summary>The default sweep of the main job.</summary>
    public static SweepSpec DefaultSweep { get; } = new([2, 10, 20], [0.5, 1, 4], [0], Epochs: 3, ImportanceSamples: 100);

    public static Command Create()
    {
        var threads = CommonOptions.Threads();
        var spec = new Option<string?>("--spec") { Description = "A sweep JSON file instead of the default sweep." };
        var output = new Option<string>("--out") { Description = "Results folder; the report is written there as report.html.", DefaultValueFactory = _ => "results" };
        var noChecks = new Option<bool>("--no-checks") { Description = "Leave the derivation checks out of the report." };
        var command = new Command("report", "The main job: run the default sweep (or --spec) and the derivation checks, and write a self-contained HTML report.")
        {
            threads, spec, output, noChecks,
        };
        command.SetAction((parse, cancellation) =>
        {
            var clock = Stopwatch.StartNew();
            RuntimeInfo runtime = TorchRuntime.Initialize(seed: 0, threads: parse.GetValue(threads));
            SweepSpec sweep = parse.GetValue(spec) is string path ? SweepSpec.Load(path) : DefaultSweep;
            var store = new ResultStore(parse.GetValue(output)!);
            Console.WriteLine($"sweep: {sweep.Configurations().Count} runs into {store.Folder}");
            var runs = SweepDisplay.Run((lines, detail) => SweepRunner.Run(sweep, store, progress: lines, cancellation: cancellation, detail: detail));
            DerivationReport? derivation = null;
            if (!parse.GetValue(noChecks))
            {
                Console.WriteLine("derivation checks …");
                derivation = DerivationSuite.Run();
                Console.WriteLine(derivation.AllPass ? $"all {derivation.Rows.Count} derivation rows pass" : $"{derivation.Failures.Count()} of {derivation.Rows.Count} derivation rows FAIL");
            }
            ResultsTable.WriteCsv(ResultsTable.ToDataFrame(runs), Path.Combine(store.Folder, "results.csv"));
            string report = Path.Combine(store.Folder, "report.html");
            using VaeLab.Data.DataChoice data = SweepRunner.LoadData(sweep);
            IReadOnlyList<string>? classes = sweep.Data == SweepData.FashionMnist && sweep.DataDirectory is null ? VaeLab.Data.FashionMnist.ClassNames : sweep.Data == SweepData.Shapes ? VaeLab.Data.Synthetic.Shapes.ShapeNames : null;
            AtomicFile.WriteAllBytes(report, Encoding.UTF8.GetBytes(SweepReport.Build(sweep, runs, runtime, derivation, store, data.Test, classes).ToString()));
            Console.WriteLine($"report: {report} ({clock.Elapsed.TotalSeconds:F0} s)");
            return Task.FromResult(derivation is { AllPass: false } ? 1 : 0);
        });
        return command;
    }
}
