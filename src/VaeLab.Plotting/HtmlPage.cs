using System.Net;
using System.Text;
using Plotly.NET;

namespace VaeLab.Plotting;

/// <summary>
/// A self-contained HTML page: plotly.js (the copy Plotly.NET ships, embedded once) plus any number of charts
/// and HTML fragments, so the file opens offline on a machine with nothing installed.
/// </summary>
public sealed class HtmlPage
{
    readonly StringBuilder body = new();

    /// <summary>Starts a page with <paramref name="title"/> as its title and first heading.</summary>
    public HtmlPage(string title)
    {
        Title = title;
        body.Append("<h1>").Append(WebUtility.HtmlEncode(title)).Append("</h1>");
    }

    /// <summary>The page title.</summary>
    public string Title { get; }

    /// <summary>Adds a heading.</summary>
    public HtmlPage Heading(string text) { body.Append("<h2>").Append(WebUtility.HtmlEncode(text)).Append("</h2>"); return this; }

    /// <summary>Adds a paragraph of plain text.</summary>
    public HtmlPage Paragraph(string text) { body.Append("<p>").Append(WebUtility.HtmlEncode(text)).Append("</p>"); return this; }

    /// <summary>Adds preformatted text (configuration, JSON).</summary>
    public HtmlPage Preformatted(string text) { body.Append("<pre>").Append(WebUtility.HtmlEncode(text)).Append("</pre>"); return this; }

    /// <summary>Adds trusted HTML (e.g. a table VaeLab rendered).</summary>
    public HtmlPage Raw(string html) { body.Append(html); return this; }

    /// <summary>Adds a chart.</summary>
    public HtmlPage Chart(GenericChart chart) { body.Append("<div class=\"chart\">").Append(GenericChart.toChartHTML(chart)).Append("</div>"); return this; }

    /// <summary>The whole page.</summary>
    public override string ToString() =>
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + WebUtility.HtmlEncode(Title) + "</title>"
        + "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;font-size:14px}"
        + "td.n{text-align:right;font-family:monospace}tr.fail{background:#fdd}.chart{margin:1em 0}pre{background:#f6f6f6;padding:8px;overflow-x:auto}</style>"
        + "<script type=\"text/javascript\">" + PlotlyScript.Source + "</script></head><body>" + body + "</body></html>";
}
