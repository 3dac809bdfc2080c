using TorchSharp;
using static TorchSharp.torch;

namespace VaeLab.Runtime;

/// <summary>
/// The single start-up entry of VaeLab: loads the native torch libraries, sets the number of intra-op
/// threads and the global seed and resolves the compute device. Call it once per process (a notebook's
/// first cell, the CLI's start) before any tensor work; calling it again re-seeds and re-sets threads.
/// </summary>
public static class TorchRuntime
{
    /// <summary>
    /// Initialises torch for VaeLab.
    /// </summary>
    /// <param name="seed">Seed of torch's global generator (and so of every draw that is not given its own generator).</param>
    /// <param name="threads">Intra-op threads; 0 means one per logical processor of this machine.</param>
    /// <param name="device">"cpu" (default), "cuda", "cuda:N" or "auto" (CUDA when available, otherwise CPU).</param>
    /// <returns>The runtime facts after initialisation (versions, threads, device, where the natives came from).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative thread count.</exception>
    /// <exception cref="ArgumentException">An unknown device, or CUDA asked for where it is not available.</exception>
    public static RuntimeInfo Initialize(long seed = 0, int threads = 0, string device = "cpu")
    {
        if (threads < 0)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "The thread count must be 0 (one per logical processor) or positive.");
        Device resolved = ResolveDevice(device);
        torch.set_num_threads(threads == 0 ? Environment.ProcessorCount : threads);
        torch.manual_seed(seed);
        if (resolved.type == DeviceType.CUDA) torch.cuda.manual_seed_all(seed);
        Device = resolved;
        return RuntimeInfo.Capture();
    }

    /// <summary>The device VaeLab's models and data go to, as set by <see cref="Initialize"/> (CPU until then).</summary>
    public static Device Device { get; private set; } = torch.CPU;

    /// <summary>
    /// Turns a device option ("cpu", "cuda", "cuda:N", "auto") into a torch device, refusing CUDA where this
    /// build or machine has none.
    /// </summary>
    /// <exception cref="ArgumentException">The text names no known device, or CUDA is not available.</exception>
    public static Device ResolveDevice(string device)
    {
        ArgumentNullException.ThrowIfNull(device);
        string text = device.Trim().ToLowerInvariant();
        if (text == "auto") return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (text == "cpu") return torch.CPU;
        if (text == "cuda" || text.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (text.Length > 4 && !int.TryParse(text.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index))
                throw new ArgumentException($"Device '{device}': expected 'cuda:N' with N a device number.", nameof(device));
            if (!torch.cuda.is_available())
                throw new ArgumentException(
                    $"Device '{device}': CUDA is not available here (this build uses the '{RuntimeInfo.BuildBackend}' TorchSharp package, or no NVIDIA GPU is visible). " +
                    "Use 'cpu', or build with -p:VaeLabTorchBackend=cuda on a machine with an NVIDIA GPU.", nameof(device));
            int count = torch.cuda.device_count();
            if (index >= count)
                throw new ArgumentException($"Device '{device}': only {count} CUDA device(s) are visible.", nameof(device));
            return torch.device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"Device '{device}' is not known: expected 'cpu', 'cuda', 'cuda:N' or 'auto'.", nameof(device));
    }
}
