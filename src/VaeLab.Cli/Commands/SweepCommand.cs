using System.CommandLine;
using System.Globalization;
using VaeLab.Experiments;
using VaeLab.Runtime;

namespace VaeLab.Cli.Commands;

/// <summary><c>vaelab sweep</c>: run (or continue) a latent size × β × seed sweep into a durable results folder.</summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        var threads = CommonOptions.Threads();
        var spec = new Option<string?>("--spec") { Description = "A sweep JSON file (latentSizes, betas, seeds, epochs, …). Without it the grid options below are used." };
        var latent = new Option<int[]>("--latent") { Description = "Latent sizes.", DefaultValueFactory = _ => [2, 10, 20], AllowMultipleArgumentsPerToken = true };
        var beta = new Option<double[]>("--beta") { Description = "β values.", DefaultValueFactory = _ => [1.0], AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<long[]>("--seeds") { Description = "Seeds.", DefaultValueFactory = _ => [0], AllowMultipleArgumentsPerToken = true };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per run.", DefaultValueFactory = _ => 5 };
        var data = new Option<SweepData>("--data") { Description = "FashionMnist (resolved as usual) or Shapes (the synthetic factor grid; adds MIG, FactorVAE and β-VAE scores).", DefaultValueFactory = _ => SweepData.FashionMnist };
        var trainExamples = new Option<int?>("--train-examples") { Description = "Use only the first N training examples." };
        var testExamples = new Option<int?>("--test-examples") { Description = "Evaluate on only the first N test examples." };
        var prior = CommonOptions.Prior();
        var importance = new Option<int>("--importance-samples") { Description = "k for log p(x) per run (0 = skip).", DefaultValueFactory = _ => 100 };
        var output = new Option<string>("--out") { Description = "Results folder (rows in runs/, checkpoints in checkpoints/).", DefaultValueFactory = _ => "results" };
        var shard = new Option<string>("--shard") { Description = "i/n: run only the i-th of n disjoint slices (0-based), e.g. from a job array index.", DefaultValueFactory = _ => "0/1" };
        var gap = new Option<bool>("--gap") { Description = "Also decompose each run's inference gap (AIS log p(x), L[q*], approximation and amortisation gaps) on --gap-examples test examples: columns log_px_ais_nats … amortisation_gap_nats." };
        var gapExamples = new Option<int>("--gap-examples") { Description = "Test examples of the --gap decomposition.", DefaultValueFactory = _ => 200 };
        var gapQuick = new Option<bool>("--gap-quick") { Description = "Quick settings for --gap (IS-500, AIS 100×8×5, q* ≤ 400 steps): seconds per run, rough figures." };
        var command = new Command("sweep", "Run or continue a sweep over latent size × β × seed; finished runs are skipped, interrupted ones resume from their checkpoints.")
        {
            threads, spec, latent, beta, seeds, epochs, data, trainExamples, testExamples, prior, importance, output, shard, gap, gapExamples, gapQuick,
        };
        command.SetAction((parse, cancellation) =>
        {
            TorchRuntime.Initialize(seed: 0, threads: parse.GetValue(threads));
            SweepSpec sweep = parse.GetValue(spec) is string path
                ? SweepSpec.Load(path)
                : new SweepSpec(parse.GetValue(latent)!, parse.GetValue(beta)!, parse.GetValue(seeds)!, parse.GetValue(epochs),
                    Data: parse.GetValue(data), TrainExamples: parse.GetValue(trainExamples), TestExamples: parse.GetValue(testExamples),
                    ImportanceSamples: parse.GetValue(importance), Prior: parse.GetValue(prior));
            if (parse.GetValue(gap))
            {
                if (parse.GetValue(gapExamples) < 1) throw new ArgumentException($"--gap-examples must be at least 1, got {parse.GetValue(gapExamples)}.");
                sweep = sweep with { GapExamples = parse.GetValue(gapExamples), QuickGap = parse.GetValue(gapQuick) };
            }
            var (index, count) = ParseShard(parse.GetValue(shard)!);
            var store = new ResultStore(parse.GetValue(output)!);
            Console.WriteLine($"sweep: {sweep.Configurations().Count} runs, shard {index}/{count}; results in {store.Folder}");
            var rows = SweepDisplay.Run((lines, detail) => SweepRunner.Run(sweep, store, index, count, lines, cancellation, detail));
            foreach (RunResult row in rows.OrderBy(r => r.Config.LatentDimensions).ThenBy(r => r.Config.Beta).ThenBy(r => r.Config.Seed))
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{row.RunId}: test ELBO {row.TestElboNats:F2} nats, KL {row.KlNats:F2}, log p(x) {row.LogLikelihoodNats:F2}, active units {row.ActiveUnits}{Scores(row)}"));
            string csv = Path.Combine(store.Folder, "results.csv");
            ResultsTable.WriteCsv(ResultsTable.ToDataFrame(store.Load()), csv);
            Console.WriteLine($"table of all {store.Load().Count} finished run(s): {csv}");
            return Task.FromResult(0);
        });
        return command;
    }

    static string Scores(RunResult row) => (row.Disentanglement is { } d
        ? string.Create(CultureInfo.InvariantCulture, $", MIG {d.Mig:F3}, FactorVAE {d.FactorVaeScore:F3}, β-VAE {d.BetaVaeScore:F3}")
        : "") + (row.Gap is { } g ? $", approximation gap {g.ApproximationGap}, amortisation gap {g.AmortisationGap}" : "");

    /// <summary>Parses "i/n".</summary>
    /// <exception cref="ArgumentException">Not of the form i/n with 0 ≤ i &lt; n.</exception>
    public static (int Index, int Count) ParseShard(string text)
    {
        string[] parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && i < n)
            return (i, n);
        throw new ArgumentException($"--shard '{text}': expected i/n with 0 ≤ i < n, e.g. 0/4.");
    }
}
