using System.Globalization;
using Plotly.NET;
using VaeLab.Evaluation.Disentanglement;
using VaeLab.Experiments;
using VaeLab.Training;
using Chart = Plotly.NET.CSharp.Chart;
using Plotly.NET.CSharp;

namespace VaeLab.Plotting;

/// <summary>Charts of a sweep's results (all values nats per example).</summary>
public static class ExperimentCharts
{
    // Plotly's default colour cycle, so a line and its ±SE companions can share a colour.
    internal static readonly string[] Palette = ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff", "#fecb52"];

    static string Label(RunResult r) => string.Create(CultureInfo.InvariantCulture, $"d={r.Config.LatentDimensions}, β={r.Config.Beta:G4}, seed {r.Config.Seed}")
        + (r.Config.Posterior is { } posterior ? $", {posterior}" : "");

    /// <summary>Training and test ELBO per epoch, one pair of lines per run.</summary>
    public static GenericChart TrainingCurves(IEnumerable<RunResult> runs) =>
        TrainingCurves(runs.Select(r => new TrainingCurve(Label(r), r.TrainElboByEpoch, r.TestElboByEpoch)));

    /// <summary>Training and held-out ELBO per epoch, one pair of lines per curve (a held-out line only where there are values).</summary>
    public static GenericChart TrainingCurves(IEnumerable<TrainingCurve> curves)
    {
        var traces = new List<GenericChart>();
        foreach (TrainingCurve c in curves)
        {
            int[] epochs = Enumerable.Range(1, c.TrainElboByEpoch.Length).ToArray();
            traces.Add(Chart.Line<int, double, string>(epochs, c.TrainElboByEpoch, Name: $"{c.Name} train"));
            if (c.ValidationElboByEpoch.Any(double.IsFinite))
                traces.Add(Chart.Line<int, double, string>(epochs, c.ValidationElboByEpoch, Name: $"{c.Name} test", LineDash: StyleParam.DrawingStyle.Dash));
        }
        return Chart.Combine(traces).WithTitle("ELBO per epoch (solid: training batches, dashed: test set)")
            .WithXAxisStyle<double, double, string>(TitleText: "epoch")
            .WithYAxisStyle<double, double, string>(TitleText: "ELBO (nats)")
            .WithSize(1000, 550);
    }

    /// <summary>The rate–distortion plane: each run at (rate = KL, distortion = −E_q[log p(x|z)]), with lines of equal −ELBO = rate + distortion.</summary>
    public static GenericChart RateDistortion(IEnumerable<RunResult> runs)
    {
        RunResult[] rows = runs.ToArray();
        var traces = rows.GroupBy(r => r.Config.LatentDimensions).OrderBy(g => g.Key).Select(g =>
            Chart.Point<double, double, string>(g.Select(r => r.KlNats).ToArray(), g.Select(r => r.DistortionNats).ToArray(),
                Name: $"latent {g.Key}", MultiText: g.Select(r => string.Create(CultureInfo.InvariantCulture, $"β={r.Config.Beta:G4}")).ToArray(),
                TextPosition: StyleParam.TextPosition.TopRight)).ToList();
        double maxRate = rows.Max(r => r.KlNats) * 1.2 + 1, minTotal = rows.Min(r => -r.TestElboNats), maxTotal = rows.Max(r => -r.TestElboNats);
        foreach (double total in Levels(minTotal, maxTotal))
            traces.Add(Chart.Line<double, double, string>([0, maxRate], [total, total - maxRate],
                Name: string.Create(CultureInfo.InvariantCulture, $"−ELBO = {total:F0}"), LineColor: Color.fromString("#bbbbbb"), LineDash: StyleParam.DrawingStyle.Dot));
        return Chart.Combine(traces).WithTitle("rate–distortion plane (grey: equal ELBO)")
            .WithXAxisStyle<double, double, string>(TitleText: "rate KL(q‖p) (nats)")
            .WithYAxisStyle<double, double, string>(TitleText: "distortion −E_q[log p(x|z)] (nats)")
            .WithSize(900, 600);
    }

    static IEnumerable<double> Levels(double low, double high)
    {
        double step = Math.Max(Math.Pow(10, Math.Floor(Math.Log10(Math.Max(high - low, 1)))), 1);
        for (double v = Math.Floor(low / step) * step; v <= high + step; v += step) yield return v;
    }

