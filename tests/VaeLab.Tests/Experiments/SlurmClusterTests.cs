using System.Diagnostics;
using System.Text.RegularExpressions;

namespace VaeLab.Tests.Experiments;

/// <summary>
/// The sweep as a Slurm user submits it: the script `vaelab slurm` writes, run against a real single-node Slurm
/// (<see cref="SingleNodeSlurm"/>); the merged table must equal a one-process run of the same spec bit for bit.
/// </summary>
[Trait("Category", "Slurm")]
public class SlurmClusterTests(SingleNodeSlurm slurm) : IClassFixture<SingleNodeSlurm>
{
    static readonly string Vaelab = Path.Combine(RepositoryPaths.Root, "src", "VaeLab.Cli", "bin", RepositoryPaths.Configuration, "net10.0", "vaelab.dll");

    const string Spec = """
        { "latentSizes": [2, 4], "betas": [1], "seeds": [0], "epochs": 4, "data": "Shapes",
          "trainExamples": 4000, "testExamples": 300, "importanceSamples": 20 }
        """;

    static (int ExitCode, string Output) Vae(string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [Vaelab, .. arguments]) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }

    // Prepares the spec, the one-process reference table and the submission script in a fresh folder.
    static string Prepare(TempDirectory folder)
    {
        Assert.True(File.Exists(Vaelab), $"{Vaelab} is missing: build the solution first");
        File.WriteAllText(folder.File("sweep.json"), Spec);
        var whole = Vae(folder.Path, "sweep", "--spec", "sweep.json", "--out", "whole", "--threads", "1");
        Assert.True(whole.ExitCode == 0, whole.Output);
        var script = Vae(folder.Path, "slurm", "--spec", "sweep.json", "--shards", "2", "--out", "results", "--cpus-per-task", "1", "--mem", "1G", "--time", "20:00", "--script", "submit.sh");
        Assert.True(script.ExitCode == 0, script.Output);
        return folder.File("submit.sh");
    }

    (string Array, string Merge) Submit(TempDirectory folder)
    {
        var submitted = slurm.RunIn(folder.Path, "bash", "submit.sh");
        Assert.True(submitted.ExitCode == 0, $"bash submit.sh exited {submitted.ExitCode}: {submitted.Output}");
        Match ids = Regex.Match(submitted.Output, @"array job (\d+).*merge job (\d+)");
        Assert.True(ids.Success, submitted.Output);
        return (ids.Groups[1].Value, ids.Groups[2].Value);
    }

    // results.csv without the columns of how a run ran (strategy, threads, wall time): every figure must be equal bit for bit.
    static string[] TableWithoutWallTime(string csv)
    {
        string[] lines = File.ReadAllLines(csv);
        Assert.EndsWith(",parallelism,threads,wall_seconds", lines[0]);
        return lines.Select(l => string.Join(',', l.Split(',')[..^3])).ToArray();
    }

    string Logs(TempDirectory folder) =>
        Directory.Exists(folder.File("results/slurm"))
            ? string.Join("\n", Directory.GetFiles(folder.File("results/slurm")).Order(StringComparer.Ordinal).Select(f => $"--- {Path.GetFileName(f)}\n{File.ReadAllText(f)}"))
            : "(no Slurm logs)";

    [Fact]
    public void TheJobArrayAndItsMergeJobGiveTheTableOfOneProcess()
    {
        using var folder = new TempDirectory();
        Prepare(folder);
        var (array, merge) = Submit(folder);
        slurm.WaitUntilGone([array, merge], TimeSpan.FromMinutes(6));
        Assert.True(slurm.JobState(merge) == "COMPLETED", $"merge job {merge}: {slurm.JobState(merge)}\n{Logs(folder)}");
        Assert.Equal(TableWithoutWallTime(folder.File("whole/results.csv")), TableWithoutWallTime(folder.File("results/results.csv")));
        Assert.True(File.Exists(folder.File("results/report.html")), "the merge job wrote no report");
        Assert.Equal(2, Directory.GetFiles(folder.File("results/runs"), "*.json").Length);
    }

    [Fact]
    public void ATaskCancelledMidRunIsFinishedByResubmittingAndEveryRunCountsOnce()
    {
        using var folder = new TempDirectory();
        Prepare(folder);
        var (array, merge) = Submit(folder);

        // Cancel task 1 once it has checkpointed an epoch: mid-run.
        string checkpoints = folder.File("results/shards/shard-1/checkpoints");
        var clock = Stopwatch.StartNew();
        while (!(Directory.Exists(checkpoints) && Directory.GetFiles(checkpoints, "*.ckpt").Length > 0) && clock.Elapsed < TimeSpan.FromMinutes(4))
            Thread.Sleep(20);
        Assert.True(Directory.GetFiles(checkpoints, "*.ckpt").Length > 0, $"task 1 never checkpointed\n{Logs(folder)}");
        var cancelled = slurm.Slurm("scancel", $"{array}_1");
        Assert.True(cancelled.ExitCode == 0, cancelled.Output);
        slurm.WaitUntilGone([array, merge], TimeSpan.FromMinutes(6));
        Assert.False(File.Exists(folder.File("results/results.csv")), "a merged table was written although a shard was cancelled");
        Assert.False(Directory.Exists(folder.File("results/shards/shard-1/runs")) && Directory.GetFiles(folder.File("results/shards/shard-1/runs")).Length > 0,
            "task 1 finished before it was cancelled");

        var (array2, merge2) = Submit(folder);
        slurm.WaitUntilGone([array2, merge2], TimeSpan.FromMinutes(6));
        Assert.True(slurm.JobState(merge2) == "COMPLETED", $"merge job {merge2}: {slurm.JobState(merge2)}\n{Logs(folder)}");
        Assert.Equal(TableWithoutWallTime(folder.File("whole/results.csv")), TableWithoutWallTime(folder.File("results/results.csv")));
        Assert.Equal(2, Directory.GetFiles(folder.File("results/runs"), "*.json").Length);
    }
}
