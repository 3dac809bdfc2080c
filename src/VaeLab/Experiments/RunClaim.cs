using System.Diagnostics;
using System.Text.Json;

namespace VaeLab.Experiments;

/// <summary>Who holds a run of a results store: written into its claim file.</summary>
/// <param name="Host">The machine's name.</param>
/// <param name="ProcessId">The owner's process id on that machine.</param>
/// <param name="ProcessStartUtc">When the owner process started (a reused pid has another start time).</param>
/// <param name="ClaimedUtc">When the claim was made.</param>
/// <param name="Token">A number unique to this claim.</param>
public sealed record RunClaimOwner(string Host, int ProcessId, DateTime ProcessStartUtc, DateTime ClaimedUtc, Guid Token)
{
    /// <summary>The owner as a phrase ("host, pid 123, since 10:04:05 UTC").</summary>
    public override string ToString() => $"{Host}, pid {ProcessId}, since {ClaimedUtc:HH:mm:ss} UTC";
}

/// <summary>
/// A run claimed by this process in a results store (<c>claims/ID.claim</c>), so that several <c>vaelab sweep</c> processes on one
/// store train each run once. The claim is created atomically (written to a temporary file, then linked into place without
/// overwriting: two processes cannot both succeed, on a local disk or on NFS). While the run trains, its owner touches the file every
/// <see cref="HeartbeatInterval"/>. A claim is stale, and another process takes it over, when its owner is on this machine and its
/// process is gone (no such pid, or a pid with another start time), or when it is on another machine and the file has not been
/// touched for <see cref="StaleAfter"/> (this assumes the machines' clocks agree to within a minute). Takeovers are serialised by a
/// second lock file, <c>claims/ID.takeover</c>, itself taken over after <see cref="StaleAfter"/>. Disposing the claim releases it.
/// </summary>
public sealed class RunClaim : IDisposable
{
    /// <summary>How often an owner touches its claim file.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    /// <summary>How long a claim of another machine may go untouched before it is taken over.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(2);

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    readonly Timer heartbeat;

    RunClaim(string path, RunClaimOwner owner)
    {
        Path = path;
        Owner = owner;
        heartbeat = new Timer(_ => Touch(), null, HeartbeatInterval, HeartbeatInterval);
    }

    /// <summary>The claim file.</summary>
    public string Path { get; }

    /// <summary>This process, as written in the file.</summary>
    public RunClaimOwner Owner { get; }

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
        if (!IsStale(path, holder)) return null;

        string takeover = path[..^".claim".Length] + ".takeover";
        if (!TryCreate(takeover, me))
        {
            // Another process is taking it over; a takeover lock left by a process that died mid-takeover is cleared after StaleAfter.
            if (IsStale(takeover, Read(takeover))) TryDelete(takeover);
            return null;
        }
        try
        {
            RunClaimOwner? again = Read(path);
            if (again != holder || !IsStale(path, again)) { holder = again; return null; }
            TryDelete(path);
            if (!TryCreate(path, me)) { holder = Read(path); return null; }
            tookOverFrom = holder;
            holder = null;
            return new RunClaim(path, me);
        }
        finally
        {
            TryDelete(takeover);
        }
    }

    /// <summary>Whether the claim file at <paramref name="path"/> with owner <paramref name="owner"/> may be taken over.</summary>
    public static bool IsStale(string path, RunClaimOwner? owner)
    {
        DateTime touched;
        try { touched = File.GetLastWriteTimeUtc(path); }
        catch (IOException) { return false; }
        if (!File.Exists(path)) return false;
        bool untouched = DateTime.UtcNow - touched > StaleAfter;
        // An unreadable claim (written by hand, or by a future version) is trusted until it goes untouched.
        if (owner is null) return untouched;
        if (owner.Host != Environment.MachineName) return untouched;
        return !IsAlive(owner.ProcessId, owner.ProcessStartUtc);
    }

    /// <summary>Releases the claim (deletes its file if it is still this process's).</summary>
    public void Dispose()
    {
        heartbeat.Dispose();
        if (Read(Path)?.Token == Owner.Token) TryDelete(Path);
    }

    void Touch()
    {
        try
        {
            if (Read(Path)?.Token == Owner.Token) File.SetLastWriteTimeUtc(Path, DateTime.UtcNow);
        }
        catch (IOException)
        {
            // A missed heartbeat is harmless: the next one comes in HeartbeatInterval, well inside StaleAfter.
        }
    }

    static RunClaimOwner CurrentOwner()
    {
        using Process self = Process.GetCurrentProcess();
        return new RunClaimOwner(Environment.MachineName, self.Id, self.StartTime.ToUniversalTime(), DateTime.UtcNow, Guid.NewGuid());
    }

    static bool IsAlive(int processId, DateTime startUtc)
    {
        try
        {
            using Process process = Process.GetProcessById(processId);
            // Start times are read from /proc to the clock tick: a pid reused by another process differs by far more.
            return !process.HasExited && Math.Abs((process.StartTime.ToUniversalTime() - startUtc).TotalSeconds) < 1;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
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
