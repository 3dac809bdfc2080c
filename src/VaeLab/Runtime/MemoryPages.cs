using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace VaeLab.Runtime;

/// <summary>
/// Allocation of large CPU tensors with their memory pages populated in one system call.
/// </summary>
/// <remarks>
/// Why: the first write to freshly allocated memory takes one page fault per 4 KiB page. On virtual
/// machines each fault can cost microseconds; on this project's Firecracker VMs, writing 188 MB page by
/// page took 615 ms. Asking for transparent huge pages (madvise MADV_HUGEPAGE, as PyTorch's
/// THP_MEM_ALLOC_ENABLE does) and having the kernel populate the range in one call (MADV_POPULATE_WRITE,
/// Linux 5.14 and later) brought allocation plus first write down to about 20 ms. Elsewhere, or when a call
/// fails, this is a no-op and the memory is populated lazily as usual.
/// </remarks>
public static partial class MemoryPages
{
    const int MadvHugePage = 14;
    const int MadvPopulateWrite = 23;
    const long PageSize = 4096;
    const long HugePageMinimum = 64L << 20;

    /// <summary>An uninitialised CPU tensor whose pages are already populated.</summary>
    public static Tensor Empty(long[] shape, ScalarType dtype)
    {
        Tensor result = empty(shape, dtype);
        Populate(result);
        return result;
    }

    /// <summary>Asks the kernel to populate the pages under a contiguous CPU tensor now. Returns whether it did.</summary>
    public static bool Populate(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!OperatingSystem.IsLinux() || tensor.device_type != TorchSharp.DeviceType.CPU || !tensor.is_contiguous()) return false;
        long length = tensor.numel() * tensor.element_size();
        if (length < 16 * PageSize || length > int.MaxValue) return false;
        unsafe
        {
            fixed (byte* data = tensor.bytes)
            {
                long start = ((long)data + PageSize - 1) & ~(PageSize - 1);
                long end = ((long)data + length) & ~(PageSize - 1);
                if (end <= start) return false;
                // Huge pages only for blocks malloc certainly mmapped (glibc's mmap threshold is at most 32 MiB): advice on a
                // block inside malloc's heap outlives the tensor, and later small allocations there each pinned a 2 MiB page (the
                // evaluator's RSS grew by gigabytes after a data set was freed). A hint: refused where THP is off.
                if (end - start >= HugePageMinimum) madvise((nint)start, (nuint)(end - start), MadvHugePage);
                return madvise((nint)start, (nuint)(end - start), MadvPopulateWrite) == 0;
            }
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(nint address, nuint length, int advice);
}
