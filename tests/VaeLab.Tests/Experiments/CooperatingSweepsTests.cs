using System.Diagnostics;
using System.Text.RegularExpressions;
using VaeLab.Experiments;

namespace VaeLab.Tests.Experiments;

/// <summary>Several <c>vaelab sweep</c> processes on one results store share the work: each run trains once, and a dead owner's run is taken over.</summary>
public class CooperatingSweepsTests
{
    // Four runs of a few seconds each on one thread: long enough that the processes overlap.
    static readonly SweepSpec Grid = new([2, 3], [1.0], [0, 1], Epochs: 3, BatchSize: 100, HiddenSizes: [64],
        TrainExamples: 3000, TestExamples: 200, ImportanceSamples: 5);

    static string WriteSpec(TempDirectory folder, SweepSpec spec)
    {
        string path = folder.File($"spec-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, spec.ToJson());
        return path;
    }

    static string[] Sweep(string spec, string store) => ["sweep", "--spec", spec, "--out", store, "--threads", "1"];

    static string[] Trained(string output) => Regex.Matches(output, @"\] (\S+): training \(").Select(m => m.Groups[1].Value).ToArray();

    static void AssertSameTable(string expected, string actual)
    {
        var reference = new ResultStore(expected).Load();
        var shared = new ResultStore(actual).Load();
        Assert.Equal(reference.Select(r => r.RunId), shared.Select(r => r.RunId));
        foreach (var (a, b) in reference.Zip(shared)) Assert.Null(ResultStore.Conflict(a, b));
        Assert.Equal(reference.Count + 1, File.ReadAllLines(Path.Combine(actual, "results.csv")).Length);
        Assert.Empty(Directory.GetFiles(Path.Combine(actual, "claims")));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task SeveralSweepsOnOneStoreTrainEachRunOnceAndGiveTheSingleProcessTable(int processes)
    {
        using var folder = new TempDirectory();
        string spec = WriteSpec(folder, Grid), reference = folder.File("reference"), shared = folder.File("shared");
        var alone = await VaelabProcess.Run(Sweep(spec, reference));
        Assert.True(alone.Code == 0, alone.Output + alone.Error);

        var started = Enumerable.Range(0, processes).Select(_ => VaelabProcess.Start(Sweep(spec, shared))).ToArray();
        var results = await Task.WhenAll(started.Select(p => VaelabProcess.Finish(p)));
        foreach (Process p in started) p.Dispose();
        foreach (var r in results) Assert.True(r.Code == 0, r.Output + r.Error);
        string[] trained = results.SelectMany(r => Trained(r.Output)).ToArray();
        Assert.Equal(Grid.Configurations().Select(c => c.Id).Order(), trained.Order());   // each run once, by one process
        AssertSameTable(reference, shared);
    }

    [Fact]
    public async Task WhenTheOwnerOfARunIsKilledAnotherSweepTakesItOverAndResumesItsCheckpoint()
    {
        using var folder = new TempDirectory();
        SweepSpec two = Grid with { Seeds = [0], Epochs = 4, TrainExamples = 6000 };
        string spec = WriteSpec(folder, two), reference = folder.File("reference"), shared = folder.File("shared");
        var alone = await VaelabProcess.Run(Sweep(spec, reference));
        Assert.True(alone.Code == 0, alone.Output + alone.Error);

        using Process victim = VaelabProcess.Start(Sweep(spec, shared));
        // Once the victim holds a run and has checkpointed an epoch of it, it is frozen (SIGSTOP: alive, its claim valid).
        string claims = Path.Combine(shared, "claims");
        string? victimsRun = null;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(2) && !victim.HasExited)
        {
            victimsRun = Directory.Exists(claims) ? Directory.GetFiles(claims, "*.claim").Select(Path.GetFileNameWithoutExtension).FirstOrDefault() : null;
            if (victimsRun is not null && File.Exists(new ResultStore(shared).CheckpointPath(victimsRun))) break;
            await Task.Delay(20);
        }
        Assert.False(victim.HasExited, "the victim finished before it could be stopped");
        Signal("STOP", victim.Id);

        // A second sweep respects the live claim (skips the run, trains the other); then the victim dies and the second takes over.
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using Process survivor = Process.Start(new ProcessStartInfo("dotnet", [VaelabProcess.Dll, .. Sweep(spec, shared)]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        survivor.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        survivor.BeginOutputReadLine();
        var errors = survivor.StandardError.ReadToEndAsync();
        clock.Restart();
        while (!lines.Any(l => l.Contains($"{victimsRun}: being trained by another process")) && clock.Elapsed < TimeSpan.FromMinutes(1) && !survivor.HasExited)
            await Task.Delay(20);
        Assert.True(lines.Any(l => l.Contains($"{victimsRun}: being trained by another process")), string.Join('\n', lines));
        victim.Kill(entireProcessTree: true);   // SIGKILL: no clean-up runs, its claim stays behind
        await victim.WaitForExitAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3))) await survivor.WaitForExitAsync(timeout.Token);
        survivor.WaitForExit();   // the last output lines
        string output = string.Join('\n', lines);
        int code = survivor.ExitCode;
        string error = await errors;
        Assert.True(code == 0, output + error);
        Assert.Contains($"{victimsRun}: its owner (", output);
        Assert.Contains("is gone; taking the run over", output);
        Assert.Matches(@"resumed from its checkpoint after epoch [1-3]\b", output);
        AssertSameTable(reference, shared);
    }

