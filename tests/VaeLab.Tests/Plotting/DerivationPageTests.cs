using VaeLab.Derivation;
using VaeLab.Models;
using VaeLab.Plotting;

namespace VaeLab.Tests.Plotting;

public class DerivationPageTests
{
    static DerivationReport SmallReport()
    {
        var (analytic, points) = KlConvergence.Run(sampleSizes: [10, 100, 1000]);
        var bounds = new BoundsSummary(-10.5, -10.0, [new IwaeEstimate(1, -10.49, 0.01), new IwaeEstimate(100, -10.05, 0.01)]);
        manual_seed(3);
        using var model = new VaeConfig([2], LatentDimensions: 2, HiddenSizes: [8], Likelihood: LikelihoodKind.GaussianShared).Build();
        using var x = tensor(new float[] { 0.5f, -0.2f }).view(1, 2);
        PosteriorGrid grid = QuadratureCheck.PosteriorOnGrid(model, x[0], n: 30);
        Assert.Equal(ScalarType.Float32, model.parameters().First().dtype); // returned to its own dtype
        Assert.Equal(1.0, grid.Posterior.Sum(row => row.Sum()), 9);
        return new DerivationReport(CostTermsCheck.Run(samples: 10_000), TimeSpan.FromSeconds(2), new DerivationFigures(analytic, points, bounds, grid));
    }

    [Fact]
    public void ThePageHoldsTheTableAndThreeChartsWithPlotlyEmbeddedAndNoExternalScript()
    {
        string html = DerivationPage.Build(SmallReport()).ToString();
        Assert.Contains("<table>", html);
        Assert.Equal(3, html.Split("class=\"chart\"").Length - 1);
        Assert.Equal(3, html.Split("var renderPlotly_").Length - 1);
        Assert.Contains("plotly.js v2.28.0", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script src", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("KL(q ‖ p(z|x)) = 0.5000 nats", html);
    }

    [Fact]
    public void APageWithoutFiguresHoldsOnlyTheTable()
    {
        var report = new DerivationReport(CostTermsCheck.Run(samples: 10_000), TimeSpan.FromSeconds(1));
        string html = DerivationPage.Build(report).ToString();
        Assert.Contains("<table>", html);
        Assert.DoesNotContain("class=\"chart\"", html);
    }
}
