using System.Diagnostics;
using VaeLab.Experiments;

namespace VaeLab.Tests.Experiments;

/// <summary>The sweep as users run it: the vaelab command in child processes, killed and restarted, sharded.</summary>
public class SweepProcessTests
{
    static readonly string Vaelab = Path.Combine(RepositoryPaths.Root, "src", "VaeLab.Cli", "bin", RepositoryPaths.Configuration, "net10.0", "vaelab.dll");

    static readonly string[] Grid = ["--data", "Shapes", "--latent", "2", "4", "--beta", "1", "--seeds", "0", "--epochs", "4",
        "--train-examples", "6000", "--test-examples", "300", "--importance-samples", "20", "--threads", "2"];

    static Process Start(string output, params string[] extra)
    {
        Assert.True(File.Exists(Vaelab), $"{Vaelab} is missing: build the solution first");
        var start = new ProcessStartInfo("dotnet", [Vaelab, "sweep", .. Grid, "--out", output, .. extra])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return Process.Start(start)!;
    }

    static async Task<string> RunToEnd(string output, params string[] extra)
    {
        using Process process = Start(output, extra);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"vaelab sweep exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
        return await stdout;
    }

    // Shapes runs carry their disentanglement scores: they must come back the same after a kill or a merge too.
    static (string Id, double Elbo, double Kl, double LogPx, double Mig, double FactorVae, double BetaVae)[] Table(string folder) =>
        new ResultStore(folder).Load().Select(r => (r.RunId, r.TestElboNats, r.KlNats, r.LogLikelihoodNats,
            r.Disentanglement!.Mig, r.Disentanglement.FactorVaeScore, r.Disentanglement.BetaVaeScore)).ToArray();

    [Fact]
    public async Task AKillMinusNineMidRunLosesNothingAndTheRestartedSweepMatchesAnUninterruptedOne()
    {
        using var folder = new TempDirectory();
        string reference = folder.File("reference"), interrupted = folder.File("interrupted");
        await RunToEnd(reference);

        using (Process victim = Start(interrupted))
        {
            // Kill once the first run has checkpointed an epoch: mid-run, mid-sweep.
            string checkpoints = Path.Combine(interrupted, "checkpoints");
            var clock = Stopwatch.StartNew();
            while (!(Directory.Exists(checkpoints) && Directory.GetFiles(checkpoints, "*.ckpt").Length > 0) && clock.Elapsed < TimeSpan.FromMinutes(2) && !victim.HasExited)
                await Task.Delay(20);
            Assert.False(victim.HasExited, "the sweep finished before it could be killed");
            victim.Kill(entireProcessTree: true); // SIGKILL: no clean-up runs
            await victim.WaitForExitAsync();
        }
        Assert.True(new ResultStore(interrupted).Load().Count < 2, "the kill came after the sweep was done");

        string restarted = await RunToEnd(interrupted);
        // The same table from a restart that began again would hide a resume that never resumes: the restart must say it resumed.
        Assert.Matches(@"resumed from its checkpoint after epoch [1-3]\b", restarted);
        var expected = Table(reference);
        Assert.Equal(2, expected.Length);
        Assert.Equal(expected, Table(interrupted));
        Assert.Empty(Directory.GetFiles(Path.Combine(interrupted, "checkpoints"), "*.ckpt"));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(interrupted, "runs"), "*.json").Length);
    }

    [Fact]
    public async Task TwoShardsInSeparateProcessesMergeToTheTableOfOneProcess()
    {
        using var folder = new TempDirectory();
        string whole = folder.File("whole"), shard0 = folder.File("shard0"), shard1 = folder.File("shard1"), merged = folder.File("merged");
        await RunToEnd(whole);
        await Task.WhenAll(RunToEnd(shard0, "--shard", "0/2"), RunToEnd(shard1, "--shard", "1/2"));
        Assert.Single(new ResultStore(shard0).Load());
        Assert.Single(new ResultStore(shard1).Load());
        var target = new ResultStore(merged);
        Assert.Equal(1, target.MergeFrom(new ResultStore(shard0)));
        Assert.Equal(1, target.MergeFrom(new ResultStore(shard1)));
        Assert.Equal(0, target.MergeFrom(new ResultStore(shard1))); // merging again adds nothing, duplicates nothing
        Assert.Equal(Table(whole), Table(merged));
    }
}
