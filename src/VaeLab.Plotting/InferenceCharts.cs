using System.Globalization;
using Plotly.NET;
using Plotly.NET.CSharp;
using VaeLab.Evaluation.Inference;
using Chart = Plotly.NET.CSharp.Chart;

namespace VaeLab.Plotting;

/// <summary>Charts of the inference-gap tools: AIS and BDMC against the number of distributions, and the gap decomposed.</summary>
public static class InferenceCharts
{
    /// <summary>
    /// AIS estimates against the number of intermediate distributions (log axis): forward AIS (a lower bound) and, where given,
    /// reverse AIS (an upper bound from BDMC), each ± 2 Monte Carlo standard errors, and the exact log p(x) when it is known.
    /// </summary>
    public static GenericChart AisConvergence(IReadOnlyList<(int Distributions, AisEstimate Lower, AisEstimate? Upper)> points, double? exact = null, string? title = null)
    {
        double[] t = points.Select(p => (double)p.Distributions).ToArray();
        var traces = new List<GenericChart>();
        void Add(string name, AisEstimate?[] estimates, string colour)
        {
            int[] have = Enumerable.Range(0, estimates.Length).Where(i => estimates[i] is not null).ToArray();
            if (have.Length == 0) return;
            Color color = Color.fromString(colour);
            double[] x = have.Select(i => t[i]).ToArray(), y = have.Select(i => estimates[i]!.LogLikelihoodNats).ToArray();
            double[] se = have.Select(i => estimates[i]!.MonteCarloStandardError).ToArray();
            traces.Add(Chart.Line<double, double, string>(x, y, Name: name, ShowMarkers: true, LineColor: color, MarkerColor: color));
            traces.Add(Chart.Line<double, double, string>(x, y.Zip(se, (v, e) => v + 2 * e).ToArray(), Name: $"{name} ± 2 SE", LineDash: StyleParam.DrawingStyle.Dot, ShowLegend: false, LineColor: color));
            traces.Add(Chart.Line<double, double, string>(x, y.Zip(se, (v, e) => v - 2 * e).ToArray(), Name: $"{name} ± 2 SE", LineDash: StyleParam.DrawingStyle.Dot, ShowLegend: false, LineColor: color));
        }
        Add("forward AIS (lower bound)", points.Select(p => (AisEstimate?)p.Lower).ToArray(), ExperimentCharts.Palette[0]);
        Add("reverse AIS (upper bound, BDMC)", points.Select(p => p.Upper).ToArray(), ExperimentCharts.Palette[1]);
        if (exact is double value)
            traces.Add(Chart.Line<double, double, string>([t.Min(), t.Max()], [value, value], Name: "exact log p(x)", LineDash: StyleParam.DrawingStyle.Dash, LineColor: Color.fromString("#444444")));
        return Chart.Combine(traces)
            .WithTitle(title ?? "log p(x) by AIS against the number of intermediate distributions (mean over examples; dotted: ± 2 SE)")
            .WithXAxisStyle<double, double, string>(TitleText: "intermediate distributions T", AxisType: StyleParam.AxisType.Log)
            .WithYAxisStyle<double, double, string>(TitleText: "nats per example")
            .WithSize(800, 450);
    }

    /// <summary>Decompositions as stacked bars, one per label (a model, a setting): approximation gap below, amortisation gap on top.</summary>
    public static GenericChart Decomposition(IEnumerable<(string Label, GapDecomposition Gap)> gaps)
    {
        var rows = gaps.ToArray();
        string[] labels = rows.Select(r => r.Label).ToArray();
        static string Text(NatsWithError f) => string.Create(CultureInfo.InvariantCulture, $"{f.Nats:F2} ± {f.StandardError:F2} nats");
        GenericChart approximation = Chart.StackedColumn<double, string, string>(rows.Select(r => r.Gap.ApproximationGap.Nats), Keys: labels,
            Name: "approximation gap log p̂ − L[q*]", MultiText: rows.Select(r => Text(r.Gap.ApproximationGap)).ToArray(), MarkerColor: Color.fromString(ExperimentCharts.Palette[0]));
        GenericChart amortisation = Chart.StackedColumn<double, string, string>(rows.Select(r => r.Gap.AmortisationGap.Nats), Keys: labels,
            Name: "amortisation gap L[q*] − L[q]", MultiText: rows.Select(r => Text(r.Gap.AmortisationGap)).ToArray(), MarkerColor: Color.fromString(ExperimentCharts.Palette[1]));
        return Chart.Combine([approximation, amortisation])
            .WithTitle("Inference gap log p̂(x) − ELBO = approximation + amortisation (nats per example)")
            .WithYAxisStyle<double, double, string>(TitleText: "nats per example")
            .WithSize(Math.Max(600, 70 * rows.Length + 250), 450);
    }
}