    /// <summary>Test ELBO and importance-sampled log p(x) against latent size (β = 1 runs, or all when none), mean over seeds ± one standard error.</summary>
    public static GenericChart ElboVersusLatentSize(IEnumerable<RunResult> runs)
    {
        RunResult[] rows = runs.ToArray();
        RunResult[] unit = rows.Where(r => r.Config.Beta == 1).ToArray();
        if (unit.Length > 0) rows = unit;
        var groups = rows.GroupBy(r => r.Config.LatentDimensions).OrderBy(g => g.Key).ToArray();
        double[] sizes = groups.Select(g => (double)g.Key).ToArray();
        var traces = new List<GenericChart>();
        void Series(string name, Func<RunResult, double> value, Func<RunResult, double> singleRunError)
        {
            double[] mean = groups.Select(g => g.Average(value)).ToArray();
            double[] error = groups.Select(g => g.Count() > 1
                ? Math.Sqrt(g.Sum(r => Math.Pow(value(r) - g.Average(value), 2)) / (g.Count() - 1) / g.Count())
                : singleRunError(g.First())).ToArray();
            traces.Add(Chart.Line<double, double, string>(sizes, mean, Name: name, ShowMarkers: true));
            traces.Add(Chart.Line<double, double, string>(sizes, mean.Zip(error, (m, e) => m + e).ToArray(), Name: $"{name} + 1 SE", LineDash: StyleParam.DrawingStyle.Dot, ShowLegend: false));
            traces.Add(Chart.Line<double, double, string>(sizes, mean.Zip(error, (m, e) => m - e).ToArray(), Name: $"{name} − 1 SE", LineDash: StyleParam.DrawingStyle.Dot, ShowLegend: false));
        }
        Series("test ELBO", r => r.TestElboNats, r => r.TestElboStandardError);
        if (rows.All(r => double.IsFinite(r.LogLikelihoodNats)))
            Series("log p(x) (importance-sampled)", r => r.LogLikelihoodNats, r => r.LogLikelihoodStandardError);
        return Chart.Combine(traces).WithTitle("test ELBO and log p(x) against latent size (dotted: ± 1 standard error)")
            .WithXAxisStyle<double, double, string>(TitleText: "latent dimensions")
            .WithYAxisStyle<double, double, string>(TitleText: "nats")
            .WithSize(900, 500);
    }

    /// <summary>KL per latent dimension as a heatmap, runs × dimensions (blank beyond a run's latent size).</summary>
    public static GenericChart KlPerDimension(IEnumerable<RunResult> runs)
    {
        RunResult[] rows = runs.OrderBy(r => r.Config.LatentDimensions).ThenBy(r => r.Config.Beta).ThenBy(r => r.Config.Seed).ToArray();
        int width = Math.Max(1, rows.Max(r => r.KlPerDimensionNats.Length));   // runs with a full covariance or a flow have no per-dimension split: blank rows
        double[][] z = rows.Select(r => Enumerable.Range(0, width).Select(j => j < r.KlPerDimensionNats.Length ? r.KlPerDimensionNats[j] : double.NaN).ToArray()).ToArray();
        string[] labels = rows.Select(r => $"{Label(r)} ({r.ActiveUnits} active)").ToArray();
        return Chart.Heatmap<double, int, string, string>(z, X: Enumerable.Range(1, width).ToArray(), Y: labels, Name: "KL per dimension", ColorScale: StyleParam.Colorscale.Viridis)
            .WithTitle("KL per latent dimension (nats); collapsed units are dark")
            .WithXAxisStyle<double, double, string>(TitleText: "latent dimension")
            .WithSize(900, Math.Max(300, 40 * rows.Length + 150));
    }

    /// <summary>
    /// The inference gap of each run with a decomposition as stacked bars (runs grouped by posterior family, then ordered by latent size, β and seed): the
    /// approximation gap log p̂ − L[q*] below, the amortisation gap L[q*] − L[q] on top, together log p̂ − L[q] = KL(q ‖ p(z|x)).
    /// Hover text gives each value ± its standard error over the examples.
    /// </summary>
    public static GenericChart InferenceGap(IEnumerable<RunResult> runs) =>
        InferenceCharts.Decomposition(runs.Where(r => r.Gap is not null).OrderBy(r => r.Config.PosteriorInUse.ToString(), StringComparer.Ordinal)
            .ThenBy(r => r.Config.LatentDimensions).ThenBy(r => r.Config.Beta).ThenBy(r => r.Config.Seed)
            .Select(r => (Label(r), r.Gap!)));


