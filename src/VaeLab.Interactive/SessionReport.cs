using System.Text;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using VaeLab.Plotting;

namespace VaeLab.Interactive;

/// <summary>
/// Collects, in order, the HTML that VaeLab's formatters produce in a session (charts without plotly.js, tables, the
/// final state of live displays), under the section headings of <see cref="Notebook.Section"/>, and writes them as one
/// offline HTML report. A cell run again replaces what its earlier run contributed; a section started again is reused.
/// </summary>
static class SessionReport
{
    sealed record Item(string Cell, Func<string> Html);

    sealed class Section(string title)
    {
        public string Title { get; } = title;
        public List<Item> Items { get; } = [];
    }

    static readonly object gate = new();
    static readonly List<Section> sections = [new Section("")];
    static readonly HashSet<object> shownInThisCommand = new(ReferenceEqualityComparer.Instance);
    static Section current = sections[0];
    static object? command;

    public static void Clear()
    {
        lock (gate)
        {
            sections.Clear();
            sections.Add(current = new Section(""));
            shownInThisCommand.Clear();
            command = null;
        }
    }

    public static void StartSection(string title)
    {
        lock (gate)
        {
            EnterCommand();
            current = sections.FirstOrDefault(s => s.Title == title) ?? AddSection(title);
        }
    }

    static Section AddSection(string title)
    {
        var section = new Section(title);
        sections.Add(section);
        return section;
    }

    /// <summary>Records <paramref name="html"/> for <paramref name="value"/> once per cell run (a value formatted twice in a cell counts once).</summary>
    public static void Collect(object value, string html) => Collect(value, () => html);

    /// <summary>As <see cref="Collect(object, string)"/>, the HTML made when the report is written (live views: their final state).</summary>
    public static void Collect(object value, Func<string> html)
    {
        lock (gate)
        {
            string cell = EnterCommand();
            if (!shownInThisCommand.Add(value)) return;
            current.Items.Add(new Item(cell, html));
        }
    }

    /// <summary>On the first collection of a new cell run, forgets what an earlier run of the same code contributed.</summary>
    static string EnterCommand()
    {
        KernelCommand? now = KernelInvocationContext.Current?.Command;
        string cell = (now as SubmitCode)?.Code ?? "";
        if (!ReferenceEquals(now, command))
        {
            command = now;
            shownInThisCommand.Clear();
            if (cell.Length > 0)
                foreach (Section section in sections) section.Items.RemoveAll(i => i.Cell == cell);
        }
        return cell;
    }

    public static WrittenReport Write(string path, string title)
    {
        (string Title, string[] Items)[] snapshot;
        lock (gate) snapshot = sections.Where(s => s.Items.Count > 0).Select(s => (s.Title, s.Items.Select(i => i.Html()).ToArray())).ToArray();
        int items = snapshot.Sum(s => s.Items.Length);
        if (items == 0)
            throw new InvalidOperationException("Nothing has been shown through VaeLab's formatters since Notebook.Prepare: there is nothing to put in the report.");
        var page = new HtmlPage(title);
        foreach (var (heading, fragments) in snapshot)
        {
            if (heading.Length > 0) page.Heading(heading);
            foreach (string fragment in fragments) page.Raw("<div class=\"chart\">" + fragment + "</div>");
        }
        page.Paragraph($"Written by VaeLab on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC from a notebook session. Figures are nats per example unless named otherwise.");
        byte[] bytes = Encoding.UTF8.GetBytes(page.ToString());
        string? folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        VaeLab.IO.AtomicFile.WriteAllBytes(path, bytes);
        return new WrittenReport(path, snapshot.Count(s => s.Title.Length > 0), items, bytes.Length);
    }
}
