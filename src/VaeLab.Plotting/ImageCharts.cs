using Plotly.NET;
using VaeLab.Evaluation;
using Chart = Plotly.NET.CSharp.Chart;
using Plotly.NET.CSharp;

namespace VaeLab.Plotting;

/// <summary>Pictures of what a model produces: image mosaics and the 2-D latent scatter.</summary>
public static class ImageCharts
{
    /// <summary>A mosaic drawn as one grey-level heatmap, ink dark on white, top row at the top.</summary>
    public static GenericChart Mosaic(ImageMosaic mosaic, int pixelsPerCell = 3)
    {
        // Heatmaps put their first row at the bottom: hand them the rows bottom-up, and 1 − grey so ink is dark.
        double[][] z = mosaic.Pixels.Reverse().Select(row => row.Select(v => 1 - v).ToArray()).ToArray();
        int height = mosaic.Pixels.Length, width = mosaic.Pixels[0].Length;
        return Chart.Heatmap<double, int, int, string>(z, Name: mosaic.Caption, ColorScale: StyleParam.Colorscale.Greys, ShowScale: false)
            .WithTitle(mosaic.Caption)
            .WithXAxisStyle<double, double, string>(ShowGrid: false, ShowLine: false)
            .WithYAxisStyle<double, double, string>(ShowGrid: false, ShowLine: false)
            .WithSize(Math.Min(width * pixelsPerCell + 120, 1100), Math.Min(height * pixelsPerCell + 140, 1100));
    }

    /// <summary>Encoder means of a 2-D latent, one colour per class.</summary>
    public static GenericChart LatentScatter(LatentScatter points, IReadOnlyList<string>? classNames = null)
    {
        var traces = points.Labels.Distinct().Order().Select(label =>
        {
            int[] index = Enumerable.Range(0, points.Labels.Length).Where(i => points.Labels[i] == label).ToArray();
            string name = label < 0 ? "examples" : classNames is not null && label < classNames.Count ? classNames[label] : $"class {label}";
            return Chart.Point<double, double, string>(index.Select(i => points.Z1[i]).ToArray(), index.Select(i => points.Z2[i]).ToArray(), Name: name);
        });
        return Chart.Combine(traces).WithTitle("encoder means μ(x) of test examples in the 2-D latent, by class")
            .WithXAxisStyle<double, double, string>(TitleText: "z₁")
            .WithYAxisStyle<double, double, string>(TitleText: "z₂")
            .WithSize(800, 650);
    }
}