    /// <summary>
    /// One disentanglement score (MIG, FactorVAE or β-VAE) of the runs that have one: against β with a line per latent size
    /// when the sweep has several β, else against latent size; mean over seeds, dotted ± one standard error across seeds.
    /// </summary>
    public static GenericChart DisentanglementScore(IEnumerable<RunResult> runs, string name, Func<DisentanglementScores, double> score)
    {
        RunResult[] rows = runs.Where(r => r.Disentanglement is not null).ToArray();
        bool byBeta = rows.Select(r => r.Config.Beta).Distinct().Count() > 1;
        var traces = new List<GenericChart>();
        int colour = 0;
        foreach (var line in rows.GroupBy(r => byBeta ? r.Config.LatentDimensions : 0).OrderBy(g => g.Key))
        {
            Color color = Color.fromString(Palette[colour++ % Palette.Length]);   // the line and its ±SE lines share a colour
            var points = line.GroupBy(r => byBeta ? r.Config.Beta : r.Config.LatentDimensions).OrderBy(g => g.Key).ToArray();
            double[] x = points.Select(g => g.Key).ToArray();
            double[] mean = points.Select(g => g.Average(r => score(r.Disentanglement!))).ToArray();
            double[] error = points.Select(g => g.Count() > 1
                ? Math.Sqrt(g.Sum(r => Math.Pow(score(r.Disentanglement!) - g.Average(q => score(q.Disentanglement!)), 2)) / (g.Count() - 1) / g.Count())
                : 0).ToArray();
            string label = byBeta ? $"latent {line.Key}" : name;
            traces.Add(Chart.Line<double, double, string>(x, mean, Name: label, ShowMarkers: true, LineColor: color, MarkerColor: color));
            if (error.Any(e => e > 0))
            {
                traces.Add(Chart.Line<double, double, string>(x, mean.Zip(error, (m, e) => m + e).ToArray(), Name: $"{label} ± 1 SE", LineDash: StyleParam.DrawingStyle.Dot, ShowLegend: false, LineColor: color));
                traces.Add(Chart.Line<double, double, string>(x, mean.Zip(error, (m, e) => m - e).ToArray(), Name: $"{label} ± 1 SE", LineDash: StyleParam.DrawingStyle.Dot, ShowLegend: false, LineColor: color));
            }
        }
        GenericChart chart = Chart.Combine(traces).WithTitle($"{name} against {(byBeta ? "β" : "latent size")} (mean over seeds; dotted: ± 1 SE)")
            .WithYAxisStyle<double, double, string>(TitleText: name)
            .WithSize(800, 450);
        return byBeta
            ? chart.WithXAxisStyle<double, double, string>(TitleText: "β", AxisType: StyleParam.AxisType.Log)
            : chart.WithXAxisStyle<double, double, string>(TitleText: "latent dimensions");
    }

    /// <summary>
    /// I(latent; factor) / H(factor) as a heatmap, latents × factors, rows in <paramref name="order"/> (e.g. by the factor
    /// each latent captures): one bright cell per column and row is a disentangled code.
    /// </summary>
    public static GenericChart MutualInformation(DisentanglementScores scores, IReadOnlyList<int>? order = null, string? title = null)
    {
        double[][] normalised = scores.NormalisedMutualInformation();
        int[] rows = (order ?? Enumerable.Range(0, normalised.Length).ToArray()).ToArray();
        // Heatmaps draw their first row at the bottom: reverse so the first latent of the order is on top.
        double[][] z = rows.Reverse().Select(j => normalised[j]).ToArray();
        string[] labels = rows.Reverse().Select(j => $"z{j + 1}").ToArray();
        return Chart.Heatmap<double, string, string, string>(z, X: scores.FactorNames.ToArray(), Y: labels, Name: "I(z; factor) / H(factor)",
                ColorScale: StyleParam.Colorscale.Viridis)
            .WithTitle(title ?? string.Create(CultureInfo.InvariantCulture,
                $"normalised mutual information I(z_j; factor) / H(factor): MIG {scores.Mig:F3}, FactorVAE {scores.FactorVaeScore:F3}, β-VAE {scores.BetaVaeScore:F3}"))
            .WithSize(800, Math.Max(300, 30 * rows.Length + 150));
    }
}
