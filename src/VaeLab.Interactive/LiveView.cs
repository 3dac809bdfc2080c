using System.Globalization;
using System.Net;
using System.Text;

namespace VaeLab.Interactive;

/// <summary>
/// The state of a live display (training or a sweep): a title, one status line, a small curve of one value per epoch or
/// run, and whether it finished. It is shown once and then replaced in place as the work goes on.
/// </summary>
public sealed class LiveView
{
    readonly List<(double X, double Y, double Y2)> points = [];
    readonly object gate = new();   // the stop button's callback renders on another thread while training adds points

    internal LiveView(string title, string curveLabel, string? secondLabel = null)
    {
        Title = title;
        CurveLabel = curveLabel;
        SecondLabel = secondLabel;
        Status = "starting";
    }

    /// <summary>What runs.</summary>
    public string Title { get; }

    /// <summary>Where it stands now (or how it ended).</summary>
    public string Status { get; internal set; }

    /// <summary>Extra lines under the status (per-run rows of a sweep).</summary>
    public IReadOnlyList<string> Details { get; internal set; } = [];

    /// <summary>Name of the drawn value.</summary>
    public string CurveLabel { get; }

    /// <summary>Name of the second drawn value (dashed), or null.</summary>
    public string? SecondLabel { get; }

    /// <summary>True once the work ended, finished or stopped.</summary>
    public bool Ended { get; internal set; }

    /// <summary>The drawn points (x, value, second value or NaN), a copy.</summary>
    public IReadOnlyList<(double X, double Y, double Y2)> Points { get { lock (gate) return [.. points]; } }

    internal void AddPoint(double x, double y, double y2 = double.NaN) { lock (gate) points.Add((x, y, y2)); }

    /// <summary>The view as HTML: status, details and an inline SVG curve (no script, so updates are cheap).</summary>
    public string Html()
    {
        lock (gate) return RenderHtml();
    }

    string RenderHtml()
    {
        var html = new StringBuilder("<div class=\"vaelab-live\" style=\"font-family:system-ui,sans-serif\">");
        html.Append("<b>").Append(WebUtility.HtmlEncode(Title)).Append("</b><br/>")
            .Append(Ended ? "<span>" : "<span style=\"color:#555\">").Append(WebUtility.HtmlEncode(Status)).Append("</span>");
        if (Details.Count > 0)
        {
            html.Append("<pre style=\"margin:4px 0\">");
            foreach (string line in Details) html.Append(WebUtility.HtmlEncode(line)).Append('\n');
            html.Append("</pre>");
        }
        if (points.Count > 0) html.Append("<div>").Append(Svg()).Append("</div>");   // the curve under the status, not beside it
        return html.Append("</div>").ToString();
    }

    /// <summary>The view as plain text: title, status and details.</summary>
    public string Text()
    {
        lock (gate) return RenderText();
    }

    string RenderText()
    {
        var text = new StringBuilder(Title).Append('\n').Append(Status);
        foreach (string line in Details) text.Append('\n').Append(line);
        return text.ToString();
    }

    string Svg()
    {
        const double width = 360, height = 110, left = 50, bottom = 18, top = 8, right = 8;
        double[] ys = points.SelectMany(p => new[] { p.Y, p.Y2 }).Where(double.IsFinite).ToArray();
        if (ys.Length == 0) return "";
        double minX = points.Min(p => p.X), maxX = Math.Max(points.Max(p => p.X), minX + 1);
        double minY = ys.Min(), maxY = ys.Max();
        if (maxY - minY < 1e-9) { minY -= 1; maxY += 1; }
        string X(double x) => (left + (x - minX) / (maxX - minX) * (width - left - right)).ToString("F1", CultureInfo.InvariantCulture);
        string Y(double y) => (top + (maxY - y) / (maxY - minY) * (height - top - bottom)).ToString("F1", CultureInfo.InvariantCulture);
        string Line(Func<(double X, double Y, double Y2), double> value, string style) =>
            $"<polyline fill=\"none\" {style} points=\"{string.Join(' ', points.Where(p => double.IsFinite(value(p))).Select(p => X(p.X) + "," + Y(value(p))))}\"/>";
        var svg = new StringBuilder().Append(CultureInfo.InvariantCulture, $"<svg width=\"{width}\" height=\"{height}\" style=\"font-size:10px\">");
        svg.Append(Line(p => p.Y, "stroke=\"#636efa\" stroke-width=\"2\""));
        if (SecondLabel is not null) svg.Append(Line(p => p.Y2, "stroke=\"#ef553b\" stroke-width=\"2\" stroke-dasharray=\"4 3\""));
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{top + 8}\">{maxY:F1}</text><text x=\"0\" y=\"{height - bottom}\">{minY:F1}</text>");
        string legend = WebUtility.HtmlEncode(CurveLabel) + (SecondLabel is null ? "" : " (solid), " + WebUtility.HtmlEncode(SecondLabel) + " (dashed)");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{height - 4}\">{legend}</text></svg>");
        return svg.ToString();
    }
}
