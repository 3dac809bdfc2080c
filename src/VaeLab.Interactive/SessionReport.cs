using System.Net;
using System.Text;
using Microsoft.DotNet.Interactive;
using VaeLab.Plotting;

namespace VaeLab.Interactive;

/// <summary>
/// Collects, in order, the HTML that VaeLab's formatters produce in a session (charts without plotly.js, tables), under
/// the section headings of <see cref="Notebook.Section"/>, and writes them as one offline HTML report.
/// </summary>
static class SessionReport
{
    sealed record Section(string Title, List<string> Items);

    static readonly object gate = new();
    static readonly List<Section> sections = [new Section("", [])];
    static readonly HashSet<object> shownInThisCommand = new(ReferenceEqualityComparer.Instance);
    static object? command;

    public static void Clear()
    {
        lock (gate) { sections.Clear(); sections.Add(new Section("", [])); shownInThisCommand.Clear(); }
    }

    public static void StartSection(string title)
    {
        lock (gate) sections.Add(new Section(title, []));
    }

    /// <summary>Records <paramref name="html"/> for <paramref name="value"/> once per cell run (a value formatted twice in a cell counts once).</summary>
    public static void Collect(object value, string html)
    {
        lock (gate)
        {
            object? current = KernelInvocationContext.Current?.Command;
            if (!ReferenceEquals(current, command)) { command = current; shownInThisCommand.Clear(); }
            if (!shownInThisCommand.Add(value)) return;
            sections[^1].Items.Add(html);
        }
    }

    public static WrittenReport Write(string path, string title)
    {
        Section[] snapshot;
        lock (gate) snapshot = sections.Where(s => s.Items.Count > 0).Select(s => s with { Items = [.. s.Items] }).ToArray();
        int items = snapshot.Sum(s => s.Items.Count);
        if (items == 0)
            throw new InvalidOperationException("Nothing has been shown through VaeLab's formatters since Notebook.Prepare: there is nothing to put in the report.");
        var page = new HtmlPage(title);
        foreach (Section section in snapshot)
        {
            if (section.Title.Length > 0) page.Heading(section.Title);
            foreach (string item in section.Items) page.Raw("<div class=\"chart\">" + item + "</div>");
        }
        page.Paragraph($"Written by VaeLab on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC from a notebook session. Figures are nats per example unless named otherwise.");
        byte[] bytes = Encoding.UTF8.GetBytes(page.ToString());
        string? folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        VaeLab.IO.AtomicFile.WriteAllBytes(path, bytes);
        return new WrittenReport(path, snapshot.Count(s => s.Title.Length > 0), items, bytes.Length);
    }

    public static string Encode(string text) => WebUtility.HtmlEncode(text);
}
