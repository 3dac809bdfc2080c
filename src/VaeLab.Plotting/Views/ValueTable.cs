using System.Net;
using System.Text;

namespace VaeLab.Plotting;

/// <summary>
/// A small table of text cells that renders the same content as HTML (notebooks, reports) and as aligned plain text
/// (terminals, text/plain notebook outputs): one view of a value, two media.
/// </summary>
public sealed class ValueTable
{
    readonly List<string[]> rows = [];

    /// <summary>A table with these column headers; <paramref name="caption"/> goes above it.</summary>
    public ValueTable(string? caption, params string[] headers)
    {
        Caption = caption;
        Headers = headers;
    }

    /// <summary>Text above the table (null: none).</summary>
    public string? Caption { get; }

    /// <summary>Column headers.</summary>
    public IReadOnlyList<string> Headers { get; }

    /// <summary>The rows added so far.</summary>
    public IReadOnlyList<string[]> Rows => rows;

    /// <summary>Adds a row; it must have one cell per header.</summary>
    /// <exception cref="ArgumentException">A row of another width.</exception>
    public ValueTable Add(params string[] cells)
    {
        if (cells.Length != Headers.Count)
            throw new ArgumentException($"A row of {cells.Length} cells in a table of {Headers.Count} columns ({string.Join(", ", Headers)}).", nameof(cells));
        rows.Add(cells);
        return this;
    }

    /// <summary>The table as an HTML fragment (class "vaelab"), every cell encoded.</summary>
    public string ToHtml()
    {
        var html = new StringBuilder("<div class=\"vaelab\">");
        if (Caption is not null) html.Append("<p><b>").Append(WebUtility.HtmlEncode(Caption)).Append("</b></p>");
        html.Append("<table><thead><tr>");
        foreach (string header in Headers) html.Append("<th>").Append(WebUtility.HtmlEncode(header)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (string[] row in rows)
        {
            html.Append("<tr>");
            foreach (string cell in row) html.Append("<td>").Append(WebUtility.HtmlEncode(cell)).Append("</td>");
            html.Append("</tr>");
        }
        return html.Append("</tbody></table></div>").ToString();
    }

    /// <summary>The table as aligned plain text, the caption on its own line.</summary>
    public string ToText()
    {
        int[] widths = Headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        if (Caption is not null) text.AppendLine(Caption);
        string Line(IReadOnlyList<string> cells) => string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
        text.AppendLine(Line(Headers));
        text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (string[] row in rows) text.AppendLine(Line(row));
        return text.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => ToText();
}
