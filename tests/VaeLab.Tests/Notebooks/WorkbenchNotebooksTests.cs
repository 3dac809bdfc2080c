using System.Diagnostics;
using System.Text.Json.Nodes;

namespace VaeLab.Tests.Notebooks;

/// <summary>
/// Every notebook in notebooks/ runs headless in quick mode (VAELAB_QUICK=1) in the pinned kernel (dotnet-repl):
/// no cell may fail, it must draw at least one chart and write its report; committed notebooks carry no outputs.
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
    public async Task EachNotebookRunsInQuickModeDrawsChartsAndWritesItsReport(string name)
    {
        string report = Path.Combine(Folder, Path.ChangeExtension(name, ".html"));
        DateTime started = DateTime.UtcNow;
        using var temporary = new TempDirectory();
        string output = temporary.File(name);
        var start = new ProcessStartInfo("dotnet", ["repl", "--run", name, "--exit-after-run", "--output-path", output])
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["VAELAB_QUICK"] = "1";
        using (Process process = Process.Start(start)!)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(File.Exists(output), $"{name}: dotnet repl wrote no output (exit {process.ExitCode}; run `dotnet tool restore`):\n{await stdout}\n{await stderr}");
        }

        var cells = JsonNode.Parse(File.ReadAllText(output))!["cells"]!.AsArray();
        int charts = 0;
        for (int i = 0; i < cells.Count; i++)
            foreach (JsonNode? item in cells[i]!["outputs"]?.AsArray() ?? [])
            {
                if (item!["output_type"]!.GetValue<string>() == "error")
                    Assert.Fail($"{name}, cell {i + 1}: {item["ename"]}: {item["evalue"]}");
                if (item["data"]?["text/html"] is JsonNode html && html.ToJsonString().Contains("renderPlotly_", StringComparison.Ordinal)) charts++;
            }
        Assert.True(charts > 0, $"{name} drew no chart");
        Assert.True(File.Exists(report) && File.GetLastWriteTimeUtc(report) >= started.AddSeconds(-1), $"{name} did not write {report}");
    }
}
