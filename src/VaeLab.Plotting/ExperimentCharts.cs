using System.Globalization;
using Plotly.NET;
using VaeLab.Experiments;
using Chart = Plotly.NET.CSharp.Chart;
using Plotly.NET.CSharp;

namespace VaeLab.Plotting;

/// <summary>Charts of a sweep's results (all values nats per example).</summary>
public static class ExperimentCharts
{
    static string Label(RunResult r) => string.Create(CultureInfo.InvariantCulture, $"d={r.Config.LatentDimensions}, β={r.Config.Beta:G4}, seed {r.Config.Seed}");

    /// <summary>Training and test ELBO per epoch, one pair of lines per run.</summary>
    public static GenericChart TrainingCurves(IEnumerable<RunResult> runs)
    {
        var traces = new List<GenericChart>();
        foreach (RunResult r in runs)
        {
            int[] epochs = Enumerable.Range(1, r.TrainElboByEpoch.Length).ToArray();
            traces.Add(Chart.Line<int, double, string>(epochs, r.TrainElboByEpoch, Name: $"{Label(r)} train"));
            traces.Add(Chart.Line<int, double, string>(epochs, r.TestElboByEpoch, Name: $"{Label(r)} test", LineDash: StyleParam.DrawingStyle.Dash));
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
        int width = rows.Max(r => r.KlPerDimensionNats.Length);
        double[][] z = rows.Select(r => Enumerable.Range(0, width).Select(j => j < r.KlPerDimensionNats.Length ? r.KlPerDimensionNats[j] : double.NaN).ToArray()).ToArray();
        string[] labels = rows.Select(r => $"{Label(r)} ({r.ActiveUnits} active)").ToArray();
        return Chart.Heatmap<double, int, string, string>(z, X: Enumerable.Range(1, width).ToArray(), Y: labels, Name: "KL per dimension", ColorScale: StyleParam.Colorscale.Viridis)
            .WithTitle("KL per latent dimension (nats); collapsed units are dark")
            .WithXAxisStyle<double, double, string>(TitleText: "latent dimension")
            .WithSize(900, Math.Max(300, 40 * rows.Length + 150));
    }

    /// <summary>|correlation| between latent means and known factors, latent dimensions × factors.</summary>
    public static GenericChart FactorCorrelation(double[][] correlation, IReadOnlyList<string> factorNames)
    {
        string[] rows = Enumerable.Range(1, correlation.Length).Select(j => $"z{j}").ToArray();
        return Chart.Heatmap<double, string, string, string>(correlation, X: factorNames.ToArray(), Y: rows, Name: "|corr|", ColorScale: StyleParam.Colorscale.Viridis)
            .WithTitle("|correlation| of each latent mean with each true factor (one bright cell per column = disentangled)")
            .WithSize(800, Math.Max(300, 30 * correlation.Length + 150));
    }
}
