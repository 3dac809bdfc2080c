using System.Diagnostics;

namespace VaeLab.Tests.Plotting;

/// <summary>
/// The main job's report as a reader sees it: `vaelab report` on a quick sweep, then the file opened in headless
/// Chromium with networking off; every chart must have drawn and no script may have failed.
/// </summary>
public class ReportInBrowserTests
{
    static readonly string Vaelab = Path.Combine(RepositoryPaths.Root, "src", "VaeLab.Cli", "bin", RepositoryPaths.Configuration, "net10.0", "vaelab.dll");

    static async Task<(int ExitCode, string Output, string Error)> Run(string file, IEnumerable<string> arguments, TimeSpan limit)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task TheReportOpensOfflineAndEveryChartDraws()
    {
        string chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("Chromium is needed to look at the report: apt-get install chromium (.ci/run does).");
        using var folder = new TempDirectory();
        string spec = folder.File("quick.json");
        File.WriteAllText(spec, """{ "latentSizes": [2, 4], "betas": [1, 4], "seeds": [0], "epochs": 2, "data": "Shapes", "trainExamples": 600, "testExamples": 200, "importanceSamples": 20 }""");
        string results = folder.File("results");
        var job = await Run("dotnet", [Vaelab, "report", "--spec", spec, "--out", results, "--threads", "2"], TimeSpan.FromMinutes(4));
        Assert.True(job.ExitCode == 0, $"vaelab report exited {job.ExitCode}:\n{job.Output}\n{job.Error}");
        string report = Path.Combine(results, "report.html");
        Assert.Contains($"report: {report}", job.Output);
        string html = File.ReadAllText(report);
        Assert.DoesNotContain("<script src", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Derivation checks", html);

        var browser = await Run(chromium,
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", $"--user-data-dir={folder.File("chromium")}", "--proxy-server=127.0.0.1:9",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", "--dump-dom", new Uri(report).AbsoluteUri,
        ], TimeSpan.FromMinutes(2));
        string dom = browser.Output;
        int charts = html.Split("var renderPlotly_").Length - 1;
        // 4 sweep charts + 3 disentanglement scores, the mutual-information heatmap and sorted traversals (shapes data)
        // + 6 pictures of trained models + 3 derivation figures
        Assert.Equal(18, charts);
        Assert.Contains("Disentanglement", html);
        Assert.Contains("traversals sorted by factor", html);
        int drawn = dom.Split("class=\"plot-container plotly\"").Length - 1;
        Assert.True(drawn == charts, $"{drawn} of {charts} charts drew");
        Assert.DoesNotContain("Uncaught", browser.Error);
    }
}
