using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace VaeLab.Experiments;

/// <summary>Who holds a run of a results store: written into its claim file.</summary>
/// <param name="Host">The machine's name.</param>
/// <param name="ProcessId">The owner's process id on that machine.</param>
/// <param name="ProcessStartUtc">When the owner process started, for people reading the file.</param>
/// <param name="ClaimedUtc">When the claim was made.</param>
/// <param name="Token">A number unique to this claim.</param>
public sealed record RunClaimOwner(string Host, int ProcessId, DateTime ProcessStartUtc, DateTime ClaimedUtc, Guid Token)
{
    /// <summary>
    /// Where the pid means something: the host, its boot and its pid namespace (two containers sharing a host name, or a machine
    /// rebooted, are different places). Null in claims that do not say.
    /// </summary>
    public string? PidSpace { get; init; }

    /// <summary>The owner's start time in clock ticks since boot (/proc/PID/stat), which a reused pid does not share; null when unknown.</summary>
    public long? StartTicks { get; init; }

    /// <summary>The owner as a phrase ("host, pid 123, since 10:04:05 UTC").</summary>
    public override string ToString() => $"{Host}, pid {ProcessId}, since {ClaimedUtc:HH:mm:ss} UTC";
}

/// <summary>
/// A run claimed by this process in a results store (<c>claims/ID.claim</c>), so that several <c>vaelab sweep</c> processes on one
/// store train each run once. The claim is created atomically (written to a temporary file, then linked into place without
/// overwriting: two processes cannot both succeed, on a local disk or on NFS). While the run trains, its owner touches the file every
/// <see cref="HeartbeatInterval"/>. A claim is stale, and another process takes it over, when its owner is in this pid space (same
/// host, boot and pid namespace) and its process is gone (no such pid, or a pid started at another tick: reused), or when its owner
/// is elsewhere and this process has watched the file go untouched for <see cref="StaleAfter"/> by its own clock (so the machines'
/// clocks need not agree; NFS attribute caching must stay well under it, as its 60 s default does). A takeover renames the stale
/// claim aside and checks it was the one judged stale. An owner that finds its claim taken (its file gone or another's) is told
/// through <see cref="Lost"/> and must not write the run's results. Disposing the claim releases it.
/// </summary>
public sealed class RunClaim : IDisposable
{
    /// <summary>How often an owner touches its claim file (settable for tests).</summary>
    public static TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long another machine's claim must be seen untouched before it is taken over (settable for tests).</summary>
    public static TimeSpan StaleAfter { get; set; } = TimeSpan.FromMinutes(2);

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    static readonly ConcurrentDictionary<Guid, byte> HeldHere = new();
    // What this process has seen of other machines' claims: their last modification time and when (by our clock) it last changed.
    static readonly ConcurrentDictionary<string, (Guid Token, DateTime Touched, long SeenTicks)> Watched = new();
    static readonly Lazy<(string Space, long? Ticks)> Here = new(() => (PidSpaceOf(Environment.ProcessId), StartTicksOf(Environment.ProcessId)));

    readonly Timer heartbeat;
    readonly CancellationTokenSource lost = new();

    RunClaim(string path, RunClaimOwner owner)
    {
        Path = path;
        Owner = owner;
        HeldHere[owner.Token] = 0;
        heartbeat = new Timer(_ => Touch(), null, HeartbeatInterval, HeartbeatInterval);
    }

    /// <summary>The claim file.</summary>
    public string Path { get; }

    /// <summary>This process, as written in the file.</summary>
    public RunClaimOwner Owner { get; }

    /// <summary>Cancelled when a heartbeat finds the claim taken over: the run is another process's now.</summary>
    public CancellationToken Lost => lost.Token;

    /// <summary>Whether the claim file still names this claim (read afresh).</summary>
    public bool IsHeld => Read(Path)?.Token == Owner.Token;

    /// <summary>
    /// Claims the run whose claim file is <paramref name="path"/>: returns the claim, or null with <paramref name="holder"/> set when a
    /// live process holds it. A stale claim is taken over (<paramref name="tookOverFrom"/> says whose it was).
    /// </summary>
    public static RunClaim? TryAcquire(string path, out RunClaimOwner? holder, out RunClaimOwner? tookOverFrom)
    {
        tookOverFrom = null;
        RunClaimOwner me = CurrentOwner();
        if (TryCreate(path, me)) { holder = null; return new RunClaim(path, me); }
        holder = Read(path);
        if (!File.Exists(path) || !IsStale(path, holder)) return null;
        Guid judged = holder?.Token ?? Guid.Empty;

        // Take over: move the stale claim aside under a name of our own; only one process can move it.
        string tombstone = $"{path}.stale.{Guid.NewGuid():N}";
        try { File.Move(path, tombstone, overwrite: false); }
        catch (IOException) { return null; }
        RunClaimOwner? moved = Read(tombstone);
        if ((moved?.Token ?? Guid.Empty) != judged)
        {
            // Another process took it over between our look and our move: give its claim back (unless a third made one since;
            // the owner we displaced then finds its claim gone at its next heartbeat and stops).
            try { File.Move(tombstone, path, overwrite: false); }
            catch (IOException) { TryDelete(tombstone); }
            holder = moved;
            return null;
        }
        TryDelete(tombstone);
        if (!TryCreate(path, me)) { holder = Read(path); return null; }
        tookOverFrom = holder;
        holder = null;
        return new RunClaim(path, me);
    }

