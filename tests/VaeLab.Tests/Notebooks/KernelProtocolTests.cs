using System.Diagnostics;
using System.Text.Json.Nodes;

namespace VaeLab.Tests.Notebooks;

/// <summary>
/// VaeLab's live display, seen at the kernel's protocol level (kernel_protocol_probe.py): through Jupyter (JupyterLab,
/// nbconvert) and through the stdio protocol VS Code's Polyglot Notebooks speaks, including its stop button.
/// </summary>
public class KernelProtocolTests
{
    [Fact]
    public async Task LiveTrainingUpdatesTheOutputItCreatedAndTheStopButtonEndsItAtABatchBoundaryWithTheCheckpointIntact()
    {
        using var work = new TempDirectory();
        string result = work.File("probe.json");
        var start = new ProcessStartInfo("/usr/bin/python3",
            [Path.Combine(RepositoryPaths.Root, "tests", "VaeLab.Tests", "Notebooks", "kernel_protocol_probe.py"), Path.Combine(RepositoryPaths.Root, "notebooks"), work.Path, result])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using (Process process = Process.Start(start)!)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0 && File.Exists(result),
                $"the probe failed (exit {process.ExitCode}; bash environment/install-jupyter-kernel.sh installs Jupyter and the kernel):\n{await stderr}\n{(await stdout)[^Math.Min((await stdout).Length, 4000)..]}");
        }
        JsonNode probe = JsonNode.Parse(File.ReadAllText(result))!;

        // Jupyter: one display_data for the live view; every update carries its display id; the last state is the finished one.
        var jupyter = probe["jupyter"]!.AsArray().Where(m => m!["html"]!.GetValue<string>().Contains("vaelab-live", StringComparison.Ordinal)).ToArray();
        var created = jupyter.Where(m => m!["type"]!.GetValue<string>() == "display_data").ToArray();
        Assert.Single(created);
        string id = created[0]!["display_id"]!.GetValue<string>();
        var updates = jupyter.Where(m => m!["type"]!.GetValue<string>() == "update_display_data").ToArray();
        Assert.True(updates.Length >= 3, $"{updates.Length} updates of the live display over 3 epochs");
        Assert.All(updates, u => Assert.Equal(id, u!["display_id"]!.GetValue<string>()));
        Assert.Contains("done: 3 epochs", updates[^1]!["html"]!.GetValue<string>());

        // stdio (VS Code): the same, by value id.
        var live = probe["stdio_live"]!.AsArray();
        string valueId = live.Single(e => e!["type"]!.GetValue<string>() == "DisplayedValueProduced")!["value_id"]!.GetValue<string>();
        var liveUpdates = live.Where(e => e!["type"]!.GetValue<string>() == "DisplayedValueUpdated").ToArray();
        Assert.NotEmpty(liveUpdates);
        Assert.All(liveUpdates, u => Assert.Equal(valueId, u!["value_id"]!.GetValue<string>()));
        Assert.Contains("done: 3 epochs", string.Concat(liveUpdates[^1]!["values"]!.AsArray().Select(v => v!.GetValue<string>())));

        // The stop button: the cell is cancelled, its output says where it stopped, training ended early and the checkpoint resumes there.
        var stop = probe["stdio_stop"]!.AsArray();
        Assert.Equal("Command cancelled.", stop[^1]!["message"]!.GetValue<string>());
        string lastState = string.Concat(stop.Last(e => e!["type"]!.GetValue<string>() == "DisplayedValueUpdated")!["values"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Matches(@"(stopped|stopping at the next batch boundary) in epoch \d+/200 after batch \d+/8", lastState);
        string after = string.Concat(probe["stdio_after"]!.AsArray().SelectMany(e => e!["values"]!.AsArray()).Select(v => v!.GetValue<string>()));
        var stopped = System.Text.RegularExpressions.Regex.Match(after, @"stopped at (\d+) epochs; checkpoint resumes at (\d+)");
        Assert.True(stopped.Success, after);
        int epochs = int.Parse(stopped.Groups[1].Value);
        Assert.InRange(epochs, 1, 199);
        Assert.Equal(epochs, int.Parse(stopped.Groups[2].Value));
        Assert.Contains($"{epochs} completed epoch{(epochs == 1 ? "" : "s")} kept; checkpoint {Path.Combine(work.Path, "stopped.ckpt")} holds epoch {epochs}, intact", lastState);

        // Markup in a section title, a report title and a table cell is shown as text, in the notebook and in its report.
        const string payload = "<img src=x onerror=alert(1)>", escaped = "&lt;img src=x onerror=alert(1)&gt;";
        string shown = string.Concat(probe["inject"]!.AsArray().Select(m => m!["html"]!.GetValue<string>() + m!["text"]!.GetValue<string>()));
        Assert.DoesNotContain(payload, shown);
        Assert.Contains(escaped, shown);
        string report = File.ReadAllText(work.File("injected-report.html"));
        Assert.DoesNotContain(payload, report);
        Assert.True(System.Text.RegularExpressions.Regex.Matches(report, System.Text.RegularExpressions.Regex.Escape(escaped)).Count >= 4,
            "the report's title, its section heading, the table's caption and its cell each carry the payload as text");
    }
}
