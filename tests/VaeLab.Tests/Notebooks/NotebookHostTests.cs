using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VaeLab.Tests.Notebooks;

/// <summary>
/// The library's build output works when a notebook #r's it: run a one-cell notebook headless in the
/// pinned notebook kernel (dotnet-repl from .config/dotnet-tools.json; `dotnet tool restore` brings it).
/// </summary>
public class NotebookHostTests
{
    [Fact]
    public async Task ANotebookThatReferencesTheLibraryOutputLoadsTorchAndTheEmbeddedData()
    {
        string dll = Path.Combine(RepositoryPaths.LibraryOutput, "VaeLab.Core.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution first");
        string text = await RunCell(string.Join('\n',
            $"#r \"{dll}\"",
            "using VaeLab.Runtime;",
            "using VaeLab.Data;",
            "var info = TorchRuntime.Initialize(seed: 1, threads: 1);",
            "var data = FashionMnist.LoadEmbeddedImages();",
            "Console.WriteLine($\"natives={string.Join(';', info.NativeLibraries)}\");",
            "Console.WriteLine($\"count={data.Count} sum={TorchSharp.torch.ones(3).sum().item<float>()}\");"));
        Assert.Contains("count=10000 sum=3", text);
        Assert.Contains($"natives={RepositoryPaths.LibraryOutput}/libLibTorchSharp.so", text);
    }

    [Fact]
    public async Task ChartsBuildInTheKernelWithItsOwnFSharpCore()
    {
        string folder = RepositoryPaths.PlottingOutput;
        Assert.False(File.Exists(Path.Combine(folder, "FSharp.Core.dll")), "the plotting output must leave FSharp.Core to the kernel");
        string text = await RunCell(string.Join('\n',
            $"#r \"{Path.Combine(folder, "VaeLab.Core.dll")}\"",
            $"#r \"{Path.Combine(folder, "VaeLab.Plotting.dll")}\"",
            "Console.WriteLine($\"fsharp={VaeLab.Plotting.NotebookSupport.UseHostFSharpCore()}\");",
            "var (analytic, points) = VaeLab.Derivation.KlConvergence.Run(sampleSizes: new[] { 10, 100 });",
            "var chart = VaeLab.Plotting.DerivationCharts.KlConvergence(analytic, points);",
            "display(HTML(VaeLab.Plotting.NotebookSupport.ChartHtml(chart)));"));
        Assert.Contains("renderPlotly_", text);      // the chart, as HTML in the cell's output
        Assert.Contains("plotly.js v2.28.0", text);   // with plotly.js itself the first time: no CDN
        Assert.Contains("fsharp=10.0", text);
    }

    static async Task<string> RunCell(string code)
    {
        var notebook = new JsonObject
        {
            ["cells"] = new JsonArray(new JsonObject
            {
                ["cell_type"] = "code",
                ["execution_count"] = null,
                ["metadata"] = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" } },
                ["outputs"] = new JsonArray(),
                ["source"] = code,
            }),
            ["metadata"] = new JsonObject
            {
                ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
                ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
            },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 2,
        };
        using var folder = new TempDirectory();
        string input = folder.File("probe.ipynb"), output = folder.File("probe.out.ipynb");
        File.WriteAllText(input, notebook.ToJsonString());

        var start = new ProcessStartInfo("dotnet", ["repl", "--run", input, "--exit-after-run", "--output-path", output])
        {
            WorkingDirectory = RepositoryPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0,
            $"dotnet repl exited {process.ExitCode} (run `dotnet tool restore` first):\n{await stdout}\n{await stderr}\n{(File.Exists(output) ? File.ReadAllText(output) : "")}");

        // Printed text ("text") and displayed HTML ("data"/"text/html"), as a reader sees them.
        return string.Concat(JsonNode.Parse(File.ReadAllText(output))!["cells"]![0]!["outputs"]!.AsArray()
            .SelectMany(o => (o!["text"]?.AsArray() ?? []).Concat(o["data"]?["text/html"] is JsonNode html ? (html is JsonArray lines ? lines : new JsonArray(html.GetValue<string>())) : [])
            .Select(t => t!.GetValue<string>())));
    }
}
