using System.Text.Json.Nodes;
using static VaeLab.Tests.Notebooks.NotebookOutputs;

namespace VaeLab.Tests.Notebooks;

/// <summary>
/// Every notebook in notebooks/ runs headless in quick mode (VAELAB_QUICK=1) in the pinned kernel, both ways a user runs
/// one: dotnet-repl and Jupyter nbconvert with the .NET kernel. No cell may fail or print a compiler warning; charts
/// arrive as text/html; every live display ends in its finished state; the notebook writes its own report.
/// </summary>
public class WorkbenchNotebooksTests
{
    static string Folder => Path.Combine(RepositoryPaths.Root, "notebooks");

    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (string path in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "notebooks"), "*.ipynb").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    public static TheoryData<string, Runner> NotebooksAndRunners()
    {
        var data = new TheoryData<string, Runner>();
        foreach (string name in Directory.GetFiles(Folder, "*.ipynb").Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal))
            foreach (Runner runner in Enum.GetValues<Runner>())
                data.Add(name, runner);
        return data;
    }

    static string Source(JsonNode cell) => cell["source"] is JsonArray lines ? string.Concat(lines.Select(l => l!.GetValue<string>())) : cell["source"]!.GetValue<string>();

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void CommittedNotebooksCarryNoOutputsAndNameTheirKernelInEveryCell(string name)
    {
        JsonNode notebook = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, name)))!;
        foreach (JsonNode? cell in notebook["cells"]!.AsArray())
        {
            if (cell!["cell_type"]!.GetValue<string>() != "code") continue;
            Assert.Empty(cell["outputs"]!.AsArray());
            Assert.Equal("csharp", cell["metadata"]?["polyglot_notebook"]?["kernelName"]?.GetValue<string>());
        }
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void NotebooksLoadVaeLabAsAKernelExtensionInAShortFirstCellAndBuildNothingByHand(string name)
    {
        var code = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, name)))!["cells"]!.AsArray()
            .Where(c => c!["cell_type"]!.GetValue<string>() == "code").Select(c => Source(c!)).ToArray();
        string[] first = code[0].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(first.Length <= 3, $"{name}: the first cell has {first.Length} lines:\n{code[0]}");
        Assert.StartsWith("#r \"nuget:VaeLab.Interactive, ", first[0]);
        Assert.Contains("Notebook.Prepare(", code[0]);
        foreach (string forbidden in new[] { "display(HTML", "HTML(", "new RunResult(", "bin/Release", "ChartHtml", ".Update(" })
            Assert.DoesNotContain(code, c => c.Contains(forbidden, StringComparison.Ordinal));
        Assert.Contains("Notebook.WriteReport(", code[^1]);
    }

    [Theory]
    [MemberData(nameof(NotebooksAndRunners))]
    public async Task EachNotebookRunsInQuickModeWithoutErrorsOrWarningsShowsChartsFinishesItsLiveDisplaysAndWritesItsReport(string name, Runner runner)
    {
        string report = Path.Combine(Folder, Path.ChangeExtension(name, ".html"));
        // A sweep notebook reuses the finished runs of its store: start empty, so the live sweep trains every time.
        string store = Path.Combine(Folder, $"results-{name[..2]}-quick");
        if (Directory.Exists(store)) Directory.Delete(store, recursive: true);
        DateTime started = DateTime.UtcNow;
        using var temporary = new TempDirectory();
        JsonArray cells = await Run(runner, Folder, name, temporary.Path, new Dictionary<string, string> { ["VAELAB_QUICK"] = "1" });

        // The first cell's session table: torch natives from the VaeLab build (patched), one FSharp.Core: the kernel's 10.0.
        JsonNode firstCode = cells.First(c => c!["cell_type"]!.GetValue<string>() == "code")!;
        string session = string.Concat(Outputs(firstCode).Select(o => o.Html));
        Assert.Contains(Path.Combine(RepositoryPaths.Root, "src", "VaeLab.Interactive", "bin", "Release", "net10.0"), session);
        Assert.Contains("libLibTorchSharp.so", session);
        Assert.DoesNotContain("WARNING: this session runs", session);   // the session runs this checkout's build
        Assert.Matches(@"10\.0\.0\.0 \(the kernel&#39;s; 1 copy loaded\)", session);

        int charts = 0;
        for (int i = 0; i < cells.Count; i++)
        {
            var outputs = Outputs(cells[i]!).ToArray();
            foreach (var (type, html, text) in outputs)
            {
                Assert.False(type == "error", $"{name} ({runner}), cell {i + 1}: {text}");
                Assert.DoesNotContain("warning CS", text + html);
                if (html.Contains("renderPlotly_", StringComparison.Ordinal)) charts++;
            }
            // dotnet-repl keeps every state of a live display, Jupyter the last: either way the last one is the end.
            var live = outputs.Where(o => o.Html.Contains("vaelab-live", StringComparison.Ordinal)).Select(o => o.Html).ToArray();
            if (live.Length > 0)
                Assert.Contains("<span>done: ", live[^1]);
        }
        Assert.True(charts > 0, $"{name} ({runner}) drew no chart");
        Assert.True(File.Exists(report) && File.GetLastWriteTimeUtc(report) >= started.AddSeconds(-1), $"{name} ({runner}) did not write {report}");
        string page = File.ReadAllText(report);
        Assert.Contains("plotly.js v2.28.0", page);   // offline: plotly.js inside
        Assert.Contains("renderPlotly_", page);
        Assert.Contains("<h2>", page);                 // its sections
        Assert.Contains("VaeLab notebook session", page);   // the versions, threads and seed it ran with
    }
}
