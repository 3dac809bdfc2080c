using System.Runtime.InteropServices;

namespace VaeLab.Runtime;

/// <summary>
/// Keeps glibc's heap from growing without bound under libtorch's allocation pattern.
/// </summary>
/// <remarks>
/// glibc raises its mmap threshold each time a large mmapped block is freed (up to 32 MiB), so an evaluator's temporaries of
/// ~12 MB move from mmap into the brk heap, whose free space they can fragment faster than it is reused: the heap then grows
/// although every tensor is freed (docs/benchmarks.md, "Memory", gives the measurements). Fixing the threshold at 8 MiB
/// (mallopt M_MMAP_THRESHOLD, which also turns the adjustment off) bounds it. The price: every block of 8 MiB or more is mapped
/// afresh and pays its page faults, which makes the float64 derivation checks many times slower; so the library does not impose
/// it, and callers that run long evaluations choose it. Linux with glibc only; elsewhere a no-op.
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
    /// Each thread's glibc arena keeps the memory its tensors free; an evaluation on threads of its own trims once a second, which
    /// holds the resident set flat at no measurable cost (docs/benchmarks.md, "Memory").
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
