using System.Globalization;
using System.Net;
using System.Text;

namespace VaeLab.Derivation;

/// <summary>The table of all derivation checks, with CSV and HTML renderings (numbers in the invariant culture).</summary>
/// <param name="Rows">Every check's rows.</param>
/// <param name="Duration">Wall time of the run.</param>
/// <param name="Figures">The data behind the derivation's figures, when the suite made them.</param>
public sealed record DerivationReport(IReadOnlyList<DerivationRow> Rows, TimeSpan Duration, DerivationFigures? Figures = null)
{
    /// <summary>Whether every row passed.</summary>
    public bool AllPass => Rows.Count > 0 && Rows.All(r => r.Pass);

    /// <summary>Rows that failed.</summary>
    public IEnumerable<DerivationRow> Failures => Rows.Where(r => !r.Pass);

    static readonly string[] Columns = ["row", "check", "step", "left", "right", "|difference|", "tolerance", "method", "pass"];

    /// <summary>The row with id <paramref name="id"/> ("5.3").</summary>
    /// <exception cref="KeyNotFoundException">No row has that id in this report.</exception>
    public DerivationRow Row(string id) => Rows.FirstOrDefault(r => r.Id == id) ?? throw new KeyNotFoundException($"No row {id} in this report (it has {string.Join(", ", Rows.Select(r => r.Id).Take(5))}…).");

    /// <summary>Formats a number the way the table shows it (round-trip precision, invariant culture).</summary>
    public static string Number(double value) => value.ToString("G10", CultureInfo.InvariantCulture);

    /// <summary>The rows as RFC 4180 CSV (UTF-8 text, header line first).</summary>
    public string ToCsv()
    {
        static string Field(string text) => text.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{text.Replace("\"", "\"\"")}\"" : text;
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(',', Columns));
        foreach (DerivationRow r in Rows)
            csv.AppendLine(string.Join(',', new[] { r.Id, r.Check, r.Step, Number(r.Left), Number(r.Right), Number(r.Difference), Number(r.Tolerance), r.Method, r.Pass ? "pass" : "FAIL" }.Select(Field)));
        return csv.ToString();
    }

    /// <summary>The rows as a self-contained HTML page (no scripts, no external resources).</summary>
    public string ToHtml() =>
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>VaeLab derivation checks</title><style>"
        + "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;font-size:14px}"
        + "td.n{text-align:right;font-family:monospace}tr.fail{background:#fdd}tr.pass td:last-child{color:#070}</style></head><body>"
        + "<h1>ELBO derivation checks</h1>" + ToHtmlTable() + "</body></html>";

    /// <summary>The summary line and the table as an HTML fragment, for a larger page.</summary>
    public string ToHtmlTable()
    {
        var html = new StringBuilder();
        string duration = Duration > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $"; {Duration.TotalSeconds:F1} s") : "";
        html.Append(CultureInfo.InvariantCulture, $"<p>{Rows.Count(r => r.Pass)} of {Rows.Count} rows pass{duration}. Values in nats per example unless the step says otherwise; all in float64.</p>")
            .Append("<table><thead><tr>");
        foreach (string column in Columns) html.Append("<th>").Append(WebUtility.HtmlEncode(column)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (DerivationRow r in Rows)
        {
            html.Append(r.Pass ? "<tr class=\"pass\">" : "<tr class=\"fail\">");
            html.Append("<td>").Append(WebUtility.HtmlEncode(r.Id)).Append("</td>");
            html.Append("<td>").Append(WebUtility.HtmlEncode(r.Check)).Append("</td><td>").Append(WebUtility.HtmlEncode(r.Step)).Append("</td>");
            foreach (double v in new[] { r.Left, r.Right, r.Difference, r.Tolerance }) html.Append("<td class=\"n\">").Append(Number(v)).Append("</td>");
            html.Append("<td>").Append(WebUtility.HtmlEncode(r.Method)).Append("</td><td>").Append(r.Pass ? "pass" : "FAIL").Append("</td></tr>");
        }
        return html.Append("</tbody></table>").ToString();
    }
}

/// <summary>The data behind the derivation's three figures.</summary>
/// <param name="KlAnalyticNats">The analytic KL the Monte Carlo estimates converge to.</param>
/// <param name="KlConvergence">Monte Carlo KL estimates for growing sample sizes.</param>
/// <param name="Bounds">ELBO, IWAE_k and log p(x) of the linear-Gaussian model.</param>
/// <param name="Posterior">p(z|x) and q(z|x) of the trained 2-D latent VAE on a grid, for one example.</param>
public sealed record DerivationFigures(double KlAnalyticNats, IReadOnlyList<KlConvergencePoint> KlConvergence, BoundsSummary Bounds, PosteriorGrid Posterior);