    /// <summary>
    /// Whether the claim file at <paramref name="path"/>, naming <paramref name="owner"/>, may be taken over. An unreadable claim
    /// (written by hand or by a future version) is judged as another machine's: by watching it go untouched.
    /// </summary>
    public static bool IsStale(string path, RunClaimOwner? owner)
    {
        if (owner?.PidSpace is { } space && space == Here.Value.Space)
        {
            // Ours, but no claim object of this process holds it (a create whose success was lost, e.g. a retransmitted NFS link).
            if (owner.ProcessId == Environment.ProcessId) return !HeldHere.ContainsKey(owner.Token);
            return !IsAlive(owner.ProcessId, owner.StartTicks);
        }
        // Elsewhere: stale once this process has watched the file's modification time stay the same for StaleAfter.
        DateTime touched;
        try { touched = File.GetLastWriteTimeUtc(path); }
        catch (IOException) { return false; }
        long now = Stopwatch.GetTimestamp();
        Guid token = owner?.Token ?? Guid.Empty;
        var seen = Watched.AddOrUpdate(path, (token, touched, now),
            (_, old) => old.Token == token && old.Touched == touched ? old : (token, touched, now));
        return Stopwatch.GetElapsedTime(seen.SeenTicks, now) >= StaleAfter;
    }

    /// <summary>Releases the claim (deletes its file if it is still this process's).</summary>
    public void Dispose()
    {
        heartbeat.Dispose();
        HeldHere.TryRemove(Owner.Token, out _);
        if (IsHeld) TryDelete(Path);
        lost.Dispose();
    }

    void Touch()
    {
        try
        {
            if (IsHeld) File.SetLastWriteTimeUtc(Path, DateTime.UtcNow);
            else if (!lost.IsCancellationRequested) lost.Cancel();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or UnauthorizedAccessException)
        {
            // A missed heartbeat is harmless: the next one comes in HeartbeatInterval, well inside StaleAfter.
        }
    }

    static RunClaimOwner CurrentOwner()
    {
        using Process self = Process.GetCurrentProcess();
        return new RunClaimOwner(Environment.MachineName, self.Id, self.StartTime.ToUniversalTime(), DateTime.UtcNow, Guid.NewGuid())
        {
            PidSpace = Here.Value.Space,
            StartTicks = Here.Value.Ticks,
        };
    }

    static bool IsAlive(int processId, long? startTicks)
    {
        if (StartTicksOf(processId) is long ticks) return startTicks is null || ticks == startTicks;
        try
        {
            using Process process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    // The host, its boot id and the pid namespace: a pid names the same process only within all three.
    static string PidSpaceOf(int processId)
    {
        string boot = TryReadText("/proc/sys/kernel/random/boot_id")?.Trim() ?? "";
        string pidNamespace = "";
        try { pidNamespace = new FileInfo($"/proc/{processId}/ns/pid").LinkTarget ?? ""; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return $"{Environment.MachineName}/{boot}/{pidNamespace}";
    }

    // Field 22 of /proc/PID/stat: the start time in clock ticks after boot (immune to changes of the wall clock); null off Linux or when gone.
    static long? StartTicksOf(int processId)
    {
        string? stat = TryReadText($"/proc/{processId}/stat");
        if (stat is null) return null;
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 19 && long.TryParse(fields[19], out long ticks) ? ticks : null;
    }

    static string? TryReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    // Atomic create-with-content: write a temporary file, then move it into place without overwriting (a hard link, on Unix).
    static bool TryCreate(string path, RunClaimOwner owner)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(owner, Json));
        try
        {
            File.Move(temporary, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
        finally
        {
            TryDelete(temporary);
        }
    }

    /// <summary>The owner written in a claim file, or null when there is none or it cannot be read.</summary>
    public static RunClaimOwner? Read(string path)
    {
        try { return JsonSerializer.Deserialize<RunClaimOwner>(File.ReadAllBytes(path), Json); }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
    }
}
