using System.Diagnostics;
using System.Text.Json.Nodes;

namespace VaeLab.Tests.Notebooks;

/// <summary>Runs a notebook headless in the pinned kernel, both ways a user can, and reads its outputs as a reader sees them.</summary>
public static class NotebookOutputs
{
    /// <summary>The two runners: dotnet-repl (the pinned tool) and Jupyter nbconvert with the .NET kernel (the kernel VS Code runs).</summary>
    public enum Runner { DotnetRepl, Jupyter }

    /// <summary>Runs <paramref name="notebook"/> in <paramref name="folder"/> (inside the repository: the kernel is its local tool); returns the executed notebook's cells.</summary>
    public static async Task<JsonArray> Run(Runner runner, string folder, string notebook, string outputFolder, IDictionary<string, string>? environment = null, int minutes = 5)
    {
        string output = Path.Combine(outputFolder, Path.GetFileNameWithoutExtension(notebook) + "." + runner + ".ipynb");
        ProcessStartInfo start = runner == Runner.DotnetRepl
            ? new ProcessStartInfo("dotnet", ["repl", "--run", notebook, "--exit-after-run", "--output-path", output])
            : new ProcessStartInfo("jupyter-nbconvert", ["--to", "notebook", "--execute", "--allow-errors", "--ExecutePreprocessor.timeout=600",
                "--output", output, notebook]);
        start.WorkingDirectory = folder;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{start.FileName} is not installed ({e.Message}): `bash .ci/run` installs Debian's jupyter-nbconvert, python3-nbclient and python3-ipykernel, and `dotnet interactive jupyter install` registers the kernel.");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(minutes));
            try { await process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);   // the kernel too: a left-over kernel would slow every later test
                Assert.Fail($"{notebook} ({runner}) ran past {minutes} minutes");
            }
            Assert.True(File.Exists(output), $"{notebook} ({runner}): no output notebook (exit {process.ExitCode}; run `dotnet tool restore` and .ci/run's setup):\n{await stdout}\n{await stderr}");
        }
        return JsonNode.Parse(File.ReadAllText(output))!["cells"]!.AsArray();
    }

    /// <summary>Every output of a cell as (type, text/html, text/plain or stream text).</summary>
    public static IEnumerable<(string Type, string Html, string Text)> Outputs(JsonNode cell) =>
        (cell["outputs"]?.AsArray() ?? []).Select(o => (
            o!["output_type"]!.GetValue<string>(),
            Join(o["data"]?["text/html"]),
            Join(o["text"]) + Join(o["data"]?["text/plain"]) + (o["output_type"]!.GetValue<string>() == "error" ? $"{o["ename"]}: {o["evalue"]}" : "")));

    static string Join(JsonNode? node) => node switch
    {
        null => "",
        JsonArray lines => string.Concat(lines.Select(l => l!.GetValue<string>())),
        _ => node.GetValue<string>(),
    };
}
