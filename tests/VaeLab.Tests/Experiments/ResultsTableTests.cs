using System.Globalization;
using VaeLab.Evaluation.Disentanglement;
using VaeLab.Experiments;

namespace VaeLab.Tests.Experiments;

public class ResultsTableTests
{
    static RunResult Row(int latent, double beta, double elbo, double? mig = null)
    {
        RunConfig config = new SweepSpec([latent], [beta], [0], Data: mig is null ? SweepData.FashionMnist : SweepData.Shapes).Configurations()[0];
        return new RunResult(config.Id, config, elbo, 0.5, elbo + 3, 3, -(elbo + 3), elbo + 1.25, 0.01, latent, new double[latent], [.. Enumerable.Repeat(elbo - 10, config.Epochs)], [.. Enumerable.Repeat(elbo, config.Epochs)],
            12.5, "test data", "versions", new DateTime(2026, 11, 25, 0, 0, 0, DateTimeKind.Utc))
        {
            Disentanglement = mig is double value
                ? new DisentanglementScores(value, 0.75, 0.875, ["a", "b"], [[0.5, 0.25], [0, 1]], [1, 2], 2, new DisentanglementOptions(Seed: 3))
                : null,
        };
    }

    [Fact]
    public void DisentanglementScoresAreColumnsAndTravelThroughTheStore()
    {
        var frame = ResultsTable.ToDataFrame([Row(10, 4, -250.25, mig: 0.125), Row(2, 1, -260.5)]);
        Assert.True(double.IsNaN((double)frame["mig"][0]!), "a run without a factor grid has no MIG");
        Assert.Equal(0.125, (double)frame["mig"][1]!);
        Assert.Equal(0.75, (double)frame["factorvae_score"][1]!);
        Assert.Equal(0.875, (double)frame["betavae_score"][1]!);
        using var folder = new TempDirectory();
        string path = folder.File("results.csv");
        ResultsTable.WriteCsv(frame, path);
        Assert.Equal(0.875, (double)ResultsTable.ReadCsv(path)["betavae_score"][1]!);

        var store = new ResultStore(folder.File("store"));
        store.Add(Row(10, 4, -250.25, mig: 0.125));
        store.Add(Row(2, 1, -260.5));
        var rows = store.Load().OrderBy(r => r.Config.LatentDimensions).ToArray();
        Assert.Null(rows[0].Disentanglement);
        DisentanglementScores scores = rows[1].Disentanglement!;
        Assert.Equal((0.125, 0.75, 0.875, 2), (scores.Mig, scores.FactorVaeScore, scores.BetaVaeScore, scores.ActiveDimensions));
        Assert.Equal([[0.5, 0.25], [0, 1]], scores.MutualInformationNats);
        Assert.Equal(["a", "b"], scores.FactorNames);
        Assert.Equal(3, scores.Options.Seed);
    }

    [Fact]
    public void TheFrameHasTypedColumnsAndTheCsvRoundTripsInAnyCulture()
    {
        var previous = CultureInfo.CurrentCulture;
        try
        {
            // A culture with a decimal comma: the CSV must not care.
            var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            comma.NumberFormat.NumberGroupSeparator = ".";
            CultureInfo.CurrentCulture = comma;
            var frame = ResultsTable.ToDataFrame([Row(10, 4, -250.25), Row(2, 1, -260.5)]);
            Assert.Equal(ResultsTable.Columns, frame.Columns.Select(c => c.Name));
            Assert.Equal(2, frame.Rows.Count);
            Assert.Equal(2, (int)frame["latent"][0]!); // ordered by latent size
            Assert.Equal(typeof(double), frame["test_elbo_nats"].DataType);

            using var folder = new TempDirectory();
            string path = folder.File("results.csv");
            ResultsTable.WriteCsv(frame, path);
            string text = File.ReadAllText(path);
            Assert.Contains("-260.5", text);
            var back = ResultsTable.ReadCsv(path);
            Assert.Equal(-250.25, (double)back["test_elbo_nats"][1]!);
            Assert.Equal(typeof(int), back["active_units"].DataType);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void TheStrategyIsAColumnAndATableWithoutItStillReadsByName()
    {
        var run = Row(10, 4, -250.25) with { };
        var withStrategy = run with { Strategy = new VaeLab.Training.TrainingStrategy(VaeLab.Training.TrainingParallelism.SplitLayers, 2, "Auto: …") };
        var frame = ResultsTable.ToDataFrame([withStrategy, Row(2, 1, -260.5)]);
        Assert.Equal("", (string)frame["parallelism"][0]!);   // a row written before the strategy was recorded
        Assert.Equal(("SplitLayers", 2), ((string)frame["parallelism"][1]!, (int)frame["threads"][1]!));

        using var folder = new TempDirectory();
        var store = new ResultStore(folder.File("store"));
        store.Add(withStrategy);
        Assert.Equal((VaeLab.Training.TrainingParallelism.SplitLayers, 2), (store.Load().Single().Strategy!.Parallelism, store.Load().Single().Strategy!.Threads));

        // A results.csv of the columns before parallelism and threads: every column reads under its own name.
        string path = folder.File("results.csv");
        ResultsTable.WriteCsv(frame, path);
        string[] lines = File.ReadAllLines(path);
        int drop1 = Array.IndexOf(lines[0].Split(','), "parallelism"), drop2 = Array.IndexOf(lines[0].Split(','), "threads");
        File.WriteAllLines(path, lines.Select(l => string.Join(',', l.Split(',').Where((_, i) => i != drop1 && i != drop2))));
        var back = ResultsTable.ReadCsv(path);
        Assert.Equal(12.5, (double)back["wall_seconds"][0]!);
        Assert.Equal(-250.25, (double)back["test_elbo_nats"][1]!);
        Assert.DoesNotContain(back.Columns, c => c.Name == "parallelism");
    }
}
