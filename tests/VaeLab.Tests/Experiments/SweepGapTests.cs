using VaeLab.Experiments;
using VaeLab.Plotting;
using VaeLab.Runtime;

namespace VaeLab.Tests.Experiments;

/// <summary>`vaelab sweep --gap`: the decomposition per run, its columns, the store's round trip and the report's section.</summary>
public class SweepGapTests
{
    [Fact]
    public void ASweepWithTheGapWritesItsColumnsKeepsItInTheStoreAndReportsIt()
    {
        using var folder = new TempDirectory();
        var spec = new SweepSpec([2, 4], [1], [0], Epochs: 1, Data: SweepData.Shapes, TrainExamples: 400, TestExamples: 40, ImportanceSamples: 20,
            GapExamples: 12, QuickGap: true);
        var store = new ResultStore(folder.File("store"));
        IReadOnlyList<RunResult> runs = SweepRunner.Run(spec, store);
        Assert.Equal(2, runs.Count);
        foreach (RunResult run in store.Load())
        {
            var gap = run.Gap!;
            Assert.Equal(12, gap.Examples);
            Assert.Equal(gap.InferenceGap.Nats, gap.ApproximationGap.Nats + gap.AmortisationGap.Nats, 9);
            Assert.True(double.IsFinite(gap.LogLikelihoodAis.StandardError) && gap.LogLikelihoodAis.StandardError > 0);
            Assert.Equal(100, gap.Ais.Distributions);
        }
        var frame = ResultsTable.ToDataFrame(store.Load());
        foreach (string column in new[] { "log_px_ais_nats", "log_px_ais_se", "elbo_local_nats", "approximation_gap_nats", "amortisation_gap_nats" })
            for (int i = 0; i < 2; i++)
                Assert.True(double.IsFinite((double)frame[column][i]!), $"{column}[{i}]");
        string csv = folder.File("results.csv");
        ResultsTable.WriteCsv(frame, csv);
        Assert.Equal((double)frame["amortisation_gap_nats"][1]!, (double)ResultsTable.ReadCsv(csv)["amortisation_gap_nats"][1]!, 12);

        string html = SweepReport.Build(spec, store.Load(), RuntimeInfo.Capture()).ToString();
        Assert.Contains("Inference gap", html);
        Assert.Contains("approximation gap log p̂ − L[q*]", html);
        Assert.Contains("amortisation gap L[q*] − L[q]", html);
    }

    [Fact]
    public void ASweepWithoutTheGapHasNaNColumnsAndNoSection()
    {
        var spec = new SweepSpec([2], [1], [0]);
        Assert.Equal(0, spec.GapExamples);
        Assert.Throws<ArgumentException>(() => (spec with { GapExamples = -1 }).Validate());
    }
}
