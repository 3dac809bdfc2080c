using VaeLab.Evaluation;
using VaeLab.Experiments;
using VaeLab.Plotting;
using VaeLab.Training;

namespace VaeLab.Tests.Plotting;

/// <summary>The tables notebooks, reports and terminals show: one content, HTML and plain text.</summary>
public class ValueViewsTests
{
    [Fact]
    public void ATableRendersTheSameCellsAsEncodedHtmlAndAlignedTextAndRefusesARowOfAnotherWidth()
    {
        var table = new ValueTable("caption <b>", "name", "value").Add("a<b", "1").Add("longer name", "22");
        string html = table.ToHtml();
        Assert.Contains("<td>a&lt;b</td>", html);
        Assert.Contains("caption &lt;b&gt;", html);
        string[] lines = table.ToText().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["caption <b>", "name         value", "-----------  -----", "a<b          1", "longer name  22"], lines);
        var error = Assert.Throws<ArgumentException>(() => table.Add("only one"));
        Assert.Contains("1 cells in a table of 2 columns", error.Message);
    }

    [Fact]
    public void ASweepSpecificationIsACompactTableOfWhatIsSetWithoutNullsOrJson()
    {
        var spec = new SweepSpec([2, 10], [0.5, 4], [0, 1], Epochs: 3, TrainExamples: 3000, ImportanceSamples: 0);
        string text = SweepSpecView.Table(spec).ToText();
        Assert.StartsWith("Sweep: 8 runs", text);
        Assert.Contains("latent sizes       2, 10", text);
        Assert.Contains("β                  0.5, 4", text);
        Assert.Contains("first 3,000", text);
        Assert.Contains("log p(x)           skipped", text);
        Assert.DoesNotContain("null", text);
        Assert.DoesNotContain("inference gap", text);
        Assert.DoesNotContain("{", text);
        Assert.Contains("on the first 50 test examples (quick settings)", SweepSpecView.Table(spec with { GapExamples = 50, QuickGap = true }).ToText());
    }

    [Fact]
    public void AnElboSummaryShowsItsTermsWithUnitsAndBitsPerDimension()
    {
        var elbo = new ElboSummary(500, 784, -250.0, 1.25, -230.0, 20.0);
        string text = EvaluationViews.Elbo(elbo).ToText();
        Assert.Contains("ELBO on 500 examples (nats per example)", text);
        Assert.Contains("-250.00 ± 1.25", text);
        Assert.Contains((250.0 / (784 * Math.Log(2))).ToString("F3", System.Globalization.CultureInfo.InvariantCulture), text);
    }

    [Fact]
    public void ATrainingHistoryIsDrawnDirectlyAndUnvalidatedEpochsGetNoTestLine()
    {
        EpochMetrics Epoch(int e, double validation) => new(e, e * 10, 200.0 / e, -200.0 / e, -190.0 / e, 10, validation, double.NaN, double.NaN, 1, 1, 100);
        var curve = TrainingCurve.FromHistory("reference", [Epoch(1, -150), Epoch(2, -120)]);
        Assert.Equal([-200.0, -100.0], curve.TrainElboByEpoch);
        Assert.Equal([-150.0, -120.0], curve.ValidationElboByEpoch);
        string withTest = Plotly.NET.GenericChart.toChartHTML(ExperimentCharts.TrainingCurves([curve]));
        Assert.Contains("reference test", withTest);
        string trainOnly = Plotly.NET.GenericChart.toChartHTML(ExperimentCharts.TrainingCurves([TrainingCurve.FromHistory("r", [Epoch(1, double.NaN)])]));
        Assert.Contains("r train", trainOnly);
        Assert.DoesNotContain("r test", trainOnly);
    }

    [Fact]
    public void APosteriorChartDrawsAnEllipseForTheDiagonalFamilyAndVisibleContourLinesForAnyOther()
    {
        double[] axis = [-1, 0, 1];
        double[][] mass = [[0.1, 0.1, 0.1], [0.1, 0.2, 0.1], [0.1, 0.1, 0.1]];
        var diagonal = new VaeLab.Derivation.PosteriorGrid(axis, mass, mass, [0, 0], [1, 1]);
        string ellipses = Plotly.NET.GenericChart.toChartHTML(DerivationCharts.Posterior(diagonal));
        Assert.Contains("q(z|x), 1σ", ellipses);
        string flow = Plotly.NET.GenericChart.toChartHTML(DerivationCharts.Posterior(diagonal with { Family = "Planar:4" }));
        Assert.Contains("\"name\":\"q(z|x), Planar:4\"", flow);
        Assert.Contains("\"coloring\":\"lines\"", flow);
        // The q trace's lines must have a width: Plotly.NET's contour trace defaults to 0, which draws nothing.
        string q = flow[flow.IndexOf("q(z|x), Planar:4", StringComparison.Ordinal)..];
        Assert.Matches("\"line\":\\{[^}]*\"width\":2", q);
    }
}
