using System.Runtime.InteropServices;

namespace VaeLab.Runtime;

/// <summary>
/// Keeps glibc's heap from growing without bound under libtorch's allocation pattern.
/// </summary>
/// <remarks>
/// Measured (issue 10): importance sampling with k = 5,000 on 1,000 test images grew the process's main heap by about 400 MB/s,
/// to 24 GB and an out-of-memory kill, although every tensor was freed. glibc raises its mmap threshold each time a large mmapped
/// block is freed (up to 32 MiB), so the evaluator's 12 MB temporaries moved from mmap into the brk heap, whose free space they
/// then fragmented faster than it was reused. Fixing the threshold at 8 MiB (mallopt M_MMAP_THRESHOLD, which also turns the
/// adjustment off) kept the same run at 0.5 GB; 1 MiB was slower (every smaller block then pays its page faults again) and 32 MiB
/// blew up as before. The price: every block of 8 MiB or more is mapped afresh and pays its page faults (microseconds per 4 KiB
/// page on these VMs), which made the float64 derivation checks many times slower; so the `vaelab` verbs that run long
/// evaluations (train, gap) call it, and the library does not impose it. Linux with glibc only; elsewhere a no-op.
/// </remarks>
public static partial class NativeHeap
{
    const int MallocMmapThreshold = -3;   // M_MMAP_THRESHOLD in malloc.h

    /// <summary>The fixed mmap threshold set by <see cref="BoundGrowth"/>, bytes.</summary>
    public const int MmapThresholdBytes = 8 << 20;

    /// <summary>Fixes glibc's mmap threshold at <see cref="MmapThresholdBytes"/>; returns whether glibc accepted it.</summary>
    public static bool BoundGrowth()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return mallopt(MallocMmapThreshold, MmapThresholdBytes) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;   // not glibc (musl has no mallopt)
        }
    }

    /// <summary>
    /// Hands the free memory of every glibc arena back to the system (malloc_trim(0)); returns whether glibc was there to do it.
    /// </summary>
    /// <remarks>
    /// Measured (2026-12-03, importance sampling k = 1,000 on 3,000 test images on two threads of their own, after two epochs
    /// of training): the resident set rose from 0.44 GB to 0.6–1.8 GB from run to run, all of it free memory that the threads'
    /// arenas kept; trimming once a second held the peak at 0.55–0.61 GB at the same speed (15.4–16.6 s against 15.7–16.7 s).
    /// </remarks>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            malloc_trim(0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc")]
    private static partial int mallopt(int parameter, int value);

    [LibraryImport("libc")]
    private static partial int malloc_trim(nuint pad);
}
