using VaeLab.Benchmarks;
using VaeLab.Data.Synthetic;
using VaeLab.Models.Posteriors;

namespace VaeLab.Tests.Benchmarks;

public class PosteriorThroughputTests
{
    [Fact]
    public void EachFamilyIsMeasuredAgainstOneCommonPeakAndAFlowCountsItsOwnProducts()
    {
        using var data = Shapes.Generate(384, 1, size: 28);
        var points = PosteriorThroughput.Run(data, [PosteriorSpec.Parse("Iaf:2")], examples: 384);
        Assert.Equal(["Diagonal", "Diagonal", "Iaf:2"], points.Select(p => p.Posterior.ToString()));
        Assert.Single(points.Select(p => p.PeakGflops).Distinct());
        Assert.All(points, p => Assert.True(p.ExamplesPerSecond > 0 && p.FractionOfPeak > 0 && double.IsFinite(p.FractionOfPeak)));
        Assert.Equal(points[0].GflopPerExample, points[1].GflopPerExample);
        Assert.True(points[2].GflopPerExample > points[0].GflopPerExample, "the IAF's MADE layers are matrix products too");
        Assert.NotEqual(VaeLab.Training.TrainingParallelism.SplitLayers, points[2].Parallelism);   // no hand-derived step for a flow
    }
}
