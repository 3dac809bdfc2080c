using Spectre.Console;

namespace VaeLab.Cli;

/// <summary>Rounded Spectre tables whose cells are plain text (brackets in "E_q[log p(x|z)]" are not markup).</summary>
internal static class Tables
{
    public static Table Create(params string[] headers)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string header in headers) table.AddColumn(Markup.Escape(header));
        return table;
    }

    public static Table AddPlainRow(this Table table, params string[] cells) => table.AddRow(cells.Select(Markup.Escape).ToArray());
}