    static void Signal(string signal, int processId)
    {
        using Process kill = Process.Start("kill", [$"-{signal}", processId.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    [Fact]
    public void AClaimHeldByALiveProcessIsRespectedAndADeadOnesIsTakenOver()
    {
        using var folder = new TempDirectory();
        string path = folder.File("claims/run.claim");
        RunClaimOwner me;
        using (RunClaim? mine = RunClaim.TryAcquire(path, out _, out _))
        {
            Assert.NotNull(mine);
            me = mine.Owner;
            Assert.Null(RunClaim.TryAcquire(path, out RunClaimOwner? holder, out _));   // this process is alive: its claim holds
            Assert.Equal(Environment.ProcessId, holder!.ProcessId);
        }
        Assert.False(File.Exists(path));   // released

        // A claim of a process that has exited, on this machine: stale at once.
        using (Process gone = Process.Start(new ProcessStartInfo("true"))!)
        {
            gone.WaitForExit();
            var dead = me with { ProcessId = gone.Id, StartTicks = null, Token = Guid.NewGuid() };
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(dead));
        }
        using (RunClaim? taken = RunClaim.TryAcquire(path, out _, out RunClaimOwner? previous))
        {
            Assert.NotNull(taken);
            Assert.NotNull(previous);
        }

        // Another machine's claim: live while this process sees it touched; stale once it has watched it untouched for StaleAfter.
        TimeSpan staleAfter = RunClaim.StaleAfter;
        RunClaim.StaleAfter = TimeSpan.FromMilliseconds(400);
        try
        {
            var remote = new RunClaimOwner("another-host", 1, DateTime.UtcNow, DateTime.UtcNow, Guid.NewGuid()) { PidSpace = "another-host/boot/pid:[1]" };
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(remote));
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow - TimeSpan.FromHours(1));   // an old time alone proves nothing: clocks differ
            Assert.Null(RunClaim.TryAcquire(path, out _, out _));
            Thread.Sleep(250);
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow - TimeSpan.FromMinutes(59));   // touched: the watch starts again
            Assert.Null(RunClaim.TryAcquire(path, out _, out _));
            Thread.Sleep(250);
            Assert.Null(RunClaim.TryAcquire(path, out _, out _));
            Thread.Sleep(250);
            using RunClaim? late = RunClaim.TryAcquire(path, out _, out RunClaimOwner? before);
            Assert.NotNull(late);
            Assert.Equal("another-host", before!.Host);
        }
        finally
        {
            RunClaim.StaleAfter = staleAfter;
        }
    }

    [Fact]
    public void AReusedPidIsNotTheOwnerAndAClaimTakenOverIsNeitherDeletedNorKept()
    {
        using var folder = new TempDirectory();
        string path = folder.File("claims/run.claim");
        RunClaimOwner mine;
        using (RunClaim first = RunClaim.TryAcquire(path, out _, out _)!) mine = first.Owner;

        // A live process with the recorded pid but another start tick is a reused pid: the claim is stale.
        using Process sleeper = Process.Start(new ProcessStartInfo("sleep", "30"))!;
        try
        {
            var reused = mine with { ProcessId = sleeper.Id, Token = Guid.NewGuid() };
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(reused with { StartTicks = 1 }));
            Assert.True(RunClaim.IsStale(path, RunClaim.Read(path)));
            var live = reused with { StartTicks = long.Parse(File.ReadAllText($"/proc/{sleeper.Id}/stat").Split(')')[1].Split(' ')[20]) };
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(live));
            Assert.False(RunClaim.IsStale(path, RunClaim.Read(path)));
        }
        finally
        {
            sleeper.Kill();
        }
        File.Delete(path);

        // An owner whose claim another process took: its heartbeat says so (Lost), and releasing it leaves the other's claim alone.
        TimeSpan heartbeat = RunClaim.HeartbeatInterval;
        RunClaim.HeartbeatInterval = TimeSpan.FromMilliseconds(50);
        try
        {
            using RunClaim claim = RunClaim.TryAcquire(path, out _, out _)!;
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow - TimeSpan.FromHours(1));
            Thread.Sleep(300);
            Assert.True(DateTime.UtcNow - File.GetLastWriteTimeUtc(path) < TimeSpan.FromMinutes(1), "the heartbeat did not touch the claim");
            Assert.False(claim.Lost.IsCancellationRequested);
            var other = claim.Owner with { Token = Guid.NewGuid() };
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(other));
            Thread.Sleep(300);
            Assert.True(claim.Lost.IsCancellationRequested);
            Assert.False(claim.IsHeld);
            claim.Dispose();
            Assert.Equal(other.Token, RunClaim.Read(path)!.Token);
        }
        finally
        {
            RunClaim.HeartbeatInterval = heartbeat;
        }
    }
}
