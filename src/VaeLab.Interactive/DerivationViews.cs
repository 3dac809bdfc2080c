using System.Globalization;
using System.Net;
using System.Text;
using VaeLab.Derivation;
using VaeLab.Plotting;

namespace VaeLab.Interactive;

/// <summary>Derivation rows as a notebook shows them: the identity log p(x) = ELBO + KL first, each row marked pass or FAIL.</summary>
static class DerivationViews
{
    /// <summary>Rows of the identity log p(x) = ELBO + KL(q ‖ p(z|x)), in either arrangement of its terms.</summary>
    internal static bool IsIdentity(DerivationRow row) =>
        row.Step.StartsWith("log p(x)", StringComparison.Ordinal) && row.Step.Contains("ELBO", StringComparison.Ordinal)
        && row.Step.Contains("KL(q ‖ p(z|x))", StringComparison.Ordinal);

    static IEnumerable<DerivationRow> IdentityFirst(IReadOnlyList<DerivationRow> rows) =>
        rows.OrderBy(r => IsIdentity(r) ? 0 : 1);   // stable: the rest keep their order

    public static string Html(IReadOnlyList<DerivationRow> rows)
    {
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"<p><b>{rows.Count(r => r.Pass)} of {rows.Count} derivation rows pass</b> (nats per example unless the step says otherwise; float64)</p>");
        html.Append("<table><thead><tr>");
        foreach (string column in new[] { "", "row", "check", "step", "left", "right", "difference", "tolerance", "method" })
            html.Append("<th>").Append(WebUtility.HtmlEncode(column)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (DerivationRow r in IdentityFirst(rows))
        {
            html.Append(r.Pass ? "<tr>" : "<tr style=\"background:#fdd\">")
                .Append(r.Pass ? "<td style=\"color:#080\">✓ pass</td>" : "<td style=\"color:#c00\"><b>✗ FAIL</b></td>")
                .Append("<td>").Append(WebUtility.HtmlEncode(r.Id)).Append("</td>")
                .Append("<td>").Append(WebUtility.HtmlEncode(r.Check)).Append("</td><td>").Append(WebUtility.HtmlEncode(r.Step)).Append("</td>");
            foreach (double v in new[] { r.Left, r.Right, r.Difference, r.Tolerance })
                html.Append("<td style=\"text-align:right;font-family:monospace\">").Append(DerivationReport.Number(v)).Append("</td>");
            html.Append("<td>").Append(WebUtility.HtmlEncode(r.Method)).Append("</td></tr>");
        }
        return html.Append("</tbody></table>").ToString();
    }

    public static string Text(IReadOnlyList<DerivationRow> rows)
    {
        var table = new ValueTable($"{rows.Count(r => r.Pass)} of {rows.Count} derivation rows pass (nats per example unless the step says otherwise)",
            "", "step", "left", "right", "difference", "tolerance");
        foreach (DerivationRow r in IdentityFirst(rows))
            table.Add(r.Pass ? "pass" : "FAIL", r.Step, DerivationReport.Number(r.Left), DerivationReport.Number(r.Right),
                DerivationReport.Number(r.Difference), DerivationReport.Number(r.Tolerance));
        return table.ToText();
    }
}
