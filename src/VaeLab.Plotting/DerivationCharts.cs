using System.Globalization;
using Plotly.NET;
using Plotly.NET.LayoutObjects;
using VaeLab.Derivation;
using Chart = Plotly.NET.CSharp.Chart;
using Plotly.NET.CSharp;

namespace VaeLab.Plotting;

/// <summary>The figures of the ELBO derivation checks.</summary>
public static class DerivationCharts
{
    /// <summary>
    /// Monte Carlo KL converging to the analytic value: |estimate − analytic| against N on log-log axes,
    /// beside the estimator's standard error sd/√N (the 1/√N line the error follows).
    /// </summary>
    public static GenericChart KlConvergence(double analyticNats, IReadOnlyList<KlConvergencePoint> points)
    {
        var n = points.Select(p => (double)p.Samples).ToArray();
        var error = Chart.Point<double, double, string>(n, points.Select(p => Math.Max(p.AbsoluteErrorNats, 1e-12)).ToArray(), Name: "|Monte Carlo − analytic|");
        var line = Chart.Line<double, double, string>(n, points.Select(p => p.StandardErrorNats).ToArray(), Name: "standard error sd/√N");
        return Chart.Combine([error, line])
            .WithTitle(string.Create(CultureInfo.InvariantCulture, $"Monte Carlo KL(q ‖ p(z)) → analytic {analyticNats:F4} nats"))
            .WithXAxisStyle<double, double, string>(TitleText: "draws N", AxisType: StyleParam.AxisType.Log)
            .WithYAxisStyle<double, double, string>(TitleText: "nats", AxisType: StyleParam.AxisType.Log);
    }

    /// <summary>
    /// ELBO, IWAE_k and log p(x) side by side, measured upwards from the ELBO: each column is KL(q ‖ p(z|x)) =
    /// log p(x) − ELBO, split into what the bound recovers (bound − ELBO) and the gap left (log p(x) − bound).
    /// </summary>
    public static GenericChart Bounds(BoundsSummary bounds)
    {
        string[] names = ["ELBO", .. bounds.Iwae.Select(b => $"IWAE_{b.K}"), "log p(x)"];
        double[] values = [bounds.ElboNats, .. bounds.Iwae.Select(b => b.BoundNats), bounds.LogMarginalNats];
        double[] recovered = values.Select(v => Math.Max(v - bounds.ElboNats, 0)).ToArray();
        double[] gap = values.Select(v => Math.Max(bounds.LogMarginalNats - v, 0)).ToArray();
        var lower = Chart.StackedColumn<double, string, string>(recovered, Keys: names, Name: "bound − ELBO");
        var upper = Chart.StackedColumn<double, string, string>(gap, Keys: names, Name: "gap log p(x) − bound");
        return Chart.Combine([lower, upper])
            .WithTitle(string.Create(CultureInfo.InvariantCulture,
                $"ELBO {bounds.ElboNats:F3}, log p(x) {bounds.LogMarginalNats:F3}: KL(q ‖ p(z|x)) = {bounds.PosteriorGapNats:F4} nats"))
            .WithYAxisStyle<double, double, string>(TitleText: "nats above the ELBO");
    }

    /// <summary>
    /// The true posterior p(z|x) of a 2-D latent as filled contours, with q(z|x) overlaid: a diagonal Gaussian's 1, 2 and 3 σ
    /// ellipses, or any other family's density as red contour lines.
    /// </summary>
    /// <param name="grid">The two densities on one grid (<c>QuadratureCheck.PosteriorOnGrid</c>).</param>
    /// <param name="title">The chart's title (default: what is drawn).</param>
    public static GenericChart Posterior(PosteriorGrid grid, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(grid);
        var posterior = Chart.Contour<double, double, double, string>(grid.Posterior, X: grid.Axis, Y: grid.Axis, Name: "p(z|x)",
            ColorScale: StyleParam.Colorscale.Greys, ShowScale: false, ReverseScale: true);
        if (grid.Family != "Diagonal")
        {
            // No ellipse describes a full covariance's tilt or a flow's bend: q's own density, as red lines.
            var q = Chart.Contour<double, double, double, string>(grid.Approximation, X: grid.Axis, Y: grid.Axis, Name: $"q(z|x), {grid.Family}",
                ColorScale: StyleParam.Colorscale.NewCustom([Tuple.Create(0.0, Color.fromString("#d62728")), Tuple.Create(1.0, Color.fromString("#d62728"))]),
                ShowScale: false, ContoursColoring: StyleParam.ContourColoring.Lines, NContours: 6, ShowContourLines: true, ContourLinesWidth: 2.0);
            return Chart.Combine([posterior, q])
                .WithTitle(title ?? $"true posterior p(z|x) (filled contours) and q(z|x), {grid.Family} (red lines)")
                .WithXAxisStyle<double, double, string>(TitleText: "z₁")
                .WithYAxisStyle<double, double, string>(TitleText: "z₂");
        }
        // q(z|x) is a diagonal Gaussian: its level sets are axis-aligned ellipses, drawn at 1, 2 and 3 σ.
        var ellipses = new[] { 1.0, 2.0, 3.0 }.Select(k =>
        {
            double[] angle = Enumerable.Range(0, 121).Select(i => 2 * Math.PI * i / 120).ToArray();
            return Chart.Line<double, double, string>(
                angle.Select(a => grid.QMean[0] + k * grid.QStandardDeviation[0] * Math.Cos(a)).ToArray(),
                angle.Select(a => grid.QMean[1] + k * grid.QStandardDeviation[1] * Math.Sin(a)).ToArray(),
                Name: $"q(z|x), {k:0}σ", LineColor: Color.fromString("#d62728"));
        });
        return Chart.Combine([posterior, .. ellipses])
            .WithTitle(title ?? "true posterior p(z|x) (filled contours) and q(z|x) at 1, 2, 3 σ (red)")
            .WithXAxisStyle<double, double, string>(TitleText: "z₁")
            .WithYAxisStyle<double, double, string>(TitleText: "z₂");
    }
}
