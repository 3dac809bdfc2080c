using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using TorchSharp;

namespace VaeLab.Runtime;

/// <summary>Facts about the torch runtime this process uses, as <c>vaelab info</c> prints them.</summary>
/// <param name="TorchSharpVersion">Version of the TorchSharp managed assembly.</param>
/// <param name="LibTorchVersion">Version of the libtorch native package TorchSharp was built for.</param>
/// <param name="Backend">The TorchSharp package family this build references: "cpu" or "cuda".</param>
/// <param name="Threads">Intra-op threads torch uses now.</param>
/// <param name="LogicalProcessors">Logical processors of this machine.</param>
/// <param name="CpuFeatures">Vector instruction sets the processor offers (as .NET detects them).</param>
/// <param name="CudaAvailable">Whether torch sees a usable CUDA device.</param>
/// <param name="CudaDevices">Number of CUDA devices torch sees.</param>
/// <param name="Device">The device VaeLab uses (see <see cref="TorchRuntime.Initialize"/>).</param>
/// <param name="NativeLibraries">Full paths of the torch native libraries loaded in this process.</param>
/// <param name="ManagedDirectory">Folder of TorchSharp.dll, where the natives are expected flat beside it.</param>
/// <param name="Os">Operating system description.</param>
/// <param name="DotnetVersion">.NET runtime version.</param>
public sealed record RuntimeInfo(
    string TorchSharpVersion,
    string LibTorchVersion,
    string Backend,
    int Threads,
    int LogicalProcessors,
    IReadOnlyList<string> CpuFeatures,
    bool CudaAvailable,
    int CudaDevices,
    string Device,
    IReadOnlyList<string> NativeLibraries,
    string ManagedDirectory,
    string Os,
    string DotnetVersion)
{
    /// <summary>The TorchSharp package family of this build, fixed when VaeLab was compiled.</summary>
    public static string BuildBackend =>
#if VAELAB_CUDA
        "cuda";
#else
        "cpu";
#endif

    /// <summary>Reads the facts from the running process (loads the native libraries if not yet loaded).</summary>
    public static RuntimeInfo Capture()
    {
        Assembly torchSharp = typeof(torch).Assembly;
        bool cuda = torch.cuda.is_available();
        return new RuntimeInfo(
            TorchSharpVersion: torchSharp.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
                               ?? torchSharp.GetName().Version?.ToString() ?? "unknown",
            LibTorchVersion: ReadLibTorchVersion(torchSharp),
            Backend: BuildBackend,
            Threads: torch.get_num_threads(),
            LogicalProcessors: Environment.ProcessorCount,
            CpuFeatures: DetectCpuFeatures(),
            CudaAvailable: cuda,
            CudaDevices: cuda ? torch.cuda.device_count() : 0,
            Device: TorchRuntime.Device.ToString(),
            NativeLibraries: LoadedTorchLibraries(),
            ManagedDirectory: Path.GetDirectoryName(torchSharp.Location) ?? "",
            Os: RuntimeInformation.OSDescription,
            DotnetVersion: RuntimeInformation.FrameworkDescription);
    }

    // TorchSharp checks the libtorch it loads against this constant; it is not public, so read it by name
    // and say "unknown" should a later TorchSharp rename it.
    static string ReadLibTorchVersion(Assembly torchSharp)
    {
        object? value = torchSharp.GetType("TorchSharp.torch")
            ?.GetField("libtorchPackageVersion", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null);
        return value is string text && Version.TryParse(text, out var version)
            ? $"{version.Major}.{version.Minor}.{Math.Max(version.Build, 0)}"
            : "unknown";
    }

    static IReadOnlyList<string> DetectCpuFeatures()
    {
        var features = new List<string>();
        void Add(bool supported, string name) { if (supported) features.Add(name); }
        Add(Sse42.IsSupported, "SSE4.2");
        Add(Avx.IsSupported, "AVX");
        Add(Avx2.IsSupported, "AVX2");
        Add(Fma.IsSupported, "FMA");
        Add(Avx512F.IsSupported, "AVX-512F");
        Add(Avx512BW.IsSupported, "AVX-512BW");
        Add(AdvSimd.IsSupported, "NEON");
        return features;
    }

    // On Linux the process's memory map names every shared object loaded and its path; elsewhere report the
    // folder TorchSharp.dll sits in, where its loader looks first.
    static IReadOnlyList<string> LoadedTorchLibraries()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) return Array.Empty<string>();
        return File.ReadLines(maps)
            .Select(line => line.IndexOf('/') is var slash and >= 0 ? line[slash..] : "")
            .Where(path => Path.GetFileName(path) is var name && (name.StartsWith("libtorch", StringComparison.Ordinal)
                || name.StartsWith("libLibTorchSharp", StringComparison.Ordinal) || name.StartsWith("libc10", StringComparison.Ordinal)))
            .Distinct()
            .OrderBy(path => path, StringComparer.Ordinal)
            .ToList();
    }
}
